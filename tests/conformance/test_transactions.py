"""Part 6 block E (transactions) test cases for the Charging Station."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from harness import Booted, StationFactory, boot, settle
from sessions import (
    ID_TOKEN,
    authorize_locally,
    energy_transfer_started,
    expect_ended,
    go_offline,
    plug,
    queued,
    shape,
    transaction_event,
    transaction_id,
)

from chargecore.pure.state import MeasuredValue
from chargecore.testing.csms_double import CsmsDouble, wait_until


def booted_with(csms: CsmsDouble, station_factory: StationFactory, **tx_ctrlr: Any) -> Booted:
    return boot(station_factory(config={"TxCtrlr": tx_ctrlr}), csms)


def charging_with_ev_side_rules(
    csms: CsmsDouble, station_factory: StationFactory, *, stop: bool, unlock: bool, **tx_ctrlr: Any
) -> Booted:
    """Booted and charging with TxStopPoint Authorized and the EV-side disconnect rules of E09/E10."""
    config = {
        "TxCtrlr": {"TxStopPoint": "Authorized", "StopTxOnEVSideDisconnect": stop, **tx_ctrlr},
        "OCPPCommCtrlr": {"UnlockOnEVSideDisconnect": unlock},
    }
    booted = boot(station_factory(config=config), csms)
    energy_transfer_started(booted, csms)
    return booted


# --- start points (E01) ----------------------------------------------------------------------------------------


@pytest.mark.requirements("E01.FR.05", "E01.FR.07", "E01.FR.16")
def test_TC_E_01_CS_start_on_power_path_closed(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStartPoint="PowerPathClosed")
    authorize_locally(booted, csms)  # Reusable State Authorized: no TransactionEvent before the cable
    plug(booted, csms)  # EVConnectedPreSession
    started = transaction_event(csms)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging")
    assert started.payload["evse"] == {"id": 1, "connectorId": 1} and started.payload["idToken"] == ID_TOKEN


@pytest.mark.requirements("E01.FR.06", "E01.FR.07", "E01.FR.16")
def test_TC_E_02_CS_start_on_energy_transfer(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStartPoint="EnergyTransfer")
    authorize_locally(booted, csms)
    plug(booted, csms)
    started = transaction_event(csms)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging")
    assert started.payload["seqNo"] == 0


@pytest.mark.requirements("E01.FR.02", "E01.FR.07", "E01.FR.16")
def test_TC_E_09_CS_start_on_ev_connected(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStartPoint="EVConnected")
    plug(booted, csms)
    started = transaction_event(csms)
    assert shape(started) == ("Started", "CablePluggedIn", "EVConnected")
    assert started.payload["evse"] == {"id": 1, "connectorId": 1}


@pytest.mark.requirements("E01.FR.03", "E01.FR.07", "E01.FR.16", "C01.FR.02")
def test_TC_E_10_CS_start_on_authorized_local(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStartPoint="Authorized")
    authorize_locally(booted, csms)
    started = transaction_event(csms)
    assert started.payload["eventType"] == "Started" and started.payload["triggerReason"] == "Authorized"
    assert started.payload["idToken"] == ID_TOKEN


@pytest.mark.requirements("E01.FR.03", "F01.FR.03", "F01.FR.04", "F02.FR.01")
def test_TC_E_13_CS_start_on_authorized_remote(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStartPoint="Authorized")
    reply = csms.call("RequestStartTransaction", {"idToken": ID_TOKEN, "remoteStartId": 42, "evseId": 1})
    assert reply.payload == {"status": "Accepted"}
    occupied = csms.expect_call("StatusNotification")
    assert occupied.payload["connectorStatus"] == "Occupied"
    started = transaction_event(csms)
    assert started.payload["eventType"] == "Started" and started.payload["triggerReason"] == "RemoteStart"
    assert started.payload["transactionInfo"]["remoteStartId"] == 42 and started.payload["idToken"] == ID_TOKEN
    settle(booted.station, csms)


@pytest.mark.requirements("E01.FR.01", "E01.FR.07")
def test_TC_E_12_CS_start_on_parking_bay_occupied(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStartPoint="ParkingBayOccupancy")
    booted.station.parking_bay(1, True)
    started = transaction_event(csms)
    assert started.payload["eventType"] == "Started" and started.payload["triggerReason"] == "EVDetected"


SIGNATURE = {"signedMeterData": "c2lnbmVk", "signingMethod": "ECDSA", "encodingMethod": "OCMF", "publicKey": "a2V5"}


@pytest.mark.requirements("E01.FR.04", "E01.FR.07", "E01.FR.10", "E01.FR.15", "E01.FR.16")
def test_TC_E_11_CS_start_on_data_signed(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {"TxCtrlr": {"TxStartPoint": "DataSigned"}, "SampledDataCtrlr": {"SignReadings": True}}
    booted = boot(station_factory(config=config), csms)
    authorize_locally(booted, csms)  # Reusable State Authorized
    plug(booted, csms)  # step 1: Occupied
    signed = (MeasuredValue("Energy.Active.Import.Register", 1200.0, signed=SIGNATURE),)
    booted.station.meter(1, 1200.0, None, signed)  # the meter delivers signed data for the EVSE
    started = transaction_event(csms)  # step 3
    payload = started.payload
    assert (payload["eventType"], payload["triggerReason"]) == ("Started", "SignedDataReceived")
    assert payload["idToken"] == ID_TOKEN and payload["evse"] == {"id": 1, "connectorId": 1}
    [sample] = payload["meterValue"][0]["sampledValue"]
    assert sample["context"] == "Transaction.Begin"
    assert sample["signedMeterValue"] == {**SIGNATURE, "publicKey": ""}, "PublicKeyWithSignedMeterValue is Never"
    if payload["transactionInfo"]["chargingState"] != "Charging":  # step 5, unless energy flowed before the start
        assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")
    settle(booted.station, csms)


# --- local start (E02, E03) ------------------------------------------------------------------------------------


@pytest.mark.requirements("E02.FR.01", "E02.FR.05", "E01.FR.16", "C01.FR.02")
def test_TC_E_03_CS_cable_plugin_first(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    assert booted.application.energy == {1: True}


@pytest.mark.requirements("E03.FR.01", "E03.FR.06", "E01.FR.16", "C01.FR.02")
def test_TC_E_04_CS_authorization_first(csms: CsmsDouble, booted: Booted) -> None:
    authorize_locally(booted, csms)
    plug(booted, csms)
    started = transaction_event(csms)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging")
    assert started.payload["idToken"] == ID_TOKEN


@pytest.mark.requirements("E03.FR.05", "E03.FR.06")
@pytest.mark.parametrize(
    ("stop_point", "timed_out", "authorized_again"),
    [
        ("EVConnected,Authorized", ("Ended", "EVConnectTimeout", None), "Started"),
        ("EVConnected", ("Updated", "EVConnectTimeout", None), "Updated"),
    ],
)
def test_TC_E_05_CS_cable_plugin_timeout(
    csms: CsmsDouble,
    station_factory: StationFactory,
    stop_point: str,
    timed_out: tuple[str, str, str | None],
    authorized_again: str,
) -> None:
    """TxStartPoint Authorized, so the transaction has started when the timeout expires (step 1); Ended with
    stoppedReason Timeout if TxStopPoint contains Authorized, else Updated. The timeout event comes no earlier than
    the configured EVConnectionTimeOut after the authorization, and soon after it."""
    config = {
        "TxCtrlr": {"TxStartPoint": "Authorized", "TxStopPoint": stop_point, "EVConnectionTimeOut": 2},
        "AuthCacheCtrlr": {"Enabled": False},
        "AuthCtrlr": {"LocalPreAuthorize": False},
    }
    booted = boot(station_factory(config=config), csms)
    asked_at = time.monotonic()
    authorize_locally(booted, csms)  # Reusable State Authorized (local)
    assert shape(transaction_event(csms))[:2] == ("Started", "Authorized")
    event = transaction_event(csms, timeout=6)  # step 1, after <Configured ev_connection_timeout>
    waited = time.monotonic() - asked_at
    assert 2.0 <= waited < 3.5, f"EVConnectionTimeOut is 2 s; the station waited {waited:.2f} s"
    assert shape(event) == timed_out
    if timed_out[0] == "Ended":
        assert event.payload["transactionInfo"]["stoppedReason"] == "Timeout"
    authorize_locally(booted, csms)  # step 3: Reusable State Authorized (local) again
    again = transaction_event(csms)
    assert (again.payload["eventType"], again.payload["triggerReason"]) == (authorized_again, "Authorized")
    assert again.payload["idToken"] == ID_TOKEN
    booted.station.connector(1, 1, "plug")  # step 4: EnergyTransferStarted; the transaction holds it Occupied
    assert shape(transaction_event(csms)) == ("Updated", "CablePluggedIn", "EVConnected")
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")
    assert csms.calls("StatusNotification")[-1].payload["connectorStatus"] == "Occupied"
    assert booted.application.energy == {1: True}


@pytest.mark.requirements("E03.FR.05")
def test_TC_E_05_CS_cable_plugin_timeout_before_the_transaction_started(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    """The default TxStartPoint PowerPathClosed: no transaction has started when the timeout expires, so step 1 is
    not executed; the authorization is given up no earlier than EVConnectionTimeOut, and steps 3 and 4 start one."""
    config = {
        "TxCtrlr": {"EVConnectionTimeOut": 2},
        "AuthCacheCtrlr": {"Enabled": False},
        "AuthCtrlr": {"LocalPreAuthorize": False},
    }
    booted = boot(station_factory(config=config), csms)
    asked_at = time.monotonic()
    authorize_locally(booted, csms)  # Reusable State Authorized (local)
    wait_until(lambda: _authorization(booted) is None, "the authorization to be given up", 6)
    waited = time.monotonic() - asked_at
    assert 2.0 <= waited < 3.5, f"EVConnectionTimeOut is 2 s; the station gave up after {waited:.2f} s"
    settle(booted.station, csms)
    assert csms.calls("TransactionEvent") == []
    authorize_locally(booted, csms)  # step 3
    plug(booted, csms)  # step 4: EnergyTransferStarted
    started = transaction_event(csms)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging") and started.payload["idToken"] == ID_TOKEN


@pytest.mark.requirements("C01.FR.05")
def test_TC_E_52_CS_disable_remote_authorization(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {"AuthCtrlr": {"DisableRemoteAuthorization": True}, "TxCtrlr": {"TxStartPoint": "Authorized"}}
    booted = boot(station_factory(config=config), csms)
    booted.station.present_token("TOKEN1")
    settle(booted.station, csms)
    assert csms.calls("Authorize") == [] and csms.calls("TransactionEvent") == []


# --- stop points (E06, E07) ------------------------------------------------------------------------------------


@pytest.mark.requirements("E07.FR.04", "E06.FR.15", "C01.FR.03")
def test_TC_E_06_CS_local_stop(csms: CsmsDouble, booted: Booted) -> None:
    started = energy_transfer_started(booted, csms)
    booted.station.present_token("TOKEN1")  # StopAuthorized (local)
    ended = expect_ended(csms, ("Ended", "StopAuthorized", "EVConnected"), "Local")
    assert transaction_id(ended) == transaction_id(started) and ended.payload["seqNo"] == 1
    plug(booted, csms, "unplug")  # EVDisconnected: the transaction has ended already
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 2


@pytest.mark.requirements("E06.FR.03", "E06.FR.15")
def test_TC_E_15_CS_stop_authorized_local(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="Authorized")
    energy_transfer_started(booted, csms)
    booted.station.present_token("TOKEN1")
    ended = transaction_event(csms)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "StopAuthorized")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Local"


@pytest.mark.requirements("E06.FR.03", "E06.FR.15", "F03.FR.09")
def test_TC_E_21_CS_stop_authorized_remote(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="Authorized")
    started = energy_transfer_started(booted, csms)
    reply = csms.call("RequestStopTransaction", {"transactionId": transaction_id(started)})
    assert reply.payload == {"status": "Accepted"}
    ended = transaction_event(csms)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "RemoteStop")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Remote"


@pytest.mark.requirements("E06.FR.02", "E06.FR.15")
def test_TC_E_14_CS_stop_on_ev_disconnected(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="EVConnected")
    energy_transfer_started(booted, csms)
    booted.station.present_token("TOKEN1")  # StopAuthorized
    assert transaction_event(csms).payload["triggerReason"] == "StopAuthorized"
    post_session = transaction_event(csms)  # EVConnectedPostSession: the power path opened
    assert shape(post_session) == ("Updated", "ChargingStateChanged", "EVConnected")
    plug(booted, csms, "unplug")
    ended = transaction_event(csms)
    assert shape(ended) == ("Ended", "EVCommunicationLost", "Idle")
    assert ended.payload["transactionInfo"]["stoppedReason"] in ("Local", "EVDisconnected")


@pytest.mark.requirements("E06.FR.06", "E06.FR.15")
def test_TC_E_07_CS_stop_on_power_path_local(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """Reusable State StopAuthorized as errata 2023-12 2.5.2 draws it for TxStopPoint PowerPathClosed (the same as
    EVConnected plus Authorized, 2.17.4): one Ended event, triggerReason StopAuthorized, stoppedReason Local."""
    booted = booted_with(csms, station_factory, TxStopPoint="PowerPathClosed")
    started = energy_transfer_started(booted, csms)
    booted.station.present_token("TOKEN1")  # Manual Action: present the IdToken to stop the charging session
    ended = expect_ended(csms, ("Ended", "StopAuthorized", "EVConnected"), "Local")
    assert transaction_id(ended) == transaction_id(started) and ended.payload["seqNo"] == 1
    wait_until(lambda: booted.application.energy == {1: False}, "the energy transfer to stop")
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 2, "nothing after the Ended event"


@pytest.mark.requirements("E06.FR.06", "E06.FR.15")
def test_TC_E_35_CS_stop_on_power_path_remote(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="PowerPathClosed")
    started = energy_transfer_started(booted, csms)
    assert csms.call("RequestStopTransaction", {"transactionId": transaction_id(started)}).payload == {
        "status": "Accepted"
    }
    ended = expect_ended(csms, ("Ended", "RemoteStop", "EVConnected"), "Remote")  # step 3
    assert transaction_id(ended) == transaction_id(started) and ended.payload["seqNo"] == 1
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 2, "nothing after the Ended event"


@pytest.mark.requirements("E06.FR.07", "E06.FR.15")
def test_TC_E_22_CS_stop_on_energy_transfer_suspended_ev(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="EnergyTransfer")
    energy_transfer_started(booted, csms)
    booted.station.ev_state(1, "SuspendedEV")
    ended = transaction_event(csms)
    assert shape(ended)[:2] == ("Ended", "ChargingStateChanged")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "StoppedByEV"


@pytest.mark.requirements("E06.FR.01", "E06.FR.15")
def test_TC_E_19_CS_stop_on_parking_bay_unoccupied(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="ParkingBayOccupancy")
    booted.station.parking_bay(1, True)
    energy_transfer_started(booted, csms)
    booted.station.present_token("TOKEN1")
    assert transaction_event(csms).payload["triggerReason"] == "StopAuthorized"
    assert transaction_event(csms).payload["triggerReason"] == "ChargingStateChanged"
    plug(booted, csms, "unplug")
    assert transaction_event(csms).payload["triggerReason"] == "EVCommunicationLost"
    booted.station.parking_bay(1, False)
    ended = transaction_event(csms)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "EVDeparted")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Local"


@pytest.mark.requirements("E09.FR.01", "E09.FR.02", "E09.FR.04")
def test_TC_E_24_CS_ev_side_disconnect_unlocks(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {"TxCtrlr": {"TxStopPoint": "Authorized"}, "OCPPCommCtrlr": {"UnlockOnEVSideDisconnect": True}}
    booted = boot(station_factory(config=config), csms)
    energy_transfer_started(booted, csms)
    plug(booted, csms, "unplug")
    ended = transaction_event(csms)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "EVCommunicationLost")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    wait_until(lambda: booted.application.unlocked == [(1, 1)], "the connector to be unlocked")


@pytest.mark.requirements("E10.FR.01", "E10.FR.03")
def test_TC_E_26_CS_ev_side_disconnect_suspends(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = charging_with_ev_side_rules(csms, station_factory, stop=False, unlock=False)
    plug(booted, csms, "unplug")
    suspended = transaction_event(csms)
    assert shape(suspended) == ("Updated", "EVCommunicationLost", "Idle")
    plug(booted, csms)
    resumed = transaction_event(csms)
    assert (resumed.payload["eventType"], resumed.payload["triggerReason"]) == ("Updated", "CablePluggedIn")
    assert booted.application.unlocked == []


@pytest.mark.requirements("E10.FR.02", "E10.FR.03", "E03.FR.05")
def test_TC_E_27_CS_ev_side_disconnect_suspends_fixed_cable_timeout(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    """The simulated charger has its cable fixed at the station: the EV-side disconnect is the connector's
    unplug, and EVConnectionTimeOut (2 s here) runs out without the EV coming back."""
    booted = charging_with_ev_side_rules(csms, station_factory, stop=False, unlock=False, EVConnectionTimeOut=2)
    booted.station.ev_state(1, "SuspendedEV")  # Reusable State EnergyTransferSuspended
    transaction_event(csms)
    plug(booted, csms, "unplug")  # step 3: Available
    suspended = transaction_event(csms)
    assert shape(suspended) == ("Updated", "EVCommunicationLost", "Idle")
    ended = transaction_event(csms, timeout=10)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "EVConnectTimeout")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Timeout"
    assert booted.application.unlocked == []


# --- GetTransactionStatus (E14) ----------------------------------------------------------------------------------


@pytest.mark.requirements("E14.FR.01")
def test_TC_E_28_CS_status_of_unknown_transaction(csms: CsmsDouble, booted: Booted) -> None:
    reply = csms.call("GetTransactionStatus", {"transactionId": "unknown-0815"})
    assert reply.payload == {"ongoingIndicator": False, "messagesInQueue": False}


@pytest.mark.requirements("E14.FR.02", "E14.FR.05")
def test_TC_E_30_CS_ongoing_without_message_in_queue(csms: CsmsDouble, booted: Booted) -> None:
    started = energy_transfer_started(booted, csms)
    settle(booted.station, csms)
    reply = csms.call("GetTransactionStatus", {"transactionId": transaction_id(started)})
    assert reply.payload == {"ongoingIndicator": True, "messagesInQueue": False}


@pytest.mark.requirements("E14.FR.03", "E14.FR.04", "E11.FR.01", "E11.FR.02")
def test_TC_E_31_CS_ended_with_message_in_queue(csms: CsmsDouble, booted: Booted) -> None:
    started = energy_transfer_started(booted, csms)
    settle(booted.station, csms)
    csms.refuse_connections()
    csms.close_connection()
    wait_until(lambda: booted.station.state.connection.phase != "up", "the station to notice")
    booted.station.present_token("TOKEN1")
    booted.station.connector(1, 1, "unplug")
    wait_until(lambda: booted.station.state.rpc.lane, "the Ended event to be queued")
    csms.wait_attempts(len(csms.attempts) + 1)
    csms.accept_connections()
    csms.wait_session(2, timeout=10)
    reply = csms.call("GetTransactionStatus", {"transactionId": transaction_id(started)})
    assert reply.payload == {"ongoingIndicator": False, "messagesInQueue": True}
    ended = transaction_event(csms)
    assert ended.payload["eventType"] == "Ended" and ended.payload["offline"] is True
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Local"


@pytest.mark.requirements("E14.FR.03", "E14.FR.05")
def test_TC_E_32_CS_ended_without_message_in_queue(csms: CsmsDouble, booted: Booted) -> None:
    started = energy_transfer_started(booted, csms)
    booted.station.present_token("TOKEN1")
    transaction_event(csms)
    settle(booted.station, csms)
    reply = csms.call("GetTransactionStatus", {"transactionId": transaction_id(started)})
    assert reply.payload == {"ongoingIndicator": False, "messagesInQueue": False}


@pytest.mark.requirements("E14.FR.06", "E14.FR.08")
def test_TC_E_34_CS_without_id_without_message_in_queue(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    settle(booted.station, csms)
    assert csms.call("GetTransactionStatus", {}).payload == {"messagesInQueue": False}


@pytest.mark.requirements("E11.FR.01", "E11.FR.02", "E11.FR.06")
def test_E11_connection_loss_during_transaction_queues_events_marked_offline(csms: CsmsDouble, booted: Booted) -> None:
    """TC_E_40 without its meter values (they come with block J): an Updated event made offline goes out on the
    reconnect, marked offline, before anything newer."""
    energy_transfer_started(booted, csms)
    settle(booted.station, csms)
    csms.refuse_connections()
    csms.close_connection()
    wait_until(lambda: booted.station.state.connection.phase != "up", "the station to notice")
    booted.station.ev_state(1, "SuspendedEV")
    wait_until(lambda: booted.station.state.rpc.lane, "the Updated event to be queued")
    csms.accept_connections()
    updated = transaction_event(csms, timeout=10)
    assert shape(updated) == ("Updated", "ChargingStateChanged", "SuspendedEV")
    assert updated.payload["offline"] is True and updated.payload["seqNo"] == 1


# --- retries (E13) ----------------------------------------------------------------------------------------------

RETRY_CONFIG = {
    "OCPPCommCtrlr": {
        "MessageTimeout[Default]": 1,
        "MessageAttempts[TransactionEvent]": 3,
        "MessageAttemptInterval[TransactionEvent]": 1,
    }
}


def _attempts_of_started(booted: Booted, csms: CsmsDouble, answer: Any) -> list[float]:
    """Plug and authorize; `answer(attempt, call)` handles each sending of the Started event. Returns when the
    station has given the message up or it was answered, with the times of the attempts."""
    plug(booted, csms)
    authorize_locally(booted, csms)
    times = []
    for attempt in range(1, 4):
        call = csms.expect_call("TransactionEvent", timeout=6)
        assert call.payload["eventType"] == "Started" and call.payload["seqNo"] == 0
        times.append(call.at)
        if answer(attempt, call):
            break
    return times


@pytest.mark.requirements("E13.FR.01", "E13.FR.02", "E13.FR.03", "E13.FR.04")
def test_TC_E_41_CS_retry_until_max_attempts_without_reply(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config=RETRY_CONFIG), csms)
    times = _attempts_of_started(booted, csms, lambda attempt, call: False)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[0] >= 1 + 1 - 0.2 and gaps[1] >= 1 + 2 - 0.2, gaps  # MessageTimeout + interval x attempts
    time.sleep(1 + 3 + 0.5)
    assert len(csms.calls("TransactionEvent")) == 3, "given up after MessageAttempts"
    assert booted.station.state.rpc.lane == ()


@pytest.mark.requirements("E13.FR.01", "E13.FR.02", "E13.FR.03")
def test_TC_E_42_CS_success_before_max_attempts(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config=RETRY_CONFIG), csms)

    def answer_second(attempt: int, call: Any) -> bool:
        if attempt == 2:
            csms.reply(call, {"idTokenInfo": {"status": "Accepted"}})
        return attempt == 2

    _attempts_of_started(booted, csms, answer_second)
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 2 and booted.station.state.rpc.lane == ()


@pytest.mark.requirements("E13.FR.01", "E13.FR.02", "E13.FR.03", "E13.FR.04")
def test_TC_E_50_CS_retry_until_max_attempts_call_error(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config=RETRY_CONFIG), csms)

    def fail(attempt: int, call: Any) -> bool:
        csms.reply_error(call, "InternalError")
        return False

    times = _attempts_of_started(booted, csms, fail)
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert gaps[0] >= 1 - 0.2 and gaps[1] >= 2 - 0.2, gaps  # interval x preceding attempts
    time.sleep(3 + 0.5)
    assert len(csms.calls("TransactionEvent")) == 3
    assert booted.station.state.rpc.lane == ()


@pytest.mark.requirements("E13.FR.01", "E13.FR.02", "E13.FR.03")
def test_TC_E_51_CS_success_before_max_attempts_call_error(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config=RETRY_CONFIG), csms)

    def error_then_answer(attempt: int, call: Any) -> bool:
        if attempt == 1:
            csms.reply_error(call, "InternalError")
            return False
        csms.reply(call, {"idTokenInfo": {"status": "Accepted"}})
        return True

    times = _attempts_of_started(booted, csms, error_then_answer)
    settle(booted.station, csms)
    assert len(times) == 2 and len(csms.calls("TransactionEvent")) == 2
    assert booted.station.state.rpc.lane == ()


# --- offline transactions (E08, E12) and deauthorization -------------------------------------------------------


def _drain(csms: CsmsDouble, answers: dict[int, dict[str, Any]] | None = None) -> list[Any]:
    """The OCTT accepts the reconnect and answers TransactionEvents until the station sends no more."""
    csms.accept_connections()
    events = []
    while True:
        try:
            call = csms.expect_call("TransactionEvent", timeout=10 if not events else 2)
        except AssertionError:
            return events
        default = {"idTokenInfo": {"status": "Accepted"}} if "idToken" in call.payload else {}
        csms.reply(call, (answers or {}).get(call.payload["seqNo"], default))
        events.append(call)


@pytest.mark.requirements("E12.FR.01", "E12.FR.02", "E12.FR.06")
def test_TC_E_43_CS_transaction_during_offline_period(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config={"AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True}}), csms)
    settle(booted.station, csms)
    go_offline(booted, csms)  # Memory State TransactionEventsInQueueEnded
    booted.station.connector(1, 1, "plug")
    booted.station.present_token("TOKEN1")
    queued(booted, 1)
    booted.station.present_token("TOKEN1")
    booted.station.connector(1, 1, "unplug")
    queued(booted, 2)
    events = _drain(csms)
    assert [e.payload["eventType"] for e in events] == ["Started", "Ended"]
    assert all(e.payload["offline"] is True for e in events)
    assert [e.payload["seqNo"] for e in events] == [0, 1]


@pytest.mark.requirements("E08.FR.01", "E08.FR.04", "E08.FR.05", "E08.FR.06", "E08.FR.07", "E08.FR.08")
def test_TC_E_44_CS_stop_transaction_during_offline_period(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    settle(booted.station, csms)
    go_offline(booted, csms)
    booted.station.present_token("TOKEN1")
    booted.station.connector(1, 1, "unplug")
    queued(booted, 1)
    events = _drain(csms)
    assert [e.payload["eventType"] for e in events] == ["Ended"]
    assert events[0].payload["offline"] is True and events[0].payload["transactionInfo"]["stoppedReason"] == "Local"


@pytest.mark.requirements("E06.FR.04", "E06.FR.15", "C15.FR.04")
def test_TC_E_16_CS_deauthorized_invalid_id_token(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {"AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True}, "TxCtrlr": {"StopTxOnInvalidId": True}}
    booted = boot(station_factory(config=config), csms)
    settle(booted.station, csms)
    go_offline(booted, csms)  # Reusable State StartOfflineTransaction
    booted.station.present_token("TOKEN1")
    booted.station.connector(1, 1, "plug")
    queued(booted, 1)
    events = _drain(csms, {0: {"idTokenInfo": {"status": "Invalid"}}})
    assert events[0].payload["offline"] is True and events[0].payload["idToken"] == ID_TOKEN
    ended = events[-1]
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "Deauthorized")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "DeAuthorized"
    assert booted.application.energy.get(1) is False


@pytest.mark.requirements("E06.FR.04", "E06.FR.15")
def test_TC_E_17_CS_deauthorized_ev_side_disconnect(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = charging_with_ev_side_rules(csms, station_factory, stop=True, unlock=False)
    booted.station.ev_state(1, "SuspendedEV")  # EnergyTransferSuspended
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "SuspendedEV")
    plug(booted, csms, "unplug")
    expect_ended(csms, ("Ended", "EVCommunicationLost", "Idle"), "EVDisconnected")
    assert booted.application.unlocked == []


@pytest.mark.requirements("E06.FR.04", "E06.FR.15")
def test_TC_E_39_CS_deauthorized_timeout(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {"TxCtrlr": {"TxStartPoint": "Authorized", "TxStopPoint": "Authorized", "EVConnectionTimeOut": 2}}
    booted = boot(station_factory(config=config), csms)
    authorize_locally(booted, csms)
    assert transaction_event(csms).payload["eventType"] == "Started"
    ended = transaction_event(csms, timeout=6)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "EVConnectTimeout")
    assert ended.payload["transactionInfo"]["stoppedReason"] == "Timeout"


@pytest.mark.requirements("E06.FR.06", "E06.FR.15")
def test_TC_E_37_CS_stop_on_power_path_ev_side_disconnect(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="PowerPathClosed")
    energy_transfer_started(booted, csms)
    booted.station.ev_state(1, "SuspendedEV")  # EnergyTransferSuspended
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "SuspendedEV")
    plug(booted, csms, "unplug")
    expect_ended(csms, ("Ended", "EVCommunicationLost", "Idle"), "EVDisconnected")


@pytest.mark.requirements("E06.FR.07", "E06.FR.15")
def test_TC_E_08_CS_stop_on_energy_transfer_stop_authorized(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="EnergyTransfer")
    energy_transfer_started(booted, csms)
    booted.station.present_token("TOKEN1")  # StopAuthorized
    assert transaction_event(csms).payload["triggerReason"] == "StopAuthorized"
    expect_ended(csms, ("Ended", "ChargingStateChanged", "EVConnected"), "Local")


@pytest.mark.requirements("E06.FR.02", "E06.FR.15")
def test_TC_E_20_CS_stop_on_ev_side_disconnect(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="EVConnected")
    energy_transfer_started(booted, csms)
    booted.station.ev_state(1, "SuspendedEV")
    transaction_event(csms)
    plug(booted, csms, "unplug")
    expect_ended(csms, ("Ended", "EVCommunicationLost", "Idle"), "EVDisconnected")


@pytest.mark.requirements("E09.FR.01", "E09.FR.03", "E09.FR.04")
def test_TC_E_25_CS_ev_side_disconnect_without_unlock(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = charging_with_ev_side_rules(csms, station_factory, stop=True, unlock=False)
    plug(booted, csms, "unplug")
    ended = transaction_event(csms)
    assert shape(ended) == ("Ended", "EVCommunicationLost", "Idle")
    settle(booted.station, csms)
    assert booted.application.unlocked == []


def _authorization(booted: Booted, evse_id: int = 1) -> str | None:
    return next((tx.authorization for tx in booted.station.state.transactions if tx.evse_id == evse_id), None)


@pytest.mark.parametrize(
    ("start_point", "pre_session"),
    [
        ("PowerPathClosed", None),  # the default: the transaction starts when the power path closes
        ("EVConnected", ("Started", "CablePluggedIn", "EVConnected")),
        ("Authorized", ("Updated", "CablePluggedIn", "EVConnected")),
    ],
)
def test_TC_E_38_CS_ev_not_ready(
    csms: CsmsDouble, station_factory: StationFactory, start_point: str, pre_session: tuple[str, str, str] | None
) -> None:
    """The EV is set not ready before it is connected; the first TransactionEvent after EVConnectedPreSession (and
    its own step 3 where the start point sends one) says SuspendedEV, not Charging."""
    booted = booted_with(csms, station_factory, TxStartPoint=start_point)
    authorize_locally(booted, csms)  # Reusable State Authorized
    if start_point == "Authorized":
        assert shape(transaction_event(csms)) == ("Started", "Authorized", "Idle")
    wait_until(lambda: _authorization(booted) == "accepted", "the station to take in the AuthorizeResponse")
    booted.station.ev_state(1, "SuspendedEV")  # Manual Action: the EV is NOT ready for energy transfer
    if start_point == "Authorized":  # step 1: EVConnectedPreSession; the transaction holds the connector Occupied
        booted.station.connector(1, 1, "plug")
    else:
        plug(booted, csms)
    if pre_session is not None:  # EVConnectedPreSession step 3
        assert shape(transaction_event(csms)) == pre_session
    not_ready = transaction_event(csms)  # step 2
    assert shape(not_ready)[1:] == ("ChargingStateChanged", "SuspendedEV")
    assert not_ready.payload["eventType"] == ("Started" if pre_session is None else "Updated")
    booted.station.ev_state(1, "Charging")  # the EV gets ready: it charges
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")


@pytest.mark.requirements("E06.FR.02", "E06.FR.15")
def test_TC_E_54_CS_stop_on_ev_side_disconnect_without_stop_tx(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    booted = booted_with(csms, station_factory, TxStopPoint="EVConnected", StopTxOnEVSideDisconnect=False)
    energy_transfer_started(booted, csms)
    booted.station.ev_state(1, "SuspendedEV")  # EnergyTransferSuspended
    transaction_event(csms)
    plug(booted, csms, "unplug")
    ended = transaction_event(csms)
    assert shape(ended) == ("Ended", "EVCommunicationLost", "Idle")
    assert ended.payload["transactionInfo"]["stoppedReason"] in ("StoppedByEV", "EVDisconnected")
