"""One reservation as the station keeps it (block H), and its persisted form.

Kept apart from the rules (holds.py, reservations.py) because `state.py` holds reservations and must not import
rules that read the station."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Reservation:
    """A ReserveNowRequest the station accepted. `expires_at` is on the station clock (CSMS time), as the CSMS
    sent it, so a later clock correction moves the shell-time deadline with it."""

    reservation_id: int
    expires_at: datetime
    id_token: dict[str, Any]
    group_id_token: dict[str, Any] | None = None
    evse_id: int | None = None
    """None: any EVSE (ReservationCtrlr.NonEvseSpecific, H01.FR.04/H01.FR.06)."""
    connector_type: str | None = None
    """A ConnectorEnumType the reserved EVSE must have; None (or "Unknown" in the request): any."""


PERSIST_PREFIX = "reservation/"


def persist_key(reservation_id: int) -> str:
    return f"{PERSIST_PREFIX}{reservation_id}"


def to_record(reservation: Reservation) -> dict[str, Any]:
    return {
        "id": reservation.reservation_id,
        "expires_at": reservation.expires_at.isoformat(),
        "id_token": reservation.id_token,
        "group_id_token": reservation.group_id_token,
        "evse_id": reservation.evse_id,
        "connector_type": reservation.connector_type,
    }


def from_record(record: Any) -> Reservation | None:
    """The reservation a record holds, or None when the record is not one (written by another version, damaged
    in a way its checksum could not tell): such a record is skipped, the others are kept."""
    try:
        expires_at = datetime.fromisoformat(record["expires_at"])
        evse_id = record["evse_id"]
        connector_type = record["connector_type"]
        group = record["group_id_token"]
        reservation = Reservation(
            int(record["id"]),
            expires_at,
            dict(record["id_token"]),
            None if group is None else dict(group),
            None if evse_id is None else int(evse_id),
            None if connector_type is None else str(connector_type),
        )
    except (KeyError, TypeError, ValueError):
        return None
    return reservation if expires_at.tzinfo is not None else None
