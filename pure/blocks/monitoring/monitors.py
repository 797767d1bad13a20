"""Variable monitors as data (block N): what a monitor is, how the CSMS's JSON maps onto it, which monitors a
report selects, and how a monitor is stored across restarts.

Nothing here knows the station; `monitoring.py` (CSMS requests N02-N06) and `monitor_events.py` (NotifyEvent,
N07-N08) build on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Literal

from chargecore.pure.device_model.addressing import component_json, selects, variable_json
from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.ocppj.timestamps import seconds

MonitorKind = Literal["UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"]
Origin = Literal["CustomMonitor", "PreconfiguredMonitor", "HardWiredMonitor"]

KINDS = frozenset({"UpperThreshold", "LowerThreshold", "Delta", "Periodic", "PeriodicClockAligned"})
ORIGINS = frozenset({"CustomMonitor", "PreconfiguredMonitor", "HardWiredMonitor"})
THRESHOLDS = frozenset({"UpperThreshold", "LowerThreshold"})
PERIODIC = frozenset({"Periodic", "PeriodicClockAligned"})
NUMERIC = frozenset({"integer", "decimal"})

CRITERIA: Mapping[str, frozenset[str]] = {
    "ThresholdMonitoring": THRESHOLDS,
    "DeltaMonitoring": frozenset({"Delta"}),
    "PeriodicMonitoring": PERIODIC,
}
"""GetMonitoringReport monitoringCriteria -> the monitor kinds it selects (N02.FR.12-14)."""

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
"""Clock-aligned periodic monitors report on multiples of their interval counted from here (N08.FR.07)."""

MONITOR_KEY_PREFIX = "monitoring/monitor/"


@dataclass(frozen=True, slots=True)
class Monitor:
    """One VariableMonitoring setting plus what the station remembers to evaluate it."""

    monitor_id: int
    key: VariableKey
    kind: MonitorKind
    value: float
    """Threshold or delta; for the periodic kinds the interval in seconds."""
    severity: int
    transaction: bool = False
    """Only active while a transaction runs on the monitored component's EVSE (any EVSE for station-level)."""
    origin: Origin = "CustomMonitor"
    anchor: datetime = EPOCH
    """When it was set (shell clock): a Periodic monitor reports every `value` seconds from here (N08.FR.06)."""
    reference: str | None = None
    """Delta: the value at the last event (or when set); the next delta is measured from it (N07.FR.18)."""
    tripped: bool = False
    """Threshold: the CSMS was last told the value is beyond the threshold (cleared false)."""
    due_at: datetime | None = None
    """Periodic kinds: the next report (shell clock). Not persisted: recomputed from `anchor`."""

    @property
    def period(self) -> timedelta:
        return seconds(self.value)


@dataclass(frozen=True, slots=True)
class Monitoring:
    """The station's monitors (sorted by id) and its id counters."""

    monitors: tuple[Monitor, ...] = ()
    next_monitor_id: int = 1
    next_event_id: int = 1
    event_id_limit: int = 1
    """Event ids below this are reserved by a persisted block, so ids keep increasing across restarts."""
    watching: Mapping[VariableKey, tuple[Monitor, ...]] = field(init=False, repr=False, compare=False)
    """The threshold and delta monitors of each variable, derived from `monitors`: evaluating a reading costs
    a lookup and that variable's monitors, however many monitors the station has."""

    def __post_init__(self) -> None:
        index: dict[VariableKey, list[Monitor]] = {}
        for monitor in self.monitors:
            if monitor.kind not in PERIODIC:
                index.setdefault(monitor.key, []).append(monitor)
        object.__setattr__(self, "watching", MappingProxyType({key: tuple(found) for key, found in index.items()}))


def find(monitoring: Monitoring, monitor_id: int) -> Monitor | None:
    return next((m for m in monitoring.monitors if m.monitor_id == monitor_id), None)


def with_monitor(monitoring: Monitoring, monitor: Monitor) -> Monitoring:
    """Add or replace (by id) one monitor, keeping the order by id."""
    if find(monitoring, monitor.monitor_id) is not None:
        monitors = tuple(monitor if m.monitor_id == monitor.monitor_id else m for m in monitoring.monitors)
    else:
        monitors = tuple(sorted([*monitoring.monitors, monitor], key=lambda m: m.monitor_id))
    next_id = max(monitoring.next_monitor_id, monitor.monitor_id + 1)
    return replace(monitoring, monitors=monitors, next_monitor_id=next_id)


def with_updates(monitoring: Monitoring, updated: Iterable[Monitor]) -> Monitoring:
    """Replace existing monitors by id in one pass (their ids are already in `monitoring`)."""
    by_id = {monitor.monitor_id: monitor for monitor in updated}
    return replace(monitoring, monitors=tuple(by_id.get(m.monitor_id, m) for m in monitoring.monitors))


def without(monitoring: Monitoring, monitor_ids: Iterable[int]) -> Monitoring:
    gone = set(monitor_ids)
    return replace(monitoring, monitors=tuple(m for m in monitoring.monitors if m.monitor_id not in gone))


def is_active(monitor: Monitor, base: str) -> bool:
    """N03: FactoryDefault switches off custom monitors, HardWiredOnly every monitor but the hard-wired ones."""
    if base == "HardWiredOnly":
        return monitor.origin == "HardWiredMonitor"
    if base == "FactoryDefault":
        return monitor.origin != "CustomMonitor"
    return True


# --- OCPP JSON -------------------------------------------------------------------------------------------


def number(value: float) -> int | float:
    """67.0 -> 67: how the CSMS most likely wrote it."""
    return int(value) if float(value).is_integer() else value


def monitoring_json(monitor: Monitor) -> dict[str, Any]:
    """A VariableMonitoringType."""
    return {
        "id": monitor.monitor_id,
        "transaction": monitor.transaction,
        "value": number(monitor.value),
        "type": monitor.kind,
        "severity": monitor.severity,
    }


def component_exists(model: DeviceModel, key: VariableKey) -> bool:
    """Does the device model have this component instance at all? Scans the catalogue, so callers only ask
    after the exact variable key was not found."""
    return any(
        (k.component, k.component_instance, k.evse_id, k.connector_id)
        == (key.component, key.component_instance, key.evse_id, key.connector_id)
        for k in model.definitions
    )


# --- reports (N02) ---------------------------------------------------------------------------------------


def report_items(
    monitors: Iterable[Monitor], criteria: Iterable[str] | None, selectors: Iterable[Mapping[str, Any]] | None
) -> tuple[dict[str, Any], ...]:
    """MonitoringDataType items of the monitors the filters select (N02.FR.05/06/08/11), one per variable in
    order of first monitor id."""
    kinds = frozenset().union(*(CRITERIA[c] for c in criteria)) if criteria else None
    wanted = tuple(selectors) if selectors else None
    grouped: dict[VariableKey, list[Monitor]] = {}
    for monitor in monitors:
        if kinds is not None and monitor.kind not in kinds:
            continue
        if wanted is not None and not any(selects(selector, monitor.key) for selector in wanted):
            continue
        grouped.setdefault(monitor.key, []).append(monitor)
    return tuple(
        {
            "component": component_json(key),
            "variable": variable_json(key),
            "variableMonitoring": [monitoring_json(m) for m in chosen],
        }
        for key, chosen in grouped.items()
    )


# --- persistence -----------------------------------------------------------------------------------------


def monitor_key(monitor_id: int) -> str:
    return f"{MONITOR_KEY_PREFIX}{monitor_id}"


def to_record(monitor: Monitor) -> dict[str, Any]:
    """The JSON-able form stored under `monitor_key`; the schedule (`due_at`) is derived again on restore."""
    key = monitor.key
    return {
        "id": monitor.monitor_id,
        "component": key.component,
        "variable": key.variable,
        "evse": key.evse_id,
        "connector": key.connector_id,
        "componentInstance": key.component_instance,
        "variableInstance": key.variable_instance,
        "type": monitor.kind,
        "value": monitor.value,
        "severity": monitor.severity,
        "transaction": monitor.transaction,
        "origin": monitor.origin,
        "anchor": monitor.anchor.isoformat(),
        "reference": monitor.reference,
        "tripped": monitor.tripped,
    }


def from_record(record: Any) -> Monitor | None:
    """The monitor a stored record describes, or None for a record this version cannot read."""
    if not isinstance(record, Mapping) or record.get("type") not in KINDS or record.get("origin") not in ORIGINS:
        return None
    try:
        key = VariableKey(
            record["component"],
            record["variable"],
            record["evse"],
            record["connector"],
            record["componentInstance"],
            record["variableInstance"],
        )
        return Monitor(
            monitor_id=int(record["id"]),
            key=key,
            kind=record["type"],
            value=float(record["value"]),
            severity=int(record["severity"]),
            transaction=bool(record["transaction"]),
            origin=record["origin"],
            anchor=datetime.fromisoformat(record["anchor"]),
            reference=record["reference"],
            tripped=bool(record["tripped"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
