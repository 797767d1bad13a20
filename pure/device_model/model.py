"""The device model (OCPP 2.0.1 Part 2): the station's components, variables and their attribute values.

The catalogue (`specs/device_model.json`, schema `specs/device_model.schema.json`) is static package data,
read once at import like code. `build_device_model` turns it into definitions and values for a concrete
station; every later change goes through `set_value`, which checks the value against the variable's
characteristics (value_rules.py), so a `DeviceModel` only ever holds values its catalogue allows.


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

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import jsonschema_rs
from returns.result import Failure, Result, Success

from chargecore.pure.device_model.catalogue import (
    CATALOGUE,
    AttributeDefinition,
    ComponentAddress,
    DeviceModel,
    DeviceModelError,
    VariableDefinition,
    VariableKey,
    load_spec,
)
from chargecore.pure.device_model.derived import per_model
from chargecore.pure.device_model.value_rules import number_text, value_problem

_PERSIST_NAMESPACE = "device_model/"


def _plain(value: Any) -> Any:
    """The JSON shape of a (possibly frozen) catalogue, which is what the schema validator accepts."""
    if isinstance(value, Mapping):
        return {name: _plain(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


_CATALOGUE_SCHEMA = jsonschema_rs.validator_for(load_spec("device_model.schema.json"))


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
        problem = value_problem(definition, attribute, value, respect_mutability)
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
    problem = value_problem(definition, attribute, value, respect_mutability=True)
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


@per_model
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
                problem = None if spec.default is None else value_problem(definition, attribute, spec.default, False)
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
                key = template.key._replace(evse_id=evse, connector_id=connector)
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
        return number_text(raw)
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
        refusal = value_problem(model.definitions[key], attribute, value, respect_mutability=False)
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


@functools.lru_cache(maxsize=32)
def _shared_instances(evse_connectors: tuple[int, ...]) -> Result[DeviceModel, DeviceModelError]:
    """The built-in catalogue's instances, built once per station shape and shared: the model is immutable, so a
    fleet of thousands of stations holds one copy and skips the ~30 ms check and build per station."""
    return _instantiate(CATALOGUE, evse_connectors)


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
    instances = (
        _shared_instances(evse_connectors) if catalogue is CATALOGUE else _instantiate(catalogue, evse_connectors)
    )
    return (
        instances.bind(lambda model: _apply_config(model, config or {}))
        .bind(lambda model: _apply_persisted(model, persisted or {}))
        .bind(_check_required)
    )
