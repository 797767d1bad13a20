"""Block H, reservation: ReserveNow (H01), CancelReservation (H02), a token using its reservation (H03) and the
ReservationStatusUpdate of a reservation that expired or was removed (H04).

Rules, in the order `handle_reserve_now` applies them:
1. ReservationCtrlr Available and Enabled, else Rejected (H01.FR.01).
2. Bad input is Rejected with a statusInfo and stores nothing: an id outside int32, an expiryDateTime not after
   the station clock or not a plausible clock, an EVSE the station does not have, no EVSE while
   ReservationCtrlr.NonEvseSpecific is false (H01.FR.19), a connectorType no (named) EVSE has.
3. A reservation with the id of an existing one replaces it (H01.FR.02): the old one is left out while the new
   one is judged, and stays if the new one is refused.
4. Accepted when the EVSE named is free and not needed by the reservations for any EVSE (H01.FR.23), or, without
   an EVSE, when every reservation for any EVSE, the new one included, can still be served by its own free EVSE
   (H01.FR.04, H01.FR.06, H01.FR.18); otherwise the status of the EVSEs it could use: Occupied (also when they
   are reserved), else Faulted, else Unavailable (H01.FR.11, H01.FR.12, H01.FR.13).
The connector statuses (Reserved and back) follow from availability.py's precedence rule, which asks holds.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Success

from chargecore.pure.blocks.availability import availability
from chargecore.pure.blocks.reservation import holds
from chargecore.pure.blocks.reservation.records import (
    PERSIST_PREFIX,
    Reservation,
    from_record,
    persist_key,
    to_record,
)
from chargecore.pure.device_model.model import get_bool
from chargecore.pure.effects import Effects, Notify, Persist, ReservationEnded, ReservationMade
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import PLAUSIBLE_CLOCK, later, ocpp_time, parse_ocpp_time, station_time
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

INT32 = (-(2**31), 2**31 - 1)
"""OCPP integers are 32-bit (libocpp's int32_t): a reservation id outside is refused, never stored."""

_STATUS_ORDER = ("Occupied", "Faulted", "Unavailable")
"""H01.FR.11-13: the ReserveNowStatus of EVSEs that cannot take the reservation, the first one any of them shows."""


def enabled(station: Station) -> bool:
    """ReservationCtrlr.Available (the block is there) and Enabled (switched on): else Rejected (H01.FR.01)."""
    model = station.device_model
    return get_bool(model, "ReservationCtrlr", "Available") and get_bool(model, "ReservationCtrlr", "Enabled")


def _requested(station: Station, request: Mapping[str, Any], now: datetime) -> Reservation | Reply:
    """The reservation a ReserveNowRequest asks for, or the Rejected reply for bad input (rules 1 and 2)."""
    if not enabled(station):
        return refusal("Rejected", "NotEnabled", "ReservationCtrlr Available or Enabled is false (H01.FR.01)")
    if not INT32[0] <= request["id"] <= INT32[1]:
        return refusal("Rejected", "InvalidValue", "id is not a 32-bit integer")
    parsed = parse_ocpp_time(request["expiryDateTime"])
    expires_at = parsed.unwrap() if isinstance(parsed, Success) else None
    if expires_at is None or not PLAUSIBLE_CLOCK[0] <= expires_at < PLAUSIBLE_CLOCK[1]:
        return refusal("Rejected", "InvalidValue", "expiryDateTime is not a plausible time")
    if expires_at <= station_time(station, now):
        return refusal("Rejected", "InvalidValue", "expiryDateTime is not in the future")
    evse_id = request.get("evseId")
    if evse_id is None and not get_bool(station.device_model, "ReservationCtrlr", "NonEvseSpecific"):
        return refusal("Rejected", "NoEvseGiven", "ReservationCtrlr.NonEvseSpecific is false (H01.FR.19)")
    if evse_id is not None and not 1 <= evse_id <= len(station.identity.evse_connectors):
        return refusal("Rejected", "UnknownEvse", f"no EVSE {evse_id}")
    connector_type = request.get("connectorType")
    reservation = Reservation(
        request["id"],
        expires_at,
        request["idToken"],
        request.get("groupIdToken"),
        evse_id,
        None if connector_type in (None, "Unknown") else connector_type,
    )
    types = holds.evse_types(station)
    if not any(holds.fits(reservation, evse, types) for evse in types):
        return refusal("Rejected", "UnknownConnectorType", f"no EVSE it may use has a {connector_type} connector")
    return reservation


def _status(station: Station, reservation: Reservation) -> str:
    """Rule 4: Accepted, or why not, with the other reservations already in `station`."""
    free = availability.free_evses(station)
    types = holds.evse_types(station)
    pool = free - holds.specific_evses(station.reservations)
    anywhere = holds.unspecified(station.reservations)
    if reservation.evse_id is None:
        possible = holds.servable((*anywhere, reservation), pool, types)
    else:
        possible = reservation.evse_id in pool and holds.servable(anywhere, pool - {reservation.evse_id}, types)
    if possible:
        return "Accepted"
    shown = {
        availability.unreserved_status(station, connector)
        for connector in station.connectors
        if holds.fits(reservation, connector.evse_id, types)
    }
    return next((status for status in _STATUS_ORDER if status in shown), "Occupied")  # Available: held by others


def handle_reserve_now(station: Station, call: Call, now: datetime) -> Handled:
    requested = _requested(station, call.payload, now)
    if isinstance(requested, Reply):
        return station, requested, ()
    others = tuple(r for r in station.reservations if r.reservation_id != requested.reservation_id)  # H01.FR.02
    status = _status(replace(station, reservations=others), requested)
    if status != "Accepted":
        return station, Reply({"status": status}), ()
    made = ReservationMade(
        requested.reservation_id,
        requested.evse_id,
        requested.id_token,
        ocpp_time(station, later(requested.expires_at, -station.registration.clock_offset)),
        requested.connector_type,
    )
    persisted = Persist(((persist_key(requested.reservation_id), to_record(requested)),))
    return replace(station, reservations=(*others, requested)), Reply({"status": "Accepted"}), (persisted, Notify(made))


def _end(station: Station, ended: tuple[Reservation, ...], reason: str, update: bool) -> tuple[Station, Effects]:
    """Drop these reservations; `update`: tell the CSMS with a ReservationStatusUpdate (H04: Expired, Removed)."""
    if not ended:
        return station, ()
    gone = {r.reservation_id for r in ended}
    session = station.rpc
    effects: Effects = (Persist(tuple((persist_key(r.reservation_id), None) for r in ended)),)
    for reservation in ended:
        if update:
            payload = {"reservationId": reservation.reservation_id, "reservationUpdateStatus": reason}
            session, queued = rpc.enqueue(session, "ReservationStatusUpdate", payload)
            effects += queued
        effects += (Notify(ReservationEnded(reservation.reservation_id, reservation.evse_id, reason)),)
    kept = tuple(r for r in station.reservations if r.reservation_id not in gone)
    return replace(station, reservations=kept, rpc=session), effects


def handle_cancel_reservation(station: Station, call: Call, now: datetime) -> Handled:
    """H02.FR.01 Accepted for a reservation the station holds (its EVSEs become Available again, H02.FR.03-06),
    H02.FR.02 Rejected for any other id."""
    reservation_id = call.payload["reservationId"]
    found = tuple(r for r in station.reservations if r.reservation_id == reservation_id)
    if not enabled(station):
        return station, refusal("Rejected", "NotEnabled", "ReservationCtrlr Available or Enabled is false"), ()
    if not found:
        return station, refusal("Rejected", "UnknownReservation"), ()
    station, effects = _end(station, found, "Cancelled", update=False)
    return station, Reply({"status": "Accepted"}), effects


def deadline(station: Station) -> datetime | None:
    """The earliest expiry, in shell time (the reservations keep CSMS time)."""
    if not station.reservations:
        return None
    offset = station.registration.clock_offset
    return min(later(r.expires_at, -offset) for r in station.reservations)


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """H01: a reservation ends at its expiryDateTime; the CSMS hears ReservationStatusUpdate Expired (H04)."""
    if not station.reservations:
        return station, ()
    clock = station_time(station, now)
    expired = tuple(r for r in station.reservations if r.expires_at <= clock)
    return _end(station, expired, "Expired", update=True)


def settle(station: Station) -> tuple[Station, Effects]:
    """After every input: a reservation whose EVSEs are all Faulted or Unavailable is removed, and the CSMS hears
    ReservationStatusUpdate Removed (H04); an EVSE that is only Occupied keeps its reservation."""
    if not station.reservations:
        return station, ()
    types = holds.evse_types(station)
    out = {"Faulted", "Unavailable"}
    usable = {
        connector.evse_id
        for connector in station.connectors
        if availability.unreserved_status(station, connector) not in out
    }
    lost = tuple(r for r in station.reservations if not any(holds.fits(r, evse, types) for evse in usable))
    return _end(station, lost, "Removed", update=True)


def claim(
    station: Station, evse_id: int, id_token: Mapping[str, Any], group_id_token: Mapping[str, Any] | None
) -> tuple[Station, bool, int | None, Effects]:
    """An authorized token is about to start on the EVSE (H03): whether the reservations let it, and the id of the
    reservation it uses up (H03.FR.09), which ends here without a ReservationStatusUpdate: the TransactionEvent
    carries its reservationId."""
    if not station.reservations:
        return station, True, None, ()
    free = availability.free_evses(station)
    admitted, used = holds.use(station.reservations, evse_id, id_token, group_id_token, free, holds.evse_types(station))
    if used is None:
        return station, admitted, None, ()
    station, effects = _end(station, (used,), "Used", update=False)
    return station, True, used.reservation_id, effects


def admits(
    station: Station, evse_id: int, id_token: Mapping[str, Any], group_id_token: Mapping[str, Any] | None
) -> bool:
    """Whether `claim` would let the token start there, without using anything up."""
    return claim(station, evse_id, id_token, group_id_token)[1]


def reserved_for(station: Station, id_token: Mapping[str, Any]) -> int | None:
    """The EVSE reserved for exactly this token, if any: where a token at a station-level reader goes."""
    return next(
        (r.evse_id for r in station.reservations if r.evse_id is not None and holds.matches(r, id_token, None)), None
    )


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The reservations an earlier run accepted; records for EVSEs this station no longer has are dropped."""
    evses = (None, *range(1, len(station.identity.evse_connectors) + 1))
    kept = []
    for key, record in sorted(persisted.items()):
        reservation = from_record(record) if key.startswith(PERSIST_PREFIX) else None
        if reservation is not None and reservation.evse_id in evses:
            kept.append(reservation)
    return replace(station, reservations=tuple(kept))
