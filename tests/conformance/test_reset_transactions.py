"""Part 6 block B test cases of Reset while a transaction runs (B12): TC_B_21, 22, 26, 27, 29, 41."""

from __future__ import annotations

import pytest
from harness import Booted, StationFactory, boot, hardware, settle, status_by_connector
from sessions import energy_transfer_started, expect_ended, shape, transaction_event

from chargecore.pure.inputs import ConnectorFound
from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until


def _reset(csms: CsmsDouble, reset_type: str, evse_id: int | None = None) -> str:
    payload: dict[str, object] = {"type": reset_type}
    if evse_id is not None:
        payload["evseId"] = evse_id
    reply = csms.call("Reset", payload)
    assert reply.payload is not None, reply
    status: str = reply.payload["status"]
    return status


def _stop_authorized(booted: Booted, csms: CsmsDouble, token: str = "TOKEN1", evse_id: int = 1) -> StationCall:
    """Reusable State StopAuthorized: with the default TxStopPoint (EVConnected,Authorized) it ends the
    transaction, so EVConnectedPostSession, EVDisconnected and ParkingBayUnoccupied find it ended."""
    booted.station.present_token(token, evse_id=evse_id)
    ended = transaction_event(csms)
    assert ended.payload["eventType"] == "Ended" and ended.payload["evse"]["id"] == evse_id
    return ended


def _rebooted(csms: CsmsDouble, booted: Booted) -> tuple[StationCall, dict[tuple[int, int], str]]:
    """Steps "BootNotification" and "notifies the CSMS about the current state of all connectors": the station
    closes the connection, boots again and, once accepted, reports every connector as its hardware found it at
    power-up (nobody plugs anything in again), then the StartupOfTheDevice or ResetOrReboot security event."""
    csms.wait_session_closed(1)
    csms.wait_session(2)
    rebooted = csms.answer_boot("Accepted")
    statuses = csms.expect_calls("StatusNotification", len(booted.statuses))
    settle(booted.station, csms)
    security = [call.payload["type"] for call in csms.calls("SecurityEventNotification") if call.session == 2]
    assert {"StartupOfTheDevice", "ResetOrReboot"} & set(security), security
    return rebooted, status_by_connector(statuses)


def _energy_transfer_started_on_evse_2(booted: Booted, csms: CsmsDouble) -> StationCall:
    """Reusable State EnergyTransferStarted for EVSE 2 (TOKEN2): plug, authorize, power path closes, Started."""
    hardware(booted, 2, 1, "plug")
    assert csms.expect_call("StatusNotification").payload["connectorStatus"] == "Occupied"
    booted.station.present_token("TOKEN2", evse_id=2)
    authorize = csms.expect_call("Authorize")
    csms.reply(authorize, {"idTokenInfo": {"status": "Accepted"}})
    started = transaction_event(csms)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging") and started.payload["evse"]["id"] == 2
    return started


@pytest.mark.requirements("B12.FR.01", "B12.FR.03", "E07.FR.03")
def test_TC_B_21_CS_reset_station_on_idle_with_transaction(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    assert _reset(csms, "OnIdle") == "Scheduled"
    settle(booted.station, csms)
    assert booted.application.resets == [] and csms.session_count == 1, "no reset while the transaction runs"
    _stop_authorized(booted, csms)
    rebooted, statuses = _rebooted(csms, booted)
    assert rebooted.payload["reason"] == "ScheduledReset"
    assert statuses == {(1, 1): "Occupied"}, "stopped at step 3: the cable is still plugged in"
    assert booted.application.resets == [("OnIdle", None)]


@pytest.mark.requirements("B12.FR.02", "B12.FR.04", "E07.FR.03", "B01.FR.03")
def test_TC_B_22_CS_reset_station_immediate_with_transaction(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    assert _reset(csms, "Immediate") == "Accepted"
    ended = transaction_event(csms)
    assert shape(ended) == ("Ended", "ResetCommand", "EVConnected")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "ImmediateReset" and "idToken" not in ended.payload
    rebooted, statuses = _rebooted(csms, booted)
    assert rebooted.payload["reason"] == "RemoteReset"
    assert statuses == {(1, 1): "Occupied"}
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 2, "the Ended event was delivered once, before the reboot"
    assert booted.station.state.running_transactions == ()


@pytest.mark.requirements("B12.FR.01", "B12.FR.07", "E07.FR.03")
def test_TC_B_26_CS_reset_evse_on_idle_with_transaction(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(supports_evse_reset=True), csms)
    energy_transfer_started(booted, csms)
    assert _reset(csms, "OnIdle", 1) == "Scheduled"
    settle(booted.station, csms)
    assert booted.application.resets == []
    _stop_authorized(booted, csms)
    hardware(booted, 1, 1, "unplug")  # EVDisconnected
    assert csms.expect_call("StatusNotification").payload["connectorStatus"] == "Available"
    wait_until(lambda: booted.application.resets == [("OnIdle", 1)], "the EVSE to reset")
    settle(booted.station, csms)
    assert csms.session_count == 1, "an EVSE reset does not reboot the station"


@pytest.mark.requirements("B12.FR.02", "B12.FR.08", "E07.FR.03")
def test_TC_B_27_CS_reset_evse_immediate_with_transaction(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(supports_evse_reset=True), csms)
    energy_transfer_started(booted, csms)
    assert _reset(csms, "Immediate", 1) == "Accepted"
    expect_ended(csms, ("Ended", "ResetCommand", "EVConnected"), "ImmediateReset")
    wait_until(lambda: booted.application.resets == [("Immediate", 1)], "the EVSE to reset")


@pytest.mark.requirements("B12.FR.01", "B12.FR.09")
def test_TC_B_29_CS_reset_evse_with_transaction_not_supported(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    booted = boot(station_factory(supports_evse_reset=False), csms)
    energy_transfer_started(booted, csms)
    assert _reset(csms, "OnIdle", 1) == "Rejected"
    settle(booted.station, csms)
    assert booted.application.resets == [] and len(booted.station.state.running_transactions) == 1


@pytest.mark.requirements("B12.FR.01", "B12.FR.03", "E07.FR.03")
def test_TC_B_41_CS_reset_station_on_idle_with_two_transactions(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    booted = boot(station_factory(evse_connectors=(1, 1)), csms)
    energy_transfer_started(booted, csms)
    _energy_transfer_started_on_evse_2(booted, csms)
    assert _reset(csms, "OnIdle") == "Scheduled"
    _stop_authorized(booted, csms)
    hardware(booted, 1, 1, "unplug")  # EVDisconnected for EVSE 1
    assert csms.expect_call("StatusNotification").payload["connectorStatus"] == "Available"
    settle(booted.station, csms)
    assert booted.application.resets == [], "EVSE 2 still charges"
    _stop_authorized(booted, csms, "TOKEN2", 2)  # ends it (TxStopPoint Authorized): the station resets
    rebooted, statuses = _rebooted(csms, booted)
    assert rebooted.payload["reason"] == "ScheduledReset"
    assert statuses == {(1, 1): "Available", (2, 1): "Occupied"}


class _BrokenHardware(SimulatedCharger):
    def connector_states(self) -> tuple[ConnectorFound, ...]:
        raise OSError("connector sensors unreadable")


def test_a_failing_connector_states_hook_still_powers_up(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """The integrator's hook raised at power-up: logged, and the station boots with every connector empty."""
    station = station_factory(application=_BrokenHardware(), evse_connectors=(1, 1))
    booted = boot(station, csms)
    assert status_by_connector(booted.statuses) == {(1, 1): "Available", (2, 1): "Available"}
    log = station.options.log_file
    assert log is not None and "connector_states raised, counted as failed" in log.read_text(encoding="utf-8")
