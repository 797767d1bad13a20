"""ReserveNow (H01) through `step`: every ReserveNowStatus, the Reserved status of the connectors, reservations for
any EVSE, replacement by id, and bad input that stores nothing."""

from __future__ import annotations

import pytest
from core_helpers import booted, of_type, persisted, replies
from reservation_helpers import NON_EVSE_SPECIFIC, TOKEN, reserve, reserve_now, statuses

from chargecore.pure.effects import Notify, ReservationMade

TWO_TYPES = {"Connector[2,1]": {"ConnectorType": "sType2"}}
"""EVSE 1 has a cType2 connector (the catalogue default), EVSE 2 an sType2 one."""


@pytest.mark.requirements("H01.FR.23")
def test_an_available_evse_is_reserved_and_all_its_connectors_show_reserved() -> None:
    sim = booted(evse_connectors=(2, 1))
    response, effects = reserve(sim, evse_id=1)
    assert response == {"status": "Accepted"}
    assert statuses(effects) == [(1, 1, "Reserved"), (1, 2, "Reserved")]
    assert persisted(effects)["reservation/1"]["evse_id"] == 1
    (made,) = [n.event for n in of_type(effects, Notify) if isinstance(n.event, ReservationMade)]
    assert (made.reservation_id, made.evse_id, made.id_token) == (1, 1, TOKEN)


@pytest.mark.requirements("H01.FR.01")
@pytest.mark.parametrize("variable", ["Enabled", "Available"])
def test_a_station_not_set_to_take_reservations_rejects_them(variable: str) -> None:
    sim = booted(config={"ReservationCtrlr": {variable: False}})
    before = sim.station
    response, effects = reserve(sim)
    assert response["status"] == "Rejected" and response["statusInfo"]["reasonCode"] == "NotEnabled"
    assert sim.station == before and not persisted(effects)


@pytest.mark.requirements("H01.FR.02")
def test_a_reservation_with_an_existing_id_replaces_it() -> None:
    sim = booted(evse_connectors=(1, 1))
    reserve(sim, reservation_id=5, evse_id=1)
    response, effects = reserve(sim, reservation_id=5, evse_id=2)
    assert response == {"status": "Accepted"}
    assert sorted(statuses(effects)) == [(1, 1, "Available"), (2, 1, "Reserved")]
    assert [r.evse_id for r in sim.station.reservations] == [2]


@pytest.mark.requirements("H01.FR.02")
def test_a_refused_replacement_keeps_the_reservation_it_would_have_replaced() -> None:
    sim = booted(evse_connectors=(1, 1))
    reserve(sim, reservation_id=5, evse_id=1)
    sim.plug(evse_id=2)
    sim.answer_all()
    response, _ = reserve(sim, reservation_id=5, evse_id=2)
    assert response == {"status": "Occupied"}
    assert [r.evse_id for r in sim.station.reservations] == [1]


@pytest.mark.requirements("H01.FR.11", "H01.FR.12", "H01.FR.13")
@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda sim: sim.plug(evse_id=1), "Occupied"),
        (lambda sim: sim.plug(evse_id=1, connector_id=None, change="fault"), "Faulted"),
        (
            lambda sim: sim.csms_call("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 1}}),
            "Unavailable",
        ),
        (lambda sim: reserve(sim, reservation_id=9, evse_id=1)[1], "Occupied"),
    ],
    ids=["occupied", "faulted", "unavailable", "reserved-already"],
)
def test_an_evse_that_cannot_be_reserved_answers_its_status(prepare: object, expected: str) -> None:
    sim = booted()
    prepare(sim)  # type: ignore[operator]
    sim.answer_all()
    before = sim.station.reservations
    response, effects = reserve(sim, reservation_id=1, evse_id=1)
    assert response == {"status": expected}
    assert sim.station.reservations == before and "reservation/1" not in persisted(effects)


@pytest.mark.requirements("H01.FR.19")
def test_without_non_evse_specific_a_reservation_must_name_an_evse() -> None:
    sim = booted()
    response, _ = reserve(sim, evse_id=None)
    assert response["status"] == "Rejected" and response["statusInfo"]["reasonCode"] == "NoEvseGiven"
    assert sim.station.reservations == ()


@pytest.mark.requirements("H01.FR.04", "H01.FR.18", "H01.FR.20")
def test_reservations_for_any_evse_keep_one_evse_free_for_each() -> None:
    sim = booted(evse_connectors=(1, 1), config=NON_EVSE_SPECIFIC)
    response, effects = reserve(sim, reservation_id=1, evse_id=None)
    assert response == {"status": "Accepted"} and statuses(effects) == [], "two free EVSEs for one reservation"
    response, effects = reserve(sim, reservation_id=2, evse_id=None)
    assert response == {"status": "Accepted"}
    assert statuses(effects) == [(1, 1, "Reserved"), (2, 1, "Reserved")], "as many free EVSEs as reservations"
    response, _ = reserve(sim, reservation_id=3, evse_id=None)
    assert response == {"status": "Occupied"}, "no EVSE left for a third"


@pytest.mark.requirements("H01.FR.20")
def test_when_an_evse_gets_occupied_the_last_free_one_becomes_reserved() -> None:
    sim = booted(evse_connectors=(1, 1), config=NON_EVSE_SPECIFIC)
    reserve(sim, evse_id=None)
    effects = sim.plug(evse_id=1) + sim.answer_all()
    assert statuses(effects) == [(1, 1, "Occupied"), (2, 1, "Reserved")]
    effects = sim.plug(evse_id=1, change="unplug") + sim.answer_all()
    assert sorted(statuses(effects)) == [(1, 1, "Available"), (2, 1, "Available")]


@pytest.mark.requirements("H01.FR.06", "H01.FR.24")
def test_a_reservation_for_a_connector_type_holds_the_only_evse_of_that_type() -> None:
    sim = booted(evse_connectors=(1, 1), config={**NON_EVSE_SPECIFIC, **TWO_TYPES})
    response, effects = reserve(sim, evse_id=None, connectorType="sType2")
    assert response == {"status": "Accepted"}
    assert statuses(effects) == [(2, 1, "Reserved")]
    response, _ = reserve(sim, reservation_id=2, evse_id=None, connectorType="sType2")
    assert response == {"status": "Occupied"}


@pytest.mark.requirements("H01.FR.06")
def test_a_connector_type_the_evse_lacks_is_rejected() -> None:
    sim = booted(evse_connectors=(1, 1), config={**NON_EVSE_SPECIFIC, **TWO_TYPES})
    for evse_id, kind in ((1, "sType2"), (None, "cCCS1")):
        response, _ = reserve(sim, evse_id=evse_id, connectorType=kind)
        assert response["status"] == "Rejected"
        assert response["statusInfo"]["reasonCode"] == "UnknownConnectorType"
    response, _ = reserve(sim, evse_id=1, connectorType="Unknown")
    assert response == {"status": "Accepted"}, "Unknown stands for any connector type"
    assert [r.connector_type for r in sim.station.reservations] == [None]


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"evseId": 7}, "UnknownEvse"),
        ({"evseId": 0}, "UnknownEvse"),
        ({"evseId": -1}, "UnknownEvse"),
        ({"evseId": 2**53}, "UnknownEvse"),
        ({"id": 2**31}, "InvalidValue"),
        ({"id": -(2**63)}, "InvalidValue"),
        ({"expiryDateTime": "2020-01-01T00:00:00Z"}, "InvalidValue"),
        ({"expiryDateTime": "9999-12-31T23:59:59Z"}, "InvalidValue"),
        ({"expiryDateTime": "0001-01-01T00:00:00+23:59"}, "InvalidValue"),
        ({"expiryDateTime": "9999-12-31T23:59:59-23:59"}, "InvalidValue"),
    ],
    ids=[
        "evse-7",
        "evse-0",
        "evse-negative",
        "evse-huge",
        "id-above-int32",
        "id-huge-negative",
        "past",
        "year-9999",
        "year-1-offset",
        "year-9999-offset",
    ],
)
def test_bad_input_is_rejected_and_nothing_is_stored(fields: dict[str, object], reason: str) -> None:
    sim = booted()
    before = sim.station
    effects = sim.csms_call("ReserveNow", {**reserve_now(sim), **fields})
    (reply,) = replies(effects)
    assert reply[2]["status"] == "Rejected" and reply[2]["statusInfo"]["reasonCode"] == reason
    assert sim.station == before and not persisted(effects)
    response, _ = reserve(sim)
    assert response == {"status": "Accepted"}, "the station keeps working"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"idToken": {"idToken": "x" * 37, "type": "ISO14443"}}, "PropertyConstraintViolation"),
        ({"expiryDateTime": "tomorrow"}, "PropertyConstraintViolation"),
        ({"id": "1"}, "TypeConstraintViolation"),
    ],
    ids=["long-token", "not-a-time", "id-string"],
)
def test_a_request_the_schema_refuses_gets_a_callerror(fields: dict[str, object], code: str) -> None:
    sim = booted()
    (reply,) = replies(sim.csms_call("ReserveNow", {**reserve_now(sim), **fields}))
    assert reply[:3] == [4, "csms-1", code]
    assert sim.station.reservations == ()


def test_an_expiry_in_a_clock_the_csms_moved_counts_on_the_station_clock() -> None:
    """expiryDateTime is CSMS time; the station clock follows the CSMS (booted answers 2030), so 10 minutes from
    the station clock is in the future even though the shell clock is years earlier."""
    sim = booted()
    response, _ = reserve(sim, minutes=10)
    assert response == {"status": "Accepted"}
    response, _ = reserve(sim, reservation_id=2, minutes=-1)
    assert response["status"] == "Rejected"
