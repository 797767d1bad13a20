"""Block G, availability: connector status (G01), Heartbeat (G02), and the offline reporting rules of B04.

A connector's OCPP status is derived by one precedence function (`connector_status`, table in
docs/availability.md) from its physical state, the availability the CSMS set for the station, its EVSE and
the connector (G03/G04), the transactions running, and the EVSEs the reservations hold (block H, holds.py).
After every input `refresh` tells the application what changed and keeps the AvailabilityState variables in
step, and the CSMS is told whenever the derived status differs from what it was last told; the status is only
ever computed from the final state of a step, so no transient or contradictory status is ever reported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chargecore.pure.blocks.firmware.model import holds as firmware_holds
from chargecore.pure.blocks.reservation import holds
from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import get_int, get_value, set_values
from chargecore.pure.effects import ConnectorStatusChanged, Effect, Effects, Log, Notify, OperativeChanged
from chargecore.pure.inputs import ConnectorFound
from chargecore.pure.lifecycle import CONNECTOR_LIFECYCLE
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.timestamps import later, ocpp_time, offset_from, seconds
from chargecore.pure.state import Connector, OutboundCall, RpcSession, Station

_STATUS_BY_PHASE = {
    "empty": "Available",
    "plugged": "Occupied",
    "faulted": "Faulted",
    "plugged_faulted": "Faulted",
}

STATION = (0, 0)
"""The key of the whole station among `Availability.inoperative`; (evse, 0) is an EVSE."""

_HARDWARE_DEFAULT = ("Available", True)
"""What a connector is before the station has said anything about it."""

_SUMMARY_ORDER = ("Occupied", "Reserved", "Available", "Faulted", "Unavailable")
"""An EVSE (or the station) shows the first of these that one of its connectors (EVSEs) shows."""


def _transaction_on(station: Station, evse_id: int) -> bool:
    return any(transaction.evse_id == evse_id for transaction in station.running_transactions)


def _held_inoperative(station: Station, evse_id: int, connector_id: int = 0) -> bool:
    """Effectively Inoperative: the station, the EVSE or (connector_id > 0) the connector is set Inoperative,
    and no transaction keeps the EVSE Operative until it ends (the change was Scheduled)."""
    inoperative = station.availability.inoperative
    held = firmware_holds(station.firmware)  # L01.FR.07: an update waiting for transactions takes idle EVSEs out of use
    if not inoperative and not held:
        return False
    set_so = held or STATION in inoperative or (evse_id, 0) in inoperative or (evse_id, connector_id) in inoperative
    return set_so and not _transaction_on(station, evse_id)


def may_serve(station: Station, evse_id: int, connector_id: int = 0) -> bool:
    """A new session may use the EVSE (and, connector_id > 0, that connector): it is not effectively Inoperative
    (G03, G04: an Unavailable EVSE starts no transaction)."""
    return not _held_inoperative(station, evse_id, connector_id)


def is_operative(station: Station, connector: Connector) -> bool:
    return not _held_inoperative(station, connector.evse_id, connector.connector_id)


def connector_status(station: Station, connector: Connector) -> str:
    """The one precedence rule: Faulted, then Unavailable (effectively Inoperative), then Reserved (an EVSE the
    reservations hold, even with a cable plugged in: G03.FR.09 of errata 2023-12), then Occupied, then Available
    (docs/availability.md)."""
    status = unreserved_status(station, connector)
    if status in ("Available", "Occupied") and station.reservations and connector.evse_id in reserved_evses(station):
        return "Reserved"
    return status


def unreserved_status(station: Station, connector: Connector) -> str:
    """The status the connector would have without any reservation."""
    physical = _STATUS_BY_PHASE[connector.phase]
    if physical == "Available" and connector.in_transaction:
        physical = "Occupied"  # a started transaction keeps an empty connector Occupied (E01, F02)
    if physical == "Faulted" or is_operative(station, connector):
        return physical
    return "Unavailable"


def free_evses(station: Station) -> frozenset[int]:
    """EVSEs a new driver could use now: every connector Available without reservations, no session on it."""
    busy = {tx.evse_id for tx in station.transactions}
    by_evse: dict[int, bool] = {}
    for connector in station.connectors:
        available = unreserved_status(station, connector) == "Available"
        by_evse[connector.evse_id] = by_evse.get(connector.evse_id, True) and available
    return frozenset(evse_id for evse_id, free in by_evse.items() if free and evse_id not in busy)


def reserved_evses(station: Station) -> frozenset[int]:
    """The EVSEs whose connectors show Reserved (H01.FR.20, H01.FR.23, H01.FR.24)."""
    return holds.held(station.reservations, free_evses(station), holds.evse_types(station))


def _summary(inoperative: bool, parts: list[str]) -> str:
    if inoperative:
        return "Unavailable"
    return next((status for status in _SUMMARY_ORDER if status in parts), "Available")


def _availability_states(station: Station, shown: tuple[tuple[str, bool], ...]) -> dict[VariableKey, str]:
    """The AvailabilityState of every connector, EVSE and of the station, given the connectors' statuses."""
    states: dict[VariableKey, str] = {}
    by_evse: dict[int, list[str]] = {}
    for connector, (status, _) in zip(station.connectors, shown, strict=True):
        states[VariableKey("Connector", "AvailabilityState", connector.evse_id, connector.connector_id)] = status
        by_evse.setdefault(connector.evse_id, []).append(status)
    evse_states = []
    for evse_id, statuses in by_evse.items():
        evse_states.append(_summary(_held_inoperative(station, evse_id), statuses))
        states[VariableKey("EVSE", "AvailabilityState", evse_id)] = evse_states[-1]
    station_held = STATION in station.availability.inoperative and not station.running_transactions
    states[VariableKey("ChargingStation", "AvailabilityState")] = _summary(station_held, evse_states)
    return states


def _sync_device_model(model: DeviceModel, states: dict[VariableKey, str]) -> DeviceModel:
    """AvailabilityState is ReadOnly for the CSMS; the station itself sets it."""
    changed = [(key, "Actual", state) for key, state in states.items() if get_value(model, key) != state]
    return set_values(model, changed, respect_mutability=False).value_or(model) if changed else model


def refresh(station: Station) -> tuple[Station, Effects]:
    """Tell the application of every connector whose effective status or Operative/Inoperative state differs
    from what it last heard (the hardware enables or disables it), and update the AvailabilityState variables.

    Runs after every input (station.step), so a Scheduled availability change takes effect as soon as the
    transactions block removes the transaction that held it."""
    basis = (
        tuple([(c.phase, c.in_transaction) for c in station.connectors]),
        station.availability.inoperative,
        station.transactions,
        station.reservations,
        firmware_holds(station.firmware),
    )
    if basis == station.availability.basis:
        return station, ()
    shown = tuple((connector_status(station, c), is_operative(station, c)) for c in station.connectors)
    before = station.availability.shown or _defaults(station)
    availability = replace(station.availability, shown=shown, basis=basis)
    if shown == before:
        return replace(station, availability=availability), ()
    model = _sync_device_model(station.device_model, _availability_states(station, shown))
    return replace(station, availability=availability, device_model=model), _events(station, before, shown)


def note_status_changes(station: Station, before: tuple[tuple[str, bool], ...] | None, now: datetime) -> Station:
    """Remember when each connector whose status `refresh` just changed took it: a StatusNotification that can
    only go out later (the station was offline) says when the status changed, not when it was sent."""
    after = station.availability.shown
    if after is None or after == before:
        return station
    previous = before or _defaults(station)
    connectors = tuple(
        replace(connector, status_since=now) if status != old_status else connector
        for connector, (status, _), (old_status, _) in zip(station.connectors, after, previous, strict=True)
    )
    return replace(station, connectors=connectors)


def _defaults(station: Station) -> tuple[tuple[str, bool], ...]:
    return (_HARDWARE_DEFAULT,) * len(station.connectors)


def _events(station: Station, before: tuple[tuple[str, bool], ...], after: tuple[tuple[str, bool], ...]) -> Effects:
    effects: list[Effect] = []
    for connector, (status, operative), (old_status, was_operative) in zip(
        station.connectors, after, before, strict=True
    ):
        if operative != was_operative:
            effects.append(Notify(OperativeChanged(connector.evse_id, connector.connector_id, operative)))
        if status != old_status:
            effects.append(Notify(ConnectorStatusChanged(connector.evse_id, connector.connector_id, status)))
    return tuple(effects)


def _phase_found(found: ConnectorFound) -> str:
    """The CONNECTOR_LIFECYCLE state of what was found: from empty, a cable plugged, then a fault raised."""
    phase = "empty"
    for change, present in (("plug", found.plugged), ("fault", found.faulted)):
        if present:
            phase = CONNECTOR_LIFECYCLE.move(phase, change)
    return phase


def found_at_power_up(station: Station, found: Iterable[ConnectorFound]) -> tuple[Station, Effects]:
    """Take the physical state the hardware reports at power-up (PowerUp.connectors) as each connector's phase,
    and derive the statuses from it, so the boot statuses and `announce` tell what is really there. It is a state,
    not a change: no plug event, so nothing reacts to it as to a cable plugged in."""
    phases: dict[tuple[int, int], str] = {}
    effects: list[Effect] = []
    for item in found:
        if not find_connectors(station, item.evse_id, item.connector_id):
            effects.append(Log("warning", f"no connector {item.evse_id}/{item.connector_id}: power-up state ignored"))
            continue
        phases[(item.evse_id, item.connector_id)] = _phase_found(item)
    connectors = tuple(replace(c, phase=phases.get((c.evse_id, c.connector_id), c.phase)) for c in station.connectors)
    refreshed, _ = refresh(replace(station, connectors=connectors))  # the application hears it from `announce`
    return refreshed, tuple(effects)


def announce(station: Station) -> Effects:
    """At power-up: tell the application of each connector that does not come up Available and Operative
    (e.g. set Inoperative before a restart), so the hardware starts in the right state."""
    return _events(station, _defaults(station), station.availability.shown or _defaults(station))


def heartbeat_interval(station: Station) -> timedelta:
    return seconds(max(1, get_int(station.device_model, "OCPPCommCtrlr", "HeartbeatInterval", default=60)))


def find_connectors(station: Station, evse_id: int, connector_id: int | None) -> tuple[Connector, ...]:
    return tuple(
        c
        for c in station.connectors
        if c.evse_id == evse_id and (connector_id is None or c.connector_id == connector_id)
    )


def on_connector_changed(
    station: Station, evse_id: int, connector_id: int | None, change: str
) -> tuple[Station, Effects]:
    """Apply a hardware change; an impossible one (plug a plugged connector) is refused and leaves the state
    unchanged. The application hears of the resulting status from `refresh`."""
    targets = find_connectors(station, evse_id, connector_id)
    if not targets:
        return station, (Log("warning", f"no connector {evse_id}/{connector_id}: {change} ignored"),)
    moved: dict[tuple[int, int], Connector] = {}
    effects: list[Effect] = []
    for connector in targets:
        phase = CONNECTOR_LIFECYCLE.lookup(connector.phase, change)
        if phase is None:
            subject = f"connector {connector.evse_id}/{connector.connector_id}"
            effects.append(CONNECTOR_LIFECYCLE.refusal(connector.phase, change, subject))
            continue
        moved[(connector.evse_id, connector.connector_id)] = replace(connector, phase=phase)
    connectors = tuple(moved.get((c.evse_id, c.connector_id), c) for c in station.connectors)
    return replace(station, connectors=connectors), tuple(effects)


def status_payload(station: Station, connector: Connector, now: datetime) -> dict[str, Any]:
    """A status the CSMS has not heard is stamped with the moment it began; one it knows, with `now`."""
    status = connector_status(station, connector)
    since = connector.status_since
    moment = since if since is not None and connector.reported != status else now
    return {
        "timestamp": ocpp_time(station, moment),
        "connectorStatus": status,
        "evseId": connector.evse_id,
        "connectorId": connector.connector_id,
    }


def report_statuses(
    station: Station,
    now: datetime,
    *,
    everything: bool = False,
    only: tuple[Connector, ...] | None = None,
    triggered: bool = False,
) -> tuple[Station, Effects]:
    """Queue a StatusNotification for each connector whose status the CSMS does not know yet (G01.FR.01),
    or for every connector (B01 after Accepted, B04.FR.01, F06 trigger)."""
    chosen = station.connectors if only is None else only
    if not everything and all(c.reported == connector_status(station, c) for c in chosen):
        return station, ()  # the common case on every step: nothing new to tell
    keys = {(c.evse_id, c.connector_id) for c in chosen}
    session: RpcSession = station.rpc
    effects: Effects = ()
    connectors = []
    for connector in station.connectors:
        status = connector_status(station, connector)
        due = (connector.evse_id, connector.connector_id) in keys and (everything or connector.reported != status)
        if due:
            session, more = rpc.enqueue(
                session, "StatusNotification", status_payload(station, connector, now), triggered=triggered
            )
            effects += more
            connector = replace(connector, reported=status)
        connectors.append(connector)
    return replace(station, rpc=session, connectors=tuple(connectors)), effects


def forget_reported(station: Station, lost: tuple[OutboundCall, ...]) -> Station:
    """A StatusNotification that never got through leaves the CSMS not knowing that connector's status."""
    unknown = {
        (call.payload["evseId"], call.payload["connectorId"]) for call in lost if call.action == "StatusNotification"
    }
    connectors = tuple(
        replace(c, reported=None) if (c.evse_id, c.connector_id) in unknown else c for c in station.connectors
    )
    return replace(station, connectors=connectors)


def on_reconnected(station: Station, now: datetime) -> tuple[Station, Effects]:
    """B04.FR.01: offline longer than OfflineThreshold, report every connector; otherwise (B04.FR.02) only
    those whose status changed, which `report_statuses` finds by itself."""
    offline_since = station.connection.offline_since
    threshold = seconds(get_int(station.device_model, "OCPPCommCtrlr", "OfflineThreshold", default=60))
    everything = offline_since is not None and now - offline_since > threshold
    return report_statuses(station, now, everything=everything)


def arm_heartbeat(station: Station, now: datetime) -> Station:
    registration = replace(station.registration, heartbeat_at=later(now, heartbeat_interval(station)))
    return replace(station, registration=registration)


def send_heartbeat(station: Station, now: datetime, *, triggered: bool = False) -> tuple[Station, Effects]:
    session, effects = rpc.enqueue(station.rpc, "Heartbeat", {}, triggered=triggered)
    return arm_heartbeat(replace(station, rpc=session), now), effects


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """G02.FR.01: a Heartbeat every HeartbeatInterval while connected and Accepted."""
    due = station.registration.heartbeat_at
    if due is None or now < due:
        return station, ()
    if station.connection.phase != "up" or station.registration.status != "Accepted":
        return arm_heartbeat(station, now), ()
    return send_heartbeat(station, now)


def on_heartbeat_response(station: Station, response: dict[str, Any], now: datetime) -> Station:
    """G02.FR.02: the station adjusts its clock to the CSMS's currentTime."""
    offset = offset_from(response["currentTime"], now, station.registration.clock_offset)
    return replace(station, registration=replace(station.registration, clock_offset=offset))
