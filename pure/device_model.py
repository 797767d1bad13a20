"""The device model (OCPP 2.0.1 Part 2): the station's components, variables and their attribute values.

The catalogue (`specs/device_model.json`, schema `specs/device_model.schema.json`) is static package data,
read once at import like code. `build_device_model` turns it into definitions and values for a concrete
station; every later change goes through `set_value`, which checks the value against the variable's
characteristics, so a `DeviceModel` only ever holds values its catalogue allows.

Validation rules (per dataType, see `_RULES`): integer and decimal are plain decimal numbers, boolean is
"true"/"false", dateTime is ISO 8601 with a time part, OptionList is one entry of valuesList, MemberList and
SequenceList are comma-separated entries of valuesList without repeats ("" is the empty list). minLimit and
maxLimit bound the number for integer/decimal and the text length for string and the list types (OCPP defines
maxLimit that way; minLimit is read the same way, e.g. BasicAuthPassword's 16 characters).

Station config file (`config` of `build_device_model`), one JSON object of sections::

    {
      "OCPPCommCtrlr": {"HeartbeatInterval": 300, "MessageTimeout[Default]": 30},
      "SecurityCtrlr": {"Identity": "CP001", "BasicAuthPassword": "0123456789abcdef"},
      "EVSE": {"Power": {"Actual": 0, "MaxSet": 11000}},
      "EVSE[2]": {"SupplyPhases": 1},
      "Connector": {"ConnectorType": "cType2"},
      "Connector[1,2]": {"ConnectorType": "sType2"}
    }

- A section is a component name; for EVSE- and connector-scoped components a bare name applies to every
  instance, `Name[evse]` / `Name[evse,connector]` to one. Bare sections apply first, so indexed ones win.
- A key is a variable name, `Name[instance]` for an instance-qualified variable.
- A value sets the Actual attribute; an object `{"Actual": v, "MaxSet": v, ...}` sets the attributes named.
- Values are JSON strings, numbers (`22000.0` becomes "22000") or booleans ("true"/"false"); a MemberList or
  SequenceList may also take an array of those (joined with ","), no other variable. Config may seed ReadOnly
  values; anything else the catalogue would refuse makes the build fail.

Persist keys (`persist_key`) use the same notation behind a namespace, e.g.
"device_model/OCPPCommCtrlr/HeartbeatInterval/Actual", "device_model/Connector[1,2]/Available/Actual",
"device_model/DeviceDataCtrlr/ItemsPerMessage[GetReport]/Actual". `build_device_model` reads only keys in
that namespace from `persisted`, so the station's other persisted entries may share the same store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from types import MappingProxyType
from typing import Any

import jsonschema_rs
from returns.result import Failure, Result, Success

_PERSIST_NAMESPACE = "device_model/"


@dataclass(frozen=True, slots=True)
class VariableKey:
    component: str
    variable: str
    evse_id: int | None = None
    connector_id: int | None = None
    component_instance: str | None = None
    variable_instance: str | None = None


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    mutability: str
    persistent: bool
    """The station may change this value at run time and must keep it across restarts."""
    default: str | None


@dataclass(frozen=True, slots=True)
class VariableDefinition:
    key: VariableKey
    required: bool
    attributes: Mapping[str, AttributeDefinition]
    data_type: str
    unit: str | None
    min_limit: float | None
    max_limit: float | None
    values_list: tuple[str, ...] | None
    supports_monitoring: bool
    description: str
    reboot_required: bool = False
    """A new value takes effect only after a reboot (SetVariables answers RebootRequired)."""


ComponentAddress = tuple[str, str | None, int | None, int | None]
"""(name, instance, evse id, connector id): how OCPP names one component of this station."""


@dataclass(frozen=True, slots=True)
class DeviceModel:
    definitions: Mapping[VariableKey, VariableDefinition]
    values: Mapping[tuple[VariableKey, str], str]
    """(key, attribute type) -> value; an attribute without a value is absent."""
    components: frozenset[ComponentAddress]
    """Every component the definitions belong to, so telling an unknown component from an unknown variable
    costs one set lookup whatever the catalogue's size."""


@dataclass(frozen=True, slots=True)
class DeviceModelError:
    """Why a value, a config entry or the catalogue was refused."""

    component: str
    variable: str
    problem: str
    reason_code: str = "InvalidValue"
    """The OCPP reason code (Part 2 Appendix 5) a SetVariables result gives for this refusal."""

    def __str__(self) -> str:
        where = f"{self.component}.{self.variable}" if self.variable else self.component
        return f"{where}: {self.problem}"


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({name: _freeze(item) for name, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _plain(value: Any) -> Any:
    """The JSON shape of a (possibly frozen) catalogue, which is what the schema validator accepts."""
    if isinstance(value, Mapping):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def load_spec(name: str) -> Any:
    """A JSON document of the `specs/` package data."""
    return json.loads(resources.files("chargecore.specs").joinpath(name).read_text(encoding="utf-8"))


CATALOGUE: Mapping[str, Any] = _freeze(load_spec("device_model.json"))
_CATALOGUE_SCHEMA = jsonschema_rs.validator_for(load_spec("device_model.schema.json"))


# --- validation, one rule per dataType --------------------------------------------------------------------

_Check = Callable[[str, tuple[str, ...] | None], str | None]
"""(value, valuesList) -> what is wrong with the value, or None; the caller puts the value in front."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ].+")


def _check_integer(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None if _INTEGER.fullmatch(value) else "is not an integer"


def _check_decimal(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None if _DECIMAL.fullmatch(value) else "is not a decimal number"


def _check_boolean(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None if value in ("true", "false") else 'is not "true" or "false"'


def _check_date_time(value: str, values_list: tuple[str, ...] | None) -> str | None:
    problem = "is not an ISO 8601 date and time"
    if not _DATE_TIME.fullmatch(value):
        return problem
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return problem
    return None


def _check_string(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None


def _check_option(value: str, values_list: tuple[str, ...] | None) -> str | None:
    if values_list is None or value in values_list:
        return None
    return f"is not one of {','.join(values_list)}"


def _check_members(value: str, values_list: tuple[str, ...] | None) -> str | None:
    members = value.split(",") if value else []
    for member in members:
        if values_list is not None and member not in values_list:
            return f"has {member!r}, which is not one of {','.join(values_list)}"
    if len(set(members)) != len(members):
        return "repeats a member"
    return None


@dataclass(frozen=True, slots=True)
class _Limits:
    """How minLimit/maxLimit apply: to the number itself or to the length of the text."""

    measure: Callable[[str], float]
    below: str
    above: str
    below_reason: str = "InvalidValue"
    above_reason: str = "InvalidValue"


_NUMBER = _Limits(float, "is below minLimit {}", "is above maxLimit {}", "ValueTooLow", "ValueTooHigh")
_LENGTH = _Limits(len, "is shorter than minLimit {} characters", "is longer than maxLimit {} characters")

_LIST_TYPES = frozenset({"OptionList", "MemberList", "SequenceList"})
"""A value of these types that fails its check is outside valuesList: reason ValueOutOfRange."""

_RULES: Mapping[str, tuple[_Check, _Limits | None]] = MappingProxyType(
    {
        "string": (_check_string, _LENGTH),
        "integer": (_check_integer, _NUMBER),
        "decimal": (_check_decimal, _NUMBER),
        "boolean": (_check_boolean, None),
        "dateTime": (_check_date_time, None),
        "OptionList": (_check_option, _LENGTH),
        "MemberList": (_check_members, _LENGTH),
        "SequenceList": (_check_members, _LENGTH),
    }
)


def _number(value: float) -> str:
    """22000.0 -> "22000", 0.5 -> "0.5": how JSON numbers and limits are written as OCPP values."""
    return str(int(value)) if value.is_integer() else repr(value)


_Problem = tuple[str, str]
"""(what is wrong, OCPP reason code)"""


def _problem(definition: VariableDefinition, attribute: str, value: str, respect_mutability: bool) -> _Problem | None:
    spec = definition.attributes.get(attribute)
    if spec is None:
        return f"has no {attribute} attribute", "UnsupportedParam"
    if respect_mutability and spec.mutability == "ReadOnly":
        return f"{attribute} is read-only", "ReadOnly"
    shown = "the value" if spec.mutability == "WriteOnly" else repr(value)  # never echo a password
    check, limits = _RULES[definition.data_type]
    problem = check(value, definition.values_list)
    reason = "ValueOutOfRange" if definition.data_type in _LIST_TYPES else "InvalidValue"
    if problem is None and limits is not None:
        measured = limits.measure(value)
        if definition.min_limit is not None and measured < definition.min_limit:
            problem, reason = limits.below.format(_number(definition.min_limit)), limits.below_reason
        elif definition.max_limit is not None and measured > definition.max_limit:
            problem, reason = limits.above.format(_number(definition.max_limit)), limits.above_reason
    if problem is None:
        return None
    return (f"{shown} {problem}" if attribute == "Actual" else f"{attribute} {shown} {problem}"), reason


# --- names ------------------------------------------------------------------------------------------------


def _component_label(key: VariableKey) -> str:
    label = key.component if key.component_instance is None else f"{key.component}:{key.component_instance}"
    if key.connector_id is not None:
        return f"{label}[{key.evse_id},{key.connector_id}]"
    if key.evse_id is not None:
        return f"{label}[{key.evse_id}]"
    return label


def _variable_label(key: VariableKey) -> str:
    return key.variable if key.variable_instance is None else f"{key.variable}[{key.variable_instance}]"


def _error(key: VariableKey, problem: str, reason_code: str = "InvalidValue") -> DeviceModelError:
    return DeviceModelError(_component_label(key), _variable_label(key), problem, reason_code)


def persist_key(key: VariableKey, attribute: str) -> str:
    """Stable storage key of one attribute value, e.g. "device_model/EVSE[1]/Power/MaxSet"."""
    return f"{_PERSIST_NAMESPACE}{_component_label(key)}/{_variable_label(key)}/{attribute}"


def persisted_values(persisted: Mapping[str, Any]) -> dict[str, str]:
    """The device model's values among everything the station persisted, for `build_device_model`: the keys of
    `persist_key`, whose values are strings; the other keys belong to other parts of the core."""
    return {
        key: value for key, value in persisted.items() if key.startswith(_PERSIST_NAMESPACE) and isinstance(value, str)
    }


# --- reading and changing values --------------------------------------------------------------------------

_Assignment = tuple[VariableKey, str, str]
"""(key, attribute, value)"""


def _copy(values: Mapping[tuple[VariableKey, str], str]) -> dict[tuple[VariableKey, str], str]:
    """A mutable copy of the value table. `MappingProxyType.copy()` clones the dict's hash table; `dict(...)`
    would hash every key again (a Python-level dataclass hash), which made a set cost ~1 us per variable."""
    return values.copy() if isinstance(values, MappingProxyType) else dict(values)


def _assign(
    model: DeviceModel, assignments: Iterable[_Assignment], *, respect_mutability: bool
) -> Result[DeviceModel, DeviceModelError]:
    values = _copy(model.values)
    for key, attribute, value in assignments:
        definition = model.definitions.get(key)
        if definition is None:
            return Failure(_error(key, "unknown variable"))
        problem = _problem(definition, attribute, value, respect_mutability)
        if problem is not None:
            return Failure(_error(key, *problem))
        values[(key, attribute)] = value
    return Success(replace(model, values=MappingProxyType(values)))


def set_value(
    model: DeviceModel,
    key: VariableKey,
    value: str,
    attribute: str = "Actual",
    *,
    respect_mutability: bool = True,
) -> Result[DeviceModel, DeviceModelError]:
    """Store one attribute value if its variable's characteristics allow it; ReadOnly attributes only with
    respect_mutability=False (the station itself, not the CSMS, is changing them)."""
    return _assign(model, ((key, attribute, value),), respect_mutability=respect_mutability)


def check_value(model: DeviceModel, key: VariableKey, value: str, attribute: str = "Actual") -> DeviceModelError | None:
    """Why `set_value` would refuse this value (None: it would store it), without building a new model."""
    definition = model.definitions.get(key)
    if definition is None:
        return _error(key, "unknown variable")
    problem = _problem(definition, attribute, value, respect_mutability=True)
    return None if problem is None else _error(key, *problem)


def set_values(
    model: DeviceModel, assignments: Iterable[_Assignment], *, respect_mutability: bool = True
) -> Result[DeviceModel, DeviceModelError]:
    """`set_value` for several (key, attribute, value) at once, all or none: one copy of the value table for
    the lot, so a request of many items costs one copy whatever the catalogue's size."""
    return _assign(model, assignments, respect_mutability=respect_mutability)


def persist_entries(model: DeviceModel, changed: Iterable[tuple[VariableKey, str]]) -> tuple[tuple[str, str], ...]:
    """(persist_key, value) of these (key, attribute) places that are persistent, sorted by key; unlike
    `persistent_changes` it looks only at the places named, so its cost does not grow with the catalogue."""
    entries = {}
    for key, attribute in changed:
        definition = model.definitions.get(key)
        spec = None if definition is None else definition.attributes.get(attribute)
        value = model.values.get((key, attribute))
        if spec is not None and spec.persistent and value is not None:
            entries[persist_key(key, attribute)] = value
    return tuple(sorted(entries.items()))


def get_value(model: DeviceModel, key: VariableKey, attribute: str = "Actual") -> str | None:
    """The stored value, WriteOnly ones included: hiding those from the CSMS is the reporting side's job."""
    return model.values.get((key, attribute))


def get_int(model: DeviceModel, component: str, variable: str, instance: str | None = None, default: int = 0) -> int:
    """Actual value of a station-level integer variable; `default` when it has none."""
    value = get_value(model, VariableKey(component, variable, variable_instance=instance))
    return default if value is None else int(value)


REPORTED_VALUE_LIMIT = 2500
"""The schema's maxLength of a value the station reports (GetVariableResult.attributeValue, VariableAttribute.value,
EventData.actualValue)."""


def reported_value_size(model: DeviceModel) -> int:
    """How many characters of a value the station reports: DeviceDataCtrlr ValueSize and ReportingValueSize both
    limit it (Part 2 Appendix 3.1.7), the smallest set one wins, and the schema's limit caps it."""
    sizes = (get_int(model, "DeviceDataCtrlr", name) for name in ("ValueSize", "ReportingValueSize"))
    return min([*(size for size in sizes if size > 0), REPORTED_VALUE_LIMIT])


def get_bool(
    model: DeviceModel, component: str, variable: str, instance: str | None = None, default: bool = False
) -> bool:
    """Actual value of a station-level boolean variable; `default` when it has none."""
    value = get_value(model, VariableKey(component, variable, variable_instance=instance))
    return default if value is None else value == "true"


def component_address(key: VariableKey) -> ComponentAddress:
    return key.component, key.component_instance, key.evse_id, key.connector_id


def has_component(model: DeviceModel, address: ComponentAddress) -> bool:
    """Is this exact component (name, instance, EVSE and connector) part of the station? One set lookup."""
    return address in model.components


def get_definition(model: DeviceModel, key: VariableKey) -> VariableDefinition | None:
    """The variable's definition, or None when the station has no such variable. One dict lookup."""
    return model.definitions.get(key)


def persistent_changes(before: DeviceModel, after: DeviceModel) -> tuple[tuple[str, str], ...]:
    """(persist_key, value) of every persistent attribute whose value differs, sorted by key."""
    changes = []
    for (key, attribute), value in after.values.items():
        definition = after.definitions.get(key)
        spec = None if definition is None else definition.attributes.get(attribute)
        if spec is not None and spec.persistent and before.values.get((key, attribute)) != value:
            changes.append((persist_key(key, attribute), value))
    return tuple(sorted(changes))


# --- building ---------------------------------------------------------------------------------------------


def _instances(scope: str, evse_connectors: tuple[int, ...]) -> tuple[tuple[int | None, int | None], ...]:
    if scope == "evse":
        return tuple((evse, None) for evse in range(1, len(evse_connectors) + 1))
    if scope == "connector":
        return tuple(
            (evse, connector)
            for evse, count in enumerate(evse_connectors, start=1)
            for connector in range(1, count + 1)
        )
    return ((None, None),)


def _limit(raw: float | None) -> float | None:
    return None if raw is None else float(raw)  # JSON gives 16 for 16.0


def _definition(component: str, variable: Mapping[str, Any]) -> VariableDefinition:
    characteristics = variable["characteristics"]
    values_list = characteristics["valuesList"]
    return VariableDefinition(
        key=VariableKey(component, variable["name"], variable_instance=variable["instance"]),
        required=variable["required"],
        attributes=MappingProxyType(
            {
                name: AttributeDefinition(spec["mutability"], spec["persistent"], spec["default"])
                for name, spec in variable["attributes"].items()
            }
        ),
        data_type=characteristics["dataType"],
        unit=characteristics["unit"],
        min_limit=_limit(characteristics["minLimit"]),
        max_limit=_limit(characteristics["maxLimit"]),
        values_list=None if values_list is None else tuple(values_list),
        supports_monitoring=characteristics["supportsMonitoring"],
        description=variable["description"],
        reboot_required=variable.get("rebootRequired", False),
    )


def _catalogue_definitions(
    catalogue: Mapping[str, Any],
) -> Result[tuple[tuple[str, VariableDefinition], ...], DeviceModelError]:
    """(scope, definition) per catalogue variable, keyed without EVSE/connector, each default checked."""
    error = next(iter(_CATALOGUE_SCHEMA.iter_errors(_plain(catalogue))), None)
    if error is not None:
        path = "/".join(str(part) for part in error.instance_path)
        return Failure(DeviceModelError("catalogue", path, error.message))
    seen_components: set[str] = set()
    seen_keys: set[VariableKey] = set()
    result = []
    for component in catalogue["components"]:
        name = component["name"]
        if name in seen_components:
            return Failure(DeviceModelError(name, "", "component listed twice in the catalogue"))
        seen_components.add(name)
        for variable in component["variables"]:
            definition = _definition(name, variable)
            if definition.key in seen_keys:
                return Failure(_error(definition.key, "variable listed twice in the catalogue"))
            seen_keys.add(definition.key)
            for attribute, spec in definition.attributes.items():
                problem = None if spec.default is None else _problem(definition, attribute, spec.default, False)
                if problem is not None:
                    return Failure(_error(definition.key, f"catalogue default {problem[0]}"))
            result.append((component["scope"], definition))
    return Success(tuple(result))


def _instantiate(
    catalogue: Mapping[str, Any], evse_connectors: tuple[int, ...]
) -> Result[DeviceModel, DeviceModelError]:
    """Definitions per EVSE/connector instance, holding the catalogue defaults."""
    for evse, count in enumerate(evse_connectors, start=1):
        if count < 1:
            return Failure(DeviceModelError(f"EVSE[{evse}]", "", f"an EVSE needs at least one connector, not {count}"))

    def build(entries: tuple[tuple[str, VariableDefinition], ...]) -> DeviceModel:
        definitions: dict[VariableKey, VariableDefinition] = {}
        values: dict[tuple[VariableKey, str], str] = {}
        for scope, template in entries:
            for evse, connector in _instances(scope, evse_connectors):
                key = replace(template.key, evse_id=evse, connector_id=connector)
                definitions[key] = replace(template, key=key)
                for attribute, spec in template.attributes.items():
                    if spec.default is not None:
                        values[(key, attribute)] = spec.default
        components = frozenset(component_address(key) for key in definitions)
        return DeviceModel(MappingProxyType(definitions), MappingProxyType(values), components)

    return _catalogue_definitions(catalogue).map(build)


_SECTION = re.compile(r"(?P<name>[^\[\],]+)(?:\[(?P<evse>[0-9]+)(?:,(?P<connector>[0-9]+))?\])?")
_VARIABLE = re.compile(r"(?P<name>[^\[\],]+)(?:\[(?P<instance>[^\[\],]+)\])?")


def _scalar_text(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return _number(raw)
    if isinstance(raw, str):
        return raw
    return None


_JOINED_TYPES = frozenset({"MemberList", "SequenceList"})
"""The dataTypes whose config value may be a JSON array (joined with ",")."""


def _config_text(raw: Any, data_type: str) -> str | None:
    """A config value as an OCPP string; None for what has no such form: null, objects, nested arrays, and an
    array for a variable that is not a list (`[1]` is no HeartbeatInterval)."""
    if isinstance(raw, list | tuple):
        if data_type not in _JOINED_TYPES:
            return None
        texts = [text for text in map(_scalar_text, raw) if text is not None]
        return ",".join(texts) if len(texts) == len(raw) else None
    return _scalar_text(raw)


_Targets = tuple[str, tuple[tuple[int | None, int | None], ...]]
"""A config section's component name and the (evse, connector) instances it addresses."""


def _section_targets(model: DeviceModel, section: str, first_variable: str) -> Result[_Targets, DeviceModelError]:
    match = _SECTION.fullmatch(section)
    if match is None:
        return Failure(DeviceModelError(section, first_variable, "not a component name"))
    name = match["name"]
    instances = tuple(
        dict.fromkeys((key.evse_id, key.connector_id) for key in model.definitions if key.component == name)
    )
    if not instances:
        return Failure(DeviceModelError(section, first_variable, "unknown component"))
    if match["evse"] is None:
        return Success((name, instances))
    wanted = (int(match["evse"]), None if match["connector"] is None else int(match["connector"]))
    if wanted not in instances:
        return Failure(DeviceModelError(section, first_variable, "no such EVSE/connector instance on this station"))
    return Success((name, (wanted,)))


def _entry_assignments(
    model: DeviceModel, targets: _Targets, section: str, entries: Mapping[str, Any]
) -> Result[tuple[_Assignment, ...], DeviceModelError]:
    component, instances = targets
    assignments: list[_Assignment] = []
    for name, raw in entries.items():
        match = _VARIABLE.fullmatch(name)
        if match is None:
            return Failure(DeviceModelError(section, name, "not a variable name"))
        by_attribute = raw if isinstance(raw, Mapping) else {"Actual": raw}
        for evse, connector in instances:
            key = VariableKey(component, match["name"], evse, connector, None, match["instance"])
            if key not in model.definitions:
                return Failure(_error(key, "unknown variable"))
            for attribute, value in by_attribute.items():
                data_type = model.definitions[key].data_type
                text = _config_text(value, data_type)
                if text is None:
                    allowed = "a string, number, boolean" + (" or a list of them" if data_type in _JOINED_TYPES else "")
                    return Failure(_error(key, f"{json.dumps(value)} is not {allowed} (dataType {data_type})"))
                assignments.append((key, attribute, text))
    return Success(tuple(assignments))


def _section_assignments(
    model: DeviceModel, section: str, entries: Any
) -> Result[tuple[_Assignment, ...], DeviceModelError]:
    if not isinstance(entries, Mapping):
        return Failure(DeviceModelError(section, "", "a section must be an object of variables"))
    return _section_targets(model, section, next(iter(entries), "")).bind(
        lambda targets: _entry_assignments(model, targets, section, entries)
    )


def _apply_config(model: DeviceModel, config: Mapping[str, Any]) -> Result[DeviceModel, DeviceModelError]:
    assignments: list[_Assignment] = []
    for section, entries in sorted(config.items(), key=lambda item: "[" in item[0]):  # bare sections first
        match _section_assignments(model, section, entries):
            case Success(found):
                assignments.extend(found)
            case Failure(error):
                return Failure(error)
    return _assign(model, assignments, respect_mutability=False)


def _persisted_assignments(
    model: DeviceModel, persisted: Mapping[str, str]
) -> Result[tuple[tuple[_Assignment, ...], tuple[DeviceModelError, ...]], DeviceModelError]:
    """(the persisted values to apply, those the catalogue refuses). A refused value (one stored before its
    variable got a maxLimit, say) is left out so that the station starts on its config or default value; a key
    with no persistent place in the device model refuses the build."""
    places = {
        persist_key(key, attribute): (key, attribute)
        for key, definition in model.definitions.items()
        for attribute, spec in definition.attributes.items()
        if spec.persistent
    }
    kept: list[_Assignment] = []
    refused: list[DeviceModelError] = []
    for stored, value in persisted.items():
        if not stored.startswith(_PERSIST_NAMESPACE):
            continue  # another part of the station stored it
        place = places.get(stored)
        if place is None:
            parts = stored.split("/")
            component, variable = (parts[1], parts[2]) if len(parts) == 4 else (stored, "")
            problem = f"persisted value {stored!r} has no persistent place in the device model"
            return Failure(DeviceModelError(component, variable, problem))
        key, attribute = place
        refusal = _problem(model.definitions[key], attribute, value, respect_mutability=False)
        if refusal is None:
            kept.append((key, attribute, value))
        else:
            refused.append(_error(key, f"persisted value: {refusal[0]}", refusal[1]))
    return Success((tuple(kept), tuple(refused)))


def _apply_persisted(model: DeviceModel, persisted: Mapping[str, str]) -> Result[DeviceModel, DeviceModelError]:
    return _persisted_assignments(model, persisted).bind(
        lambda found: _assign(model, found[0], respect_mutability=False)
    )


def refused_persisted(model: DeviceModel, persisted: Mapping[str, str]) -> tuple[DeviceModelError, ...]:
    """The persisted values `build_device_model` left out because the catalogue refuses them, for the shell to
    name in its log (the variables kept their config or default value)."""
    return _persisted_assignments(model, persisted).map(lambda found: found[1]).value_or(())


def _check_required(model: DeviceModel) -> Result[DeviceModel, DeviceModelError]:
    for key, definition in model.definitions.items():
        if definition.required and (key, "Actual") not in model.values:
            return Failure(_error(key, "required variable has no Actual value"))
    return Success(model)


def build_device_model(
    evse_connectors: tuple[int, ...],
    config: Mapping[str, Any] | None = None,
    persisted: Mapping[str, str] | None = None,
    catalogue: Mapping[str, Any] = CATALOGUE,
) -> Result[DeviceModel, DeviceModelError]:
    """The device model of a station whose EVSE i+1 has evse_connectors[i] connectors.

    Catalogue defaults, then `config` (the station config file, format in the module docstring), then
    `persisted` (what the station stored through `persist_key`; it wins over config, except a value the catalogue
    refuses, which is left out: see `refused_persisted`). Every required variable must end up with an Actual value.
    """
    return (
        _instantiate(catalogue, evse_connectors)
        .bind(lambda model: _apply_config(model, config or {}))
        .bind(lambda model: _apply_persisted(model, persisted or {}))
        .bind(_check_required)
    )


# --- OCPP JSON addressing ---------------------------------------------------------------------------------


def key_from_json(component: Mapping[str, Any], variable: Mapping[str, Any]) -> VariableKey:
    """The key a ComponentType/VariableType pair names (a missing evse, connectorId or instance is None)."""
    evse = component.get("evse") or {}
    return VariableKey(
        component["name"],
        variable["name"],
        evse.get("id"),
        evse.get("connectorId"),
        component.get("instance"),
        variable.get("instance"),
    )


def same_name(name: str | None, wanted: str | None) -> bool:
    """Component and variable names and instances are case insensitive (ComponentType, VariableType)."""
    return name == wanted or (name is not None and wanted is not None and name.casefold() == wanted.casefold())


def _same_component(address: ComponentAddress, key: VariableKey) -> bool:
    name, instance, evse_id, connector_id = address
    return (evse_id, connector_id) == (key.evse_id, key.connector_id) and (
        same_name(name, key.component) and same_name(instance, key.component_instance)
    )


def resolve_key(model: DeviceModel, key: VariableKey) -> VariableKey:
    """The station's own spelling of the key a request names, whatever case the request wrote the names and
    instances in: the catalogue's key when one matches; else, when the component matches one of the station's,
    `key` with that component's spelling (so an unknown variable of a known component is told apart); else `key`.
    The exact spelling, the common case, costs one lookup; another spelling a scan of the catalogue."""
    if key in model.definitions:
        return key
    address = next((known for known in model.components if _same_component(known, key)), None)
    if address is None:
        return key
    name, instance, _, _ = address
    component = replace(key, component=name, component_instance=instance)
    return next(
        (
            known
            for known in model.definitions
            if component_address(known) == address
            and same_name(known.variable, key.variable)
            and same_name(known.variable_instance, key.variable_instance)
        ),
        component,
    )


def component_json(key: VariableKey) -> dict[str, Any]:
    """The ComponentType of a key, optional fields left out when empty."""
    component: dict[str, Any] = {"name": key.component}
    if key.component_instance is not None:
        component["instance"] = key.component_instance
    if key.evse_id is not None:
        evse: dict[str, Any] = {"id": key.evse_id}
        if key.connector_id is not None:
            evse["connectorId"] = key.connector_id
        component["evse"] = evse
    return component


def variable_json(key: VariableKey) -> dict[str, Any]:
    """The VariableType of a key, its instance left out when empty."""
    variable: dict[str, Any] = {"name": key.variable}
    if key.variable_instance is not None:
        variable["instance"] = key.variable_instance
    return variable
