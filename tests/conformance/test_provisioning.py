"""Part 6 block B (provisioning) test cases for the Charging Station, against the real station over the wire."""

from __future__ import annotations

import time

import pytest
from harness import StationFactory, boot, connector_count, settle, status_by_connector

from chargecore.pure.effects import ConnectorStatusChanged
from chargecore.testing.csms_double import CsmsDouble, wait_until

SLACK = 0.1
"""Scheduling slack (s) between the station's clock and the double's when comparing waits."""


@pytest.mark.requirements("B01.FR.01", "B01.FR.05", "B01.FR.09")
def test_TC_B_01_CS_cold_boot_accepted(csms: CsmsDouble, station_factory: StationFactory) -> None:
    station = station_factory(evse_connectors=(1, 2))
    booted = boot(station, csms)

    session = csms.wait_session(1)
    assert session.attempt.path == "/CS001"
    assert session.websocket.subprotocol == "ocpp2.0.1"
    assert csms.calls()[0] == booted.boot, "the first message is the BootNotification"
    assert booted.boot.payload["reason"] == "PowerUp"
    assert {"model", "vendorName"} <= booted.boot.payload["chargingStation"].keys()
    assert status_by_connector(booted.statuses) == {(1, 1): "Available", (2, 1): "Available", (2, 2): "Available"}
    settle(station, csms)
    assert len(csms.calls("StatusNotification")) == 3, "one status per connector, no more"


def test_station_identity_in_path_and_basic_auth(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """Part 4 3.1 / Part 2 A00: the station id ends the URL and Basic auth carries `<id>:<password>`."""
    station_factory(station_id="CS 7/ä", password="0123456789abcdef")
    attempt = csms.wait_attempts(1)[0]
    assert attempt.path == "/CS%207%2F%C3%A4"
    assert attempt.headers["Authorization"] == "Basic Q1MgNy/DpDowMTIzNDU2Nzg5YWJjZGVm"


@pytest.mark.requirements("B03.FR.02", "B03.FR.04", "B03.FR.06")
def test_TC_B_03_CS_cold_boot_rejected(csms: CsmsDouble, station_factory: StationFactory) -> None:
    station = station_factory(evse_connectors=(1, 1))
    rejected = csms.answer_boot("Rejected", interval=1)
    answered_at = time.monotonic()

    again = csms.expect_call("BootNotification", timeout=5)
    assert again.at - answered_at >= 1 - SLACK, "the boot is resent only after the interval"
    assert csms.calls() == [rejected, again], "nothing but BootNotification while Rejected"
    assert again.payload["reason"] == rejected.payload["reason"]

    csms.reply(again, csms.boot_response("Accepted"))
    statuses = csms.expect_calls("StatusNotification", connector_count(station))
    assert status_by_connector(statuses) == {(1, 1): "Available", (2, 1): "Available"}


@pytest.mark.requirements("B03.FR.08")
def test_TC_B_30_CS_rejected_security_error(csms: CsmsDouble, station_factory: StationFactory) -> None:
    station_factory()
    csms.answer_boot("Rejected", interval=60)

    reply = csms.call("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    assert reply.error_code == "SecurityError"
    reply = csms.trigger("BootNotification")
    assert reply.error_code == "SecurityError", "also a request the station supports"


@pytest.mark.requirements("B11.FR.01", "B11.FR.03", "B11.FR.04", "B01.FR.03")
def test_TC_B_20_CS_reset_station_on_idle(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(evse_connectors=(1, 1)), csms)

    assert csms.call("Reset", {"type": "OnIdle"}).payload == {"status": "Accepted"}
    assert csms.wait_session_closed(1).close_code == 1000, "the station closes normally before rebooting"
    csms.wait_session(2)
    rebooted = csms.answer_boot("Accepted")
    assert rebooted.payload["reason"] == "RemoteReset"
    statuses = csms.expect_calls("StatusNotification", 2)
    assert status_by_connector(statuses) == {(1, 1): "Available", (2, 1): "Available"}
    assert booted.application.resets == [("OnIdle", None)]


@pytest.mark.requirements("B11.FR.01", "B11.FR.02", "B11.FR.03", "B11.FR.04", "B01.FR.03", "G03.FR.08")
def test_TC_B_23_CS_reset_unavailable_persists(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(evse_connectors=(1, 1)), csms)
    inoperative = {"operationalStatus": "Inoperative", "evse": {"id": 2, "connectorId": 1}}
    assert csms.call("ChangeAvailability", inoperative).payload == {"status": "Accepted"}  # Memory State
    assert csms.expect_call("StatusNotification").payload["connectorStatus"] == "Unavailable"

    assert csms.call("Reset", {"type": "OnIdle"}).payload == {"status": "Accepted"}
    csms.wait_session(2)
    rebooted = csms.answer_boot("Accepted")
    assert rebooted.payload["reason"] == "RemoteReset"
    statuses = csms.expect_calls("StatusNotification", 2)
    assert status_by_connector(statuses) == {(1, 1): "Available", (2, 1): "Unavailable"}
    assert booted.application.resets == [("OnIdle", None)]


@pytest.mark.requirements("B11.FR.01", "B11.FR.08", "B11.FR.10")
def test_TC_B_25_CS_reset_evse_without_transaction(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(evse_connectors=(1, 1), supports_evse_reset=True), csms)

    reply = csms.call("Reset", {"type": "OnIdle", "evseId": 2})
    assert reply.payload == {"status": "Accepted"}
    wait_until(lambda: booted.application.resets == [("OnIdle", 2)], "the application to reset EVSE 2")
    settle(booted.station, csms)
    assert csms.calls("BootNotification") == [booted.boot], "an EVSE reset does not reboot the station"
    assert csms.session_count == 1


@pytest.mark.requirements("B11.FR.01", "B11.FR.09", "B12.FR.01", "B12.FR.09")
@pytest.mark.parametrize("reset_type", ["OnIdle", "Immediate"])
def test_TC_B_28_CS_reset_evse_not_supported(
    csms: CsmsDouble, station_factory: StationFactory, reset_type: str
) -> None:
    booted = boot(station_factory(supports_evse_reset=False), csms)

    reply = csms.call("Reset", {"type": reset_type, "evseId": 1})
    assert reply.payload == {"status": "Rejected"}
    settle(booted.station, csms)
    assert booted.application.resets == []
    assert csms.session_count == 1


@pytest.mark.requirements("B04.FR.01")
def test_TC_B_51_CS_offline_longer_than_threshold(csms: CsmsDouble, station_factory: StationFactory) -> None:
    threshold = 1
    offline, reported = _offline_plug(csms, station_factory, threshold, wait_minimum=threshold + 2)
    assert offline > threshold
    assert reported == {(1, 1): "Occupied", (2, 1): "Available"}, "every connector after a long outage"


@pytest.mark.requirements("B04.FR.02")
def test_TC_B_52_CS_offline_shorter_than_threshold(csms: CsmsDouble, station_factory: StationFactory) -> None:
    threshold = 3
    offline, reported = _offline_plug(csms, station_factory, threshold, wait_minimum=threshold - 2)
    assert offline < threshold
    assert reported == {(1, 1): "Occupied"}, "only the connector that changed after a short outage"


def _offline_plug(
    csms: CsmsDouble, station_factory: StationFactory, threshold: int, wait_minimum: int
) -> tuple[float, dict[tuple[int, int], str]]:
    """B04 scenario: the CSMS drops the connection and refuses reconnects, EVSE 1 is plugged meanwhile, then
    the CSMS accepts again. Returns how long the station was offline and the statuses it reported after."""
    config = {
        "OCPPCommCtrlr": {
            "OfflineThreshold": threshold,
            "RetryBackOffWaitMinimum": wait_minimum,
            "RetryBackOffRandomRange": 0,
        }
    }
    booted = boot(station_factory(evse_connectors=(1, 1), config=config), csms)
    csms.refuse_connections()
    lost = csms.close_connection()
    booted.station.connector(1, 1, "plug")
    wait_until(
        lambda: ConnectorStatusChanged(1, 1, "Occupied") in booted.application.events,
        "the station to see the plug",
    )
    csms.accept_connections()

    back = csms.wait_session(2, timeout=wait_minimum + 5)
    assert lost.closed_at is not None
    settle(booted.station, csms)
    reported = status_by_connector([call for call in csms.calls("StatusNotification") if call.session == 2])
    return back.attempt.at - lost.closed_at, reported


def test_TC_B_57_CS_reconnect_back_off(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """Part 4 5.3 (no FR ids): wait RetryBackOffWaitMinimum, then double it after every failed attempt."""
    wait_minimum = 1
    config = {
        "OCPPCommCtrlr": {
            "RetryBackOffRepeatTimes": 2,
            "RetryBackOffRandomRange": 0,
            "RetryBackOffWaitMinimum": wait_minimum,
        }
    }
    boot(station_factory(config=config), csms)

    lost = csms.close_connection()  # step 1
    reconnected = csms.wait_session(2, timeout=wait_minimum + 5)  # steps 2-3
    assert lost.closed_at is not None
    first_delay = reconnected.attempt.at - lost.closed_at
    assert wait_minimum - SLACK <= first_delay < wait_minimum + 1

    csms.refuse_connections()
    lost = csms.close_connection()  # step 4
    refused = csms.wait_attempts(3, timeout=wait_minimum + 5)[-1]  # steps 5-6
    csms.accept_connections()
    assert not refused.accepted
    assert lost.closed_at is not None
    assert wait_minimum - SLACK <= refused.at - lost.closed_at < wait_minimum + 1

    final = csms.wait_session(3, timeout=2 * wait_minimum + 5)  # steps 7-8
    doubled = final.attempt.at - refused.at
    assert 2 * wait_minimum - SLACK <= doubled < 2 * wait_minimum + 1, "the wait doubles after a failed attempt"
    assert final.attempt.at - lost.closed_at >= 3 * wait_minimum - SLACK
