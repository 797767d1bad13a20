"""Block G, ChangeAvailability: the CSMS sets a connector or an EVSE (G03) or the whole station (G04)
Operative or Inoperative.

The command is stored at once and persisted (G03.FR.08, G04.FR.09); what the connectors show follows from it
through `availability.connector_status`, so the StatusNotifications go out after the response. A transaction
running on an affected EVSE keeps that EVSE Operative until it ends: an Inoperative command is then answered
Scheduled (G03.FR.05, G04.FR.06) and takes effect by itself once the transaction is gone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Failure, Result, Success

from chargecore.pure.blocks.availability.availability import STATION, find_connectors
from chargecore.pure.effects import Persist
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

Component = tuple[int, int]
"""(0, 0) the station, (evse, 0) an EVSE, (evse, connector) a connector."""

PERSIST_NAMESPACE = "availability/"
_PERSISTED = re.compile(
    r"availability/(?:ChargingStation|EVSE\[(?P<evse>\d+)\]|Connector\[(?P<at>\d+),(?P<connector>\d+)\])"
)


def persist_key(component: Component) -> str:
    """Where a component's Inoperative setting is stored, named like the device model names it."""
    evse_id, connector_id = component
    if component == STATION:
        return f"{PERSIST_NAMESPACE}ChargingStation"
    if connector_id == 0:
        return f"{PERSIST_NAMESPACE}EVSE[{evse_id}]"
    return f"{PERSIST_NAMESPACE}Connector[{evse_id},{connector_id}]"


def _component(station: Station, evse: Mapping[str, Any] | None) -> Result[Component, str]:
    """The addressed component, or the reason code (Part 2 appendix) when the station has no such thing."""
    if evse is None:
        return Success(STATION)
    evse_id, connector_id = evse["id"], evse.get("connectorId")
    if not find_connectors(station, evse_id, None):
        return Failure("UnknownEvse")
    if connector_id is not None and not find_connectors(station, evse_id, connector_id):
        return Failure("UnknownConnectorId")
    return Success((evse_id, connector_id or 0))


def _held_by_transaction(station: Station, component: Component) -> bool:
    evse_id = component[0]
    return any(evse_id in (0, transaction.evse_id) for transaction in station.running_transactions)


def handle_change_availability(station: Station, call: Call, now: datetime) -> Handled:
    """G03.FR.01-03, G04.FR.02-04: Accepted (also when already so), Scheduled while a transaction holds an EVSE
    that is to become Inoperative, Rejected for an EVSE or connector the station does not have."""
    found = _component(station, call.payload.get("evse"))
    if isinstance(found, Failure):
        return station, refusal("Rejected", found.failure()), ()
    component = found.unwrap()
    inoperative = call.payload["operationalStatus"] == "Inoperative"
    scheduled = inoperative and _held_by_transaction(station, component)
    reply = Reply({"status": "Scheduled" if scheduled else "Accepted"})
    before = station.availability.inoperative
    after = before | {component} if inoperative else before - {component}
    if after == before:
        return station, reply, ()
    changed = replace(station, availability=replace(station.availability, inoperative=after))
    return changed, reply, (Persist(((persist_key(component), "Inoperative" if inoperative else None),)),)


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The Inoperative settings of an earlier run; those of components this station no longer has are ignored."""
    known = {STATION}
    for connector in station.connectors:
        known |= {(connector.evse_id, 0), (connector.evse_id, connector.connector_id)}
    inoperative = set()
    for key, value in persisted.items():
        found = _PERSISTED.fullmatch(key)
        if found is None or value != "Inoperative":
            continue
        component = STATION
        if found["evse"]:
            component = (int(found["evse"]), 0)
        elif found["connector"]:
            component = (int(found["at"]), int(found["connector"]))
        if component in known:
            inoperative.add(component)
    return replace(station, availability=replace(station.availability, inoperative=frozenset(inoperative)))
