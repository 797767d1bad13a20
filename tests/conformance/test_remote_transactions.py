"""Part 6 block F test cases around transactions: remote start (F01, F02), remote stop (F03), UnlockConnector
(F05) and TriggerMessage for MeterValues, TransactionEvent and an Occupied StatusNotification (F06)."""

from __future__ import annotations

from typing import Any

import pytest
from harness import Booted, StationFactory, boot, sent_in_order, settle
from sessions import (
    ID_TOKEN,
    energy_transfer_started,
    expect_ended,
    plug,
    shape,
    transaction_event,
    transaction_id,
)

from chargecore.testing.csms_double import CsmsDouble, StationCall


def _remote_start(csms: CsmsDouble, **extra: Any) -> dict[str, Any]:
    reply = csms.call("RequestStartTransaction", {"idToken": ID_TOKEN, "remoteStartId": 17, **extra})
    assert reply.payload is not None
    return reply.payload


def _assert_remote_started(call: Any) -> None:
    assert call.payload["eventType"] == "Started" and call.payload["triggerReason"] == "RemoteStart"
    assert call.payload["transactionInfo"]["remoteStartId"] == 17 and call.payload["idToken"] == ID_TOKEN


@pytest.mark.requirements("F01.FR.03", "F01.FR.04", "F01.FR.19", "F02.FR.01")
def test_TC_F_01_CS_remote_start_cable_plugin_first(csms: CsmsDouble, booted: Booted) -> None:
    plug(booted, csms)
    assert _remote_start(csms, evseId=1) == {"status": "Accepted"}
    started = transaction_event(csms)
    _assert_remote_started(started)
    assert started.payload["transactionInfo"]["chargingState"] == "Charging"


@pytest.mark.requirements("F02.FR.01", "F01.FR.01")
def test_TC_F_02_CS_remote_start_first_authorize_remote_start(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    booted = boot(station_factory(config={"AuthCtrlr": {"AuthorizeRemoteStart": True}}), csms)
    assert _remote_start(csms, evseId=1) == {"status": "Accepted"}
    authorize = csms.expect_call("Authorize")
    assert authorize.payload == {"idToken": ID_TOKEN}
    csms.reply(authorize, {"idTokenInfo": {"status": "Accepted"}})
    plug(booted, csms)
    _assert_remote_started(transaction_event(csms))


@pytest.mark.requirements("F02.FR.01", "F01.FR.02")
def test_TC_F_03_CS_remote_start_first_no_authorize(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config={"AuthCtrlr": {"AuthorizeRemoteStart": False}}), csms)
    assert _remote_start(csms, evseId=1) == {"status": "Accepted"}
    plug(booted, csms)
    _assert_remote_started(transaction_event(csms))
    assert csms.calls("Authorize") == []


@pytest.mark.requirements("F02.FR.01", "E03.FR.01", "E03.FR.05")
def test_TC_F_04_CS_remote_start_cable_plugin_timeout(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {"TxCtrlr": {"TxStartPoint": "Authorized", "EVConnectionTimeOut": 2}}
    booted = boot(station_factory(config=config), csms)
    assert _remote_start(csms, evseId=1) == {"status": "Accepted"}
    assert csms.expect_call("StatusNotification").payload["connectorStatus"] == "Occupied"
    _assert_remote_started(transaction_event(csms))
    ended = transaction_event(csms, timeout=6)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "EVConnectTimeout")
    assert csms.expect_call("StatusNotification").payload["connectorStatus"] == "Available"
    assert _remote_start(csms, evseId=1) == {"status": "Accepted"}  # ready for the next session
    _assert_remote_started(transaction_event(csms))
    settle(booted.station, csms)


@pytest.mark.requirements("F05.FR.01", "F05.FR.02")
def test_TC_F_05_CS_unlock_with_ongoing_transaction(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    reply = csms.call("UnlockConnector", {"evseId": 1, "connectorId": 1})
    assert reply.payload == {"status": "OngoingAuthorizedTransaction"}
    assert booted.application.unlocked == []


@pytest.mark.requirements("F05.FR.01", "F05.FR.04")
def test_TC_F_06_CS_unlock_without_transaction(csms: CsmsDouble, booted: Booted) -> None:
    plug(booted, csms)
    assert csms.call("UnlockConnector", {"evseId": 1, "connectorId": 1}).payload == {"status": "Unlocked"}
    assert booted.application.unlocked == [(1, 1)]


@pytest.mark.requirements("F05.FR.01", "F05.FR.06")
def test_TC_F_07_CS_unlock_no_cable(csms: CsmsDouble, booted: Booted) -> None:
    assert csms.call("UnlockConnector", {"evseId": 1, "connectorId": 1}).payload == {"status": "Unlocked"}


@pytest.mark.requirements("F05.FR.03")
def test_TC_F_10_CS_unlock_unknown_connector(csms: CsmsDouble, booted: Booted) -> None:
    assert csms.call("UnlockConnector", {"evseId": 1, "connectorId": 9}).payload == {"status": "UnknownConnector"}
    assert csms.call("UnlockConnector", {"evseId": 7, "connectorId": 1}).payload == {"status": "UnknownConnector"}


@pytest.mark.requirements("F03.FR.02", "F03.FR.03", "F03.FR.07", "F03.FR.09")
def test_TC_F_08_CS_remote_stop(csms: CsmsDouble, booted: Booted) -> None:
    started = energy_transfer_started(booted, csms)
    reply = csms.call("RequestStopTransaction", {"transactionId": transaction_id(started)})
    assert reply.payload == {"status": "Accepted"}
    expect_ended(csms, ("Ended", "RemoteStop", "EVConnected"), "Remote")


@pytest.mark.requirements("F03.FR.08")
def test_TC_F_09_CS_remote_stop_rejected(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    reply = csms.call("RequestStopTransaction", {"transactionId": "not-this-one"})
    assert reply.payload == {"status": "Rejected"}
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 1


def _trigger(csms: CsmsDouble, message: str, evse: dict[str, int] | None) -> Any:
    mark = csms.inbound_count()
    reply = csms.trigger(message, evse)
    assert reply.payload == {"status": "Accepted"}
    return mark, reply


@pytest.mark.requirements("F06.FR.02", "F06.FR.04", "F06.FR.05", "F06.FR.06", "F06.FR.10")
def test_TC_F_11_CS_trigger_meter_values_specific_evse(csms: CsmsDouble, booted: Booted) -> None:
    booted.station.meter(1, 1234.0, 0.0)
    mark, reply = _trigger(csms, "MeterValues", {"id": 1})
    meter = csms.expect_call("MeterValues")
    csms.reply(meter, {})
    assert meter.payload["evseId"] == 1
    assert meter.payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"
    assert sent_in_order(csms, mark, reply.message_id, meter.message_id)


@pytest.mark.requirements("F06.FR.04", "F06.FR.05", "F06.FR.06", "F06.FR.10", "F06.FR.11")
def test_TC_F_12_CS_trigger_meter_values_all_evses(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(evse_connectors=(1, 1)), csms)
    _trigger(csms, "MeterValues", None)
    meters = []
    for _ in range(2):
        meters.append(csms.expect_call("MeterValues"))
        csms.reply(meters[-1], {})
    assert sorted(m.payload["evseId"] for m in meters) == [1, 2]


def _assert_triggered(call: StationCall, evse_id: int) -> None:
    """Step 3 of TC_F_13 and TC_F_14: the triggered TransactionEventRequest of a charging EVSE."""
    payload = call.payload
    assert payload["evse"]["id"] == evse_id and payload["triggerReason"] == "Trigger"
    assert payload["transactionInfo"]["chargingState"] == "Charging"
    assert payload["meterValue"][0]["sampledValue"][0]["context"] == "Trigger"


@pytest.mark.requirements("F06.FR.02", "F06.FR.04", "F06.FR.05", "F06.FR.07", "F06.FR.10")
def test_TC_F_13_CS_trigger_transaction_event_specific_evse(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    booted.station.meter(1, 2500.0, 7000.0)
    mark, reply = _trigger(csms, "TransactionEvent", {"id": 1})
    triggered = transaction_event(csms)
    _assert_triggered(triggered, evse_id=1)
    assert sent_in_order(csms, mark, reply.message_id, triggered.message_id)


@pytest.mark.requirements("F06.FR.04", "F06.FR.05", "F06.FR.07", "F06.FR.10", "F06.FR.11")
def test_TC_F_14_CS_trigger_transaction_event_all_evses(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(evse_connectors=(1, 1)), csms)
    energy_transfer_started(booted, csms)
    booted.station.connector(2, 1, "plug")
    booted.station.present_token("TOKEN2", evse_id=2)
    csms.reply(csms.expect_call("Authorize"), {"idTokenInfo": {"status": "Accepted"}})
    assert shape(transaction_event(csms)) == ("Started", "ChargingStateChanged", "Charging")  # EVSE 2 charges too
    booted.station.meter(1, 100.0)
    booted.station.meter(2, 200.0)
    _trigger(csms, "TransactionEvent", None)
    triggered = sorted([transaction_event(csms), transaction_event(csms)], key=lambda call: call.payload["evse"]["id"])
    for evse_id, call in enumerate(triggered, start=1):  # step 3, for every EVSE
        _assert_triggered(call, evse_id)


@pytest.mark.requirements("F06.FR.02", "F06.FR.04", "F06.FR.05", "F06.FR.10")
def test_TC_F_24_CS_trigger_status_occupied(csms: CsmsDouble, booted: Booted) -> None:
    plug(booted, csms)
    _trigger(csms, "StatusNotification", {"id": 1, "connectorId": 1})
    status = csms.expect_call("StatusNotification")
    assert status.payload["connectorStatus"] == "Occupied"


# --- TriggerMessage for LogStatusNotification and FirmwareStatusNotification (F06) ------------------------------
# TC_F_16_CS and TC_F_19_CS need a log upload (GetLog) or a firmware download (UpdateFirmware) in progress, which
# this station does not implement: they are not automated.


def _triggered_idle(csms: CsmsDouble, message: str, evse: dict[str, int] | None = None) -> None:
    reply = csms.trigger(message, evse)
    assert reply.payload == {"status": "Accepted"}
    notification = csms.expect_call(message)
    assert notification.payload == {"status": "Idle"}
    csms.reply(notification, {})


@pytest.mark.requirements("F06.FR.04")
def test_TC_F_15_CS_trigger_log_status_idle(csms: CsmsDouble, booted: Booted) -> None:
    _triggered_idle(csms, "LogStatusNotification")


@pytest.mark.requirements("F06.FR.04")
def test_TC_F_18_CS_trigger_firmware_status_idle(csms: CsmsDouble, booted: Booted) -> None:
    _triggered_idle(csms, "FirmwareStatusNotification")


@pytest.mark.requirements("F06.FR.04")
def test_TC_F_17_CS_trigger_firmware_status_specific_evse_not_relevant(csms: CsmsDouble, booted: Booted) -> None:
    _triggered_idle(csms, "FirmwareStatusNotification", {"id": 1})
