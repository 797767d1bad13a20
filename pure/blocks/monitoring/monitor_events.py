"""Block N, monitor events: NotifyEvent when a monitor trips (N07) and periodic reports (N08).

A monitor is evaluated whenever its variable's Actual value changes, whichever part of the core changed it
(`on_model_changed`, run by station.step after every input), and a periodic monitor whenever its report is due
(`on_tick`).
A threshold monitor reports whenever the value's side of the threshold differs from what the CSMS was last
told (so a trip and its clearing are each reported once); a delta monitor when the value moved more than its
delta from the value of its last event. A monitor that may not report right now (severity above the active
level, switched off by the monitoring base, a transaction monitor without transaction, or offline with a
severity above OfflineQueuingSeverity) is not evaluated at all, so it reports the situation it finds once it
may report again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from returns.result import Failure, Result, Success

from chargecore.pure.blocks.monitoring.monitors import (
    EPOCH,
    NUMERIC,
    PERIODIC,
    THRESHOLDS,
    Monitor,
    Monitoring,
    is_active,
    monitor_key,
    to_record,
    with_updates,
)
from chargecore.pure.blocks.provisioning import provisioning, reports
from chargecore.pure.device_model.addressing import component_json, variable_json
from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import get_bool, get_int, get_value, reported_value_size
from chargecore.pure.effects import Effects, Log, Persist
from chargecore.pure.ocppj import connection, rpc
from chargecore.pure.ocppj.message_split import PayloadOf, split
from chargecore.pure.ocppj.timestamps import ocpp_time, with_live_clock
from chargecore.pure.state import Station, Transaction

EVENT_ID_LIMIT_KEY = "monitoring/event_id_limit"
EVENT_ID_BLOCK = 1000
"""Event ids are reserved (persisted) this many at a time, so a restart never reuses one."""


_TRIGGER = {
    "UpperThreshold": "Alerting",
    "LowerThreshold": "Alerting",
    "Delta": "Delta",
    "Periodic": "Periodic",
    "PeriodicClockAligned": "Periodic",
}


def is_online(station: Station) -> bool:
    return connection.is_up(station) and provisioning.is_accepted(station)


def _transaction_of(monitor: Monitor, transactions: tuple[Transaction, ...]) -> Transaction | None:
    """The running transaction on the monitored component's EVSE (any, for a station-level component)."""
    evse_id = monitor.key.evse_id
    return next((t for t in transactions if evse_id is None or t.evse_id == evse_id), None)


@dataclass(frozen=True, slots=True)
class _Gate:
    """Which monitors may raise an event now."""

    enabled: bool
    base: str
    level: int
    offline_severity: int | None
    """None while online."""
    transactions: tuple[Transaction, ...]

    def allows(self, monitor: Monitor) -> bool:
        if not self.enabled or not is_active(monitor, self.base) or monitor.severity > self.level:  # N05.FR.03
            return False
        if self.offline_severity is not None and monitor.severity > self.offline_severity:  # N07.FR.04
            return False
        return not monitor.transaction or _transaction_of(monitor, self.transactions) is not None


def _gate(station: Station) -> _Gate:
    model = station.device_model
    return _Gate(
        enabled=get_bool(model, "MonitoringCtrlr", "Enabled", default=True),
        base=get_value(model, VariableKey("MonitoringCtrlr", "ActiveMonitoringBase")) or "All",
        level=get_int(model, "MonitoringCtrlr", "ActiveMonitoringLevel", default=9),
        offline_severity=None
        if is_online(station)
        else get_int(model, "MonitoringCtrlr", "OfflineQueuingSeverity", default=0),
        transactions=station.running_transactions,
    )


# --- evaluation --------------------------------------------------------------------------------------------


def _number(text: str | None) -> float | None:
    try:
        return None if text is None else float(text)
    except ValueError:
        return None


def _tripped(monitor: Monitor, data_type: str, value: str) -> Monitor | None:
    """The monitor after `value` trips it, or None when it does not."""
    if monitor.kind in THRESHOLDS:
        reading = _number(value)
        if reading is None:
            return None
        # N07.FR.16/17: beyond the threshold, not at it
        beyond = reading > monitor.value if monitor.kind == "UpperThreshold" else reading < monitor.value
        return replace(monitor, tripped=beyond) if beyond != monitor.tripped else None  # N07.FR.02
    if monitor.kind == "Delta":
        if data_type in NUMERIC:  # N07.FR.18
            reading, reference = _number(value), _number(monitor.reference)
            moved = reading is not None and (reference is None or abs(reading - reference) > monitor.value)
        else:  # N07.FR.19: any change of a non-numeric value
            moved = value != monitor.reference
        return replace(monitor, reference=value) if moved else None
    return None


def _evaluate(station: Station, candidates: Iterable[tuple[Monitor, str]], now: datetime) -> tuple[Station, Effects]:
    gate = _gate(station)
    trips = []
    for monitor, value in candidates:
        definition = station.device_model.definitions.get(monitor.key)
        if definition is None or not gate.allows(monitor):
            continue
        tripped = _tripped(monitor, definition.data_type, value)
        if tripped is not None:
            trips.append((tripped, value))
    return _report(station, trips, now)


def on_model_changed(station: Station, before: DeviceModel, now: datetime) -> tuple[Station, Effects]:
    """Evaluate the threshold and delta monitors of every variable whose Actual value differs from `before`.

    The station runs this once at the end of every step (station.step) with the model the step started from, so
    every change is judged the same way whichever block made it: SetVariables, the application, a hardware
    reading, the boot answer's interval, the availability block's AvailabilityState. A value that moves and comes
    back within one step did not change."""
    after = station.device_model
    if after is before:
        return station, ()
    candidates = [
        (monitor, new or "")
        for key, monitors in station.monitoring.watching.items()
        if (new := get_value(after, key)) != get_value(before, key)
        for monitor in monitors
    ]
    return _evaluate(station, candidates, now) if candidates else (station, ())


def reevaluate_thresholds(
    station: Station, now: datetime, only: frozenset[int] | None = None
) -> tuple[Station, Effects]:
    """Compare threshold monitors with the current values: after a monitor was set or replaced (N07.FR.11),
    or the level or base changed which monitors may report."""
    model = station.device_model
    candidates = [
        (monitor, get_value(model, monitor.key) or "")
        for monitor in station.monitoring.monitors
        if monitor.kind in THRESHOLDS and (only is None or monitor.monitor_id in only)
    ]
    return _evaluate(station, candidates, now)


def on_reconnected(station: Station, now: datetime) -> tuple[Station, Effects]:
    """Back online: threshold monitors that could not report while offline report the situation they find
    now, so the CSMS never waits for a clearing it was not told of the trip for."""
    return reevaluate_thresholds(station, now)


# --- periodic monitors (N08) -------------------------------------------------------------------------------


def _origin(monitor: Monitor, offset: timedelta) -> datetime:
    """Where a periodic monitor's grid of report times starts: when it was set (Periodic), or the epoch of
    the station clock, which the CSMS may have moved by `offset` (PeriodicClockAligned)."""
    return monitor.anchor if monitor.kind == "Periodic" else EPOCH - offset


def next_slot(monitor: Monitor, moment: datetime, offset: timedelta) -> datetime:
    """The monitor's first report time strictly after `moment` (shell clock)."""
    origin = _origin(monitor, offset)
    return origin + ((moment - origin) // monitor.period + 1) * monitor.period


def _on_grid(monitor: Monitor, moment: datetime, offset: timedelta) -> bool:
    return (moment - _origin(monitor, offset)) % monitor.period == timedelta(0)


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """N08.FR.06/07: report every periodic monitor whose time has come, and schedule its next report.

    A report time that is no longer on the monitor's grid (the CSMS moved the clock) or passed more than one
    interval ago (the station was off) is skipped rather than reported late."""
    due = [(m, m.due_at) for m in station.monitoring.monitors if m.due_at is not None and m.due_at <= now]
    if not due:
        return station, ()
    offset = station.registration.clock_offset
    gate = _gate(station)
    model = with_live_clock(station, now)  # a periodic monitor on ClockCtrlr.DateTime reports the clock now
    moved = []
    trips = []
    for monitor, due_at in due:
        on_time = _on_grid(monitor, due_at, offset) and now - due_at < monitor.period
        rescheduled = replace(monitor, due_at=next_slot(monitor, now, offset))
        moved.append(rescheduled)
        if on_time and gate.allows(rescheduled):
            trips.append((rescheduled, get_value(model, rescheduled.key) or ""))
    return _report(replace(station, monitoring=with_updates(station.monitoring, moved)), trips, now)


def deadline(station: Station) -> datetime | None:
    """The next periodic report."""
    moments = [m.due_at for m in station.monitoring.monitors if m.due_at is not None]
    return min(moments) if moments else None


# --- NotifyEvent -------------------------------------------------------------------------------------------


def _reserve_event_ids(monitoring: Monitoring, count: int) -> tuple[int, int, Effects]:
    """(first id, the new limit, the Persist of a newly reserved block if one was needed)."""
    first = monitoring.next_event_id
    if first + count <= monitoring.event_id_limit:
        return first, monitoring.event_id_limit, ()
    limit = first + count + EVENT_ID_BLOCK
    return first, limit, (Persist(((EVENT_ID_LIMIT_KEY, limit),)),)


def _actual_value(station: Station, monitor: Monitor, value: str) -> str:
    """N07.FR.10: nothing for a WriteOnly variable; otherwise the value cut to ValueSize and ReportingValueSize."""
    definition = station.device_model.definitions.get(monitor.key)
    actual = None if definition is None else definition.attributes.get("Actual")
    if actual is not None and actual.mutability == "WriteOnly":
        return ""
    return value[: reported_value_size(station.device_model)]


def _event_data(station: Station, monitor: Monitor, value: str, event_id: int, now: datetime) -> dict[str, Any]:
    """N07.FR.06: the component, variable and monitor id that caused the event."""
    event: dict[str, Any] = {
        "eventId": event_id,
        "timestamp": ocpp_time(station, now),
        "trigger": _TRIGGER[monitor.kind],
        "actualValue": _actual_value(station, monitor, value),
        "eventNotificationType": monitor.origin,
        "variableMonitoringId": monitor.monitor_id,
        "component": component_json(monitor.key),
        "variable": variable_json(monitor.key),
    }
    if monitor.kind in THRESHOLDS:
        event["cleared"] = not monitor.tripped
    transaction = _transaction_of(monitor, station.running_transactions) if monitor.transaction else None
    if transaction is not None:
        event["transactionId"] = transaction.transaction_id
    return event


def _report(station: Station, trips: list[tuple[Monitor, str]], now: datetime) -> tuple[Station, Effects]:
    """Store the tripped monitors and queue one NotifyEvent (split when long) with an event per trip. While
    offline the queue keeps it until the station is back (N07.FR.04, N08.FR.03)."""
    if not trips:
        return station, ()
    first_id, limit, effects = _reserve_event_ids(station.monitoring, len(trips))
    monitoring = replace(
        with_updates(station.monitoring, (monitor for monitor, _ in trips)),
        next_event_id=first_id + len(trips),
        event_id_limit=limit,
    )
    stored = tuple((monitor_key(m.monitor_id), to_record(m)) for m, _ in trips if m.kind not in PERIODIC)
    if stored:
        effects += (Persist(stored),)
    station = replace(station, monitoring=monitoring)
    events = [_event_data(station, m, value, first_id + n, now) for n, (m, value) in enumerate(trips)]
    generated_at = ocpp_time(station, now)

    def payload_of(chunk: Sequence[Any], seq_no: int, tbc: bool) -> dict[str, Any]:
        return {"generatedAt": generated_at, "seqNo": seq_no, "tbc": tbc, "eventData": list(chunk)}  # N07.FR.07

    queued = queue_split(station, "NotifyEvent", events, payload_of)
    if isinstance(queued, Failure):
        return station, (*effects, Log("warning", f"NotifyEvent not sent: {queued.failure()}"))
    station, more = queued.unwrap()
    return station, effects + more


def queue_split(
    station: Station, action: str, items: Sequence[dict[str, Any]], payload_of: PayloadOf
) -> Result[tuple[Station, Effects], str]:
    """Queue `items` as `action` messages split by `reports.report_limits` (seqNo from 0, tbc on all but the last)."""
    payloads = split(action, items, payload_of, *reports.report_limits(station.device_model))
    if isinstance(payloads, Failure):
        return Failure(payloads.failure())
    session = station.rpc
    effects: Effects = ()
    for payload in payloads.unwrap():
        session, more = rpc.enqueue(session, action, payload)
        effects += more
    return Success((replace(station, rpc=session), effects))


def restored_schedule(monitor: Monitor) -> Monitor:
    """A periodic monitor read back after a restart reports next one interval after it was set; `on_tick`
    moves a report time long past to the next one."""
    return replace(monitor, due_at=monitor.anchor + monitor.period) if monitor.kind in PERIODIC else monitor


def persisted_limit(persisted: Mapping[str, Any]) -> int:
    value = persisted.get(EVENT_ID_LIMIT_KEY)
    return value if isinstance(value, int) and value > 0 else 1
