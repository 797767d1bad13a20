"""Block N, the CSMS's side of monitoring: GetMonitoringReport (N02), SetMonitoringBase (N03),
SetVariableMonitoring (N04), SetMonitoringLevel (N05), ClearVariableMonitoring (N06), and the monitors kept
across restarts (N07.FR.13).

Monitors the integrator ships (`StationIdentity.factory_monitors`, hard-wired or preconfigured) can neither be
cleared nor, when hard-wired, replaced; replacing a preconfigured one makes it a custom monitor (N04.FR.15)
until SetMonitoringBase FactoryDefault or HardWiredOnly restores the factory set (N03.FR.04/05).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Failure

from chargecore.pure.blocks.monitoring import monitor_events
from chargecore.pure.blocks.monitoring.monitors import (
    MONITOR_KEY_PREFIX,
    NUMERIC,
    PERIODIC,
    THRESHOLDS,
    Monitor,
    Monitoring,
    component_exists,
    find,
    from_record,
    is_active,
    monitor_key,
    report_items,
    to_record,
    with_monitor,
    without,
)
from chargecore.pure.blocks.provisioning import variables
from chargecore.pure.device_model.addressing import key_from_json, resolve_key
from chargecore.pure.device_model.catalogue import VariableDefinition, VariableKey
from chargecore.pure.device_model.model import get_int, get_value
from chargecore.pure.effects import Effects, Persist
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.ocppj.message_split import oversize
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

NEXT_ID_KEY = "monitoring/next_monitor_id"
BASE_KEYS = tuple(VariableKey("MonitoringCtrlr", name) for name in ("ActiveMonitoringBase", "MonitoringBase"))
LEVEL_KEYS = tuple(VariableKey("MonitoringCtrlr", name) for name in ("ActiveMonitoringLevel", "MonitoringLevel"))
"""The active base/level and their older names, kept equal; persisted by the device model."""
SEVERITIES = range(0, 10)
MAX_PERIOD_SECONDS = 86400.0
"""The longest interval a periodic monitor may have (one report a day)."""


def _too_big(station: Station, call: Call, component: str, instance: str, items: int) -> CallError | None:
    """The CALLERROR for a request over the ItemsPerMessage/BytesPerMessage the station declares (0: no limit)
    (N04.FR.09, N06.FR.06/07, N02.FR.07), like B06.FR.16/17 for GetVariables."""
    model = station.device_model
    most_items = get_int(model, component, "ItemsPerMessage", instance, default=0) or None
    most_bytes = get_int(model, component, "BytesPerMessage", instance, default=0) or None
    return oversize(call, instance, items, most_items, most_bytes)


# --- SetVariableMonitoring (N04) ---------------------------------------------------------------------------


def _value_problem(definition: VariableDefinition, kind: str, value: float) -> bool:
    """N04.FR.06: a threshold outside the variable's limits; N04.FR.14: a negative delta; a periodic
    interval that is not between 1 s and a day. (NaN and infinity never get here: the schema refuses them.)"""
    if kind in THRESHOLDS:
        low, high = definition.min_limit, definition.max_limit
        return (low is not None and value < low) or (high is not None and value > high)
    if kind == "Delta":
        return value < 0
    return not 1 <= value <= MAX_PERIOD_SECONDS


def _status(station: Station, monitoring: Monitoring, item: Mapping[str, Any]) -> str:
    """The SetMonitoringResult status of one SetMonitoringData, checked in the order of the spec."""
    key = resolve_key(station.device_model, key_from_json(item["component"], item["variable"]))
    existing = find(monitoring, item["id"]) if "id" in item else None
    if "id" in item and existing is None:
        return "Rejected"  # N04.FR.13
    definition = station.device_model.definitions.get(key)
    if existing is not None and (definition is None or existing.key != key):
        return "Rejected"  # N04.FR.16: a monitor cannot move to another variable
    if definition is None:
        return "UnknownVariable" if component_exists(station.device_model, key) else "UnknownComponent"  # FR.03/04
    if existing is not None and existing.origin == "HardWiredMonitor":
        return "Rejected"  # N04.FR.18
    kind = item["type"]
    if not definition.supports_monitoring or (kind in THRESHOLDS and definition.data_type not in NUMERIC):
        return "UnsupportedMonitorType"  # N04.FR.05
    if item["severity"] not in SEVERITIES or _value_problem(definition, kind, float(item["value"])):
        return "Rejected"
    same_id = None if existing is None else existing.monitor_id
    if any(
        m.key == key and m.kind == kind and m.severity == item["severity"] and m.monitor_id != same_id
        for m in monitoring.monitors
    ):
        return "Duplicate"  # N04.FR.10
    return "Accepted"  # N04.FR.08


def _new_monitor(station: Station, monitoring: Monitoring, item: Mapping[str, Any], now: datetime) -> Monitor:
    """N04.FR.11: a new id from the station; N04.FR.12/15: the same id, now a custom monitor, on replace.
    A replaced threshold monitor keeps what the CSMS knows of its trip, so its new threshold is judged
    against that (N07.FR.11)."""
    existing = find(monitoring, item["id"]) if "id" in item else None
    key = resolve_key(station.device_model, key_from_json(item["component"], item["variable"]))
    kind = item["type"]
    monitor = Monitor(
        monitor_id=monitoring.next_monitor_id if existing is None else existing.monitor_id,
        key=key,
        kind=kind,
        value=float(item["value"]),
        severity=item["severity"],
        transaction=item.get("transaction", False),
        anchor=now,
        reference=(get_value(station.device_model, key) or "") if kind == "Delta" else None,
        tripped=existing is not None and existing.kind == kind and existing.tripped,
    )
    if kind in PERIODIC:
        return replace(monitor, due_at=monitor_events.next_slot(monitor, now, station.registration.clock_offset))
    return monitor


def handle_set_variable_monitoring(station: Station, call: Call, now: datetime) -> Handled:
    """N04.FR.01/02: one result per SetMonitoringData, naming its component and variable."""
    data = call.payload["setMonitoringData"]
    refused = _too_big(station, call, "MonitoringCtrlr", "SetVariableMonitoring", len(data))
    if refused is not None:
        return station, refused, ()
    monitoring = station.monitoring
    results = []
    accepted: list[Monitor] = []
    for item in data:
        status = _status(station, monitoring, item)
        result = {field: item[field] for field in ("type", "severity", "component", "variable")}
        result["status"] = status
        if status == "Accepted":
            monitor = _new_monitor(station, monitoring, item, now)
            monitoring = with_monitor(monitoring, monitor)
            accepted.append(monitor)
            result["id"] = monitor.monitor_id
        elif "id" in item:
            result["id"] = item["id"]
        results.append(result)
    if not accepted:
        return station, Reply({"setMonitoringResult": results}), ()
    stored = tuple((monitor_key(m.monitor_id), to_record(m)) for m in accepted)
    persist = Persist((*stored, (NEXT_ID_KEY, monitoring.next_monitor_id)))
    station, events = monitor_events.reevaluate_thresholds(
        replace(station, monitoring=monitoring), now, frozenset(m.monitor_id for m in accepted)
    )
    return station, Reply({"setMonitoringResult": results}), (persist, *events)


# --- ClearVariableMonitoring (N06) -------------------------------------------------------------------------


def _revived(station: Station, monitor: Monitor) -> Monitor:
    """A monitor read back from storage or the factory set: a delta monitor without a reference measures from
    the current value, a periodic one is scheduled again."""
    if monitor.kind == "Delta" and monitor.reference is None:
        monitor = replace(monitor, reference=get_value(station.device_model, monitor.key) or "")
    return monitor_events.restored_schedule(monitor)


def _factory(station: Station, monitor_id: int) -> Monitor | None:
    return next((m for m in station.identity.factory_monitors if m.monitor_id == monitor_id), None)


def handle_clear_variable_monitoring(station: Station, call: Call, now: datetime) -> Handled:
    """N06.FR.01-03/05: Accepted, NotFound, or Rejected for the factory monitors. Clearing a custom monitor that
    replaced a preconfigured one brings the preconfigured one back."""
    ids = call.payload["id"]
    refused = _too_big(station, call, "MonitoringCtrlr", "ClearVariableMonitoring", len(ids))
    if refused is not None:
        return station, refused, ()
    monitoring = station.monitoring
    results = []
    cleared: list[tuple[str, Any]] = []
    for monitor_id in ids:
        monitor = find(monitoring, monitor_id)
        if monitor is None:
            status = "NotFound"
        elif monitor.origin != "CustomMonitor":
            status = "Rejected"
        else:
            status = "Accepted"
            factory = _factory(station, monitor_id)
            if factory is None:
                monitoring = without(monitoring, (monitor_id,))
            else:
                monitoring = with_monitor(monitoring, _revived(station, factory))
            cleared.append((monitor_key(monitor_id), None))
        results.append({"id": monitor_id, "status": status})
    after: Effects = (Persist(tuple(cleared)),) if cleared else ()
    return replace(station, monitoring=monitoring), Reply({"clearMonitoringResult": results}), after


# --- SetMonitoringBase (N03) and SetMonitoringLevel (N05) --------------------------------------------------


def _set_station_values(
    station: Station, keys: Sequence[VariableKey], value: str, now: datetime
) -> tuple[Station, Effects]:
    """Set MonitoringCtrlr values the CSMS cannot set directly (they are ReadOnly); persisted by the model."""
    effects: Effects = ()
    for key in keys:
        changed = variables.set_station_value(station, key, value, "Actual", now, respect_mutability=False)
        if isinstance(changed, Failure):
            continue  # the catalogue lacks this variable: nothing to record
        station, more = changed.unwrap()
        effects += more
    return station, effects


def handle_set_monitoring_base(station: Station, call: Call, now: datetime) -> Handled:
    """N03.FR.01/03-05: All keeps the custom monitors; FactoryDefault and HardWiredOnly drop them and bring
    back the factory monitors they replaced. Which monitors report follows from the base (`is_active`)."""
    base = call.payload["monitoringBase"]
    station, effects = _set_station_values(station, BASE_KEYS, base, now)
    if base != "All":
        customs = [m.monitor_id for m in station.monitoring.monitors if m.origin == "CustomMonitor"]
        monitoring = without(station.monitoring, customs)
        for factory in station.identity.factory_monitors:
            if find(monitoring, factory.monitor_id) is None:
                monitoring = with_monitor(monitoring, _revived(station, factory))
        station = replace(station, monitoring=monitoring)
        if customs:
            effects += (Persist(tuple((monitor_key(monitor_id), None) for monitor_id in customs)),)
    station, events = monitor_events.reevaluate_thresholds(station, now)
    return station, Reply({"status": "Accepted"}), effects + events


def handle_set_monitoring_level(station: Station, call: Call, now: datetime) -> Handled:
    """N05.FR.01/02: a severity 0-9 becomes the active level; events of monitors above it are not sent."""
    severity = call.payload["severity"]
    if severity not in SEVERITIES:
        return station, Reply({"status": "Rejected"}), ()
    station, effects = _set_station_values(station, LEVEL_KEYS, str(severity), now)
    station, events = monitor_events.reevaluate_thresholds(station, now)
    return station, Reply({"status": "Accepted"}), effects + events


# --- GetMonitoringReport (N02) -----------------------------------------------------------------------------


def handle_get_monitoring_report(station: Station, call: Call, now: datetime) -> Handled:
    """N02.FR.01/03/04/09/10: Accepted and NotifyMonitoringReport messages after the response, or
    EmptyResultSet when the filters select no monitor."""
    payload = call.payload
    selectors = payload.get("componentVariable")
    refused = _too_big(station, call, "DeviceDataCtrlr", "GetReport", len(selectors or ()))
    if refused is not None:
        return station, refused, ()
    base = get_value(station.device_model, BASE_KEYS[0]) or "All"
    active = (m for m in station.monitoring.monitors if is_active(m, base))
    items = report_items(active, payload.get("monitoringCriteria"), selectors)
    if not items:
        return station, Reply({"status": "EmptyResultSet"}), ()
    generated_at = ocpp_time(station, now)
    request_id = payload["requestId"]

    def payload_of(chunk: Sequence[Any], seq_no: int, tbc: bool) -> dict[str, Any]:
        return {
            "requestId": request_id,  # N02.FR.04
            "seqNo": seq_no,
            "tbc": tbc,
            "generatedAt": generated_at,
            "monitor": list(chunk),
        }

    queued = monitor_events.queue_split(station, "NotifyMonitoringReport", items, payload_of)
    if isinstance(queued, Failure):
        return station, refusal("Rejected", "TooLarge"), ()
    reported, effects = queued.unwrap()
    return reported, Reply({"status": "Accepted"}), effects


# --- restart -----------------------------------------------------------------------------------------------


def _factory_state(station: Station, stored: Monitor) -> Monitor | None:
    """A factory monitor keeps its definition from this firmware and only its trip state or delta reference
    from storage; one this firmware no longer ships is gone."""
    factory = _factory(station, stored.monitor_id)
    if factory is None:
        return None
    return replace(factory, tripped=stored.tripped, reference=stored.reference)


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """N07.FR.13: the factory monitors overlaid with what an earlier run stored. A stored monitor whose
    variable is gone or no longer supports monitoring is dropped."""
    monitoring = Monitoring(
        next_monitor_id=max([1, *(m.monitor_id + 1 for m in station.identity.factory_monitors)]),
    )
    for factory in station.identity.factory_monitors:
        monitoring = with_monitor(monitoring, factory)
    for stored_key, record in persisted.items():
        monitor = from_record(record) if stored_key.startswith(MONITOR_KEY_PREFIX) else None
        if monitor is not None and monitor.origin != "CustomMonitor":
            monitor = _factory_state(station, monitor)
        definition = None if monitor is None else station.device_model.definitions.get(monitor.key)
        if monitor is not None and definition is not None and definition.supports_monitoring:
            monitoring = with_monitor(monitoring, monitor)
    stored_next = persisted.get(NEXT_ID_KEY)
    limit = monitor_events.persisted_limit(persisted)
    monitoring = replace(
        monitoring,
        monitors=tuple(_revived(station, m) for m in monitoring.monitors),
        next_monitor_id=max(monitoring.next_monitor_id, stored_next if isinstance(stored_next, int) else 1),
        next_event_id=limit,
        event_id_limit=limit,
    )
    return replace(station, monitoring=monitoring)
