"""Block G, availability: connector status (G01), Heartbeat (G02), and the offline reporting rules of B04.

A connector's OCPP status is derived from its physical state by one function, and the CSMS is told whenever
the derived status differs from what it was last told, so no transient status is ever reported.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chargecore.pure import rpc
from chargecore.pure.device_model import get_int
from chargecore.pure.effects import ConnectorStatusChanged, Effect, Effects, Log, Notify
from chargecore.pure.state import CONNECTOR_LIFECYCLE, Connector, OutboundCall, RpcSession, Station
from chargecore.pure.timestamps import ocpp_time, offset_from

_STATUS_BY_PHASE = {
    "empty": "Available",
    "plugged": "Occupied",
    "faulted": "Faulted",
    "plugged_faulted": "Faulted",
}


def connector_status(connector: Connector) -> str:
    """A started transaction keeps an empty connector Occupied (E01, F02 remote start before the cable)."""
    status = _STATUS_BY_PHASE[connector.phase]
    return "Occupied" if status == "Available" and connector.in_transaction else status


def heartbeat_interval(station: Station) -> timedelta:
    return timedelta(seconds=max(1, get_int(station.device_model, "OCPPCommCtrlr", "HeartbeatInterval", default=60)))


def find_connectors(station: Station, evse_id: int, connector_id: int | None) -> tuple[Connector, ...]:
    return tuple(
        c
        for c in station.connectors
        if c.evse_id == evse_id and (connector_id is None or c.connector_id == connector_id)
    )


def on_connector_changed(
    station: Station, evse_id: int, connector_id: int | None, change: str
) -> tuple[Station, Effects]:
    """Apply a hardware change; an impossible one (plug a plugged connector) leaves the state unchanged."""
    targets = find_connectors(station, evse_id, connector_id)
    if not targets:
        return station, (Log("warning", f"no connector {evse_id}/{connector_id}: {change} ignored"),)
    moved: dict[tuple[int, int], Connector] = {}
    effects: list[Effect] = []
    for connector in targets:
        phase = CONNECTOR_LIFECYCLE.next_state(connector.phase, change)
        if phase is None:
            effects.append(
                Log(
                    "warning",
                    f"connector {connector.evse_id}/{connector.connector_id}: {change} while {connector.phase} ignored",
                )
            )
            continue
        after = replace(connector, phase=phase)
        moved[(connector.evse_id, connector.connector_id)] = after
        if connector_status(after) != connector_status(connector):
            effects.append(Notify(ConnectorStatusChanged(after.evse_id, after.connector_id, connector_status(after))))
    connectors = tuple(moved.get((c.evse_id, c.connector_id), c) for c in station.connectors)
    return replace(station, connectors=connectors), tuple(effects)


def status_payload(station: Station, connector: Connector, now: datetime) -> dict[str, Any]:
    return {
        "timestamp": ocpp_time(station, now),
        "connectorStatus": connector_status(connector),
        "evseId": connector.evse_id,
        "connectorId": connector.connector_id,
    }


def report_statuses(
    station: Station,
    now: datetime,
    *,
    everything: bool = False,
    only: tuple[Connector, ...] | None = None,
    triggered: bool = False,
) -> tuple[Station, Effects]:
    """Queue a StatusNotification for each connector whose status the CSMS does not know yet (G01.FR.01),
    or for every connector (B01 after Accepted, B04.FR.01, F06 trigger)."""
    chosen = station.connectors if only is None else only
    if not everything and all(c.reported == connector_status(c) for c in chosen):
        return station, ()  # the common case on every step: nothing new to tell
    keys = {(c.evse_id, c.connector_id) for c in chosen}
    session: RpcSession = station.rpc
    effects: Effects = ()
    connectors = []
    for connector in station.connectors:
        status = connector_status(connector)
        due = (connector.evse_id, connector.connector_id) in keys and (everything or connector.reported != status)
        if due:
            session, more = rpc.enqueue(
                session, "StatusNotification", status_payload(station, connector, now), triggered=triggered
            )
            effects += more
            connector = replace(connector, reported=status)
        connectors.append(connector)
    return replace(station, rpc=session, connectors=tuple(connectors)), effects


def forget_reported(station: Station, lost: tuple[OutboundCall, ...]) -> Station:
    """A StatusNotification that never got through leaves the CSMS not knowing that connector's status."""
    unknown = {
        (call.payload["evseId"], call.payload["connectorId"]) for call in lost if call.action == "StatusNotification"
    }
    connectors = tuple(
        replace(c, reported=None) if (c.evse_id, c.connector_id) in unknown else c for c in station.connectors
    )
    return replace(station, connectors=connectors)


def on_reconnected(station: Station, now: datetime) -> tuple[Station, Effects]:
    """B04.FR.01: offline longer than OfflineThreshold, report every connector; otherwise (B04.FR.02) only
    those whose status changed, which `report_statuses` finds by itself."""
    offline_since = station.connection.offline_since
    threshold = timedelta(seconds=get_int(station.device_model, "OCPPCommCtrlr", "OfflineThreshold", default=60))
    everything = offline_since is not None and now - offline_since > threshold
    return report_statuses(station, now, everything=everything)


def arm_heartbeat(station: Station, now: datetime) -> Station:
    registration = replace(station.registration, heartbeat_at=now + heartbeat_interval(station))
    return replace(station, registration=registration)


def send_heartbeat(station: Station, now: datetime, *, triggered: bool = False) -> tuple[Station, Effects]:
    session, effects = rpc.enqueue(station.rpc, "Heartbeat", {}, triggered=triggered)
    return arm_heartbeat(replace(station, rpc=session), now), effects


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """G02.FR.01: a Heartbeat every HeartbeatInterval while connected and Accepted."""
    due = station.registration.heartbeat_at
    if due is None or now < due:
        return station, ()
    if station.connection.phase != "up" or station.registration.status != "Accepted":
        return arm_heartbeat(station, now), ()
    return send_heartbeat(station, now)


def on_heartbeat_response(station: Station, response: dict[str, Any], now: datetime) -> Station:
    """G02.FR.02: the station adjusts its clock to the CSMS's currentTime."""
    offset = offset_from(response["currentTime"], now, station.registration.clock_offset)
    return replace(station, registration=replace(station.registration, clock_offset=offset))
