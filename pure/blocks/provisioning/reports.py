"""Block B, device-model reports: GetBaseReport (B07) and GetReport (B08), answered by NotifyReport messages.

The response is the handler's reply; the report follows as NotifyReport CALLs queued behind it, so the CSMS
always hears the status before the first NotifyReport. They are queued as triggered messages, which lets them
out while the registration is Pending (B02.FR.02, TC_B_02). The report is split by DeviceDataCtrlr
ItemsPerMessage[GetReport] and BytesPerMessage[GetReport] (seqNo from 0, tbc true on all but the last).

What is reported (one ReportData per variable, in catalogue order, EVSE/connector instances in order):

- ConfigurationInventory (B07.FR.07): every variable the operator can set, i.e. with a ReadWrite or WriteOnly
  attribute, and only those attributes.
- FullInventory (B07.FR.08): every variable with every attribute.
- SummaryInventory (B07.FR.09, optional: `StationIdentity.supports_summary_inventory`): the AvailabilityState
  of the ChargingStation, of every EVSE and of every Connector, plus every condition variable (Problem,
  Tripped, Overload, Fallback) that is true.
- GetReport: every attribute of the variables that match the componentVariable entries (none: all) of the
  components that meet any of the componentCriteria (none: all); EmptyResultSet when nothing is left.

A WriteOnly value is never reported (B07.FR.03, B08.FR.03 as amended by the errata); an attribute without a
value is reported without one; values are cut to DeviceDataCtrlr ValueSize and ReportingValueSize.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from returns.result import Failure

from chargecore.pure.device_model.addressing import component_json, selects, variable_json
from chargecore.pure.device_model.catalogue import DeviceModel, VariableDefinition, VariableKey
from chargecore.pure.device_model.model import get_int, reported_value_size
from chargecore.pure.effects import Effects
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.message_split import oversize, split
from chargecore.pure.ocppj.timestamps import ocpp_time, with_live_clock
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

Selection = tuple[tuple[VariableDefinition, tuple[str, ...]], ...]
"""The variables a report holds, each with the attribute types it reports, in report order."""


# --- what each report base holds ----------------------------------------------------------------------------


def _full_inventory(model: DeviceModel) -> Selection:
    return tuple((definition, tuple(definition.attributes)) for definition in model.definitions.values())


def _configuration_inventory(model: DeviceModel) -> Selection:
    selection = []
    for definition in model.definitions.values():
        settable = tuple(name for name, spec in definition.attributes.items() if spec.mutability != "ReadOnly")
        if settable:
            selection.append((definition, settable))
    return tuple(selection)


_TIERS = frozenset({"ChargingStation", "EVSE", "Connector"})
_CONDITIONS = frozenset({"Problem", "Tripped", "Overload", "Fallback"})


def _summary_inventory(model: DeviceModel) -> Selection:
    def in_summary(key: VariableKey) -> bool:
        if key.variable == "AvailabilityState":
            return key.component in _TIERS
        return key.variable in _CONDITIONS and model.values.get((key, "Actual")) == "true"

    return tuple(
        (definition, tuple(definition.attributes)) for key, definition in model.definitions.items() if in_summary(key)
    )


REPORT_BASES: Mapping[str, Callable[[DeviceModel], Selection]] = MappingProxyType(
    {
        "ConfigurationInventory": _configuration_inventory,
        "FullInventory": _full_inventory,
        "SummaryInventory": _summary_inventory,
    }
)


def supported_report_bases(station: Station) -> frozenset[str]:
    """ConfigurationInventory and FullInventory always (errata 2023-12 to Part 2 page 10); SummaryInventory
    unless the station was built without it."""
    if station.identity.supports_summary_inventory:
        return frozenset(REPORT_BASES)
    return frozenset(REPORT_BASES) - {"SummaryInventory"}


# --- GetReport filters (B08) ----------------------------------------------------------------------------------

ComponentId = tuple[str, str | None, int | None, int | None]
"""(name, instance, evse id, connector id): one component of the station."""

_CRITERION_WITHOUT_VARIABLE: Mapping[str, bool] = MappingProxyType(
    {"Active": True, "Available": True, "Enabled": True, "Problem": False}
)
"""Whether a component without the criterion's variable meets it (B08.FR.07-10)."""


def _component_of(key: VariableKey) -> ComponentId:
    return key.component, key.component_instance, key.evse_id, key.connector_id


def _meeting_criteria(model: DeviceModel, criteria: Sequence[str]) -> frozenset[ComponentId]:
    """Components that meet at least one criterion: the variable of that name (any instance) is true, or, for
    Active, Available and Enabled, the component has no such variable."""
    found: dict[ComponentId, dict[str, bool]] = {}
    for key in model.definitions:
        flags = found.setdefault(_component_of(key), {})
        if key.variable in _CRITERION_WITHOUT_VARIABLE:
            flags[key.variable] = flags.get(key.variable, False) or model.values.get((key, "Actual")) == "true"
    return frozenset(
        component
        for component, flags in found.items()
        if any(flags.get(criterion, _CRITERION_WITHOUT_VARIABLE[criterion]) for criterion in criteria)
    )


def _by_component_name(keys: Iterable[VariableKey]) -> dict[str, list[VariableKey]]:
    grouped: dict[str, list[VariableKey]] = {}
    for key in keys:
        grouped.setdefault(key.component.casefold(), []).append(key)
    return grouped


def custom_selection(
    model: DeviceModel, component_variables: Sequence[Mapping[str, Any]], criteria: Sequence[str]
) -> Selection:
    """The variables a GetReport asks for, every attribute of each; both filters apply when both are given."""
    chosen: set[VariableKey] | None = None
    if component_variables:
        by_name = _by_component_name(model.definitions)
        chosen = {
            key
            for entry in component_variables
            for key in by_name.get(entry["component"]["name"].casefold(), ())
            if selects(entry, key)
        }
    components = _meeting_criteria(model, criteria) if criteria else None
    return tuple(
        (definition, tuple(definition.attributes))
        for key, definition in model.definitions.items()
        if (chosen is None or key in chosen) and (components is None or _component_of(key) in components)
    )


# --- ReportData ------------------------------------------------------------------------------------------------


def _json_number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _characteristics(definition: VariableDefinition) -> dict[str, Any]:
    characteristics: dict[str, Any] = {"dataType": definition.data_type}
    if definition.unit is not None:
        characteristics["unit"] = definition.unit
    if definition.min_limit is not None:
        characteristics["minLimit"] = _json_number(definition.min_limit)
    if definition.max_limit is not None:
        characteristics["maxLimit"] = _json_number(definition.max_limit)
    if definition.values_list is not None:
        characteristics["valuesList"] = ",".join(definition.values_list)
    characteristics["supportsMonitoring"] = definition.supports_monitoring
    return characteristics


def _attribute(model: DeviceModel, definition: VariableDefinition, attribute: str, value_size: int) -> dict[str, Any]:
    spec = definition.attributes[attribute]
    reported: dict[str, Any] = {"type": attribute}
    value = model.values.get((definition.key, attribute))
    if value is not None and spec.mutability != "WriteOnly":
        reported["value"] = value[:value_size]
    reported["mutability"] = spec.mutability
    reported["persistent"] = spec.persistent
    return reported


def report_data(
    model: DeviceModel,
    definition: VariableDefinition,
    attributes: Sequence[str],
    value_size: int,
) -> dict[str, Any]:
    """One ReportDataType: the component, the variable, the chosen attributes and the characteristics."""
    return {
        "component": component_json(definition.key),
        "variable": variable_json(definition.key),
        "variableAttribute": [_attribute(model, definition, name, value_size) for name in attributes],
        "variableCharacteristics": _characteristics(definition),
    }


def report_limits(model: DeviceModel) -> tuple[int, int]:
    """DeviceDataCtrlr ItemsPerMessage/BytesPerMessage[GetReport] (required, at least 1): the most items and bytes
    of a GetReport the station takes, and of every message of a report it sends (NotifyReport,
    NotifyMonitoringReport, NotifyEvent): OCPP gives the station no limit of its own for what it sends, so the
    limits the CSMS knows apply."""
    return (
        get_int(model, "DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
        get_int(model, "DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
    )


# --- sending ---------------------------------------------------------------------------------------------------


def _notify_payloads(
    station: Station, request_id: int, items: Sequence[dict[str, Any]], now: datetime
) -> tuple[dict[str, Any], ...] | str:
    """The NotifyReport payloads carrying `items`, or why they cannot be split within the limits."""
    generated_at = ocpp_time(station, now)

    def payload_of(chunk: Sequence[Any], seq_no: int, tbc: bool) -> dict[str, Any]:
        return {
            "requestId": request_id,
            "generatedAt": generated_at,
            "seqNo": seq_no,
            "tbc": tbc,
            "reportData": list(chunk),
        }

    split_up = split("NotifyReport", items, payload_of, *report_limits(station.device_model))
    return split_up.failure() if isinstance(split_up, Failure) else split_up.unwrap()


def _report(station: Station, request_id: int, selection: Selection, now: datetime) -> Handled:
    """Accept and queue the report, or answer EmptyResultSet / Rejected (an item too large to send)."""
    if not selection:
        return station, Reply({"status": "EmptyResultSet"}), ()
    model = with_live_clock(station, now)
    value_size = reported_value_size(model)
    items = [report_data(model, definition, attributes, value_size) for definition, attributes in selection]
    payloads = _notify_payloads(station, request_id, items, now)
    if isinstance(payloads, str):
        return station, refusal("Rejected", "TooLargeElement", payloads), ()
    session = station.rpc
    effects: Effects = ()
    for payload in payloads:
        session, refused = rpc.enqueue(session, "NotifyReport", payload, triggered=True)
        effects += refused
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects


def handle_get_base_report(station: Station, call: Call, now: datetime) -> Handled:
    """B07: NotSupported for a report base the station does not offer (B07.FR.02), else the report."""
    base = call.payload["reportBase"]
    if base not in supported_report_bases(station):
        return station, refusal("NotSupported", "UnsupportedParam", f"{base} is not supported"), ()
    return _report(station, call.payload["requestId"], REPORT_BASES[base](station.device_model), now)


def handle_get_report(station: Station, call: Call, now: datetime) -> Handled:
    """B08: a request larger than ItemsPerMessage/BytesPerMessage[GetReport] allows is a CALLERROR
    (B08.FR.17, B08.FR.18); otherwise the filtered report."""
    model = station.device_model
    wanted = call.payload.get("componentVariable", [])
    refused = oversize(call, "GetReport", len(wanted), *report_limits(model))
    if refused is not None:
        return station, refused, ()
    selection = custom_selection(model, wanted, call.payload.get("componentCriteria", []))
    return _report(station, call.payload["requestId"], selection, now)
