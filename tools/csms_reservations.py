"""The `chargecore csms` stdin commands of block H, `reserve` and `cancel-reservation`: operator words turned
into ReserveNowRequest and CancelReservationRequest payloads, kept out of csms.py so it does not grow per block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

HELP = """  reserve STATION_ID ID EVSE|any TOKEN [MINUTES]
                                        ReserveNow for idToken TOKEN (ISO14443), for 10 minutes unless told
  cancel-reservation STATION_ID ID      CancelReservation"""

USAGE = "usage: reserve STATION_ID ID EVSE|any TOKEN [MINUTES]"


def reserve_now(words: list[str], now: datetime | None = None) -> dict[str, Any]:
    """`ID EVSE|any TOKEN [MINUTES]` as a ReserveNowRequest; ValueError (one line) for anything else."""
    if len(words) not in (3, 4) or not words[0].lstrip("-").isdigit():
        raise ValueError(USAGE)
    reservation_id, evse, token, *minutes = words
    if evse != "any" and not evse.isdigit():
        raise ValueError(USAGE)
    try:
        expires = (now or datetime.now(UTC)) + timedelta(minutes=float(minutes[0]) if minutes else 10)
    except (ValueError, OverflowError):
        raise ValueError(f"{USAGE} (MINUTES is a number of minutes)") from None
    payload: dict[str, Any] = {
        "id": int(reservation_id),
        "expiryDateTime": expires.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expires.microsecond // 1000:03d}Z",
        "idToken": {"idToken": token, "type": "ISO14443"},
    }
    if evse != "any":
        payload["evseId"] = int(evse)
    return payload


def cancel_reservation(words: list[str]) -> dict[str, Any]:
    if len(words) != 1 or not words[0].lstrip("-").isdigit():
        raise ValueError("usage: cancel-reservation STATION_ID ID")
    return {"reservationId": int(words[0])}
