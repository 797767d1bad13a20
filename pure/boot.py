"""Building a station at start: the device model from the catalogue, the station's config and what earlier runs
persisted, then the rest of the state from the persisted values. Written once, here, for the shell, the tests and
every embedder."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from returns.result import Result

from chargecore.pure.blocks.authorization import token_store
from chargecore.pure.blocks.availability import availability, change_availability
from chargecore.pure.blocks.display import display_messages
from chargecore.pure.blocks.firmware import progress as firmware
from chargecore.pure.blocks.monitoring import monitoring
from chargecore.pure.blocks.provisioning import network_profiles, provisioning
from chargecore.pure.blocks.reservation import reservations
from chargecore.pure.blocks.security import root_migration
from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.blocks.tariff_cost import stored_views
from chargecore.pure.blocks.transactions import recovery
from chargecore.pure.device_model.catalogue import CATALOGUE, DeviceModel, DeviceModelError
from chargecore.pure.device_model.model import build_device_model, persisted_values
from chargecore.pure.ocppj import rpc
from chargecore.pure.state import Connector, Station, StationIdentity
from chargecore.pure.station import EPOCH_KEY


def initial_station(identity: StationIdentity, model: DeviceModel, persisted: Mapping[str, Any]) -> Station:
    """The state before PowerUp, rebuilt from what an earlier run persisted."""
    epoch = int(persisted.get(EPOCH_KEY) or 0) + 1
    connectors = tuple(
        Connector(evse_index + 1, connector_index + 1)
        for evse_index, count in enumerate(identity.evse_connectors)
        for connector_index in range(count)
    )
    station = Station(identity, model, rpc=rpc.new_session("", epoch), connectors=connectors, epoch=epoch)
    station = network_profiles.restore(station, persisted)
    station = root_migration.restore(station, persisted)
    station = reservations.restore(token_store.restore(station, persisted), persisted)
    station, _ = availability.refresh(change_availability.restore(station, persisted))  # told at PowerUp
    station = smart_charging.restore(station, persisted)
    station = monitoring.restore(station, persisted)
    station = display_messages.restore(station, persisted)
    station = recovery.restore(station, dict(persisted))
    station = stored_views.restore(station, persisted)  # after recovery: the views live with the sessions
    station = firmware.restore(station, persisted)
    return provisioning.adopt_boot_reason(station, dict(persisted))


def dropped_records(station: Station, persisted: Mapping[str, Any]) -> tuple[str, ...]:
    """The stored records the restore above could not use, one line each naming its key and why, for the shell to
    log: stored data is never lost silently."""
    return (
        *display_messages.dropped_at_restore(station, persisted),
        *stored_views.dropped_at_restore(station, persisted),
    )


def boot_station(
    identity: StationIdentity,
    config: Mapping[str, Any] | None,
    persisted: Mapping[str, Any],
    catalogue: Mapping[str, Any] = CATALOGUE,
) -> Result[Station, DeviceModelError]:
    """The state before PowerUp of the station `identity` names, configured by `config` (the station config file,
    format in device_model/model.py) and restored from `persisted`; a Failure when the config is refused."""
    built = build_device_model(identity.evse_connectors, config, persisted_values(persisted), catalogue)
    return built.map(lambda model: initial_station(identity, model, persisted))
