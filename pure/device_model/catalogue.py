"""The device-model catalogue (`specs/device_model.json`), static package data read once at import like code, and
the shapes a station's device model is made of."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, NamedTuple


class VariableKey(NamedTuple):
    """A variable's address. A NamedTuple, not a dataclass: keys are built, hashed and compared on every device
    model read (several per inbound frame), and a tuple hashes and compares in C."""

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


def load_spec(name: str) -> Any:
    """A JSON document of the `specs/` package data."""
    return json.loads(resources.files("chargecore.specs").joinpath(name).read_text(encoding="utf-8"))


CATALOGUE: Mapping[str, Any] = _freeze(load_spec("device_model.json"))
