"""Reservations and transactions interleaved at random (block H) on a booted station with two EVSEs of one
connector each, NonEvseSpecific true and TxStartPoint Authorized, the CSMS accepting every token and answering
every CALL. Actions: ReserveNow (for EVSE 1, 2 or any; tokens A-C; 1-30 minutes), CancelReservation, a token
presented at an EVSE (A-D; the same token again ends its transaction), a cable plugged or pulled, a fault raised
or cleared, time passing.

The oracle is written here, from the use cases, not read from the core:
- a transaction starts on an EVSE reserved for a token only for that token, and a reservationId it carries names
  a reservation the station held for that token (H03: no second token starts on a reserved EVSE);
- a reservation that expired is gone after the Tick at its expiry, with a ReservationStatusUpdate Expired, and a
  cancelled one is gone after CancelReservation Accepted: neither holds an EVSE any more;
- a connector shows Reserved only if its EVSE has a reservation of its own, or it is one of the free EVSEs and
  no more of them are free than there are reservations for any EVSE (H01.FR.20).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import permutations
from typing import Any

from core_helpers import Sim, booted, calls, replies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.availability.availability import connector_status, unreserved_status
from chargecore.pure.blocks.reservation import holds
from chargecore.pure.blocks.reservation.records import Reservation
from chargecore.pure.inputs import Tick
from chargecore.pure.ocppj.timestamps import ocpp_time, station_time

CONFIG = {"ReservationCtrlr": {"NonEvseSpecific": True}, "TxCtrlr": {"TxStartPoint": "Authorized"}}
TOKENS = ("A", "B", "C", "D")
T_FAR = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Action:
    kind: str
    args: tuple[Any, ...]


actions = st.one_of(
    st.builds(
        lambda rid, evse, token, minutes: Action("reserve", (rid, evse, token, minutes)),
        st.integers(1, 3),
        st.sampled_from([None, 1, 2]),
        st.sampled_from(TOKENS[:3]),
        st.integers(1, 30),
    ),
    st.builds(lambda rid: Action("cancel", (rid,)), st.integers(1, 3)),
    st.builds(lambda token, evse: Action("present", (token, evse)), st.sampled_from(TOKENS), st.sampled_from([1, 2])),
    st.builds(
        lambda change, evse: Action("hardware", (change, evse)),
        st.sampled_from(["plug", "unplug", "fault", "recover"]),
        st.sampled_from([1, 2]),
    ),
    st.builds(lambda minutes: Action("wait", (minutes,)), st.integers(0, 20)),
)


def token(name: str) -> dict[str, str]:
    return {"idToken": name, "type": "ISO14443"}


def run(sim: Sim, action: Action) -> tuple[Any, ...]:
    """Feed one action; returns the effects with every CALL the station sent answered."""
    kind, args = action.kind, action.args
    if kind == "reserve":
        rid, evse, name, minutes = args
        payload: dict[str, Any] = {
            "id": rid,
            "expiryDateTime": ocpp_time(sim.station, sim.now + timedelta(minutes=minutes)),
            "idToken": token(name),
        }
        if evse is not None:
            payload["evseId"] = evse
        effects = sim.csms_call("ReserveNow", payload)
    elif kind == "cancel":
        effects = sim.csms_call("CancelReservation", {"reservationId": args[0]})
    elif kind == "present":
        effects = sim.present_token(args[0], args[1])
    elif kind == "hardware":
        effects = sim.plug(evse_id=args[1], connector_id=1 if args[0] in ("plug", "unplug") else None, change=args[0])
    else:
        effects = sim.feed(Tick(sim.now + timedelta(minutes=args[0])))
    return effects + sim.answer_all()


def check_reserved_statuses(sim: Sim) -> None:
    state = sim.station
    specific = {r.evse_id for r in state.reservations if r.evse_id is not None}
    anywhere = sum(1 for r in state.reservations if r.evse_id is None)
    busy = {tx.evse_id for tx in state.transactions}
    free = {
        evse
        for evse in (1, 2)
        if evse not in specific
        and evse not in busy
        and all(unreserved_status(state, c) == "Available" for c in state.connectors if c.evse_id == evse)
    }
    for connector in state.connectors:
        shown = connector_status(state, connector) == "Reserved"
        expected = connector.evse_id in specific and unreserved_status(state, connector) in ("Available", "Occupied")
        expected = expected or (connector.evse_id in free and 0 < len(free) <= anywhere)
        assert shown == expected, (connector, state.reservations, free)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(actions, max_size=25))
def test_reservations_and_transactions_interleaved(plan: list[Action]) -> None:
    sim = booted(evse_connectors=(1, 1), config=CONFIG)
    for action in plan:
        held = {r.reservation_id: r for r in sim.station.reservations}
        effects = run(sim, action)
        for call in calls(effects):
            if call.action != "TransactionEvent" or call.payload["eventType"] != "Started":
                continue
            evse, who = call.payload["evse"]["id"], call.payload["idToken"]["idToken"]
            own = [r for r in held.values() if r.evse_id == evse]
            assert all(r.id_token["idToken"] == who for r in own), (own, who)
            if "reservationId" in call.payload:
                used = held[call.payload["reservationId"]]
                assert used.id_token["idToken"] == who and used.evse_id in (None, evse)
        if action.kind == "cancel":
            (reply,) = replies(effects)
            assert (reply[2]["status"] == "Accepted") == (action.args[0] in held)
            assert action.args[0] not in {r.reservation_id for r in sim.station.reservations}
        if action.kind == "wait":
            clock = station_time(sim.station, sim.now)
            expired = {rid for rid, r in held.items() if r.expires_at <= clock}
            updates = {
                c.payload["reservationId"]
                for c in calls(effects)
                if c.action == "ReservationStatusUpdate" and c.payload["reservationUpdateStatus"] == "Expired"
            }
            assert expired == updates
            assert not expired & {r.reservation_id for r in sim.station.reservations}
        check_reserved_statuses(sim)


KINDS = ("cType2", "sType2", "cCCS2")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([None, *KINDS]), max_size=4),
    st.dictionaries(st.integers(1, 5), st.frozensets(st.sampled_from(KINDS), min_size=1, max_size=2), max_size=5),
)
def test_servable_agrees_with_trying_every_assignment(
    wanted: list[str | None], types: dict[int, frozenset[str]]
) -> None:
    """holds.servable (augmenting paths) against a naive reference: some assignment of distinct free EVSEs, one per
    reservation for any EVSE, gives each a connector of its type."""
    reservations = tuple(
        Reservation(index, T_FAR, token("A"), connector_type=kind) for index, kind in enumerate(wanted)
    )
    evses = frozenset(types)
    naive = any(
        all(kind is None or kind in types[evse] for kind, evse in zip(wanted, chosen, strict=True))
        for chosen in permutations(sorted(evses), len(wanted))
    )
    assert holds.servable(reservations, evses, types) == naive
