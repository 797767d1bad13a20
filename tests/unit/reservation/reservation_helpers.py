"""What the reservation unit tests share: a ReserveNowRequest, and the statuses and calls a step sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core_helpers import Sim, calls, replies

from chargecore.pure.effects import Effects
from chargecore.pure.ocppj.timestamps import ocpp_time

NON_EVSE_SPECIFIC = {"ReservationCtrlr": {"NonEvseSpecific": True}}
TOKEN = {"idToken": "TOKEN1", "type": "ISO14443"}
OTHER = {"idToken": "OTHER", "type": "ISO14443"}


def reserve_now(
    sim: Sim, reservation_id: int = 1, evse_id: int | None = 1, minutes: float = 10, **fields: Any
) -> dict[str, Any]:
    """A ReserveNowRequest expiring `minutes` from now on the station clock; `fields` add or override."""
    payload: dict[str, Any] = {
        "id": reservation_id,
        "expiryDateTime": ocpp_time(sim.station, sim.now + timedelta(minutes=minutes)),
        "idToken": TOKEN,
    }
    if evse_id is not None:
        payload["evseId"] = evse_id
    return {**payload, **fields}


def reserve(
    sim: Sim, reservation_id: int = 1, evse_id: int | None = 1, **fields: Any
) -> tuple[dict[str, Any], Effects]:
    """Send ReserveNow; returns the response payload (the CALLERROR frame fails the test) and all effects, after the
    CSMS answered every CALL the station sent."""
    effects = sim.csms_call("ReserveNow", reserve_now(sim, reservation_id, evse_id, **fields))
    (reply,) = replies(effects)
    assert reply[0] == 3, reply
    return reply[2], effects + sim.answer_all()


def statuses(effects: Effects) -> list[tuple[int, int, str]]:
    return [
        (c.payload["evseId"], c.payload["connectorId"], c.payload["connectorStatus"])
        for c in calls(effects)
        if c.action == "StatusNotification"
    ]


def status_updates(effects: Effects) -> list[tuple[int, str]]:
    return [
        (c.payload["reservationId"], c.payload["reservationUpdateStatus"])
        for c in calls(effects)
        if c.action == "ReservationStatusUpdate"
    ]
