"""Transactions, authorization and the persistent TransactionEvent lane, driven through `step` (blocks C, E, F)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar, get_args

import pytest
from core_helpers import Sim, at, booted, calls, make_station, of_type, persisted, replies, warnings

from chargecore.pure.blocks.transactions.events import RECORD_NAMESPACE
from chargecore.pure.blocks.transactions.start_stop import APPLICATION_STOPS
from chargecore.pure.effects import (
    Ask,
    AuthorizationDecided,
    Effects,
    Notify,
    Persist,
    StartEnergyTransfer,
    StopEnergyTransfer,
    UnlockConnector,
)
from chargecore.pure.inputs import MeterReading, StopReason, Tick, TokenPresented, TransactionFinished
from chargecore.pure.ocppj.rpc import LANE_NAMESPACE
from chargecore.pure.state import MeasuredValue
from chargecore.pure.station import next_deadline

E = TypeVar("E")
TOKEN = {"idToken": "TOKEN1", "type": "ISO14443"}


def sent(sim: Sim, action: str = "TransactionEvent") -> list[dict[str, Any]]:
    """Payloads of every `action` CALL sent so far (a retried message appears once per attempt)."""
    return [call.payload for call in calls(tuple(sim.log)) if call.action == action]


def notified(effects: Effects, kind: type[E]) -> list[E]:
    return [notice.event for notice in of_type(effects, Notify) if isinstance(notice.event, kind)]


def summary(event: dict[str, Any]) -> tuple[str, str, int]:
    return event["eventType"], event["triggerReason"], event["seqNo"]


def stored(sim: Sim) -> dict[str, Any]:
    """What a store holding every Persist so far contains (deleted keys gone)."""
    return {key: value for key, value in persisted(tuple(sim.log)).items() if value is not None}


def authorize(sim: Sim, status: str = "Accepted", token: str = "TOKEN1", **info: Any) -> None:
    sim.present_token(token)
    assert sim.outstanding().action == "Authorize"
    assert sim.outstanding().payload == {"idToken": {"idToken": token, "type": "ISO14443"}}
    sim.reply({"idTokenInfo": {"status": status, **info}})


def charging(config: dict[str, Any] | None = None) -> Sim:
    """Plug, authorize TOKEN1 at the CSMS, power path closed: the default TxStartPoint (PowerPathClosed)."""
    sim = booted(config=config)
    sim.plug()
    sim.answer_all()
    authorize(sim)
    sim.power_path()
    sim.answer_all()
    return sim


@pytest.mark.requirements("E02.FR.01", "E01.FR.05", "C01.FR.02", "E07.FR.04")
def test_cable_first_session_starts_at_power_path_and_ends_with_the_same_token() -> None:
    sim = booted()
    sim.plug()
    sim.answer_all()
    assert sent(sim) == [], "PowerPathClosed: nothing starts on the plug alone"
    sim.present_token()
    assert sim.outstanding().action == "Authorize"
    effects = sim.reply({"idTokenInfo": {"status": "Accepted"}})
    assert of_type(effects, StartEnergyTransfer) == [StartEnergyTransfer(1)]
    sim.power_path()
    sim.answer_all()
    [started] = sent(sim)
    assert summary(started) == ("Started", "ChargingStateChanged", 0)
    assert started["transactionInfo"]["chargingState"] == "Charging"
    assert started["idToken"] == TOKEN and started["evse"] == {"id": 1, "connectorId": 1}
    assert "offline" not in started

    effects = sim.present_token()
    assert not [call for call in calls(effects) if call.action == "Authorize"], "E07: the same token needs none"
    assert of_type(effects, StopEnergyTransfer) == [StopEnergyTransfer(1)]
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "StopAuthorized", 1)
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert ended["transactionInfo"]["transactionId"] == started["transactionInfo"]["transactionId"]
    assert ended["idToken"] == TOKEN, "errata 2.14.2: the token that ends the authorization goes with it"
    assert sim.station.transactions == ()


@pytest.mark.requirements("E01.FR.02", "E02.FR.05")
def test_ev_connected_start_point_starts_on_the_plug_and_reports_the_token_once() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    sim.plug()
    sim.answer_all()
    [started] = sent(sim)
    assert summary(started) == ("Started", "CablePluggedIn", 0)
    assert started["transactionInfo"]["chargingState"] == "EVConnected" and "idToken" not in started
    authorize(sim)
    sim.answer_all()
    updated = sent(sim)[-1]
    assert summary(updated) == ("Updated", "Authorized", 1) and updated["idToken"] == TOKEN
    sim.power_path()
    sim.answer_all()
    charging_changed = sent(sim)[-1]
    assert summary(charging_changed) == ("Updated", "ChargingStateChanged", 2)
    assert charging_changed["transactionInfo"]["chargingState"] == "Charging" and "idToken" not in charging_changed


@pytest.mark.requirements("E03.FR.01", "E03.FR.05")
def test_authorized_start_point_starts_without_cable_and_times_out() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "Authorized", "EVConnectionTimeOut": 30}})
    authorize(sim)
    sim.answer_all()
    [started] = sent(sim)
    assert summary(started) == ("Started", "Authorized", 0)
    assert [c for c in sent(sim, "StatusNotification") if c["connectorStatus"] == "Occupied"], "Occupied in a tx"
    sim.tick_deadline()
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "EVConnectTimeout", 1)
    assert ended["transactionInfo"]["stoppedReason"] == "Timeout"
    assert sent(sim, "StatusNotification")[-1]["connectorStatus"] == "Available"


@pytest.mark.requirements("E03.FR.05")
@pytest.mark.parametrize("timeout_s", [30, 45])
def test_ev_connection_timeout_ends_a_started_transaction_at_the_configured_time_not_before(timeout_s: int) -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "Authorized", "EVConnectionTimeOut": timeout_s}})
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted"}}, at_s=10)  # authorized at T0+10 s: the wait begins
    sim.answer_all()
    assert next_deadline(sim.station) == at(10 + timeout_s), "the shell wakes the core at the configured time"
    sim.tick(10 + timeout_s - 0.001)
    sim.answer_all()
    assert [summary(event) for event in sent(sim)] == [("Started", "Authorized", 0)], "not a moment early"
    sim.tick(10 + timeout_s)
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "EVConnectTimeout", 1) and ended["transactionInfo"]["stoppedReason"] == "Timeout"


@pytest.mark.requirements("E03.FR.05")
def test_ev_connection_timeout_gives_up_an_authorization_waiting_for_the_cable() -> None:
    """The default TxStartPoint PowerPathClosed: nothing started, so nothing is sent; the EV plugging in after the
    timeout gets no energy, one plugging in before it does."""
    sim = booted(config={"TxCtrlr": {"EVConnectionTimeOut": 30}})
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted"}}, at_s=10)
    sim.tick(39.999)
    assert sim.station.transactions != (), "still waiting for the cable"
    sim.tick(40)
    assert sim.station.transactions == () and sent(sim) == []
    assert not of_type(sim.plug(), StartEnergyTransfer)


@pytest.mark.requirements("E03.FR.05")
def test_a_token_at_the_station_reader_authorizes_a_transaction_again_after_the_timeout() -> None:
    """TxStopPoint without Authorized: the timeout only withdraws the authorization (Updated); the next token at
    the station's own reader is for that transaction (TC_E_05 step 3), not refused for want of a free EVSE."""
    config = {"TxCtrlr": {"TxStartPoint": "Authorized", "TxStopPoint": "EVConnected", "EVConnectionTimeOut": 30}}
    sim = booted(config=config)
    authorize(sim)
    sim.answer_all()
    sim.tick_deadline()
    sim.answer_all()
    assert summary(sent(sim)[-1]) == ("Updated", "EVConnectTimeout", 1)
    sim.present_token(evse_id=None)
    sim.answer_all()
    again = sent(sim)[-1]
    assert summary(again) == ("Updated", "Authorized", 2) and again["idToken"] == TOKEN


# --- a station-level reader on a station with several EVSEs (E01.FR.17, TC_J_08) ------------------------------

TWO_EVSES = (1, 1)
BEGIN_MEASURANDS = {"SampledDataCtrlr": {"TxStartedMeasurands": "Energy.Active.Import.Register,Power.Active.Import"}}


def station_reader(start_point: str, **more: dict[str, Any]) -> Sim:
    """Two EVSEs with meters; TOKEN1 presented at the station's reader (no EVSE) and accepted by the CSMS."""
    sim = booted(TWO_EVSES, config={"TxCtrlr": {"TxStartPoint": start_point, "EVConnectionTimeOut": 30}, **more})
    sim.meter(1000, 0, evse_id=1)
    sim.meter(5000, 7000, evse_id=2)
    sim.present_token(evse_id=None)
    sim.reply({"idTokenInfo": {"status": "Accepted"}})
    sim.answer_all()
    return sim


@pytest.mark.requirements("E01.FR.16", "E01.FR.17", "J02.FR.01", "J02.FR.10")
def test_a_station_level_token_starts_before_the_evse_is_known_and_the_plug_names_it() -> None:
    sim = station_reader("Authorized", **BEGIN_MEASURANDS)
    [started] = sent(sim)
    assert summary(started) == ("Started", "Authorized", 0) and started["idToken"] == TOKEN
    assert "evse" not in started and "meterValue" not in started, "the EVSE, and so its meter, is not known yet"
    assert sim.station.transactions[0].evse_id == 0
    effects = sim.plug(evse_id=2)
    assert of_type(effects, StartEnergyTransfer) == [StartEnergyTransfer(2)], "energy where the EV plugged in"
    sim.answer_all()
    updated = sent(sim)[-1]
    assert summary(updated) == ("Updated", "CablePluggedIn", 1)
    assert updated["evse"] == {"id": 2, "connectorId": 1}
    [begin] = updated["meterValue"]
    assert {(v["context"], v["measurand"], v["value"]) for v in begin["sampledValue"]} == {
        ("Transaction.Begin", "Energy.Active.Import.Register", 5000),
        ("Transaction.Begin", "Power.Active.Import", 7000),
    }
    sim.power_path(evse_id=2)
    sim.answer_all()
    charging_changed = sent(sim)[-1]
    assert summary(charging_changed) == ("Updated", "ChargingStateChanged", 2) and "meterValue" not in charging_changed
    assert charging_changed["evse"]["id"] == 2, "the EVSE stays named"


def test_a_station_level_authorization_goes_to_the_evse_the_ev_plugs_into() -> None:
    sim = station_reader("EVConnected")
    assert sent(sim) == [], "no transaction before the cable"
    sim.plug(evse_id=2)
    sim.answer_all()
    [started] = sent(sim)
    assert summary(started) == ("Started", "CablePluggedIn", 0)
    assert started["evse"]["id"] == 2 and started["idToken"] == TOKEN
    assert started["meterValue"][0]["sampledValue"][0]["value"] == 5000


def test_a_station_level_transaction_nobody_plugs_into_ends_at_ev_connection_timeout() -> None:
    """Even when Authorized is no stop point: without an EVSE nothing else could ever end it."""
    sim = station_reader("Authorized")
    sim.change_variable("TxCtrlr", "TxStopPoint", "EVConnected")
    sim.tick_deadline()
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "EVConnectTimeout", 1) and "evse" not in ended
    assert ended["transactionInfo"]["stoppedReason"] == "Timeout"
    assert sim.station.transactions == ()


def test_a_station_level_token_goes_to_an_ev_waiting_for_authorization() -> None:
    sim = booted(TWO_EVSES, config={"TxCtrlr": {"TxStartPoint": "Authorized"}})
    sim.plug(evse_id=2)
    sim.answer_all()
    sim.present_token(evse_id=None)
    sim.reply({"idTokenInfo": {"status": "Accepted"}})
    sim.answer_all()
    [started] = sent(sim)
    assert started["evse"]["id"] == 2


def test_a_station_level_token_on_a_one_evse_station_is_for_that_evse() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "Authorized"}})
    sim.present_token(evse_id=None)
    sim.reply({"idTokenInfo": {"status": "Accepted"}})
    sim.answer_all()
    assert sent(sim)[0]["evse"] == {"id": 1, "connectorId": 1}


def test_the_verdict_of_the_application_follows_a_session_that_moved_to_an_evse() -> None:
    sim = booted(TWO_EVSES, config={"TxCtrlr": {"TxStartPoint": "EVConnected"}}, validates_tokens=True)
    asked = sim.present_token(evse_id=None)
    [question] = of_type(asked, Ask)
    sim.plug(evse_id=2)
    sim.answer_all()
    sim.answer(question.question_id, {"status": "Accepted"})
    sim.answer_all()
    started, authorized = sent(sim)
    assert summary(started) == ("Started", "CablePluggedIn", 0) and started["evse"]["id"] == 2
    assert summary(authorized) == ("Updated", "Authorized", 1) and authorized["idToken"] == TOKEN
    assert authorized["evse"]["id"] == 2


# --- Inoperative EVSEs take no new session (G03, G04) -------------------------------------------------------


def inoperative(sim: Sim, evse_id: int | None = None) -> None:
    payload: dict[str, Any] = {"operationalStatus": "Inoperative"}
    if evse_id is not None:
        payload["evse"] = {"id": evse_id}
    sim.csms_call("ChangeAvailability", payload)
    sim.answer_all()


def test_an_inoperative_station_starts_no_transaction_and_no_energy() -> None:
    """G03/G04: an Inoperative station, EVSE or connector does not allow any charging."""
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    inoperative(sim)
    effects = sim.plug() + sim.present_token()
    sim.answer_all()
    assert sent(sim) == [] and sim.station.transactions == ()
    assert of_type(effects, StartEnergyTransfer) == []
    assert [decided.status for decided in notified(effects, AuthorizationDecided)] == ["NoEvseFree"]


def test_a_remote_start_on_an_inoperative_evse_is_rejected() -> None:
    sim = booted(TWO_EVSES)
    inoperative(sim, 2)
    sim.csms_call("RequestStartTransaction", {"evseId": 2, "remoteStartId": 7, "idToken": TOKEN})
    assert replies(tuple(sim.log))[-1][2]["status"] == "Rejected"
    sim.csms_call("RequestStartTransaction", {"remoteStartId": 8, "idToken": TOKEN}, "csms-2")
    assert replies(tuple(sim.log))[-1][2]["status"] == "Accepted"
    assert [tx.evse_id for tx in sim.station.transactions] == [1], "the operative EVSE"


def test_a_station_level_session_does_not_move_to_an_inoperative_evse() -> None:
    sim = station_reader("Authorized")
    inoperative(sim, 1)
    sim.plug(evse_id=1)
    sim.answer_all()
    assert [tx.evse_id for tx in sim.station.transactions] == [0]
    sim.plug(evse_id=2)
    sim.answer_all()
    assert [tx.evse_id for tx in sim.station.transactions] == [2]
    assert sent(sim)[-1]["evse"]["id"] == 2


def test_no_new_session_starts_while_an_on_idle_reset_waits_for_a_transaction() -> None:
    sim = booted(TWO_EVSES, config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    sim.plug(evse_id=1)
    sim.answer_all()
    sim.csms_call("Reset", {"type": "OnIdle"})
    sim.answer(sim.station.questions[0].question_id, True)
    assert replies(tuple(sim.log))[-1][2]["status"] == "Scheduled"
    sim.plug(evse_id=2)
    sim.answer_all()
    assert [tx.evse_id for tx in sim.station.transactions] == [1], "EVSE 2 waits for the reboot"


SIGNATURE = {"signedMeterData": "c2lnbmVk", "signingMethod": "ECDSA", "encodingMethod": "OCMF", "publicKey": "a2V5"}


@pytest.mark.requirements("E01.FR.04", "E01.FR.16")
def test_data_signed_start_point_starts_when_the_meter_signs_with_an_ev_connected() -> None:
    config = {
        "TxCtrlr": {"TxStartPoint": "DataSigned"},
        "SampledDataCtrlr": {"SignReadings": True},
        "OCPPCommCtrlr": {"PublicKeyWithSignedMeterValue": "EveryMeterValue"},
    }
    sim = booted(config=config)
    signed = (MeasuredValue("Energy.Active.Import.Register", 1200.0, signed=SIGNATURE),)
    sim.feed(MeterReading(sim.now, 1, 1200.0, None, signed))
    authorize(sim)
    sim.feed(MeterReading(sim.now, 1, 1200.0, None))
    sim.plug()
    sim.answer_all()
    assert sent(sim) == [], "no signed reading since the EV came: nothing starts"
    sim.feed(MeterReading(sim.now, 1, 1250.0, None, signed))
    sim.answer_all()
    [started] = sent(sim)
    assert summary(started) == ("Started", "SignedDataReceived", 0) and started["idToken"] == TOKEN
    [sample] = started["meterValue"][0]["sampledValue"]
    assert sample["context"] == "Transaction.Begin" and sample["signedMeterValue"] == SIGNATURE
    sim.feed(MeterReading(sim.now, 1, 1300.0, None, signed))
    sim.answer_all()
    assert len(sent(sim)) == 1, "further signed readings are no new start point"


@pytest.mark.requirements("C01.FR.02")
@pytest.mark.parametrize("status", ["Invalid", "Blocked", "Expired", "Unknown"])
def test_a_refused_token_starts_nothing(status: str) -> None:
    sim = booted()
    sim.plug()
    sim.answer_all()
    sim.present_token()
    effects = sim.reply({"idTokenInfo": {"status": status}})
    assert notified(effects, AuthorizationDecided) == [AuthorizationDecided(1, TOKEN, status)]
    assert not of_type(effects, StartEnergyTransfer), "the power path stays open"
    assert sim.station.transactions == () and sent(sim) == []


def test_no_authorization_tokens_are_not_sent_to_the_csms() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "Authorized"}})
    sim.present_token("", kind="NoAuthorization")
    sim.answer_all()
    assert sent(sim, "Authorize") == []
    assert summary(sent(sim)[0]) == ("Started", "Authorized", 0)


@pytest.mark.requirements("E06.FR.02")
def test_unplugging_ends_the_transaction_at_stop_point_ev_connected() -> None:
    sim = charging()
    effects = sim.plug(change="unplug")
    assert of_type(effects, StopEnergyTransfer) == [StopEnergyTransfer(1)]
    assert of_type(effects, UnlockConnector) == [UnlockConnector(1, 1)]
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "EVCommunicationLost", 1)
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert ended["transactionInfo"]["chargingState"] == "Idle"


def test_an_ev_not_ready_before_the_plug_charges_suspended_ev_until_it_is() -> None:
    """TC_E_38: the EV's state reported before its cable is in holds once the power path closes; an unplug
    forgets it, so the next EV charges."""
    sim = booted()
    assert sim.ev_state("SuspendedEV") == (), "no EV yet: nothing to report"
    sim.plug()
    sim.answer_all()
    authorize(sim)
    sim.power_path()
    sim.answer_all()
    [started] = sent(sim)
    assert summary(started) == ("Started", "ChargingStateChanged", 0)
    assert started["transactionInfo"]["chargingState"] == "SuspendedEV"
    sim.ev_state("Charging")
    sim.answer_all()
    assert sent(sim)[-1]["transactionInfo"]["chargingState"] == "Charging"
    sim.ev_state("SuspendedEV")
    sim.plug(change="unplug")
    sim.plug()
    sim.present_token()
    sim.answer_all()
    sim.power_path()
    sim.answer_all()
    assert summary(sent(sim)[-1]) == ("Started", "ChargingStateChanged", 0)
    assert sent(sim)[-1]["transactionInfo"]["chargingState"] == "Charging", "a new EV is ready"


POWER_PATH_STOP = {"TxCtrlr": {"TxStopPoint": "PowerPathClosed"}}


@pytest.mark.requirements("E06.FR.06", "F03.FR.09")
def test_stop_point_power_path_closed_ends_at_once_on_a_remote_stop() -> None:
    """Errata 2023-12 2.17.4: PowerPathClosed is EVConnected plus Authorized, not the relay (TC_E_35)."""
    sim = charging(POWER_PATH_STOP)
    transaction_id = sent(sim)[0]["transactionInfo"]["transactionId"]
    effects = sim.csms_call("RequestStopTransaction", {"transactionId": transaction_id}, "csms-9")
    assert of_type(effects, StopEnergyTransfer) == [StopEnergyTransfer(1)]
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "RemoteStop", 1) and ended["transactionInfo"]["stoppedReason"] == "Remote"
    sim.power_path(False)  # the relay opening afterwards reports nothing more
    sim.answer_all()
    assert len(sent(sim)) == 2 and sim.station.transactions == ()


@pytest.mark.requirements("E06.FR.06")
def test_stop_point_power_path_closed_is_not_the_relay() -> None:
    """The station opening the relay of an authorized session with the EV connected (SuspendedEVSE) is no stop."""
    sim = charging(POWER_PATH_STOP)
    sim.power_path(False)
    sim.answer_all()
    updated = sent(sim)[-1]
    assert summary(updated) == ("Updated", "ChargingStateChanged", 1)
    assert updated["transactionInfo"]["chargingState"] == "SuspendedEVSE"
    assert sim.station.transactions[0].phase == "started"
    sim.plug(change="unplug")  # leaving EVConnected ends it
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "EVCommunicationLost", 2)
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"


@pytest.mark.requirements("E10.FR.01")
def test_ev_side_disconnect_suspends_when_configured_so() -> None:
    sim = charging(
        {
            "TxCtrlr": {"TxStopPoint": "Authorized", "StopTxOnEVSideDisconnect": False},
            "OCPPCommCtrlr": {"UnlockOnEVSideDisconnect": False},
        }
    )
    effects = sim.plug(change="unplug")
    assert not of_type(effects, UnlockConnector)
    sim.answer_all()
    assert summary(sent(sim)[-1]) == ("Updated", "EVCommunicationLost", 1)
    assert sim.station.transactions[0].phase == "started"


@pytest.mark.requirements("E05.FR.02", "C10.FR.05")
def test_the_csms_saying_invalid_in_a_transaction_event_response_deauthorizes() -> None:
    sim = booted()
    sim.plug()
    sim.answer_all()
    authorize(sim)
    sim.power_path()
    assert sim.outstanding().payload["eventType"] == "Started"
    effects = sim.reply({"idTokenInfo": {"status": "Invalid"}})
    assert of_type(effects, StopEnergyTransfer) == [StopEnergyTransfer(1)]
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "Deauthorized", 1)
    assert ended["transactionInfo"]["stoppedReason"] == "DeAuthorized"


def test_stop_tx_on_invalid_id_false_stops_energy_at_max_energy() -> None:
    sim = booted(config={"TxCtrlr": {"StopTxOnInvalidId": False, "MaxEnergyOnInvalidId": 500}})
    sim.meter(1000)
    sim.plug()
    sim.answer_all()
    authorize(sim)
    sim.power_path()
    effects = sim.reply({"idTokenInfo": {"status": "Invalid"}})
    assert not of_type(effects, StopEnergyTransfer)
    assert not of_type(sim.meter(1400), StopEnergyTransfer)
    assert of_type(sim.meter(1500), StopEnergyTransfer) == [StopEnergyTransfer(1)]
    sim.answer_all()
    assert summary(sent(sim)[-1]) == ("Updated", "EnergyLimitReached", 1)


@pytest.mark.requirements("E01.FR.16")
def test_started_carries_the_start_meter_value_and_ended_the_end_value() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    sim.meter(1200, 7000)
    sim.plug()
    sim.meter(3400, 7000)
    sim.plug(change="unplug")
    sim.answer_all()
    started, ended = sent(sim)
    assert started["meterValue"][0]["sampledValue"][0] == {
        "value": 1200,
        "context": "Transaction.Begin",
        "measurand": "Energy.Active.Import.Register",
    }
    assert ended["meterValue"][0]["sampledValue"][0]["value"] == 3400


# --- the persistent lane -------------------------------------------------------------------------------------


@pytest.mark.requirements("E11.FR.01", "E11.FR.02", "E12.FR.01", "E12.FR.02")
def test_events_while_offline_are_queued_marked_offline_and_sent_in_order_first() -> None:
    config = {"TxCtrlr": {"TxStartPoint": "EVConnected"}, "AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True}}
    sim = booted(config=config)
    sim.lose(10)
    sim.plug()
    sim.present_token()
    sim.plug(change="unplug")
    assert sent(sim) == [] and sent(sim, "Authorize") == []
    lane = sim.station.rpc.lane
    assert [m.payload["seqNo"] for m in lane] == [0, 1, 2] and all(m.payload["offline"] for m in lane)
    sim.tick_deadline()
    sim.connect()
    first = sim.outstanding()
    assert first.action == "TransactionEvent" and first.payload["seqNo"] == 0, "queued events go before the rest"
    sim.answer_all()
    assert [summary(e) for e in sent(sim)] == [
        ("Started", "CablePluggedIn", 0),
        ("Updated", "Authorized", 1),
        ("Ended", "EVCommunicationLost", 2),
    ]
    assert not [key for key in stored(sim) if key.startswith((LANE_NAMESPACE, RECORD_NAMESPACE))], "all acknowledged"


@pytest.mark.requirements("E13.FR.01", "E13.FR.02", "E13.FR.03", "E13.FR.04")
def test_a_failing_transaction_event_is_retried_with_growing_interval_then_dropped() -> None:
    config = {
        "TxCtrlr": {"TxStartPoint": "EVConnected"},
        "OCPPCommCtrlr": {"MessageAttempts[TransactionEvent]": 3, "MessageAttemptInterval[TransactionEvent]": 10},
    }
    sim = booted(config=config)
    sim.plug()
    sim.reply()  # the StatusNotification (Occupied) goes first
    first = sim.outstanding()
    key = sim.station.rpc.lane[0].key
    sim.reply_error()
    assert sim.station.rpc.in_flight is None
    sim.feed(Tick(sim.now + timedelta(seconds=9.9)))
    assert sim.station.rpc.in_flight is None, "waits MessageAttemptInterval x 1"
    sim.tick_deadline()
    second = sim.outstanding()
    assert second.payload == first.payload and second.message_id != first.message_id
    started_at = sim.now
    sim.reply_error()
    sim.tick_deadline()
    assert (sim.now - started_at).total_seconds() == 20, "MessageAttemptInterval x 2"
    sim.outstanding()
    effects = sim.tick_deadline()  # the third attempt times out: given up
    assert sim.station.rpc.lane == ()
    assert persisted(effects)[key] is None, "removed from storage only now"
    assert len([e for e in sent(sim) if e["seqNo"] == 0]) == 3


@pytest.mark.requirements("E11.FR.06")
def test_a_lost_connection_does_not_count_as_an_attempt() -> None:
    config = {"TxCtrlr": {"TxStartPoint": "EVConnected"}, "OCPPCommCtrlr": {"MessageAttempts[TransactionEvent]": 1}}
    sim = booted(config=config)
    sim.plug()
    sim.reply()  # StatusNotification
    assert sim.outstanding().action == "TransactionEvent"
    sim.lose()
    sim.tick_deadline()
    sim.connect()
    assert sim.outstanding().payload["seqNo"] == 0, "sent again after the reconnect"


def test_a_restart_ends_the_interrupted_transaction_with_power_loss_and_delivers_the_queue() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    sim.plug()
    sim.answer_all()
    authorize(sim)  # Updated(Authorized) queued, in flight, never answered: the power goes
    lost = sim.outstanding()
    before_id = lost.payload["transactionInfo"]["transactionId"]
    restarted = Sim(make_station(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}}, stored=stored(sim)))
    restarted.now = sim.now
    restarted.power_up()
    restarted.connect()
    restarted.reply({"currentTime": "2030-01-01T00:00:00.000Z", "interval": 300, "status": "Accepted"})
    restarted.answer_all()
    delivered = [summary(e) for e in sent(restarted)]
    assert delivered == [("Updated", "Authorized", 1), ("Ended", "AbnormalCondition", 2)]
    ended = sent(restarted)[-1]
    assert ended["transactionInfo"] == {
        "transactionId": before_id,
        "chargingState": "Idle",
        "stoppedReason": "PowerLoss",
    }
    assert not [key for key in stored(restarted) if key.startswith((LANE_NAMESPACE, RECORD_NAMESPACE))]
    restarted.plug(change="unplug")
    restarted.plug()
    restarted.answer_all()
    assert sent(restarted)[-1]["transactionInfo"]["transactionId"] != before_id, "transaction ids never repeat"


def test_every_transaction_event_is_persisted_with_its_record_in_one_write() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    effects = sim.plug()
    [write] = [p for p in of_type(effects, Persist) if any(k.startswith(LANE_NAMESPACE) for k, _ in p.entries)]
    keys = [key for key, _ in write.entries]
    assert keys[0].startswith(LANE_NAMESPACE) and keys[1].startswith(RECORD_NAMESPACE)


# --- CSMS requests ------------------------------------------------------------------------------------------


def _reply_payload(effects: Any) -> dict[str, Any]:
    [reply] = replies(effects)
    assert reply[0] == 3, reply
    payload: dict[str, Any] = reply[2]
    return payload


@pytest.mark.requirements("E14.FR.01", "E14.FR.02", "E14.FR.03", "E14.FR.04", "E14.FR.05", "E14.FR.06")
def test_get_transaction_status() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    assert _reply_payload(sim.csms_call("GetTransactionStatus", {"transactionId": "nope"})) == {
        "ongoingIndicator": False,
        "messagesInQueue": False,
    }
    sim.plug()
    sim.reply()  # StatusNotification
    transaction_id = sim.outstanding().payload["transactionInfo"]["transactionId"]
    asked = {"transactionId": transaction_id}
    assert _reply_payload(sim.csms_call("GetTransactionStatus", asked)) == {
        "ongoingIndicator": True,
        "messagesInQueue": True,
    }
    assert _reply_payload(sim.csms_call("GetTransactionStatus", {})) == {"messagesInQueue": True}
    sim.answer_all()
    assert _reply_payload(sim.csms_call("GetTransactionStatus", asked))["messagesInQueue"] is False
    sim.plug(change="unplug")
    sim.answer_all()
    assert _reply_payload(sim.csms_call("GetTransactionStatus", asked)) == {
        "ongoingIndicator": False,
        "messagesInQueue": False,
    }


@pytest.mark.requirements("F01.FR.01", "F01.FR.02", "F02.FR.01", "F03.FR.09")
def test_remote_start_and_stop() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "Authorized"}})
    request = {"idToken": TOKEN, "remoteStartId": 7, "evseId": 1}
    assert _reply_payload(sim.csms_call("RequestStartTransaction", request)) == {"status": "Accepted"}
    assert sent(sim, "Authorize") == [], "AuthorizeRemoteStart is false"
    sim.answer_all()
    [started] = sent(sim)
    assert summary(started) == ("Started", "RemoteStart", 0)
    assert started["transactionInfo"]["remoteStartId"] == 7 and started["idToken"] == TOKEN
    again = _reply_payload(sim.csms_call("RequestStartTransaction", request, "csms-2"))
    assert again == {"status": "Rejected"}, "the EVSE is taken"
    transaction_id = started["transactionInfo"]["transactionId"]
    stop = sim.csms_call("RequestStopTransaction", {"transactionId": transaction_id}, "csms-3")
    assert _reply_payload(stop) == {"status": "Accepted"}
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "RemoteStop", 1) and ended["transactionInfo"]["stoppedReason"] == "Remote"
    stop_again = sim.csms_call("RequestStopTransaction", {"transactionId": transaction_id}, "csms-4")
    assert _reply_payload(stop_again) == {"status": "Rejected"}


def test_remote_start_with_authorize_remote_start_asks_the_csms_first() -> None:
    sim = booted(config={"AuthCtrlr": {"AuthorizeRemoteStart": True}, "TxCtrlr": {"TxStartPoint": "Authorized"}})
    sim.csms_call("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 1})
    assert sim.outstanding().action == "Authorize"
    sim.reply({"idTokenInfo": {"status": "Invalid"}})
    sim.answer_all()
    assert sent(sim) == [] and sim.station.transactions == ()


@pytest.mark.requirements("F05.FR.02", "F05.FR.03", "F05.FR.04")
def test_unlock_connector() -> None:
    sim = charging()
    unknown = sim.csms_call("UnlockConnector", {"evseId": 2, "connectorId": 1})
    assert _reply_payload(unknown) == {"status": "UnknownConnector"}
    ongoing = sim.csms_call("UnlockConnector", {"evseId": 1, "connectorId": 1}, "csms-2")
    assert _reply_payload(ongoing) == {"status": "OngoingAuthorizedTransaction"}
    sim.present_token()
    sim.answer_all()
    asked = sim.csms_call("UnlockConnector", {"evseId": 1, "connectorId": 1}, "csms-3")
    assert replies(asked) == []
    assert _reply_payload(sim.answer(sim.station.questions[0].question_id, True)) == {"status": "Unlocked"}
    sim.csms_call("UnlockConnector", {"evseId": 1, "connectorId": 1}, "csms-4")
    assert _reply_payload(sim.answer(sim.station.questions[0].question_id, False)) == {"status": "UnlockFailed"}


@pytest.mark.requirements("F06.FR.07", "F06.FR.06")
def test_trigger_transaction_event_and_meter_values() -> None:
    sim = charging()
    sim.meter(4321)
    sim.csms_call("TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 1}})
    sim.answer_all()
    triggered = sent(sim)[-1]
    assert summary(triggered) == ("Updated", "Trigger", 1)
    assert triggered["transactionInfo"]["chargingState"] == "Charging", "the current state, though unchanged"
    sim.ev_state("SuspendedEV")
    sim.csms_call("TriggerMessage", {"requestedMessage": "TransactionEvent"}, "csms-3")
    sim.answer_all()
    assert [(*summary(event)[1:], event["transactionInfo"]["chargingState"]) for event in sent(sim)[-2:]] == [
        ("ChargingStateChanged", 2, "SuspendedEV"),
        ("Trigger", 3, "SuspendedEV"),
    ]
    sim.csms_call("TriggerMessage", {"requestedMessage": "MeterValues"}, "csms-2")
    sim.answer_all()
    [meter] = sent(sim, "MeterValues")
    assert meter["evseId"] == 1 and meter["meterValue"][0]["sampledValue"][0]["value"] == 4321


# --- authorization rules ---------------------------------------------------------------------------------------


def test_offline_unknown_token_is_refused_without_offline_tx_for_unknown_id() -> None:
    sim = booted()
    sim.lose(10)
    sim.plug()
    effects = sim.present_token()
    assert notified(effects, AuthorizationDecided) == [AuthorizationDecided(1, TOKEN, "Unknown")]


@pytest.mark.requirements("C01.FR.05")
def test_disable_remote_authorization_decides_locally() -> None:
    sim = booted(config={"AuthCtrlr": {"DisableRemoteAuthorization": True}})
    sim.plug()
    effects = sim.present_token()
    assert sent(sim, "Authorize") == []
    assert notified(effects, AuthorizationDecided) == [AuthorizationDecided(1, TOKEN, "Unknown")]


@pytest.mark.requirements("C09.FR.03", "E07.FR.04")
def test_a_token_of_the_same_group_stops_the_transaction() -> None:
    group = {"idToken": "GROUP", "type": "Central"}
    sim = booted()
    sim.plug()
    sim.answer_all()
    authorize(sim, groupIdToken=group)
    sim.power_path()
    sim.answer_all()
    sim.present_token("OTHER")
    assert sim.outstanding().action == "Authorize"
    sim.reply({"idTokenInfo": {"status": "Accepted", "groupIdToken": group}})
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "StopAuthorized", 1)
    assert ended["idToken"] == {"idToken": "OTHER", "type": "ISO14443"}, "TC_C_39 step 8: the token that ended it"


def test_the_stopping_token_goes_once_in_the_event_of_the_stop_not_in_the_end_after_it() -> None:
    """Errata 2.14.2: the idToken goes once per authorization, for starting and for stopping. With TxStopPoint
    EVConnected the stop is an Updated event; the Ended event at the unplug carries no token."""
    sim = charging({"TxCtrlr": {"TxStopPoint": "EVConnected"}})
    sim.present_token()
    sim.answer_all()
    stopped = sent(sim)[-1]
    assert summary(stopped)[:2] == ("Updated", "StopAuthorized") and stopped["idToken"] == TOKEN
    sim.plug(change="unplug")
    sim.answer_all()
    ended = sent(sim)[-1]
    assert ended["eventType"] == "Ended" and "idToken" not in ended


@pytest.mark.requirements("C16.FR.02", "C16.FR.03")
def test_a_master_pass_stops_every_transaction_and_starts_none() -> None:
    sim = charging({"AuthCtrlr": {"MasterPassGroupId": "MASTER"}})
    sim.present_token("BOSS")
    sim.reply({"idTokenInfo": {"status": "Accepted", "groupIdToken": {"idToken": "MASTER", "type": "Central"}}})
    sim.answer_all()
    ended = sent(sim)[-1]
    assert ended["eventType"] == "Ended" and ended["transactionInfo"]["stoppedReason"] == "MasterPass"
    sim.power_path(closed=False)
    assert sim.station.transactions == ()


def test_no_transaction_starts_before_the_boot_is_accepted_unless_allowed() -> None:
    from core_helpers import answer_boot, started

    sim = started(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    answer_boot(sim, "Pending")
    sim.plug()
    assert sim.station.transactions == ()
    allowed = started(config={"TxCtrlr": {"TxStartPoint": "EVConnected", "TxBeforeAcceptedEnabled": True}})
    answer_boot(allowed, "Pending")
    allowed.plug()
    assert allowed.station.transactions[0].phase == "started"
    assert allowed.station.rpc.in_flight is None, "queued until Accepted"


def test_a_leftover_closed_power_path_starts_no_new_transaction() -> None:
    """The driver stops and unplugs before the hardware reports the power path open: nothing starts again."""
    sim = charging()
    effects = sim.present_token()
    assert of_type(effects, StopEnergyTransfer) == [StopEnergyTransfer(1)]
    sim.plug(change="unplug")  # the PowerPathChanged(closed=False) has not come yet
    sim.power_path(closed=False)
    sim.answer_all()
    assert [summary(e)[0] for e in sent(sim)] == ["Started", "Ended"]
    assert sim.station.transactions == ()


@pytest.mark.requirements("E01.FR.01", "E06.FR.01")
def test_parking_bay_start_and_stop_points() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "ParkingBayOccupancy", "TxStopPoint": "ParkingBayOccupancy"}})
    sim.parking_bay(True)
    sim.plug()
    sim.answer_all()
    authorize(sim)
    sim.plug(change="unplug")
    sim.parking_bay(False)
    sim.answer_all()
    assert [summary(e)[:2] for e in sent(sim)] == [
        ("Started", "EVDetected"),
        ("Updated", "CablePluggedIn"),
        ("Updated", "Authorized"),
        ("Updated", "EVCommunicationLost"),
        ("Ended", "EVDeparted"),
    ]
    assert sent(sim)[-1]["transactionInfo"]["stoppedReason"] == "EVDisconnected"


@pytest.mark.requirements("B12.FR.05")
def test_a_transaction_interrupted_by_a_remote_reset_ends_with_immediate_reset() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    sim.plug()
    sim.answer_all()
    sim.csms_call("Reset", {"type": "Immediate"})
    sim.answer(sim.station.questions[0].question_id, True)  # the application allows it; the station reboots
    restarted = Sim(make_station(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}}, stored=stored(sim)))
    restarted.now = sim.now
    restarted.power_up()
    [ended, startup] = [m.payload for m in restarted.station.rpc.lane]
    assert startup["type"] == "StartupOfTheDevice", "the restart came before the reset was performed"
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "ResetCommand")
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"


def test_a_malformed_token_from_the_application_is_ignored() -> None:
    sim = booted()
    effects = sim.feed(TokenPresented(sim.now, {"idToken": "X"}, 1))
    assert sim.station.transactions == () and "not a valid idToken" in " ".join(warnings(effects))


# --- the application ends a transaction (libocpp's on_transaction_finished) -----------------------------------

FINISHED_TRIGGER = {
    "EmergencyStop": "AbnormalCondition",
    "GroundFault": "AbnormalCondition",
    "OvercurrentFault": "AbnormalCondition",
    "PowerQuality": "AbnormalCondition",
    "PowerLoss": "AbnormalCondition",
    "Other": "AbnormalCondition",
    "EnergyLimitReached": "EnergyLimitReached",
    "SOCLimitReached": "EnergyLimitReached",
    "TimeLimitReached": "TimeLimitReached",
    "StoppedByEV": "ChargingStateChanged",
    "LocalOutOfCredit": "ChargingStateChanged",
    "Local": "StopAuthorized",
}
"""Every hardware stoppedReason of ReasonEnumType and the triggerReason its Ended event carries."""


def test_the_stop_reasons_of_the_input_are_the_ones_the_core_takes() -> None:
    assert set(get_args(StopReason)) == set(FINISHED_TRIGGER) == set(APPLICATION_STOPS)


def finish(sim: Sim, reason: str, evse_id: int = 1) -> Effects:
    return sim.feed(TransactionFinished(sim.now, evse_id, reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(("reason", "trigger"), FINISHED_TRIGGER.items())
def test_the_application_ends_a_transaction_with_its_reason_whatever_the_stop_points(reason: str, trigger: str) -> None:
    sim = charging({"TxCtrlr": {"TxStopPoint": "EVConnected"}})  # no stop point is left by the finish itself
    effects = finish(sim, reason)
    assert of_type(effects, StopEnergyTransfer) == [StopEnergyTransfer(1)]
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", trigger, 1)
    assert ended["transactionInfo"]["stoppedReason"] == reason
    assert ended["transactionInfo"]["chargingState"] == "EVConnected", "the cable is still in"
    assert sim.station.transactions == ()
    sim.power_path(False)
    sim.answer_all()
    assert len(sent(sim)) == 2, "the relay opening afterwards starts and reports nothing"


@pytest.mark.parametrize("reason", ["Remote", "DeAuthorized", "EVDisconnected", "Timeout", "MasterPass", "Bogus"])
def test_a_reason_the_station_decides_itself_ends_nothing(reason: str) -> None:
    sim = charging()
    before = sim.station
    effects = finish(sim, reason)
    assert sim.station == before and not calls(effects)
    assert warnings(effects) == [f"{reason!r} is not a reason the application ends a transaction with"]


def test_finishing_where_no_session_is_ends_nothing() -> None:
    sim = booted()
    before = sim.station
    assert warnings(finish(sim, "EmergencyStop")) == ["no transaction on EVSE 1: EmergencyStop ignored"]
    assert sim.station == before


def test_finishing_a_session_not_started_yet_drops_it_without_an_event() -> None:
    sim = booted()
    sim.plug()
    sim.answer_all()
    authorize(sim)  # TxStartPoint PowerPathClosed: authorized, energy asked for, no transaction yet
    assert sim.station.transactions[0].phase == "pending"
    effects = finish(sim, "GroundFault")
    assert of_type(effects, StopEnergyTransfer) == [StopEnergyTransfer(1)]
    sim.answer_all()
    assert sent(sim) == [] and sim.station.transactions == ()


def test_a_fault_leaves_the_transaction_to_the_application() -> None:
    """A fault makes the connector Faulted and ends nothing (it may clear: `recover`); the application, which
    knows what happened, ends the transaction with its reason."""
    sim = charging()
    sim.plug(change="fault")
    sim.answer_all()
    assert sent(sim, "StatusNotification")[-1]["connectorStatus"] == "Faulted"
    assert len(sent(sim)) == 1 and sim.station.transactions[0].phase == "started"
    finish(sim, "GroundFault")
    sim.answer_all()
    ended = sent(sim)[-1]
    assert summary(ended) == ("Ended", "AbnormalCondition", 1)
    assert ended["transactionInfo"]["stoppedReason"] == "GroundFault"
    assert sent(sim, "StatusNotification")[-1]["connectorStatus"] == "Faulted", "until the fault clears"
