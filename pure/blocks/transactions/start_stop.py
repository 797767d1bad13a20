"""Block E, when a transaction starts and ends (TxStartPoint, TxStopPoint) and energy transfer
(StartEnergyTransfer/StopEnergyTransfer hooks).

Every input that touches an EVSE goes the same way: note which conditions (the TxStartPoint/TxStopPoint names)
held before, apply the change, and `react`: a pending session starts when a condition became true and any start
point holds, a started transaction ends when a stop point it held is left, otherwise the change is reported as
an Updated event. The CSMS's answer to an event may deauthorize the transaction (StopTxOnInvalidId); the
application or a reset may end it with their own stoppedReason."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.authorization import authorization, token_store
from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.blocks.transactions.events import DEAUTHORIZED, Cause, emit
from chargecore.pure.blocks.transactions.sessions import (
    STATION,
    charging_state,
    conditions,
    ev_connected,
    find,
    find_by_id,
    hardware,
    hold_connector,
    leave,
    may_serve,
    may_start,
    move,
    new_session,
    plugged_connector,
    points,
    put,
    stop_points,
    with_authorization,
)
from chargecore.pure.device_model.model import get_bool, get_int
from chargecore.pure.effects import (
    Effects,
    Log,
    Notify,
    StartEnergyTransfer,
    StopEnergyTransfer,
    TransactionEventAnswered,
)
from chargecore.pure.ocppj import lane
from chargecore.pure.ocppj.timestamps import later, seconds
from chargecore.pure.state import OutboundCall, Station, Transaction

_LEFT_REASON = {
    "ParkingBayOccupancy": "EVDeparted",
    "EVConnected": "EVDisconnected",
    "Authorized": "Local",
    "EnergyTransfer": "StoppedByEV",
    "DataSigned": "Other",
}
"""stoppedReason when a stop point is left and nothing earlier decided one."""


APPLICATION_STOPS = {
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
"""stoppedReason the application may end a transaction with -> the triggerReason of its Ended event. OCPP 2.0.1
names no trigger per reason; this is libocpp's mapping (utils::stop_reason_to_trigger_reason_enum): a fault is an
AbnormalCondition, a limit the EV or the station reached is EnergyLimitReached (no SOC trigger before 2.1)."""


def start_transaction(station: Station, tx: Transaction, trigger: str, now: datetime) -> tuple[Station, Effects]:
    """A remote start not reported yet names the Started event, whatever start point was reached (F01, F02).
    A transaction started before any cable holds its connector Occupied until a cable comes."""
    if tx.remote_start_id is not None and tx.authorization == "accepted" and not tx.token_reported:
        trigger = "RemoteStart"
    hw = hardware(station, tx.evse_id)
    tx = replace(
        move(tx, "start"),
        started_at=now,
        connector_id=plugged_connector(station, tx.evse_id, tx.connector_id),
        start_energy_wh=hw.energy_wh,
    )
    station = hold_connector(station, tx, not ev_connected(station, tx.evse_id))
    station, tx, effects = emit(station, tx, "Started", trigger, now)
    station, limited = adopt_profile(put(station, tx), tx)
    return station, effects + limited


def adopt_profile(station: Station, tx: Transaction) -> tuple[Station, Effects]:
    """K05: the chargingProfile of the RequestStartTransaction becomes the TxProfile of the started transaction."""
    if tx.charging_profile is None:
        return station, ()
    return smart_charging.adopt_start_profile(station, tx.evse_id, tx.transaction_id, tx.charging_profile)


def end_transaction(
    station: Station, tx: Transaction, trigger: str, reason: str, now: datetime
) -> tuple[Station, Effects]:
    """Ended: energy stops, so the chargingState is EVConnected while a cable is plugged, else Idle."""
    state = "EVConnected" if ev_connected(station, tx.evse_id) else "Idle"
    station = hold_connector(leave(station, tx, "end"), tx, False)
    station, tx, effects = emit(station, tx, "Ended", trigger, now, stopped_reason=reason, state=state)
    stop: Effects = (StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ()
    station, unprofiled = smart_charging.on_transaction_ended(station, tx.evse_id, tx.transaction_id, now)  # K02
    return station, effects + stop + unprofiled


def react(
    station: Station, evse_id: int, before: frozenset[str], cause: Cause, now: datetime
) -> tuple[Station, Effects]:
    tx = find(station, evse_id)
    after = conditions(station, evse_id)
    effects: Effects = ()
    if tx is not None and tx.phase == "started":
        left = (before - after) & stop_points(station)
        if evse_id == STATION:  # no EVSE of its own: leaving Authorized is the only way it can end
            left = before - after
        if left:
            reason = tx.stop_reason or cause.stopped_reason or _LEFT_REASON[sorted(left)[0]]
            return end_transaction(station, tx, cause.trigger, reason, now)
        if cause.trigger != "ChargingStateChanged" or charging_state(station, evse_id) != tx.charging_state:
            station, tx, effects = emit(station, tx, "Updated", cause.trigger, now)
            station = put(station, tx)
    elif tx is not None and tx.authorization not in ("authorizing", "accepted"):
        return leave(station, tx, "abandon"), ()  # a pending session nobody authorizes any more
    elif (
        after & points(station, "TxStartPoint")
        and after - before
        and may_start(station)
        and may_serve(station, evse_id)
    ):
        if tx is None:
            station, tx = new_session(station, evse_id, now)
        station, effects = start_transaction(station, tx, cause.trigger, now)
    station, energy = energize(station, evse_id, now)
    return station, effects + energy


def energize(station: Station, evse_id: int, now: datetime) -> tuple[Station, Effects]:
    """Energy flows while the session is authorized, the EV connected and no MaxEnergyOnInvalidId limit reached;
    EVConnectionTimeOut runs while an authorized session waits for the cable."""
    tx = find(station, evse_id)
    if tx is None:
        return station, ()
    connected = ev_connected(station, evse_id)
    energy = hardware(station, evse_id).energy_wh or 0.0
    below_limit = tx.energy_limit_wh is None or energy < tx.energy_limit_wh
    wanted = tx.authorization == "accepted" and connected and below_limit and may_start(station)
    wanted = wanted and (tx.phase == "started" or may_serve(station, evse_id))
    plug_deadline = tx.plug_deadline
    if tx.authorization != "accepted" or connected:
        plug_deadline = None
    elif plug_deadline is None:
        timeout = get_int(station.device_model, "TxCtrlr", "EVConnectionTimeOut", default=120)
        plug_deadline = later(now, seconds(max(1, timeout)))
    station = put(station, replace(tx, energy_allowed=wanted, plug_deadline=plug_deadline))
    if wanted == tx.energy_allowed:
        return station, ()
    return station, ((StartEnergyTransfer(evse_id) if wanted else StopEnergyTransfer(evse_id)),)


def withdraw(
    station: Station, tx: Transaction, cause: Cause, now: datetime, by: dict[str, Any] | None = None
) -> tuple[Station, Effects]:
    """The authorization ends (local or remote stop, deauthorization; `by` the token that ended it); the
    transaction ends if Authorized is a stop point, and otherwise remembers why for when it does end."""
    before = conditions(station, tx.evse_id)
    withdrawn = replace(
        with_authorization(tx, "withdraw"), stop_reason=tx.stop_reason or cause.stopped_reason, stopped_by=by
    )
    if withdrawn.phase == "pending":
        return leave(station, tx, "abandon"), (StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ()
    return react(put(station, withdrawn), tx.evse_id, before, cause, now)


def stop_transaction(station: Station, tx: Transaction, cause: Cause, now: datetime) -> tuple[Station, Effects]:
    """Stop a started transaction for good: withdraw an authorization it has, or else end it outright."""
    if tx.authorization == "accepted":
        return withdraw(station, tx, cause, now)
    return end_transaction(station, tx, cause.trigger, cause.stopped_reason or "Other", now)


def on_event_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """The CSMS has it (lane.answered); an idTokenInfo updates the cache (C10.FR.05) and a non-Accepted one
    deauthorizes (E05, StopTxOnInvalidId / MaxEnergyOnInvalidId)."""
    transaction_id, seq_no = call.payload["transactionInfo"]["transactionId"], call.payload["seqNo"]
    station, acknowledged = lane.answered(station, call)
    effects: Effects = (*acknowledged, Notify(TransactionEventAnswered(transaction_id, seq_no, payload)))
    info, id_token = payload.get("idTokenInfo"), call.payload.get("idToken")
    if info is None or id_token is None:
        return station, effects
    station, remembered = token_store.remember(station, id_token, info, now)
    tx = find_by_id(station, transaction_id)
    if info["status"] == "Accepted" or tx is None or not authorization.same_token(tx.id_token, id_token):
        if tx is not None and info["status"] == "Accepted":
            station = put(station, replace(tx, group_id_token=info.get("groupIdToken", tx.group_id_token)))
        return station, effects + remembered
    station, more = _invalid(station, tx, now)
    return station, effects + remembered + more


def _invalid(station: Station, tx: Transaction, now: datetime) -> tuple[Station, Effects]:
    model = station.device_model
    if tx.authorization != "accepted":
        return station, ()
    if get_bool(model, "TxCtrlr", "StopTxOnInvalidId", default=True):
        return withdraw(station, tx, DEAUTHORIZED, now)
    limit = (tx.start_energy_wh or 0.0) + get_int(model, "TxCtrlr", "MaxEnergyOnInvalidId")
    station = put(station, replace(tx, energy_limit_wh=limit))
    return energize(station, tx.evse_id, now)


def on_event_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """E13 (lane.failed); the application hears of a TransactionEvent given up."""
    station, given_up = lane.failed(station, call, now)
    if not given_up:
        return station, ()
    transaction_id, seq_no = call.payload["transactionInfo"]["transactionId"], call.payload["seqNo"]
    return station, (*given_up, Notify(TransactionEventAnswered(transaction_id, seq_no, None)))


def finish(station: Station, tx: Transaction, trigger: str, reason: str, now: datetime) -> tuple[Station, Effects]:
    """End a transaction at once, whatever its stop points; a session not started yet is dropped."""
    if tx.phase == "started":
        return end_transaction(station, tx, trigger, reason, now)
    return leave(station, tx, "abandon"), ((StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ())


def end_for_reset(station: Station, evse_id: int | None, now: datetime) -> tuple[Station, Effects]:
    """B12.FR.02/B12.FR.08: an Immediate reset ends every transaction (on the EVSE) at once, whatever its stop
    points, with triggerReason ResetCommand and stoppedReason ImmediateReset; a session not started yet is dropped."""
    effects: Effects = ()
    for tx in station.transactions:
        if evse_id in (None, tx.evse_id):
            station, more = finish(station, tx, "ResetCommand", "ImmediateReset", now)
            effects += more
    return station, effects


def on_transaction_finished(station: Station, evse_id: int, reason: str, now: datetime) -> tuple[Station, Effects]:
    """The application ended the transaction on this EVSE (libocpp's on_transaction_finished): Ended at once,
    whatever the stop points, with its stoppedReason and the triggerReason of APPLICATION_STOPS; a session not
    started yet is dropped. A reason the station decides itself, or no session there, changes nothing."""
    trigger = APPLICATION_STOPS.get(reason)
    if trigger is None:
        return station, (Log("warning", f"{reason!r} is not a reason the application ends a transaction with"),)
    tx = find(station, evse_id)
    if tx is None:
        return station, (Log("warning", f"no transaction on EVSE {evse_id}: {reason} ignored"),)
    return finish(station, tx, trigger, reason, now)


def report_meter_values(
    station: Station, evse_id: int, trigger: str, meter: list[dict[str, Any]], now: datetime
) -> tuple[Station, Effects]:
    """J01/J02: an Updated event carrying meter values (MeterValuePeriodic, MeterValueClock) for the transaction
    running on this EVSE, if one runs."""
    tx = find(station, evse_id)
    if tx is None or tx.phase != "started":
        return station, ()
    station, tx, effects = emit(station, tx, "Updated", trigger, now, meter=meter)
    return put(station, tx), effects


def trigger_updated(station: Station, evse_id: int | None, now: datetime) -> tuple[Station, Effects]:
    """F06.FR.07: an Updated event with triggerReason Trigger for each running transaction asked for."""
    effects: Effects = ()
    for tx in station.transactions:
        if tx.phase == "started" and evse_id in (None, tx.evse_id):
            station, moved, more = emit(station, tx, "Updated", "Trigger", now)
            station = put(station, moved)
            effects += more
    return station, effects
