"""OCPP JSON addressing: a component and variable as the CSMS names them, resolved to this station's variables and
written back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chargecore.pure.device_model.catalogue import (
    ComponentAddress,
    DeviceModel,
    VariableKey,
)
from chargecore.pure.device_model.model import component_address


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


def selects(selector: Mapping[str, Any], key: VariableKey) -> bool:
    """Whether a componentVariable selector (GetReport, GetMonitoringReport) names `key`: a missing component
    instance, evse, connectorId, variable or variable instance matches every one (B08.FR.22-25, N02.FR.15-17,
    errata 2023-06); names and instances in any case."""
    component = selector["component"]
    if not same_name(key.component, component["name"]):
        return False
    if "instance" in component and not same_name(key.component_instance, component["instance"]):
        return False
    evse = component.get("evse")
    if evse is not None and (
        key.evse_id != evse["id"] or ("connectorId" in evse and key.connector_id != evse["connectorId"])
    ):
        return False
    variable = selector.get("variable")
    if variable is None:
        return True
    if not same_name(key.variable, variable["name"]):
        return False
    return "instance" not in variable or same_name(key.variable_instance, variable["instance"])


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
    component = key._replace(component=name, component_instance=instance)
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
