"""A reservation used by its token or group (H03), cancelled (H02), expired or removed (H04), and kept across a
restart, through `step`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from core_helpers import Sim, booted, calls, make_station, of_type, persisted, replies
from reservation_helpers import NON_EVSE_SPECIFIC, OTHER, TOKEN, reserve, status_updates, statuses

from chargecore.pure.blocks.reservation import reservations
from chargecore.pure.effects import AuthorizationDecided, Effects, Notify, ReservationEnded
from chargecore.pure.inputs import Tick
from chargecore.pure.station import next_deadline

AUTHORIZED_START = {"TxCtrlr": {"TxStartPoint": "Authorized"}}
GROUP = {"idToken": "FLEET", "type": "Central"}


def events(effects: tuple[object, ...], kind: type) -> list[object]:
    return [n.event for n in of_type(effects, Notify) if isinstance(n.event, kind)]  # type: ignore[arg-type]


def started_events(effects: tuple[object, ...]) -> list[dict[str, object]]:
    return [c.payload for c in calls(effects) if c.action == "TransactionEvent" and c.payload["eventType"] == "Started"]


def present(sim: Sim, token: dict[str, str], evse_id: int | None = 1, group: dict[str, str] | None = None) -> Effects:
    """Present a token; the CSMS accepts it in its AuthorizeResponse (with `group` as its groupIdToken)."""
    effects = sim.present_token(token["idToken"], evse_id, token["type"])
    info: dict[str, object] = {"status": "Accepted"}
    if group is not None:
        info["groupIdToken"] = group
    if sim.station.rpc.in_flight is not None and sim.outstanding().action == "Authorize":
        effects += sim.reply({"idTokenInfo": info})
    return effects + sim.answer_all()


@pytest.mark.requirements("H03.FR.09", "H03.FR.10")
def test_the_reserved_token_starts_with_the_reservation_id_and_uses_it_up() -> None:
    sim = booted(config=AUTHORIZED_START)
    reserve(sim, reservation_id=42)
    effects = present(sim, TOKEN)
    (started,) = started_events(effects)
    assert started["reservationId"] == 42 and started["idToken"] == TOKEN
    assert sim.station.reservations == () and persisted(effects)["reservation/42"] is None
    assert statuses(effects) == [(1, 1, "Occupied")], "no longer Reserved; the transaction holds it"
    assert events(effects, ReservationEnded) == [ReservationEnded(42, 1, "Used")]
    assert status_updates(effects) == [], "a used reservation is reported by the TransactionEvent, not an update"


@pytest.mark.requirements("H03.FR.09", "H03.FR.10")
def test_used_without_a_cable_the_connector_shows_available_until_the_ev_plugs() -> None:
    sim = booted()  # TxStartPoint PowerPathClosed: the token alone starts nothing
    reserve(sim)
    effects = present(sim, TOKEN)
    assert statuses(effects) == [(1, 1, "Available")]
    assert started_events(effects) == []


@pytest.mark.requirements("H03.FR.07", "H03.FR.08")
def test_a_token_of_the_reserved_group_may_use_the_reservation() -> None:
    sim = booted(config=AUTHORIZED_START)
    reserve(sim, reservation_id=3, groupIdToken=GROUP)
    effects = present(sim, OTHER, group=GROUP)
    (started,) = started_events(effects)
    assert started["reservationId"] == 3 and started["idToken"] == OTHER


@pytest.mark.requirements("H03.FR.07")
def test_another_token_is_refused_on_the_reserved_evse_and_the_reservation_stays() -> None:
    sim = booted(config=AUTHORIZED_START)
    reserve(sim, reservation_id=3, groupIdToken=GROUP)
    effects = present(sim, OTHER, group={"idToken": "OTHERS", "type": "Central"})
    assert started_events(effects) == []
    assert AuthorizationDecided(1, OTHER, "Reserved") in events(effects, AuthorizationDecided)
    assert [r.reservation_id for r in sim.station.reservations] == [3]
    assert statuses(effects) == []
    assert sim.station.availability.shown == (("Reserved", True),)


def test_a_cable_plugged_into_a_reserved_connector_leaves_it_reserved() -> None:
    """G01.FR.09 / G03.FR.09 (errata 2023-12): plugging in is no token; the connector stays Reserved."""
    sim = booted()
    reserve(sim)
    effects = sim.plug() + sim.answer_all()
    assert statuses(effects) == []
    effects = present(sim, TOKEN)
    assert statuses(effects) == [(1, 1, "Occupied")]


def test_a_token_at_a_station_level_reader_goes_to_the_evse_reserved_for_it() -> None:
    sim = booted(evse_connectors=(1, 1), config=AUTHORIZED_START)
    reserve(sim, reservation_id=8, evse_id=2)
    (started,) = started_events(present(sim, TOKEN, evse_id=None))
    assert started["evse"]["id"] == 2 and started["reservationId"] == 8  # type: ignore[index]


@pytest.mark.requirements("H01.FR.20")
def test_another_token_may_not_take_the_last_evse_a_reservation_for_any_evse_needs() -> None:
    sim = booted(evse_connectors=(1, 1), config={**NON_EVSE_SPECIFIC, **AUTHORIZED_START})
    reserve(sim, evse_id=None)
    assert started_events(present(sim, OTHER, evse_id=1)), "two free EVSEs: one may go"
    assert not started_events(present(sim, {"idToken": "THIRD", "type": "ISO14443"}, evse_id=2))
    (started,) = started_events(present(sim, TOKEN, evse_id=2))
    assert started["reservationId"] == 1


@pytest.mark.requirements("H02.FR.01", "H02.FR.03", "H02.FR.04")
def test_a_cancelled_reservation_frees_its_evse() -> None:
    sim = booted()
    reserve(sim, reservation_id=4)
    effects = sim.csms_call("CancelReservation", {"reservationId": 4})
    (reply,) = replies(effects)
    assert reply[2] == {"status": "Accepted"}
    effects += sim.answer_all()
    assert statuses(effects) == [(1, 1, "Available")]
    assert sim.station.reservations == () and persisted(effects)["reservation/4"] is None
    assert events(effects, ReservationEnded) == [ReservationEnded(4, 1, "Cancelled")]


@pytest.mark.requirements("H02.FR.02")
@pytest.mark.parametrize("reservation_id", [5, 2**62, -1])
def test_cancelling_a_reservation_the_station_does_not_hold_is_rejected(reservation_id: int) -> None:
    sim = booted()
    reserve(sim, reservation_id=4)
    before = sim.station
    (reply,) = replies(sim.csms_call("CancelReservation", {"reservationId": reservation_id}))
    assert reply[2]["status"] == "Rejected"
    assert sim.station == before


@pytest.mark.requirements("H02.FR.05", "H02.FR.06")
def test_cancelling_a_reservation_for_any_evse_frees_the_evses_it_held() -> None:
    sim = booted(evse_connectors=(1, 1), config=NON_EVSE_SPECIFIC)
    reserve(sim, evse_id=None)
    sim.plug(evse_id=1)
    sim.answer_all()
    effects = sim.csms_call("CancelReservation", {"reservationId": 1}) + sim.answer_all()
    assert statuses(effects) == [(2, 1, "Available")]


def test_a_reservation_expires_at_its_expiry_with_a_status_update() -> None:
    """H04 (ReservationStatusUpdate Expired): next_deadline is the expiry, and the EVSE is free again."""
    sim = booted()
    made_at = sim.now
    reserve(sim, reservation_id=6)
    expiry = made_at + timedelta(minutes=10)
    assert reservations.deadline(sim.station) == expiry and next_deadline(sim.station) is not None
    effects = sim.feed(Tick(expiry - timedelta(seconds=1))) + sim.answer_all()
    assert sim.station.reservations and status_updates(effects) == []
    effects = sim.feed(Tick(expiry)) + sim.answer_all()
    assert status_updates(effects) == [(6, "Expired")]
    assert statuses(effects) == [(1, 1, "Available")]
    assert events(effects, ReservationEnded) == [ReservationEnded(6, 1, "Expired")]
    assert reservations.deadline(sim.station) is None


@pytest.mark.parametrize(
    "make_unusable",
    [
        lambda sim: sim.plug(evse_id=1, connector_id=None, change="fault"),
        lambda sim: sim.csms_call("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}),
    ],
    ids=["faulted", "unavailable"],
)
def test_a_reservation_whose_evse_becomes_faulted_or_unavailable_is_removed(make_unusable: object) -> None:
    """H04 (ReservationStatusUpdate Removed)."""
    sim = booted()
    reserve(sim, reservation_id=7)
    effects = make_unusable(sim) + sim.answer_all()  # type: ignore[operator]
    assert status_updates(effects) == [(7, "Removed")]
    assert sim.station.reservations == () and persisted(effects)["reservation/7"] is None
    assert events(effects, ReservationEnded) == [ReservationEnded(7, 1, "Removed")]


def test_an_occupied_evse_keeps_its_reservation() -> None:
    sim = booted(evse_connectors=(1, 1), config=NON_EVSE_SPECIFIC)
    reserve(sim, evse_id=None)
    effects = sim.plug(evse_id=1) + sim.plug(evse_id=2) + sim.answer_all()
    assert status_updates(effects) == [] and len(sim.station.reservations) == 1


def test_reservations_survive_a_restart() -> None:
    sim = booted(evse_connectors=(1, 1), config=NON_EVSE_SPECIFIC)
    _, effects = reserve(sim, reservation_id=1, evse_id=2, groupIdToken=GROUP)
    _, more = reserve(sim, reservation_id=2, evse_id=None, connectorType="cType2")
    stored = persisted(effects + more)
    restarted = Sim(make_station((1, 1), NON_EVSE_SPECIFIC, stored))
    assert restarted.station.reservations == sim.station.reservations
    restarted.power_up(0)
    assert restarted.station.availability.shown == (("Reserved", True), ("Reserved", True))


def test_a_damaged_or_foreign_reservation_record_is_skipped_and_the_others_kept() -> None:
    sim = booted()
    _, effects = reserve(sim, reservation_id=1)
    stored = {
        **persisted(effects),
        "reservation/2": {"id": "x"},
        "reservation/3": {**persisted(effects)["reservation/1"], "evse_id": 9},
    }
    assert [r.reservation_id for r in make_station((1,), None, stored).reservations] == [1]


def test_a_remote_start_for_another_token_on_a_reserved_evse_is_rejected() -> None:
    """H03: without AuthorizeRemoteStart no authorization can find a group, so the CSMS hears Rejected at once."""
    sim = booted(config={"AuthCtrlr": {"AuthorizeRemoteStart": False}, **AUTHORIZED_START})
    reserve(sim)
    (reply,) = replies(sim.csms_call("RequestStartTransaction", {"idToken": OTHER, "remoteStartId": 1, "evseId": 1}))
    assert reply[2]["status"] == "Rejected" and reply[2]["statusInfo"]["reasonCode"] == "Reserved"
    effects = sim.csms_call("RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 2, "evseId": 1}, "csms-2")
    (started,) = started_events(effects + sim.answer_all())
    assert started["reservationId"] == 1
