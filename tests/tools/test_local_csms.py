"""The embedded CSMS, driven by a raw websocket-client as a fake station so every frame is checked as sent."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
import websocket
from ocpp.messages import get_validator  # type: ignore[import-untyped]

from chargecore.testing.csms_double import wait_until
from chargecore.tools.csms import STATION_ACTIONS, CsmsCallError, CsmsError, LocalCsms, main

T = "2024-05-01T12:00:00Z"
SCHEDULE = {
    "id": 1,
    "chargingRateUnit": "W",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}],
}

# a minimal valid request for every action a station sends (OCPP 2.0.1 Part 2)
STATION_REQUESTS: dict[str, dict[str, Any]] = {
    "Authorize": {"idToken": {"idToken": "TAG1", "type": "ISO14443"}},
    "BootNotification": {"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}},
    "ClearedChargingLimit": {"chargingLimitSource": "EMS"},
    "DataTransfer": {"vendorId": "org.example"},
    "FirmwareStatusNotification": {"status": "Idle"},
    "Get15118EVCertificate": {
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "AAAA",
    },
    "GetCertificateStatus": {
        "ocspRequestData": {
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "aa",
            "issuerKeyHash": "bb",
            "serialNumber": "01",
            "responderURL": "http://ocsp.example",
        }
    },
    "Heartbeat": {},
    "LogStatusNotification": {"status": "Idle"},
    "MeterValues": {"evseId": 1, "meterValue": [{"timestamp": T, "sampledValue": [{"value": 1.5}]}]},
    "NotifyChargingLimit": {"chargingLimit": {"chargingLimitSource": "EMS"}},
    "NotifyCustomerInformation": {"data": "none", "seqNo": 0, "generatedAt": T, "requestId": 1},
    "NotifyDisplayMessages": {"requestId": 1},
    "NotifyEVChargingNeeds": {"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "AC_single_phase"}},
    "NotifyEVChargingSchedule": {"timeBase": T, "evseId": 1, "chargingSchedule": SCHEDULE},
    "NotifyEvent": {
        "generatedAt": T,
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": T,
                "trigger": "Alerting",
                "actualValue": "on",
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector"},
                "variable": {"name": "Problem"},
            }
        ],
    },
    "NotifyMonitoringReport": {"requestId": 1, "seqNo": 0, "generatedAt": T},
    "NotifyReport": {"requestId": 1, "generatedAt": T, "seqNo": 0},
    "PublishFirmwareStatusNotification": {"status": "Idle"},
    "ReportChargingProfiles": {
        "requestId": 1,
        "chargingLimitSource": "CSO",
        "evseId": 1,
        "chargingProfile": [
            {
                "id": 1,
                "stackLevel": 0,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [SCHEDULE],
            }
        ],
    },
    "ReservationStatusUpdate": {"reservationId": 1, "reservationUpdateStatus": "Expired"},
    "SecurityEventNotification": {"type": "StartupOfTheDevice", "timestamp": T},
    "SignCertificate": {"csr": "-----BEGIN CERTIFICATE REQUEST-----"},
    "StatusNotification": {"timestamp": T, "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
    "TransactionEvent": {
        "eventType": "Started",
        "timestamp": T,
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "TX1"},
    },
}


@pytest.fixture
def log() -> list[str]:
    return []


@pytest.fixture
def csms(log: list[str]) -> Iterator[LocalCsms]:
    with LocalCsms(heartbeat_interval=7, on_log=log.append) as server:
        yield server


def connect(csms: LocalCsms, path: str = "/CS001") -> websocket.WebSocket:
    return websocket.create_connection(csms.url + path, subprotocols=["ocpp2.0.1"], timeout=5)


@pytest.fixture
def station(csms: LocalCsms) -> Iterator[websocket.WebSocket]:
    ws = connect(csms)
    # the handshake completes just before the server registers the station
    wait_until(lambda: csms.stations() == ["CS001"], "the station registered", 5)
    yield ws
    ws.close()


def exchange(ws: websocket.WebSocket, action: str, payload: Any) -> list[Any]:
    """Send one CALL as the station and return the CSMS's reply frame."""
    message_id = str(uuid.uuid4())
    ws.send(json.dumps([2, message_id, action, payload]))
    reply: list[Any] = json.loads(ws.recv())
    assert reply[1] == message_id
    return reply


def boot(ws: websocket.WebSocket) -> dict[str, Any]:
    reply = exchange(ws, "BootNotification", STATION_REQUESTS["BootNotification"])
    assert reply[0] == 3, reply
    payload: dict[str, Any] = reply[2]
    return payload


def test_boot_notification_is_answered_with_status_interval_and_current_time(
    csms: LocalCsms, station: websocket.WebSocket
) -> None:
    result = boot(station)
    assert result["status"] == "Accepted"
    assert result["interval"] == 7
    assert datetime.fromisoformat(result["currentTime"]).tzinfo is not None
    assert csms.stations() == ["CS001"]


def test_boot_status_can_change_while_running(csms: LocalCsms, station: websocket.WebSocket) -> None:
    csms.boot_status = "Pending"
    assert boot(station)["status"] == "Pending"
    csms.boot_status = "Rejected"
    assert boot(station)["status"] == "Rejected"
    with pytest.raises(ValueError, match="boot status"):
        csms.boot_status = "Maybe"
    assert csms.boot_status == "Rejected"


def test_heartbeat_and_status_notification(station: websocket.WebSocket) -> None:
    heartbeat = exchange(station, "Heartbeat", {})
    assert heartbeat[0] == 3
    assert datetime.fromisoformat(heartbeat[2]["currentTime"]).tzinfo is not None
    status = exchange(station, "StatusNotification", STATION_REQUESTS["StatusNotification"])
    assert status[0] == 3
    assert status[2] == {}


def test_every_station_action_gets_a_schema_valid_result(station: websocket.WebSocket) -> None:
    assert set(STATION_REQUESTS) == STATION_ACTIONS
    for action, request in STATION_REQUESTS.items():
        get_validator(2, action, "2.0.1").validate(request)  # the sample itself must be right
        reply = exchange(station, action, request)
        assert reply[0] == 3, (action, reply)
        get_validator(3, action, "2.0.1").validate(reply[2])


def test_authorize_and_transaction_event_accept_id_tokens(station: websocket.WebSocket) -> None:
    authorized = exchange(station, "Authorize", STATION_REQUESTS["Authorize"])
    assert authorized[2] == {"idTokenInfo": {"status": "Accepted"}}
    started = exchange(station, "TransactionEvent", STATION_REQUESTS["TransactionEvent"])
    assert started[2] == {}
    with_token = dict(STATION_REQUESTS["TransactionEvent"], idToken={"idToken": "TAG1", "type": "ISO14443"})
    assert exchange(station, "TransactionEvent", with_token)[2] == {"idTokenInfo": {"status": "Accepted"}}


def test_data_transfer_is_unknown_vendor_unless_a_handler_is_registered(
    csms: LocalCsms, station: websocket.WebSocket
) -> None:
    request = {"vendorId": "org.example", "messageId": "ping", "data": {"snake_key": [1, 2]}}
    assert exchange(station, "DataTransfer", request)[2] == {"status": "UnknownVendorId"}
    seen: list[dict[str, Any]] = []

    def handler(payload: dict[str, Any]) -> dict[str, Any]:
        seen.append(payload)
        return {"status": "Accepted", "data": payload["data"]}

    csms.on_data_transfer("org.example", handler)
    assert exchange(station, "DataTransfer", request)[2] == {
        "status": "Accepted",
        "data": {"snake_key": [1, 2]},
    }
    assert seen == [request]  # raw camelCase, free-form data untouched


def test_a_failing_data_transfer_handler_answers_internal_error(csms: LocalCsms, station: websocket.WebSocket) -> None:
    def broken(_payload: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("oops")

    csms.on_data_transfer("org.example", broken)
    reply = exchange(station, "DataTransfer", {"vendorId": "org.example"})
    assert reply[:3] == [4, reply[1], "InternalError"]
    csms.on_data_transfer("org.example", lambda _payload: {"status": "Bogus"})
    assert exchange(station, "DataTransfer", {"vendorId": "org.example"})[2] == "InternalError"


def test_bad_station_requests_get_call_errors(station: websocket.WebSocket) -> None:
    assert exchange(station, "Reset", {"type": "Immediate"})[2] == "NotSupported"
    assert exchange(station, "Frobnicate", {})[2] == "NotImplemented"
    assert exchange(station, "BootNotification", {"reason": "PowerUp"})[2] == "OccurrenceConstraintViolation"
    assert exchange(station, "Heartbeat", {"extra": 1})[2] == "FormatViolation"
    assert (
        exchange(station, "StatusNotification", {**STATION_REQUESTS["StatusNotification"], "evseId": "1"})[2]
        == "TypeConstraintViolation"
    )


def test_call_reaches_the_station_and_returns_its_response(csms: LocalCsms, station: websocket.WebSocket) -> None:
    boot(station)
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(csms.call, "CS001", "Reset", {"type": "Immediate"}, 5)
        frame = json.loads(station.recv())
        assert frame[0] == 2
        assert frame[2:] == ["Reset", {"type": "Immediate"}]
        station.send(json.dumps([3, frame[1], {"status": "Scheduled"}]))
        assert future.result(timeout=10) == {"status": "Scheduled"}


def test_call_raises_on_call_error(csms: LocalCsms, station: websocket.WebSocket) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(csms.call, "CS001", "ClearCache", {}, 5)
        frame = json.loads(station.recv())
        station.send(json.dumps([4, frame[1], "NotSupported", "no cache here", {}]))
        with pytest.raises(CsmsCallError, match="NotSupported") as raised:
            future.result(timeout=10)
    assert raised.value.code == "NotSupported"
    assert raised.value.description == "no cache here"


def test_call_rejects_an_invalid_response(csms: LocalCsms, station: websocket.WebSocket) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(csms.call, "CS001", "Reset", {"type": "Immediate"}, 5)
        frame = json.loads(station.recv())
        station.send(json.dumps([3, frame[1], {"status": "Sure"}]))
        with pytest.raises(CsmsError, match="invalid payload"):
            future.result(timeout=10)


def test_call_times_out_when_the_station_stays_silent(csms: LocalCsms, station: websocket.WebSocket) -> None:
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="did not answer Reset"):
        csms.call("CS001", "Reset", {"type": "Immediate"}, timeout=0.3)
    assert time.monotonic() - started < 3
    assert json.loads(station.recv())[2] == "Reset"


def test_stop_ends_a_pending_call(csms: LocalCsms, station: websocket.WebSocket) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(csms.call, "CS001", "Reset", {"type": "Immediate"}, 10)
        assert json.loads(station.recv())[2] == "Reset"
        csms.stop()
        with pytest.raises(CsmsError, match="stopped before CS001 answered Reset"):
            future.result(timeout=15)


def test_call_refuses_unknown_stations_actions_and_invalid_payloads(
    csms: LocalCsms, station: websocket.WebSocket
) -> None:
    with pytest.raises(CsmsError, match="not connected"):
        csms.call("CS999", "Reset", {"type": "Immediate"})
    with pytest.raises(CsmsError, match=r"unknown OCPP 2\.0\.1 action"):
        csms.call("CS001", "Frobnicate", {})
    with pytest.raises(CsmsError, match="invalid Reset request"):
        csms.call("CS001", "Reset", {"type": "Later"})
    assert [m for m in csms.messages if m.direction == "out"] == []


def test_message_log_records_both_directions(csms: LocalCsms, station: websocket.WebSocket, log: list[str]) -> None:
    boot(station)
    request, result = csms.messages
    assert (request.direction, request.station_id, request.kind, request.action) == (
        "in",
        "CS001",
        "CALL",
        "BootNotification",
    )
    assert request.payload == STATION_REQUESTS["BootNotification"]
    assert (result.direction, result.kind, result.action, result.message_id) == (
        "out",
        "CALLRESULT",
        "BootNotification",
        request.message_id,
    )
    assert result.payload["status"] == "Accepted"
    assert request.timestamp <= result.timestamp
    assert log[0] == "csms: CS001 connected"
    boot_json = '{"reason": "PowerUp", "chargingStation": {"model": "M1", "vendorName": "V"}}'
    assert log[1] == f"csms <- CS001 BootNotification {boot_json}"
    assert log[2].startswith('csms -> CS001 BootNotification.result {"currentTime": ')


def test_wait_for_matches_past_and_future_station_messages(csms: LocalCsms, station: websocket.WebSocket) -> None:
    exchange(station, "Heartbeat", {})
    assert csms.wait_for("Heartbeat", timeout=1).action == "Heartbeat"
    with pytest.raises(TimeoutError):
        csms.wait_for("Heartbeat", timeout=0.2, since=len(csms.messages))
    with pytest.raises(TimeoutError):
        csms.wait_for(lambda record: record.direction == "out", timeout=0.2)  # only station messages count
    since = len(csms.messages)
    threading.Timer(0.1, exchange, (station, "StatusNotification", STATION_REQUESTS["StatusNotification"])).start()
    record = csms.wait_for(lambda r: r.payload.get("connectorStatus") == "Available", timeout=5, since=since)
    assert record.action == "StatusNotification"


def test_station_ids_are_percent_decoded_and_removed_on_disconnect(csms: LocalCsms) -> None:
    ws = connect(csms, "/ocpp/CS%20002")
    wait_until(lambda: csms.stations() == ["CS 002"], "the station registered", 5)
    ws.close()
    wait_until(lambda: csms.stations() == [], "the station removed", 5)


def test_a_client_without_the_ocpp_subprotocol_is_refused(csms: LocalCsms) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(csms.url + "/CS001", timeout=5)


def test_stop_closes_station_connections(csms: LocalCsms, station: websocket.WebSocket) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        stopped = pool.submit(csms.stop)
        opcode, frame = station.recv_data_frame(control_frame=True)  # also answers the close handshake
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(frame.data[:2], "big") == 1001  # going away
        station.shutdown()  # the server half-closed TCP and waits for this end too
        stopped.result(timeout=15)
    assert csms.stations() == []
    csms.stop()  # idempotent


@pytest.mark.parametrize("argv", [["--boot-status", "Maybe"], ["--heartbeat-interval", "0"], ["--port", "x"]])
def test_main_exits_2_on_a_bad_command_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "chargecore csms: error:" in capsys.readouterr().err


def test_main_reports_a_busy_port(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["--port", str(busy.getsockname()[1])]) == 2
    assert "cannot listen on" in capsys.readouterr().err


def test_main_runs_stdin_commands_until_quit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = [
        "help",
        "stations",
        "frobnicate",
        "boot-status Pending",
        "boot-status Maybe",
        'send CS9 Reset {"type":"Immediate"}',
        "send CS9 Reset {not json",
        "quit",
        "stations",  # never read
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(commands) + "\n"))
    result: list[int] = []
    runner = threading.Thread(target=lambda: result.append(main(["--port", "0"])), daemon=True)
    runner.start()
    runner.join(timeout=15)
    assert not runner.is_alive()
    assert result == [0]
    out, err = capsys.readouterr()
    assert "csms listening on ws://127.0.0.1:" in out
    assert "send STATION_ID ACTION" in out
    assert "no stations connected" in out
    assert "answered Pending" in out
    errors = err.splitlines()
    assert len(errors) == 4
    assert "frobnicate" in errors[0]
    assert "Maybe" in errors[1]
    assert "'CS9' is not connected" in errors[2]
    assert errors[3].startswith("error: ")


def test_token_outcomes_are_configurable(csms: LocalCsms, station: websocket.WebSocket) -> None:
    csms.set_token("TAG1", "Blocked", group_id="FLEET")
    authorized = exchange(station, "Authorize", {"idToken": {"idToken": "TAG1", "type": "ISO14443"}})
    assert authorized[2] == {
        "idTokenInfo": {"status": "Blocked", "groupIdToken": {"idToken": "FLEET", "type": "Central"}}
    }
    with_token = dict(STATION_REQUESTS["TransactionEvent"], idToken={"idToken": "TAG1", "type": "ISO14443"})
    assert exchange(station, "TransactionEvent", with_token)[2]["idTokenInfo"]["status"] == "Blocked"
    other = exchange(station, "Authorize", {"idToken": {"idToken": "TAG2", "type": "ISO14443"}})
    assert other[2] == {"idTokenInfo": {"status": "Accepted"}}
    with pytest.raises(ValueError, match="token status"):
        csms.set_token("TAG1", "Maybe")
