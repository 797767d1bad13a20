"""Block B, the device model over OCPP: SetVariables (B05) and GetVariables (B06), and `apply`, the one way a
changed value becomes the station's, whoever changed it (the CSMS, or the station through `ChangeVariable`).

Each request item is answered on its own (B05.FR.01-03, B06.FR.01-03): the component is matched by name,
instance, EVSE id and connector id, the variable by name and instance (B06.FR.14/15), names and instances in
any case (ComponentType and VariableType call them case insensitive; `device_model.resolve_key`), and the
result echoes them as the request wrote them (B05.FR.02, B06.FR.02); the attribute type defaults to Actual
(B05.FR.12, B06.FR.11). Values are checked by the device model (`check_value`, the rules of `set_value`). A
request with more items than DeviceDataCtrlr.ItemsPerMessage[<action>] is answered with CALLERROR
OccurrenceConstraintViolation, one longer than BytesPerMessage[<action>] (measured as the compact OCPP-J frame)
with FormatViolation (B06.FR.16, B06.FR.17; applied to SetVariables alike).

A change takes effect at once: the value is what every block reads next (OfflineThreshold, MessageTimeout,
RetryBackOff*), HeartbeatInterval re-arms the heartbeat timer, and a new BasicAuthPassword makes the station
reconnect with it right after the reply (A01). Variables marked rebootRequired answer RebootRequired.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

from returns.result import Failure, Result, Success

from chargecore.pure.blocks.availability import availability
from chargecore.pure.blocks.provisioning import dialling, network_profiles
from chargecore.pure.device_model.addressing import key_from_json, resolve_key, same_name
from chargecore.pure.device_model.catalogue import DeviceModel, DeviceModelError, VariableDefinition, VariableKey
from chargecore.pure.device_model.derived import per_model
from chargecore.pure.device_model.model import (
    check_value,
    component_address,
    get_definition,
    get_value,
    has_component,
    persist_entries,
    reported_value_size,
    set_value,
    set_values,
)
from chargecore.pure.effects import Disconnect, Effects, Log, Notify, Persist, VariableChanged
from chargecore.pure.inputs import ChangeVariable, VariableReported
from chargecore.pure.ocppj import connection
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.ocppj.message_split import oversize
from chargecore.pure.ocppj.timestamps import DATE_TIME, with_live_clock
from chargecore.pure.outcome import Handled, Reply, status_info
from chargecore.pure.state import Station

HEARTBEAT_INTERVAL = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
BASIC_AUTH_PASSWORD = VariableKey("SecurityCtrlr", "BasicAuthPassword")

Source = Literal["CSMS", "station"]
Changed = tuple[VariableKey, str]
"""(key, attribute) of a value that now differs from before."""


# --- limits (DeviceDataCtrlr) -----------------------------------------------------------------------------


def _device_data(name: str, instance: str | None = None) -> VariableKey:
    return VariableKey("DeviceDataCtrlr", name, variable_instance=instance)


_ITEMS = {action: _device_data("ItemsPerMessage", action) for action in ("GetVariables", "SetVariables")}
_BYTES = {action: _device_data("BytesPerMessage", action) for action in ("GetVariables", "SetVariables")}
_CONFIGURATION_SIZES = (_device_data("ValueSize"), _device_data("ConfigurationValueSize"))


def _device_data_limit(model: DeviceModel, *keys: VariableKey) -> int | None:
    """The smallest of these DeviceDataCtrlr integer variables that have a value; None when none has."""
    present = [int(value) for value in (get_value(model, key) for key in keys) if value is not None]
    return min(present) if present else None


@per_model
def _message_limits(model: DeviceModel, action: str) -> tuple[int | None, int | None]:
    """ItemsPerMessage and BytesPerMessage of this action: read once per model."""
    return _device_data_limit(model, _ITEMS[action]), _device_data_limit(model, _BYTES[action])


def _refusal(model: DeviceModel, call: Call, items: Sequence[Any]) -> CallError | None:
    """B06.FR.16 / B06.FR.17 (and the same for SetVariables): too many items or too many bytes."""
    most_items, most_bytes = _message_limits(model, call.action)
    return oversize(call, call.action, len(items), most_items, most_bytes)


# --- addressing one item --------------------------------------------------------------------------------------


def _address(model: DeviceModel, item: Mapping[str, Any]) -> tuple[VariableKey, str]:
    """The station's key of the item's variable (names in any case) and the attribute type it asks for."""
    return resolve_key(model, key_from_json(item["component"], item["variable"])), item.get("attributeType", "Actual")


_Refused = tuple[str, str, str]
"""(attributeStatus, reasonCode, additionalInfo) of an item that is not Accepted."""


def _locate(model: DeviceModel, key: VariableKey, attribute: str) -> VariableDefinition | _Refused:
    """The definition of an addressed attribute, or why the item cannot be served (B05/B06.FR.06-08)."""
    definition = get_definition(model, key)
    if definition is None:
        if has_component(model, component_address(key)):
            return "UnknownVariable", "NotFound", f"the component has no variable {key.variable}"
        return "UnknownComponent", "NotFound", f"the station has no component {key.component} there"
    if attribute not in definition.attributes:
        return "NotSupportedAttributeType", "UnsupportedParam", f"the variable has no {attribute} attribute"
    return definition


def _result(item: Mapping[str, Any], attribute: str, status: str, **extra: Any) -> dict[str, Any]:
    """The result for one item: component and variable echoed as given (B05.FR.02, B06.FR.02)."""
    return {
        "attributeStatus": status,
        "attributeType": attribute,
        "component": item["component"],
        "variable": item["variable"],
        **extra,
    }


def _status_info(reason: str, info: str) -> dict[str, Any]:
    return {"attributeStatusInfo": status_info(reason, info)}


# --- GetVariables (B06) ------------------------------------------------------------------------------------


def _get_one(model: DeviceModel, item: Mapping[str, Any], value_size: int) -> dict[str, Any]:
    key, attribute = _address(model, item)
    found = _locate(model, key, attribute)
    if isinstance(found, tuple):
        status, reason, info = found
        return _result(item, attribute, status, **_status_info(reason, info))
    if found.attributes[attribute].mutability == "WriteOnly":  # B06.FR.09
        return _result(item, attribute, "Rejected", **_status_info("WriteOnly", f"{attribute} is write-only"))
    value = get_value(model, key, attribute) or ""  # B06.FR.13: a supported attribute without a value is ""
    return _result(item, attribute, "Accepted", attributeValue=value[:value_size])  # B06.FR.04, B06.FR.10


def _reads_the_clock(items: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a request names ClockCtrlr: only then is the live clock worth putting into the model (~10 us)."""
    return any(same_name(item["component"]["name"], DATE_TIME.component) for item in items)


def handle_get_variables(station: Station, call: Call, now: datetime) -> Handled:
    items = call.payload["getVariableData"]
    model = with_live_clock(station, now) if _reads_the_clock(items) else station.device_model
    refused = _refusal(model, call, items)
    if refused is not None:
        return station, refused, ()
    value_size = reported_value_size(model)
    return station, Reply({"getVariableResult": [_get_one(model, item, value_size) for item in items]}), ()


# --- SetVariables (B05) ------------------------------------------------------------------------------------


def _station_refusal(station: Station, key: VariableKey, attribute: str, value: str, now: datetime) -> str | None:
    """Why a value the device model's rules allow cannot be the station's (A05: the credentials a priority list
    needs), or None."""
    if key != network_profiles.PRIORITY or attribute != "Actual":
        return None
    return network_profiles.priority_refusal(station, value, network_profiles.credentials(station, now))


def _set_one(
    station: Station, item: Mapping[str, Any], value_size: int | None, now: datetime
) -> tuple[dict[str, Any], tuple[VariableKey, str, str] | None]:
    """The item's result, and the assignment to make when it is accepted."""
    model = station.device_model
    key, attribute = _address(model, item)
    found = _locate(model, key, attribute)
    if isinstance(found, tuple):
        status, reason, info = found
        return _result(item, attribute, status, **_status_info(reason, info)), None
    value: str = item["attributeValue"]
    if value_size is not None and len(value) > value_size:
        info = f"{len(value)} characters, more than ConfigurationValueSize {value_size}"
        return _result(item, attribute, "Rejected", **_status_info("TooLargeElement", info)), None
    error = check_value(model, key, value, attribute)  # B05.FR.07-09: format, limits, ReadOnly
    if error is not None:
        return _result(item, attribute, "Rejected", **_status_info(error.reason_code, error.problem)), None
    refusal = _station_refusal(station, key, attribute, value, now)
    if refusal is not None:
        return _result(item, attribute, "Rejected", **_status_info("InvalidValue", refusal)), None
    status = "RebootRequired" if found.reboot_required else "Accepted"  # B05.FR.10
    return _result(item, attribute, status), (key, attribute, value)


def handle_set_variables(station: Station, call: Call, now: datetime) -> Handled:
    """Every accepted item is applied, in request order (a later item for the same place wins); the effects
    of the changes follow the reply."""
    model = station.device_model
    items = call.payload["setVariableData"]
    refused = _refusal(model, call, items)
    if refused is not None:
        return station, refused, ()
    value_size = _device_data_limit(model, *_CONFIGURATION_SIZES)
    results: list[dict[str, Any]] = []
    assignments: list[tuple[VariableKey, str, str]] = []
    current: dict[Changed, str | None] = {}
    changed: list[Changed] = []
    for item in items:
        result, assignment = _set_one(station, item, value_size, now)
        results.append(result)
        if assignment is not None:
            key, attribute, value = assignment
            place = (key, attribute)
            if current.get(place, get_value(model, key, attribute)) != value:
                changed.append(place)
            current[place] = value
            assignments.append(assignment)
    updated = set_values(model, assignments).unwrap() if assignments else model  # each one was checked above
    applied, effects = apply(station, updated, changed, now, "CSMS")
    return applied, Reply({"setVariableResult": results}), effects


# --- ChangeVariable (the station's own change) --------------------------------------------------------------


def change_variable(station: Station, event: ChangeVariable) -> tuple[Station, Effects]:
    """The application sets a value; its mutability is respected as for the CSMS."""
    return _station_change(station, event, event.attribute, respect_mutability=True)


def report_variable(station: Station, event: VariableReported) -> tuple[Station, Effects]:
    """The hardware reports a reading (a ReadOnly Actual value, e.g. EVSE Power): monitors see it (N07)."""
    return _station_change(station, event, "Actual", respect_mutability=False)


def _station_change(
    station: Station, event: ChangeVariable | VariableReported, attribute: str, *, respect_mutability: bool
) -> tuple[Station, Effects]:
    named = VariableKey(
        event.component,
        event.variable,
        event.evse_id,
        event.connector_id,
        event.component_instance,
        event.variable_instance,
    )
    key = resolve_key(station.device_model, named)
    changed = set_station_value(station, key, event.value, attribute, event.now, respect_mutability=respect_mutability)
    if isinstance(changed, Failure):
        return station, (Log("warning", f"variable not changed: {changed.failure()}"),)
    return changed.unwrap()


def set_station_value(
    station: Station, key: VariableKey, value: str, attribute: str, now: datetime, *, respect_mutability: bool
) -> Result[tuple[Station, Effects], DeviceModelError]:
    """One value the station itself sets, applied like a SetVariables item (`apply`), or why it was refused."""
    updated = set_value(station.device_model, key, value, attribute, respect_mutability=respect_mutability)
    if isinstance(updated, Failure):
        return Failure(updated.failure())
    differs = get_value(station.device_model, key, attribute) != value
    return Success(apply(station, updated.unwrap(), [(key, attribute)] if differs else [], now, "station"))


# --- taking effect ------------------------------------------------------------------------------------------


def _rearm_heartbeat(station: Station, now: datetime) -> tuple[Station, Effects]:
    """G02: the next Heartbeat comes one new interval from now; no timer runs before the boot is accepted."""
    if station.registration.heartbeat_at is None:
        return station, ()
    return availability.arm_heartbeat(station, now), ()


def _reconnect(station: Station, now: datetime) -> tuple[Station, Effects]:
    """A01: drop the connection and dial again at once, with the new password (`dialling.connect_effect`
    reads it). `step` closes the RPC session of a dropped connection; a connection not up yet needs nothing,
    its next attempt uses the new password anyway."""
    dropped = dialling.on_lost(station, now, 0.0) if connection.is_up(station) else None
    if dropped is None:
        return station, ()
    return replace(dropped, connection=replace(dropped.connection, retry_at=now)), (Disconnect(),)


TakeEffect = Callable[[Station, datetime], tuple[Station, Effects]]
TAKES_EFFECT: Mapping[VariableKey, TakeEffect] = MappingProxyType(
    {HEARTBEAT_INTERVAL: _rearm_heartbeat, BASIC_AUTH_PASSWORD: _reconnect}
)
"""What a changed value does at once beyond being read from the model next time (Actual values only)."""


def apply(
    station: Station, model: DeviceModel, changed: Iterable[Changed], now: datetime, source: Source
) -> tuple[Station, Effects]:
    """Make `model` the station's: persist its persistent changes, tell the application of each change, and let the
    changes take effect (in that order, so a reconnect comes last). The monitors on them (N07) judge them at the
    end of the step, with every other change (monitor_events.on_model_changed)."""
    changed = tuple(changed)
    entries = persist_entries(model, changed)
    station = replace(station, device_model=model)
    effects: Effects = (Persist(entries),) if entries else ()
    for key, attribute in changed:
        value = get_value(model, key, attribute) or ""
        effects += (Notify(VariableChanged(key, attribute, value, source)),)
    for key, attribute in dict.fromkeys(changed):
        take_effect = TAKES_EFFECT.get(key) if attribute == "Actual" else None
        if take_effect is not None:
            station, more = take_effect(station, now)
            effects += more
    return station, effects
