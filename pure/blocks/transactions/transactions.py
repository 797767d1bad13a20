"""Block E, transactions, decided in the core: when a transaction starts and ends (TxStartPoint, TxStopPoint), the
TransactionEvents that tell the CSMS (seqNo, triggerReason, chargingState, stoppedReason, idToken), energy
transfer (StartEnergyTransfer/StopEnergyTransfer hooks), EVConnectionTimeOut, the EV-side disconnect rules, and
recovery after a power loss.

Every input that touches an EVSE goes the same way: note which conditions (the TxStartPoint/TxStopPoint names)
held before, apply the change, and `_react`: a pending session starts when a condition became true and any start
point holds, a started transaction ends when a stop point it held is left, otherwise the change is reported as
an Updated event.
TransactionEvents go through the persistent lane of the RPC session together with the transaction's own record,
in one Persist, so after a crash both or neither are on disk.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from returns.result import Failure

from chargecore.pure.blocks.authorization import authorization, token_store
from chargecore.pure.blocks.availability import availability
from chargecore.pure.blocks.meter_values import meter_readings
from chargecore.pure.blocks.provisioning import provisioning
from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_int, get_value
from chargecore.pure.effects import (
    AuthorizationDecided,
    Effects,
    Log,
    MasterPassAccepted,
    Notify,
    Persist,
    RemoteStartAccepted,
    StartEnergyTransfer,
    StopEnergyTransfer,
    TokenQuestion,
    TransactionChanged,
    TransactionEventAnswered,
    UnlockConnector,
)
from chargecore.pure.lifecycle import AUTHORIZATION_LIFECYCLE, TRANSACTION_LIFECYCLE
from chargecore.pure.ocppj import lane, rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.ocppj.timestamps import later, ocpp_time, seconds
from chargecore.pure.outcome import Handled, Reply, status_info
from chargecore.pure.state import (
    EvseHardware,
    MeasuredValue,
    OutboundCall,
    Station,
    Transaction,
)

RECORD_NAMESPACE = "transactions/"
"""Persist key prefix of a started transaction's record (what a restart needs to end it)."""

PLUGGED_PHASES = frozenset({"plugged", "plugged_faulted"})

STATION = 0
"""The evse_id of a session authorized at a station-level reader of a station with several EVSEs before its EVSE
is known: it moves to the EVSE where the EV plugs in (E01.FR.17, J02, TC_J_08). One such session at a time."""


@dataclass(frozen=True, slots=True)
class Cause:
    """Why the core looks at an EVSE again: the triggerReason of the event it causes and, when it ends the
    transaction, the stoppedReason (None: the reason decided earlier or the default for the stop point left)."""

    trigger: str
    stopped_reason: str | None = None


_LEFT_REASON = {
    "ParkingBayOccupancy": "EVDeparted",
    "EVConnected": "EVDisconnected",
    "Authorized": "Local",
    "EnergyTransfer": "StoppedByEV",
    "DataSigned": "Other",
}
"""stoppedReason when a stop point is left and nothing earlier decided one."""

PLUG = Cause("CablePluggedIn")
UNPLUG = Cause("EVCommunicationLost", "EVDisconnected")
LOCAL_STOP = Cause("StopAuthorized", "Local")
REMOTE_STOP = Cause("RemoteStop", "Remote")
DEAUTHORIZED = Cause("Deauthorized", "DeAuthorized")
MASTER_PASS = Cause("StopAuthorized", "MasterPass")
POWER_LOSS = Cause("AbnormalCondition", "PowerLoss")
PLUG_TIMEOUT = Cause("EVConnectTimeout", "Timeout")
CHARGING_STATE = Cause("ChargingStateChanged")
SIGNED_DATA = Cause("SignedDataReceived")
RESET = Cause("ResetCommand", "ImmediateReset")

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


# --- reading the state ----------------------------------------------------------------------------------


def points(station: Station, variable: str) -> frozenset[str]:
    """TxCtrlr.TxStartPoint or TxStopPoint as a set of names."""
    value = get_value(station.device_model, VariableKey("TxCtrlr", variable)) or ""
    return frozenset(name for name in value.split(",") if name)


def stop_points(station: Station) -> frozenset[str]:
    """TxCtrlr.TxStopPoint as the conditions whose end stops a transaction. PowerPathClosed, despite its name not
    the relay, is exactly EVConnected plus Authorized (errata 2023-12 2.17.4), so a remote or local stop ends the
    transaction at once, as with Authorized (TC_E_07, TC_E_35)."""
    named = points(station, "TxStopPoint")
    if "PowerPathClosed" not in named:
        return named
    return (named - {"PowerPathClosed"}) | {"EVConnected", "Authorized"}


def find(station: Station, evse_id: int) -> Transaction | None:
    return next((tx for tx in station.transactions if tx.evse_id == evse_id), None)


def find_by_id(station: Station, transaction_id: str) -> Transaction | None:
    return next((tx for tx in station.transactions if tx.transaction_id == transaction_id), None)


def hardware(station: Station, evse_id: int) -> EvseHardware:
    return next((hw for hw in station.evse_hardware if hw.evse_id == evse_id), EvseHardware(evse_id))


def evse_exists(station: Station, evse_id: int) -> bool:
    return 1 <= evse_id <= len(station.identity.evse_connectors)


def ev_connected(station: Station, evse_id: int) -> bool:
    return any(c.evse_id == evse_id and c.phase in PLUGGED_PHASES for c in station.connectors)


def _plugged_connector(station: Station, evse_id: int, default: int) -> int:
    return next(
        (c.connector_id for c in station.connectors if c.evse_id == evse_id and c.phase in PLUGGED_PHASES), default
    )


def charging_state(station: Station, evse_id: int) -> str:
    return hardware(station, evse_id).ev_state if ev_connected(station, evse_id) else "Idle"


def conditions(station: Station, evse_id: int) -> frozenset[str]:
    """Which TxStartPoint/TxStopPoint names hold now. DataSigned: the meter's latest reading for the EVSE, taken
    with an EV connected, carries a signature (E01 DataSigned, TC_E_11)."""
    hw = hardware(station, evse_id)
    tx = find(station, evse_id)
    connected = ev_connected(station, evse_id)
    held = {
        "ParkingBayOccupancy": hw.parking_bay_occupied,
        "EVConnected": connected,
        "Authorized": tx is not None and tx.authorization == "accepted",
        "PowerPathClosed": hw.power_path_closed,
        "EnergyTransfer": connected and hw.power_path_closed and hw.ev_state == "Charging",
        "DataSigned": connected and any(value.signed is not None for value in hw.measured),
    }
    return frozenset(name for name, holds in held.items() if holds)


def _may_serve(station: Station, evse_id: int) -> bool:
    """Not effectively Inoperative (neither the station, the EVSE nor the connector a cable is plugged into), and
    no reset waits for the EVSE's transactions to end: a new session would keep an OnIdle reset waiting (B12)."""
    resetting = any(reset.evse_id in (None, evse_id) for reset in station.pending_resets)
    return not resetting and availability.may_serve(station, evse_id, _plugged_connector(station, evse_id, 0))


def may_start(station: Station) -> bool:
    """TxBeforeAcceptedEnabled: without it no transaction starts before the CSMS accepted the boot."""
    return provisioning.is_accepted(station) or get_bool(station.device_model, "TxCtrlr", "TxBeforeAcceptedEnabled")


def deadline(station: Station) -> datetime | None:
    pending = [tx.plug_deadline for tx in station.transactions if tx.plug_deadline is not None]
    return min(pending) if pending else None


# --- changing the state ---------------------------------------------------------------------------------


def _put(station: Station, tx: Transaction) -> Station:
    others = tuple(other for other in station.transactions if other.evse_id != tx.evse_id)
    return replace(station, transactions=(*others, tx))


def _drop(station: Station, tx: Transaction) -> Station:
    return replace(station, transactions=tuple(other for other in station.transactions if other.evse_id != tx.evse_id))


def _put_hardware(station: Station, hw: EvseHardware) -> Station:
    others = tuple(other for other in station.evse_hardware if other.evse_id != hw.evse_id)
    return replace(station, evse_hardware=(*others, hw))


def _move(tx: Transaction, trigger: str) -> Transaction:
    """Every caller's guard makes the edge certain; a missing one raises (lifecycle.NoEdge)."""
    return replace(tx, phase=TRANSACTION_LIFECYCLE.move(tx.phase, trigger))


def _leave(station: Station, tx: Transaction, trigger: str) -> Station:
    """`end` (a started transaction) or `abandon` (a pending session) leads to `ended`: the transaction leaves
    the station. The other way out of an EVSE is `_bind`, which moves a session without ending it."""
    TRANSACTION_LIFECYCLE.move(tx.phase, trigger)  # raises NoEdge for a trigger with no way to `ended`
    return _drop(station, tx)


def _authorize(tx: Transaction, trigger: str) -> Transaction:
    """For a caller whose guard makes the edge certain; a missing one raises (lifecycle.NoEdge)."""
    return replace(tx, authorization=AUTHORIZATION_LIFECYCLE.move(tx.authorization, trigger))


def _refused(tx: Transaction, trigger: str) -> Effects:
    """The authorization `trigger` has no edge from `tx`'s (a verdict or stop that came after the session moved
    on): nothing changes, a Log says so; empty where the edge exists."""
    if AUTHORIZATION_LIFECYCLE.lookup(tx.authorization, trigger) is not None:
        return ()
    return (AUTHORIZATION_LIFECYCLE.refusal(tx.authorization, trigger, f"authorization on EVSE {tx.evse_id}"),)


def _new_session(station: Station, evse_id: int, now: datetime) -> tuple[Station, Transaction]:
    """A pending session with a transaction id unique per station: the RPC prefix holds the PowerUp nonce and the
    persisted start counter, the number counts within this run."""
    number = station.next_transaction_number
    tx = Transaction(f"{station.rpc.message_prefix}tx{number}", evse_id, _plugged_connector(station, evse_id, 1), now)
    return replace(station, next_transaction_number=number + 1), tx


def _hold_connector(station: Station, tx: Transaction, held: bool) -> Station:
    """A started transaction makes its connector Occupied; availability derives the status and tells the
    application and the CSMS of the change."""
    connectors = tuple(
        replace(connector, in_transaction=held)
        if (connector.evse_id, connector.connector_id) == (tx.evse_id, tx.connector_id)
        else connector
        for connector in station.connectors
    )
    return replace(station, connectors=connectors)


# --- TransactionEvent ------------------------------------------------------------------------------------


def _record(tx: Transaction) -> dict[str, Any]:
    return {
        "transaction_id": tx.transaction_id,
        "evse_id": tx.evse_id,
        "connector_id": tx.connector_id,
        "started_at": tx.started_at.isoformat(),
        "seq_no": tx.seq_no,
        "id_token": tx.id_token,
        "charging_state": tx.charging_state,
        "public_key_sent": tx.public_key_sent,
    }


def _emit(
    station: Station,
    tx: Transaction,
    event_type: str,
    trigger: str,
    now: datetime,
    *,
    stopped_reason: str | None = None,
    state: str | None = None,
    meter: list[dict[str, Any]] | None = None,
) -> tuple[Station, Transaction, Effects]:
    """Queue one TransactionEvent in the persistent lane, with the transaction's record in the same Persist (an
    Ended event deletes the record and the meter values kept for it). Connector statuses that changed with it are
    queued first (Part 6: StatusNotification, then TransactionEvent). The chargingState goes in Started, when it
    changed, and in a triggered event, which reports the current state. The first event after a started
    station-level transaction moved to its EVSE carries the Transaction.Begin values (begin_values_due, E01.FR.17)."""
    reported: Effects = ()
    if authorization.is_online(station):
        station, reported = availability.report_statuses(station, now)
    state = state or charging_state(station, tx.evse_id)
    info: dict[str, Any] = {"transactionId": tx.transaction_id}
    if event_type == "Started" or trigger == "Trigger" or state != tx.charging_state:
        info["chargingState"] = state  # required when changed; a CSMS that triggers asks for it (TC_F_13, F_14)
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": ocpp_time(station, now),
        "triggerReason": trigger,
        "seqNo": tx.seq_no,
        "transactionInfo": info,
    }
    if tx.evse_id != STATION:
        payload["evse"] = {"id": tx.evse_id, "connectorId": tx.connector_id}
    with_token = tx.id_token is not None and tx.authorization == "accepted" and not tx.token_reported
    if with_token:
        payload["idToken"] = tx.id_token
        if tx.remote_start_id is not None:
            info["remoteStartId"] = tx.remote_start_id
    if tx.stopped_by is not None:  # TC_C_39 step 8
        payload["idToken"] = tx.stopped_by
    if not authorization.is_online(station):
        payload["offline"] = True
    cleared = meter_readings.kept_keys(station, tx.transaction_id) if event_type == "Ended" else ()
    if meter is None:
        station, meter = meter_readings.for_event(station, tx, event_type, trigger, now)
    if tx.begin_values_due:
        meter = [*meter_readings.transaction_begin(station, tx.evse_id, now), *meter]
    meter, key_sent = meter_readings.key_once(station, meter, tx.public_key_sent)
    if meter:
        payload["meterValue"] = meter
    session, entries, problems = rpc.enqueue_persistent(station.rpc, "TransactionEvent", payload)
    if problems:
        return station, tx, reported + problems
    tx = replace(
        tx,
        seq_no=tx.seq_no + 1,
        charging_state=state,
        token_reported=tx.token_reported or with_token,
        stopped_by=None,
        begin_values_due=False,
        public_key_sent=key_sent,
    )
    record = None if event_type == "Ended" else _record(tx)
    effects: Effects = (
        *reported,
        Persist((*entries, (RECORD_NAMESPACE + tx.transaction_id, record), *((key, None) for key in cleared))),
        Notify(TransactionChanged(tx.evse_id, tx.transaction_id, event_type, trigger)),
    )
    return replace(station, rpc=session), tx, effects


def _start(station: Station, tx: Transaction, trigger: str, now: datetime) -> tuple[Station, Effects]:
    """A remote start not reported yet names the Started event, whatever start point was reached (F01, F02).
    A transaction started before any cable holds its connector Occupied until a cable comes."""
    if tx.remote_start_id is not None and tx.authorization == "accepted" and not tx.token_reported:
        trigger = "RemoteStart"
    hw = hardware(station, tx.evse_id)
    tx = replace(
        _move(tx, "start"),
        started_at=now,
        connector_id=_plugged_connector(station, tx.evse_id, tx.connector_id),
        start_energy_wh=hw.energy_wh,
    )
    station = _hold_connector(station, tx, not ev_connected(station, tx.evse_id))
    station, tx, effects = _emit(station, tx, "Started", trigger, now)
    station, limited = _adopt_profile(_put(station, tx), tx)
    return station, effects + limited


def _adopt_profile(station: Station, tx: Transaction) -> tuple[Station, Effects]:
    """K05: the chargingProfile of the RequestStartTransaction becomes the TxProfile of the started transaction."""
    if tx.charging_profile is None:
        return station, ()
    return smart_charging.adopt_start_profile(station, tx.evse_id, tx.transaction_id, tx.charging_profile)


def _end(station: Station, tx: Transaction, trigger: str, reason: str, now: datetime) -> tuple[Station, Effects]:
    """Ended: energy stops, so the chargingState is EVConnected while a cable is plugged, else Idle."""
    state = "EVConnected" if ev_connected(station, tx.evse_id) else "Idle"
    station = _hold_connector(_leave(station, tx, "end"), tx, False)
    station, tx, effects = _emit(station, tx, "Ended", trigger, now, stopped_reason=reason, state=state)
    stop: Effects = (StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ()
    station, unprofiled = smart_charging.on_transaction_ended(station, tx.evse_id, tx.transaction_id, now)  # K02
    return station, effects + stop + unprofiled


def _react(
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
            return _end(station, tx, cause.trigger, reason, now)
        if cause.trigger != "ChargingStateChanged" or charging_state(station, evse_id) != tx.charging_state:
            station, tx, effects = _emit(station, tx, "Updated", cause.trigger, now)
            station = _put(station, tx)
    elif tx is not None and tx.authorization not in ("authorizing", "accepted"):
        return _leave(station, tx, "abandon"), ()  # a pending session nobody authorizes any more
    elif (
        after & points(station, "TxStartPoint")
        and after - before
        and may_start(station)
        and _may_serve(station, evse_id)
    ):
        if tx is None:
            station, tx = _new_session(station, evse_id, now)
        station, effects = _start(station, tx, cause.trigger, now)
    station, energy = _energize(station, evse_id, now)
    return station, effects + energy


def _energize(station: Station, evse_id: int, now: datetime) -> tuple[Station, Effects]:
    """Energy flows while the session is authorized, the EV connected and no MaxEnergyOnInvalidId limit reached;
    EVConnectionTimeOut runs while an authorized session waits for the cable."""
    tx = find(station, evse_id)
    if tx is None:
        return station, ()
    connected = ev_connected(station, evse_id)
    energy = hardware(station, evse_id).energy_wh or 0.0
    below_limit = tx.energy_limit_wh is None or energy < tx.energy_limit_wh
    wanted = tx.authorization == "accepted" and connected and below_limit and may_start(station)
    wanted = wanted and (tx.phase == "started" or _may_serve(station, evse_id))
    plug_deadline = tx.plug_deadline
    if tx.authorization != "accepted" or connected:
        plug_deadline = None
    elif plug_deadline is None:
        timeout = get_int(station.device_model, "TxCtrlr", "EVConnectionTimeOut", default=120)
        plug_deadline = later(now, seconds(max(1, timeout)))
    station = _put(station, replace(tx, energy_allowed=wanted, plug_deadline=plug_deadline))
    if wanted == tx.energy_allowed:
        return station, ()
    return station, ((StartEnergyTransfer(evse_id) if wanted else StopEnergyTransfer(evse_id)),)


def _withdraw(
    station: Station, tx: Transaction, cause: Cause, now: datetime, by: dict[str, Any] | None = None
) -> tuple[Station, Effects]:
    """The authorization ends (local or remote stop, deauthorization; `by` the token that ended it); the
    transaction ends if Authorized is a stop point, and otherwise remembers why for when it does end."""
    before = conditions(station, tx.evse_id)
    withdrawn = replace(_authorize(tx, "withdraw"), stop_reason=tx.stop_reason or cause.stopped_reason, stopped_by=by)
    if withdrawn.phase == "pending":
        return _leave(station, tx, "abandon"), (StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ()
    return _react(_put(station, withdrawn), tx.evse_id, before, cause, now)


def _stop(station: Station, tx: Transaction, cause: Cause, now: datetime) -> tuple[Station, Effects]:
    """Stop a started transaction for good: withdraw an authorization it has, or else end it outright."""
    if tx.authorization == "accepted":
        return _withdraw(station, tx, cause, now)
    return _end(station, tx, cause.trigger, cause.stopped_reason or "Other", now)


# --- hardware inputs ------------------------------------------------------------------------------------


def after_connector_changed(
    before_station: Station, station: Station, evse_id: int, now: datetime
) -> tuple[Station, Effects]:
    """A plug or unplug (availability has moved the connector already): CablePluggedIn, or the EV-side
    disconnect rules (E09, E10): stop per StopTxOnEVSideDisconnect, unlock per UnlockOnEVSideDisconnect."""
    if not evse_exists(station, evse_id):
        return station, ()
    was = ev_connected(before_station, evse_id)
    now_connected = ev_connected(station, evse_id)
    if was == now_connected:
        return station, ()
    before = conditions(before_station, evse_id)
    hw = replace(hardware(station, evse_id), ev_state="EVConnected")
    if not now_connected:  # without an EV the contactor opens (IEC 61851 state A), whatever comes later
        hw = replace(hw, power_path_closed=False, ev_ready=True)
    station = _put_hardware(station, hw)
    tx = find(station, evse_id)
    if tx is None and now_connected:
        station, tx = _bind(station, evse_id)
    if tx is not None:  # from now on the cable decides the status (Part 6 EVDisconnected: Available)
        station = _hold_connector(station, tx, False)
    if now_connected:
        if tx is not None and tx.phase == "pending":
            station = _put(station, replace(tx, connector_id=_plugged_connector(station, evse_id, tx.connector_id)))
        return _react(station, evse_id, before, PLUG, now)
    unlock: Effects = ()
    model = station.device_model
    if tx is not None and tx.authorization == "accepted" and get_bool(model, "TxCtrlr", "StopTxOnEVSideDisconnect"):
        station = _put(station, replace(_authorize(tx, "withdraw"), stop_reason=tx.stop_reason or "EVDisconnected"))
        if get_bool(model, "OCPPCommCtrlr", "UnlockOnEVSideDisconnect"):
            unlock = (UnlockConnector(evse_id, tx.connector_id),)
    station, unplugged = _react(station, evse_id, before, UNPLUG, now)
    return station, unlock + unplugged


def _bind(station: Station, evse_id: int) -> tuple[Station, Transaction | None]:
    """The EV plugged in at a free EVSE while a station-level session waits for one: the session (started or
    not) moves to this EVSE, which its next TransactionEvent names (E01.FR.16); a started one's next event also
    carries the Transaction.Begin values its Started event could not (J02, TC_J_08)."""
    waiting = find(station, STATION)
    if waiting is None or waiting.authorization not in ("authorizing", "accepted") or not _may_serve(station, evse_id):
        return station, None
    energy = hardware(station, evse_id).energy_wh
    moved = replace(
        waiting,
        evse_id=evse_id,
        connector_id=_plugged_connector(station, evse_id, waiting.connector_id),
        start_energy_wh=energy if waiting.start_energy_wh is None else waiting.start_energy_wh,
        begin_values_due=waiting.phase == "started",
    )
    return _put(_drop(station, waiting), moved), moved


def on_charging_state(station: Station, evse_id: int, state: str, now: datetime) -> tuple[Station, Effects]:
    """The EV (or the EVSE) changed its charging state. SuspendedEV and Charging also say whether the EV takes
    energy when it is offered; before the cable is in, that is all they say (TC_E_38: an EV not ready from the
    start charges SuspendedEV once the power path closes)."""
    if not evse_exists(station, evse_id):
        return station, (Log("warning", f"no EVSE {evse_id}: charging state {state} ignored"),)
    before = conditions(station, evse_id)
    hw = hardware(station, evse_id)
    ready = hw.ev_ready if state not in ("SuspendedEV", "Charging") else state == "Charging"
    if not ev_connected(station, evse_id):
        return _put_hardware(station, replace(hw, ev_ready=ready)), ()
    station = _put_hardware(station, replace(hw, ev_state=state, ev_ready=ready))
    return _react(station, evse_id, before, CHARGING_STATE, now)


def on_power_path(station: Station, evse_id: int, closed: bool, now: datetime) -> tuple[Station, Effects]:
    """The EV draws energy once the power path closes (SuspendedEV when it is not ready), and stops when it opens:
    SuspendedEVSE when the station holds the energy back from an authorized session."""
    if not evse_exists(station, evse_id):
        return station, (Log("warning", f"no EVSE {evse_id}: power path change ignored"),)
    before = conditions(station, evse_id)
    hw = hardware(station, evse_id)
    ev_state = hw.ev_state
    tx = find(station, evse_id)
    if closed and ev_state == "EVConnected":
        ev_state = "Charging" if hw.ev_ready else "SuspendedEV"
    elif not closed and ev_state in ("Charging", "SuspendedEV", "SuspendedEVSE"):
        held_back = tx is not None and tx.authorization == "accepted"  # e.g. MaxEnergyOnInvalidId reached
        ev_state = "SuspendedEVSE" if held_back else "EVConnected"
    station = _put_hardware(station, replace(hw, power_path_closed=closed, ev_state=ev_state))
    return _react(station, evse_id, before, CHARGING_STATE, now)


def on_parking_bay(station: Station, evse_id: int, occupied: bool, now: datetime) -> tuple[Station, Effects]:
    if not evse_exists(station, evse_id):
        return station, (Log("warning", f"no EVSE {evse_id}: parking bay change ignored"),)
    before = conditions(station, evse_id)
    station = _put_hardware(station, replace(hardware(station, evse_id), parking_bay_occupied=occupied))
    return _react(station, evse_id, before, Cause("EVDetected" if occupied else "EVDeparted"), now)


def on_meter_reading(
    station: Station,
    evse_id: int,
    energy_wh: float,
    power_w: float | None,
    now: datetime,
    measured: tuple[MeasuredValue, ...] = (),
) -> tuple[Station, Effects]:
    """Keep the latest reading (meter values use it); signed data arriving or ceasing moves a DataSigned start or
    stop point (SignedDataReceived); a MaxEnergyOnInvalidId limit reached stops the energy."""
    if not evse_exists(station, evse_id):
        return station, (Log("warning", f"no EVSE {evse_id}: meter reading ignored"),)
    before = conditions(station, evse_id)
    reading = replace(hardware(station, evse_id), energy_wh=energy_wh, power_w=power_w, read_at=now, measured=measured)
    station = _put_hardware(station, reading)
    signed: Effects = ()
    in_use = "DataSigned" in points(station, "TxStartPoint") | stop_points(station)
    if in_use and "DataSigned" in before ^ conditions(station, evse_id):
        station, signed = _react(station, evse_id, before, SIGNED_DATA, now)
    tx = find(station, evse_id)
    if tx is None or tx.energy_limit_wh is None or energy_wh < tx.energy_limit_wh or not tx.energy_allowed:
        return station, signed
    station, effects = _energize(station, evse_id, now)
    tx = find(station, evse_id)
    if tx is None or tx.phase != "started":
        return station, signed + effects
    station, tx, events = _emit(station, tx, "Updated", "EnergyLimitReached", now)
    return _put(station, tx), signed + effects + events


# --- tokens -----------------------------------------------------------------------------------------------


def _chosen_evse(station: Station, evse_id: int | None) -> int | None:
    """The EVSE a token presented at the station (no EVSE named) is for: one with an EV waiting for
    authorization, else one with nothing going on, else one whose session waits for an authorization without an
    EV (a parking bay start, an authorization given up at EVConnectionTimeOut: TC_E_05 step 3), else one whose
    transaction the token may stop. Inoperative EVSEs take no new session (None: no EVSE for it)."""
    if evse_id is not None:  # an Inoperative EVSE only takes a token that may stop its transaction
        usable = _may_serve(station, evse_id) or _authorization(station, evse_id) == "accepted"
        return evse_id if evse_exists(station, evse_id) and usable else None
    evses = range(1, len(station.identity.evse_connectors) + 1)
    unauthorized = [e for e in evses if _authorization(station, e) == "none" and _may_serve(station, e)]
    waiting = [e for e in unauthorized if ev_connected(station, e)]
    free = [e for e in evses if find(station, e) is None and _may_serve(station, e)]
    idle = [e for e in evses if _authorization(station, e) in ("none", "withdrawn") and _may_serve(station, e)]
    running = [e for e in evses if _authorization(station, e) == "accepted"]  # a token to stop one (C09, C16)
    return next(iter(waiting or free or idle or running), None)


def _unknown_until_plugged(station: Station, chosen: int) -> bool:
    """A token at a station-level reader when no EV waits: which of several free EVSEs the driver will use is
    unknown until the EV plugs in, so the session waits at STATION (TC_J_08) rather than on a guess."""
    several = len(station.identity.evse_connectors) > 1
    free = find(station, chosen) is None and not ev_connected(station, chosen)
    return several and free and find(station, STATION) is None


def _authorization(station: Station, evse_id: int) -> str:
    tx = find(station, evse_id)
    return "none" if tx is None else tx.authorization


def present_token(
    station: Station, id_token: dict[str, Any], evse_id: int | None, now: datetime
) -> tuple[Station, Effects]:
    """C01/E07: the same token stops its transaction; another token either stops an authorized transaction (same
    GroupId, master pass) or authorizes a new session. A token that is no valid IdTokenType is ignored."""
    if isinstance(validate("Authorize", "Request", {"idToken": id_token}), Failure):
        return station, (Log("warning", f"token presented is not a valid idToken: {id_token!r}"),)
    for running in station.transactions:
        same = running.authorization == "accepted" and authorization.same_token(running.id_token, id_token)
        if same and evse_id in (None, running.evse_id):
            return _withdraw(station, running, LOCAL_STOP, now, id_token)
    target = _chosen_evse(station, evse_id)
    if evse_id is None and target is not None and _unknown_until_plugged(station, target):
        target = STATION
    if target is None:
        return station, (Notify(AuthorizationDecided(evse_id, id_token, "NoEvseFree")),)
    tx = find(station, target)
    if tx is not None and tx.authorization == "authorizing":
        return station, (Log("warning", f"EVSE {target} is still authorizing a token: token ignored"),)
    if tx is not None and tx.authorization == "accepted":
        station, verdict, used = authorization.decide(station, id_token, now)
        if verdict is None:
            station, effects = authorization.send_authorize(station, id_token)
            return _put(station, replace(tx, stop_token=id_token)), effects
        station, effects = _stop_verdict(station, tx, id_token, verdict, now)
        return station, used + effects
    if tx is None:
        station, tx = _new_session(station, target, now)
    tx = replace(tx, id_token=id_token, remote_start_id=None, token_reported=False)
    if station.identity.validates_tokens:
        station, asked = authorization.ask_application(station, id_token, target)
        return _put(station, _authorize(tx, "ask")), asked
    return _ask_or_decide(_put(station, tx), tx, now)


def on_token_answer(station: Station, question: TokenQuestion, answer: Any, now: datetime) -> tuple[Station, Effects]:
    """The application's verdict on a presented token decides it; without one the station decides as usual."""
    verdict = authorization.application_verdict(answer)
    tx = _authorizing(station, question.id_token)
    if verdict is not None:  # the session may have moved from STATION to an EVSE meanwhile
        return _start_verdict(station, question.evse_id if tx is None else tx.evse_id, question.id_token, verdict, now)
    if tx is None:
        return station, ()  # the session ended while the application was asked
    return _ask_or_decide(station, tx, now)


def _authorizing(station: Station, id_token: dict[str, Any]) -> Transaction | None:
    """The session waiting for a verdict on this token, wherever it is now."""
    return next(
        (
            tx
            for tx in station.transactions
            if tx.authorization == "authorizing" and authorization.same_token(tx.id_token, id_token)
        ),
        None,
    )


def _ask_or_decide(station: Station, tx: Transaction, now: datetime) -> tuple[Station, Effects]:
    assert tx.id_token is not None
    station, verdict, used = authorization.decide(station, tx.id_token, now)
    if verdict is not None:
        station, effects = _start_verdict(station, tx.evse_id, tx.id_token, verdict, now)
        return station, used + effects
    station, effects = authorization.send_authorize(station, tx.id_token)
    return _put(station, _authorize(tx, "ask")), effects


def _stop_all(
    station: Station, cause: Cause, now: datetime, evse_ids: tuple[int, ...] | None = None
) -> tuple[Station, Effects]:
    """Stop every running transaction, or those on `evse_ids`."""
    effects: Effects = ()
    for tx in station.transactions:
        if tx.phase == "started" and (evse_ids is None or tx.evse_id in evse_ids):
            station, more = _stop(station, tx, cause, now)
            effects += more
    return station, effects


def _master_pass(station: Station, id_token: dict[str, Any], now: datetime) -> tuple[Station, Effects]:
    """C16: an accepted master pass stops every transaction (C16.FR.02), or, with a user interface, those its
    holder chooses there (C16.FR.01)."""
    if not station.identity.master_pass_ui:
        return _stop_all(station, MASTER_PASS, now)
    running = tuple(sorted(tx.evse_id for tx in station.transactions if tx.phase == "started"))
    return replace(station, master_pass=id_token), (Notify(MasterPassAccepted(id_token, running)),)


def on_master_pass_choice(station: Station, evse_ids: tuple[int, ...] | None, now: datetime) -> tuple[Station, Effects]:
    """C16.FR.01: stop the transactions the master pass holder chose (None: all); only after a master pass."""
    if station.master_pass is None:
        return station, (Log("warning", "master pass choice without an accepted master pass: ignored"),)
    return _stop_all(replace(station, master_pass=None), MASTER_PASS, now, evse_ids)


def _start_verdict(
    station: Station, evse_id: int, id_token: dict[str, Any], info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """The verdict on a token meant to start (or authorize) the session on this EVSE."""
    tx = find(station, evse_id)
    decided: Effects = (Notify(AuthorizationDecided(evse_id, id_token, info["status"])),)
    if tx is None or not authorization.same_token(tx.id_token, id_token):
        return station, decided
    if info["status"] == "Accepted" and authorization.is_master_pass(station, info):  # C16.FR.03: starts nothing
        station = _put(station, _authorize(tx, "refuse")) if tx.authorization == "authorizing" else station
        station, stopped = _master_pass(station, id_token, now)
        tx = find(station, evse_id)
        return (station if tx is None or tx.phase == "started" else _leave(station, tx, "abandon")), decided + stopped
    late = _refused(tx, "accept" if info["status"] == "Accepted" else "refuse")  # the session moved on meanwhile
    if late:
        return station, decided + late
    if info["status"] != "Accepted":
        refused = replace(_authorize(tx, "refuse"), id_token=None if tx.phase == "started" else tx.id_token)
        if refused.phase == "pending":
            return _leave(station, tx, "abandon"), decided
        return _put(station, refused), decided
    before = conditions(station, evse_id)
    cause = Cause("RemoteStart" if tx.remote_start_id is not None else "Authorized")
    accepted = replace(_authorize(tx, "accept"), group_id_token=info.get("groupIdToken"), stop_reason=None)
    station, effects = _react(_put(station, accepted), evse_id, before, cause, now)
    return station, decided + effects


def _stop_verdict(
    station: Station, tx: Transaction, id_token: dict[str, Any], info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """The verdict on another token presented to stop `tx` (C09 GroupId, C16 master pass)."""
    station = _put(station, replace(tx, stop_token=None))
    decided: Effects = (Notify(AuthorizationDecided(tx.evse_id, id_token, info["status"])),)
    if info["status"] == "Accepted" and authorization.is_master_pass(station, info):
        station, effects = _master_pass(station, id_token, now)
        return station, decided + effects
    if authorization.may_stop(tx.id_token, tx.group_id_token, info):
        stopping = find(station, tx.evse_id) or tx
        late = _refused(stopping, "withdraw")  # stopped by other means while the CSMS was asked
        if late:
            return station, decided + late
        station, effects = _withdraw(station, stopping, LOCAL_STOP, now, id_token)
        return station, decided + effects
    return station, (*decided, Log("info", f"token may not stop transaction {tx.transaction_id}"))


def _route_verdict(
    station: Station, id_token: dict[str, Any], info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    authorizing = _authorizing(station, id_token)
    if authorizing is not None:
        return _start_verdict(station, authorizing.evse_id, id_token, info, now)
    stopping = next((tx for tx in station.transactions if authorization.same_token(tx.stop_token, id_token)), None)
    return (station, ()) if stopping is None else _stop_verdict(station, stopping, id_token, info, now)


def on_authorize_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """C01.FR: the CSMS's verdict; the token store learns it (C10.FR.04) before the session uses it."""
    id_token, info = call.payload["idToken"], payload["idTokenInfo"]
    station, remembered = token_store.remember(station, id_token, info, now)
    station, effects = _route_verdict(station, id_token, info, now)
    return station, remembered + effects


def on_authorize_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """No answer: decide as offline (C15)."""
    id_token = call.payload["idToken"]
    station, verdict, used = authorization.decide(station, id_token, now, unanswered=True)
    assert verdict is not None
    station, effects = _route_verdict(station, id_token, verdict, now)
    return station, used + effects


# --- answers to TransactionEvent -------------------------------------------------------------------------


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
            station = _put(station, replace(tx, group_id_token=info.get("groupIdToken", tx.group_id_token)))
        return station, effects + remembered
    station, more = _invalid(station, tx, now)
    return station, effects + remembered + more


def _invalid(station: Station, tx: Transaction, now: datetime) -> tuple[Station, Effects]:
    model = station.device_model
    if tx.authorization != "accepted":
        return station, ()
    if get_bool(model, "TxCtrlr", "StopTxOnInvalidId", default=True):
        return _withdraw(station, tx, DEAUTHORIZED, now)
    limit = (tx.start_energy_wh or 0.0) + get_int(model, "TxCtrlr", "MaxEnergyOnInvalidId")
    station = _put(station, replace(tx, energy_limit_wh=limit))
    return _energize(station, tx.evse_id, now)


def on_event_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """E13 (lane.failed); the application hears of a TransactionEvent given up."""
    station, given_up = lane.failed(station, call, now)
    if not given_up:
        return station, ()
    transaction_id, seq_no = call.payload["transactionInfo"]["transactionId"], call.payload["seqNo"]
    return station, (*given_up, Notify(TransactionEventAnswered(transaction_id, seq_no, None)))


# --- timers, restart ------------------------------------------------------------------------------------


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """EVConnectionTimeOut (E03.FR.05: the session ends, a started one with Timeout)."""
    effects: Effects = ()
    for tx in station.transactions:
        if tx.plug_deadline is None or now < tx.plug_deadline:
            continue
        if tx.phase == "started":  # TC_E_05: Ended when Authorized is a stop point, else Updated
            station, more = _withdraw(station, tx, PLUG_TIMEOUT, now)  # the deadline runs only while accepted
        else:
            stop: Effects = (StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ()
            station, more = _leave(station, tx, "abandon"), stop
        effects += (Notify(AuthorizationDecided(tx.evse_id, tx.id_token or {}, "Timeout")),) if tx.id_token else ()
        effects += more
    return station, effects


def restore(station: Station, persisted: dict[str, Any]) -> Station:
    """The lane and the transactions that were running when the station stopped."""
    restored = []
    for key in sorted(persisted):
        record = persisted[key]
        if not key.startswith(RECORD_NAMESPACE) or not isinstance(record, dict):
            continue
        restored.append(
            Transaction(
                record["transaction_id"],
                record["evse_id"],
                record["connector_id"],
                datetime.fromisoformat(record["started_at"]),
                phase="started",
                id_token=record["id_token"],
                token_reported=True,
                seq_no=record["seq_no"],
                charging_state=record["charging_state"],
                public_key_sent=record.get("public_key_sent", False),
            )
        )
    station = replace(station, rpc=rpc.restore_lane(station.rpc, persisted), transactions=tuple(restored))
    return meter_readings.restore_kept(station, persisted)


_RESTART_CAUSES = {
    "RemoteReset": RESET,
    "LocalReset": Cause("ResetCommand", "Reboot"),
}
"""Why a transaction running before a restart ended, by the boot reason the restart persisted; PowerLoss else."""


def on_power_up(station: Station, now: datetime) -> tuple[Station, Effects]:
    """A transaction the station was running when it stopped ends now: PowerLoss after a crash or power cut,
    ImmediateReset (Reboot) after a reset the CSMS (the operator) asked for."""
    cause = _RESTART_CAUSES.get(station.registration.boot_reason, POWER_LOSS)
    effects: Effects = ()
    for tx in station.transactions:
        if tx.phase == "started":
            station, more = _end(station, tx, cause.trigger, cause.stopped_reason or "PowerLoss", now)
            effects += more
    return station, effects


# --- CSMS requests -----------------------------------------------------------------------------------------


def messages_in_queue(station: Station, transaction_id: str | None) -> bool:
    return any(
        message.action == "TransactionEvent"
        and (transaction_id is None or message.payload["transactionInfo"]["transactionId"] == transaction_id)
        for message in station.rpc.lane
    )


def handle_get_transaction_status(station: Station, call: Call, now: datetime) -> Handled:
    """E14: whether TransactionEvents wait in the lane (for this transaction, or any), and whether it runs."""
    transaction_id = call.payload.get("transactionId")
    queued = messages_in_queue(station, transaction_id)
    if transaction_id is None:
        return station, Reply({"messagesInQueue": queued}), ()
    tx = find_by_id(station, transaction_id)
    ongoing = tx is not None and tx.phase == "started"
    return station, Reply({"ongoingIndicator": ongoing, "messagesInQueue": queued}), ()


def _start_profile(station: Station, request: dict[str, Any]) -> dict[str, Any] | None:
    """F01.FR.12: a station without smart charging (SmartChargingCtrlr Available or Enabled false) ignores the
    chargingProfile of a RequestStartTransaction."""
    model = station.device_model
    in_use = get_bool(model, "SmartChargingCtrlr", "Available", default=True) and get_bool(
        model, "SmartChargingCtrlr", "Enabled", default=True
    )
    profile: dict[str, Any] | None = request.get("chargingProfile")
    return profile if in_use else None


def remote_start(station: Station, request: dict[str, Any], now: datetime) -> tuple[Station, dict[str, Any], Effects]:
    """F01/F02: returns the response payload and what follows it. AuthorizeRemoteStart decides whether the token
    is authorized first (like a local one) or accepted as it is. A chargingProfile must be a TxProfile without
    transactionId that SetChargingProfile would accept for the transaction (F01.FR.08, F01.FR.11, K05)."""
    evse_id = _chosen_evse(station, request.get("evseId"))
    tx = None if evse_id is None else find(station, evse_id)
    if evse_id is None or (tx is not None and tx.authorization in ("authorizing", "accepted")):
        return station, {"status": "Rejected"}, ()
    profile = _start_profile(station, request)
    refused = None if profile is None else smart_charging.start_profile_rejection(station, evse_id, profile)
    if refused is not None:
        info = status_info(refused.reason_code, f"{refused.info} ({refused.requirement})")
        return station, {"status": "Rejected", "statusInfo": info}, ()
    if tx is None:
        station, tx = _new_session(station, evse_id, now)
    tx = replace(
        tx,
        id_token=request["idToken"],
        remote_start_id=request["remoteStartId"],
        charging_profile=profile,
        token_reported=False,
    )
    response: dict[str, Any] = {"status": "Accepted"}
    limited: Effects = ()
    if tx.phase == "started":
        response["transactionId"] = tx.transaction_id
        station, limited = _adopt_profile(station, tx)
    station = _put(station, tx)
    notice = Notify(RemoteStartAccepted(evse_id, request["idToken"], request["remoteStartId"], profile))
    if get_bool(station.device_model, "AuthCtrlr", "AuthorizeRemoteStart"):
        station, effects = _ask_or_decide(station, tx, now)
    else:
        verdict = {"status": "Accepted"}
        if "groupIdToken" in request:
            verdict["groupIdToken"] = request["groupIdToken"]
        station, effects = _start_verdict(station, evse_id, request["idToken"], verdict, now)
    return station, response, (notice, *limited, *effects)


def remote_stop(station: Station, transaction_id: str, now: datetime) -> tuple[Station, str, Effects]:
    """F03: Accepted for a running transaction (F03.FR.09), Rejected otherwise (F03.FR.08)."""
    tx = find_by_id(station, transaction_id)
    if tx is None or tx.phase != "started":
        return station, "Rejected", ()
    station, effects = _stop(station, tx, REMOTE_STOP, now)
    return station, "Accepted", effects


def _finish(station: Station, tx: Transaction, trigger: str, reason: str, now: datetime) -> tuple[Station, Effects]:
    """End a transaction at once, whatever its stop points; a session not started yet is dropped."""
    if tx.phase == "started":
        return _end(station, tx, trigger, reason, now)
    return _leave(station, tx, "abandon"), ((StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ())


def end_for_reset(station: Station, evse_id: int | None, now: datetime) -> tuple[Station, Effects]:
    """B12.FR.02/B12.FR.08: an Immediate reset ends every transaction (on the EVSE) at once, whatever its stop
    points, with triggerReason ResetCommand and stoppedReason ImmediateReset; a session not started yet is dropped."""
    effects: Effects = ()
    for tx in station.transactions:
        if evse_id in (None, tx.evse_id):
            station, more = _finish(station, tx, "ResetCommand", "ImmediateReset", now)
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
    return _finish(station, tx, trigger, reason, now)


def report_meter_values(
    station: Station, evse_id: int, trigger: str, meter: list[dict[str, Any]], now: datetime
) -> tuple[Station, Effects]:
    """J01/J02: an Updated event carrying meter values (MeterValuePeriodic, MeterValueClock) for the transaction
    running on this EVSE, if one runs."""
    tx = find(station, evse_id)
    if tx is None or tx.phase != "started":
        return station, ()
    station, tx, effects = _emit(station, tx, "Updated", trigger, now, meter=meter)
    return _put(station, tx), effects


def trigger_updated(station: Station, evse_id: int | None, now: datetime) -> tuple[Station, Effects]:
    """F06.FR.07: an Updated event with triggerReason Trigger for each running transaction asked for."""
    effects: Effects = ()
    for tx in station.transactions:
        if tx.phase == "started" and evse_id in (None, tx.evse_id):
            station, moved, more = _emit(station, tx, "Updated", "Trigger", now)
            station = _put(station, moved)
            effects += more
    return station, effects
