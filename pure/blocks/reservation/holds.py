"""Which EVSEs the reservations hold (block H), and whether a token may use an EVSE: pure rules over the
reservations, the EVSEs that are free and the connector types of each EVSE.

An EVSE-specific reservation holds its EVSE. Reservations for any EVSE (NonEvseSpecific, H01.FR.04; of a
connector type, H01.FR.06) hold no EVSE in particular: the station keeps enough free EVSEs that each of them can
still be served, one EVSE each, with a connector of its type. A free EVSE the others cannot do without is held
(Reserved): when as many EVSEs are free as reservations, all of them (H01.FR.20, H01.FR.24). Whether they can be
served is a bipartite matching (reservations to EVSEs), found by augmenting paths; stations have a handful of
EVSEs, so it is cheap.

This module reads no connector status itself: availability.py, which derives statuses, passes the free EVSEs in,
so that the Reserved status is part of its one precedence rule rather than a second computation beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chargecore.pure.blocks.reservation.records import Reservation
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.state import Station

Types = Mapping[int, frozenset[str]]
"""The ConnectorType of each connector, per EVSE id."""


def evse_types(station: Station) -> dict[int, frozenset[str]]:
    """Connector.ConnectorType of every connector, grouped by EVSE (the device model tells the truth)."""
    types: dict[int, set[str]] = {}
    for connector in station.connectors:
        key = VariableKey("Connector", "ConnectorType", connector.evse_id, connector.connector_id)
        value = get_value(station.device_model, key)
        types.setdefault(connector.evse_id, set()).update(() if value is None else (value,))
    return {evse_id: frozenset(found) for evse_id, found in types.items()}


def fits(reservation: Reservation, evse_id: int, types: Types) -> bool:
    """The EVSE can serve the reservation: it is the one reserved (or any is) and has a connector of its type."""
    if reservation.evse_id not in (None, evse_id):
        return False
    return reservation.connector_type is None or reservation.connector_type in types.get(evse_id, frozenset())


def _key(token: Mapping[str, Any] | None) -> tuple[str, str] | None:
    return None if token is None else (str(token["idToken"]), str(token["type"]))


def matches(reservation: Reservation, id_token: Mapping[str, Any], group_id_token: Mapping[str, Any] | None) -> bool:
    """H03: the reservation is for this idToken (value and type), or for its groupIdToken."""
    if _key(reservation.id_token) == _key(id_token):
        return True
    group = _key(reservation.group_id_token)
    return group is not None and group == _key(group_id_token)


def unspecified(reservations: Iterable[Reservation]) -> tuple[Reservation, ...]:
    return tuple(r for r in reservations if r.evse_id is None)


def specific_evses(reservations: Iterable[Reservation]) -> frozenset[int]:
    return frozenset(r.evse_id for r in reservations if r.evse_id is not None)


def servable(reservations: tuple[Reservation, ...], evses: frozenset[int], types: Types) -> bool:
    """Every reservation gets its own EVSE among `evses`, one that fits it (a complete bipartite matching)."""
    owner: dict[int, int] = {}  # EVSE -> index of the reservation it serves

    def place(index: int, seen: set[int]) -> bool:
        for evse_id in sorted(evses):
            if evse_id in seen or not fits(reservations[index], evse_id, types):
                continue
            seen.add(evse_id)
            if evse_id not in owner or place(owner[evse_id], seen):
                owner[evse_id] = index
                return True
        return False

    return len(reservations) <= len(evses) and all(place(index, set()) for index in range(len(reservations)))


def held(reservations: tuple[Reservation, ...], free: frozenset[int], types: Types) -> frozenset[int]:
    """The EVSEs shown Reserved: those reserved by id, and the free ones the reservations for any EVSE cannot do
    without."""
    specific = specific_evses(reservations)
    anywhere = unspecified(reservations)
    if not anywhere:
        return specific
    pool = free - specific
    needed = frozenset(evse_id for evse_id in pool if not servable(anywhere, pool - {evse_id}, types))
    return specific | needed


def use(
    reservations: tuple[Reservation, ...],
    evse_id: int,
    id_token: Mapping[str, Any],
    group_id_token: Mapping[str, Any] | None,
    free: frozenset[int],
    types: Types,
) -> tuple[bool, Reservation | None]:
    """May this token start on the EVSE, and which reservation does it use (consume, H03.FR.09)?

    The reservation of the EVSE admits only its own token or group (H03); a reservation for any EVSE that the
    token matches is used on any EVSE that fits it; any other token may use the EVSE only if the reservations
    for any EVSE can still all be served without it."""
    own = next((r for r in reservations if r.evse_id == evse_id), None)
    if own is not None:
        return (True, own) if matches(own, id_token, group_id_token) else (False, None)
    anywhere = unspecified(reservations)
    mine = next((r for r in anywhere if matches(r, id_token, group_id_token) and fits(r, evse_id, types)), None)
    if mine is not None:
        return True, mine
    pool = free - specific_evses(reservations) - {evse_id}
    return servable(anywhere, pool, types), None
