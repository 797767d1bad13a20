"""What the operator commands `reservations` and `reserve EVSE` print (block H): read-only views of the state,
so the shell decides nothing; the connector statuses come from availability's one precedence rule."""

from __future__ import annotations

from chargecore.pure.blocks.availability.availability import connector_status
from chargecore.pure.blocks.reservation.records import Reservation
from chargecore.pure.effects import ReservationEnded, ReservationMade
from chargecore.pure.state import Station


def _token(token: dict[str, object] | None) -> str:
    return "-" if token is None else f"{token['idToken']} ({token['type']})"


def _line(reservation: Reservation) -> str:
    where = "any EVSE" if reservation.evse_id is None else f"EVSE {reservation.evse_id}"
    kind = "" if reservation.connector_type is None else f", connector type {reservation.connector_type}"
    group = "" if reservation.group_id_token is None else f", group {_token(reservation.group_id_token)}"
    expires = reservation.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    token = _token(reservation.id_token)
    return f"reservation {reservation.reservation_id}: {where}{kind}, token {token}{group}, expires {expires}"


def describe_reservations(state: Station) -> str:
    """`reservations`: every reservation the station holds, oldest first."""
    return "\n".join(_line(r) for r in state.reservations) or "no reservations"


def describe_reservation(state: Station, evse_id: int) -> str:
    """`reserve EVSE`: the reservation of one EVSE (or those for any EVSE) and the status of its connectors."""
    connectors = [c for c in state.connectors if c.evse_id == evse_id]
    if not connectors:
        return f"no EVSE {evse_id}"
    own = [r for r in state.reservations if r.evse_id == evse_id]
    anywhere = [r for r in state.reservations if r.evse_id is None]
    lines = [_line(r) for r in own] or [f"EVSE {evse_id}: no reservation of its own"]
    lines += [f"  held for any EVSE: {_line(r)}" for r in anywhere]
    lines += [f"  connector {c.connector_id}: {connector_status(state, c)}" for c in connectors]
    return "\n".join(lines)


def announcement(event: object) -> str | None:
    """The line the simulated charger prints for a reservation event; None for any other event."""
    if isinstance(event, ReservationMade):
        where = "any EVSE" if event.evse_id is None else f"EVSE {event.evse_id}"
        return f"reservation {event.reservation_id} made: {where} for {_token(event.id_token)} until {event.expires_at}"
    if isinstance(event, ReservationEnded):
        return f"reservation {event.reservation_id} ended: {event.reason}"
    return None
