"""Block E inputs from the hardware: a connector plugged or unplugged (E02, the EV-side disconnect rules), the
EV's charging state, the power path, the parking bay, a meter reading (signed data, the energy limit), and
EVConnectionTimeOut when no EV plugs in after an authorization."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chargecore.pure.blocks.transactions.events import (
    CHARGING_STATE,
    PLUG,
    PLUG_TIMEOUT,
    SIGNED_DATA,
    UNPLUG,
    Cause,
    emit,
)
from chargecore.pure.blocks.transactions.sessions import (
    STATION,
    conditions,
    drop,
    ev_connected,
    evse_exists,
    find,
    hardware,
    hold_connector,
    leave,
    may_serve,
    plugged_connector,
    points,
    put,
    put_hardware,
    stop_points,
    with_authorization,
)
from chargecore.pure.blocks.transactions.start_stop import energize, react, withdraw
from chargecore.pure.device_model.model import get_bool
from chargecore.pure.effects import AuthorizationDecided, Effects, Log, Notify, StopEnergyTransfer, UnlockConnector
from chargecore.pure.state import MeasuredValue, Station, Transaction


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
    station = put_hardware(station, hw)
    tx = find(station, evse_id)
    if tx is None and now_connected:
        station, tx = _bind(station, evse_id)
    if tx is not None:  # from now on the cable decides the status (Part 6 EVDisconnected: Available)
        station = hold_connector(station, tx, False)
    if now_connected:
        if tx is not None and tx.phase == "pending":
            station = put(station, replace(tx, connector_id=plugged_connector(station, evse_id, tx.connector_id)))
        return react(station, evse_id, before, PLUG, now)
    unlock: Effects = ()
    model = station.device_model
    if tx is not None and tx.authorization == "accepted" and get_bool(model, "TxCtrlr", "StopTxOnEVSideDisconnect"):
        station = put(
            station, replace(with_authorization(tx, "withdraw"), stop_reason=tx.stop_reason or "EVDisconnected")
        )
        if get_bool(model, "OCPPCommCtrlr", "UnlockOnEVSideDisconnect"):
            unlock = (UnlockConnector(evse_id, tx.connector_id),)
    station, unplugged = react(station, evse_id, before, UNPLUG, now)
    return station, unlock + unplugged


def _bind(station: Station, evse_id: int) -> tuple[Station, Transaction | None]:
    """The EV plugged in at a free EVSE while a station-level session waits for one: the session (started or
    not) moves to this EVSE, which its next TransactionEvent names (E01.FR.16); a started one's next event also
    carries the Transaction.Begin values its Started event could not (J02, TC_J_08)."""
    waiting = find(station, STATION)
    if waiting is None or waiting.authorization not in ("authorizing", "accepted") or not may_serve(station, evse_id):
        return station, None
    energy = hardware(station, evse_id).energy_wh
    moved = replace(
        waiting,
        evse_id=evse_id,
        connector_id=plugged_connector(station, evse_id, waiting.connector_id),
        start_energy_wh=energy if waiting.start_energy_wh is None else waiting.start_energy_wh,
        begin_values_due=waiting.phase == "started",
    )
    return put(drop(station, waiting), moved), moved


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
        return put_hardware(station, replace(hw, ev_ready=ready)), ()
    station = put_hardware(station, replace(hw, ev_state=state, ev_ready=ready))
    return react(station, evse_id, before, CHARGING_STATE, now)


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
    station = put_hardware(station, replace(hw, power_path_closed=closed, ev_state=ev_state))
    return react(station, evse_id, before, CHARGING_STATE, now)


def on_parking_bay(station: Station, evse_id: int, occupied: bool, now: datetime) -> tuple[Station, Effects]:
    if not evse_exists(station, evse_id):
        return station, (Log("warning", f"no EVSE {evse_id}: parking bay change ignored"),)
    before = conditions(station, evse_id)
    station = put_hardware(station, replace(hardware(station, evse_id), parking_bay_occupied=occupied))
    return react(station, evse_id, before, Cause("EVDetected" if occupied else "EVDeparted"), now)


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
    station = put_hardware(station, reading)
    signed: Effects = ()
    in_use = "DataSigned" in points(station, "TxStartPoint") | stop_points(station)
    if in_use and "DataSigned" in before ^ conditions(station, evse_id):
        station, signed = react(station, evse_id, before, SIGNED_DATA, now)
    tx = find(station, evse_id)
    if tx is None or tx.energy_limit_wh is None or energy_wh < tx.energy_limit_wh or not tx.energy_allowed:
        return station, signed
    station, effects = energize(station, evse_id, now)
    tx = find(station, evse_id)
    if tx is None or tx.phase != "started":
        return station, signed + effects
    station, tx, events = emit(station, tx, "Updated", "EnergyLimitReached", now)
    return put(station, tx), signed + effects + events


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """EVConnectionTimeOut (E03.FR.05: the session ends, a started one with Timeout)."""
    effects: Effects = ()
    for tx in station.transactions:
        if tx.plug_deadline is None or now < tx.plug_deadline:
            continue
        if tx.phase == "started":  # TC_E_05: Ended when Authorized is a stop point, else Updated
            station, more = withdraw(station, tx, PLUG_TIMEOUT, now)  # the deadline runs only while accepted
        else:
            stop: Effects = (StopEnergyTransfer(tx.evse_id),) if tx.energy_allowed else ()
            station, more = leave(station, tx, "abandon"), stop
        effects += (Notify(AuthorizationDecided(tx.evse_id, tx.id_token or {}, "Timeout")),) if tx.id_token else ()
        effects += more
    return station, effects
