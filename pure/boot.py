"""Building a station at start: the device model from the catalogue, the station's config and what earlier runs
persisted, then the rest of the state from the persisted values. Written once, here, for the shell, the tests and
every embedder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from returns.result import Result

from chargecore.pure.device_model.model import CATALOGUE, DeviceModelError, build_device_model
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import initial_station


def device_model_values(persisted: Mapping[str, Any]) -> dict[str, str]:
    """Device-model values are persisted as strings; other persisted keys belong to other parts of the core."""
    return {key: value for key, value in persisted.items() if isinstance(value, str)}


def boot_station(
    identity: StationIdentity,
    config: Mapping[str, Any] | None,
    persisted: Mapping[str, Any],
    catalogue: Mapping[str, Any] = CATALOGUE,
) -> Result[Station, DeviceModelError]:
    """The state before PowerUp of the station `identity` names, configured by `config` (the station config file,
    format in device_model/model.py) and restored from `persisted`; a Failure when the config is refused."""
    built = build_device_model(identity.evse_connectors, config, device_model_values(persisted), catalogue)
    return built.map(lambda model: initial_station(identity, model, persisted))
