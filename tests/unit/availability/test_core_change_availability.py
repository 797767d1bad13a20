"""ChangeAvailability (G03, G04) and the effective connector status, through `step`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from core_helpers import T0, Sim, at, booted, calls, make_station, of_type, persisted, replies

from chargecore.pure.blocks.availability.availability import connector_status, is_operative, refresh
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import ConnectorStatusChanged, Effects, Notify, OperativeChanged, SecurityEventLogged
from chargecore.pure.state import Availability, Connector, Transaction

EVSE_1 = {"id": 1}
CONNECTOR_2_1 = {"id": 2, "connectorId": 1}


def change(sim: Sim, status: str, evse: dict[str, Any] | None = None, message_id: str = "csms-1") -> Effects:
    payload: dict[str, Any] = {"operationalStatus": status}
    if evse is not None:
        payload["evse"] = evse
    return sim.csms_call("ChangeAvailability", payload, message_id)


def answer(effects: Effects) -> dict[str, Any]:
    (reply,) = replies(effects)
    assert reply[0] == 3, reply
    payload: dict[str, Any] = reply[2]
    return payload


def statuses(sim: Sim, effects: Effects) -> list[tuple[int, int, str]]:
    """StatusNotifications sent by `effects` and after them, as the CSMS answers each."""
    sent = calls(effects) + calls(sim.answer_all())
    return [
        (c.payload["evseId"], c.payload["connectorId"], c.payload["connectorStatus"])
        for c in sent
        if c.action == "StatusNotification"
    ]


def told(effects: Effects) -> list[object]:
    """What the application heard, besides the security log."""
    return [effect.event for effect in of_type(effects, Notify) if not isinstance(effect.event, SecurityEventLogged)]


def availability_state(sim: Sim, component: str, evse_id: int | None = None, connector_id: int | None = None) -> str:
    value = get_value(sim.station.device_model, VariableKey(component, "AvailabilityState", evse_id, connector_id))
    assert value is not None
    return value


def running(evse_id: int, connector_id: int = 1) -> Transaction:
    return Transaction(f"tx-{evse_id}", evse_id, connector_id, T0, phase="started")


# --- the precedence function ------------------------------------------------------------------------------------

SETTINGS = {
    "all operative": frozenset(),
    "station inoperative": frozenset({(0, 0)}),
    "evse inoperative": frozenset({(1, 0)}),
    "connector inoperative": frozenset({(1, 1)}),
    "other evse inoperative": frozenset({(2, 0)}),
}


@pytest.mark.parametrize(
    ("phase", "setting", "transaction", "expected"),
    [
        ("empty", "all operative", False, "Available"),
        ("plugged", "all operative", False, "Occupied"),
        ("faulted", "all operative", False, "Faulted"),
        ("plugged_faulted", "all operative", False, "Faulted"),
        ("empty", "other evse inoperative", False, "Available"),
        *((phase, setting, False, "Unavailable") for phase in ("empty", "plugged") for setting in list(SETTINGS)[1:4]),
        *((phase, setting, False, "Faulted") for phase in ("faulted", "plugged_faulted") for setting in SETTINGS),
        ("plugged", "station inoperative", True, "Occupied"),
        ("plugged", "evse inoperative", True, "Occupied"),
        ("plugged", "connector inoperative", True, "Occupied"),
        ("faulted", "station inoperative", True, "Faulted"),
    ],
)
def test_the_precedence_of_the_effective_status(phase: str, setting: str, transaction: bool, expected: str) -> None:
    station = make_station((1, 1))
    connector = Connector(1, 1, phase)
    station = replace(
        station,
        connectors=(connector, Connector(2, 1)),
        availability=Availability(SETTINGS[setting]),
        transactions=(running(1),) if transaction else (),
    )
    assert connector_status(station, connector) == expected
    assert is_operative(station, connector) == (transaction or setting in ("all operative", "other evse inoperative"))


def test_a_transaction_on_another_evse_does_not_hold_this_one() -> None:
    station = replace(make_station((1, 1)), availability=Availability(frozenset({(0, 0)})), transactions=(running(2),))
    assert connector_status(station, station.connectors[0]) == "Unavailable"
    assert connector_status(station, station.connectors[1]) == "Available"


# --- the handler ------------------------------------------------------------------------------------------------


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.06", "G03.FR.08")
def test_an_evse_set_inoperative_reports_its_connectors_unavailable_after_the_response() -> None:
    sim = booted((2, 1))
    sim.now = at(10)
    effects = change(sim, "Inoperative", EVSE_1)
    assert answer(effects) == {"status": "Accepted"}
    kinds = [type(e).__name__ for e in effects]
    assert kinds.index("SendFrame") < kinds.index("Notify"), "the response goes first"
    assert told(effects) == [
        OperativeChanged(1, 1, False),
        ConnectorStatusChanged(1, 1, "Unavailable"),
        OperativeChanged(1, 2, False),
        ConnectorStatusChanged(1, 2, "Unavailable"),
    ]
    assert persisted(effects) == {"availability/EVSE[1]": "Inoperative"}
    assert statuses(sim, effects) == [(1, 1, "Unavailable"), (1, 2, "Unavailable")]
    assert availability_state(sim, "EVSE", 1) == "Unavailable"
    assert availability_state(sim, "Connector", 1, 2) == "Unavailable"
    assert availability_state(sim, "EVSE", 2) == "Available"
    assert availability_state(sim, "ChargingStation") == "Available"


@pytest.mark.requirements("G03.FR.07")
def test_back_to_operative_reports_the_physical_status_and_forgets_the_setting() -> None:
    sim = booted((1, 1))
    sim.now = at(10)
    change(sim, "Inoperative", CONNECTOR_2_1)
    sim.answer_all()
    sim.plug(evse_id=2)
    assert statuses(sim, ()) == [], "plugged while Unavailable is still Unavailable"
    effects = change(sim, "Operative", CONNECTOR_2_1, "csms-2")
    assert answer(effects) == {"status": "Accepted"}
    assert told(effects) == [OperativeChanged(2, 1, True), ConnectorStatusChanged(2, 1, "Occupied")]
    assert persisted(effects) == {"availability/Connector[2,1]": None}
    assert statuses(sim, effects) == [(2, 1, "Occupied")]
    assert availability_state(sim, "EVSE", 2) == "Occupied"


@pytest.mark.requirements("G03.FR.03", "G04.FR.04")
@pytest.mark.parametrize("evse", [None, EVSE_1, {"id": 1, "connectorId": 1}])
@pytest.mark.parametrize("status", ["Operative", "Inoperative"])
def test_the_same_availability_again_is_accepted_and_reports_nothing(evse: dict[str, Any] | None, status: str) -> None:
    sim = booted()
    sim.now = at(10)
    if status == "Inoperative":
        change(sim, status, evse)
        sim.answer_all()
    effects = change(sim, status, evse, "csms-2")
    assert answer(effects) == {"status": "Accepted"}
    assert not calls(effects) and not told(effects) and not persisted(effects)


@pytest.mark.requirements("G04.FR.07", "G04.FR.08", "G04.FR.09")
def test_an_inoperative_station_outranks_an_operative_evse() -> None:
    sim = booted((1, 1))
    sim.now = at(10)
    effects = change(sim, "Inoperative")
    assert persisted(effects) == {"availability/ChargingStation": "Inoperative"}
    assert statuses(sim, effects) == [(1, 1, "Unavailable"), (2, 1, "Unavailable")]
    assert availability_state(sim, "ChargingStation") == "Unavailable"
    for message_id, evse in (("csms-2", EVSE_1), ("csms-3", CONNECTOR_2_1)):
        effects = change(sim, "Operative", evse, message_id)
        assert answer(effects) == {"status": "Accepted"}
        assert not calls(effects) and not told(effects), "still Unavailable: the station is Inoperative"
    assert statuses(sim, change(sim, "Operative", None, "csms-4")) == [(1, 1, "Available"), (2, 1, "Available")]


def test_an_evse_set_inoperative_under_an_inoperative_station_stays_so_when_the_station_returns() -> None:
    sim = booted((1, 1))
    sim.now = at(10)
    change(sim, "Inoperative")
    change(sim, "Inoperative", EVSE_1, "csms-2")
    sim.answer_all()
    assert statuses(sim, change(sim, "Operative", None, "csms-3")) == [(2, 1, "Available")]


def test_faulted_outranks_unavailable_and_no_transient_is_reported() -> None:
    sim = booted()
    sim.now = at(10)
    change(sim, "Inoperative", EVSE_1)
    sim.answer_all()
    assert statuses(sim, sim.plug(change="fault")) == [(1, 1, "Faulted")]
    assert told(sim.plug()) == [], "plugged while faulted and inoperative: nothing changes"
    assert statuses(sim, sim.plug(change="recover")) == [(1, 1, "Unavailable")]
    assert statuses(sim, change(sim, "Operative", EVSE_1, "csms-2")) == [(1, 1, "Occupied")]


@pytest.mark.parametrize(
    ("evse", "reason"),
    [
        ({"id": 3}, "UnknownEvse"),
        ({"id": 0}, "UnknownEvse"),
        ({"id": 3, "connectorId": 1}, "UnknownEvse"),
        ({"id": 1, "connectorId": 2}, "UnknownConnectorId"),
        ({"id": 1, "connectorId": 0}, "UnknownConnectorId"),
    ],
)
def test_an_unknown_evse_or_connector_is_rejected(evse: dict[str, Any], reason: str) -> None:
    sim = booted((1, 1))
    before = sim.station
    effects = change(sim, "Inoperative", evse)
    assert answer(effects) == {"status": "Rejected", "statusInfo": {"reasonCode": reason}}
    assert sim.station == before and not calls(effects) and not persisted(effects)


def test_a_malformed_request_gets_a_call_error() -> None:
    sim = booted()
    (reply,) = replies(sim.csms_call("ChangeAvailability", {"operationalStatus": "Sleeping"}))
    assert reply[0] == 4 and reply[2] == "PropertyConstraintViolation"


# --- Scheduled: a transaction holds its EVSE --------------------------------------------------------------------


def with_transaction_on_evse_1(evse_connectors: tuple[int, ...] = (1, 1)) -> Sim:
    sim = booted(evse_connectors)
    sim.now = at(10)
    sim.plug()
    sim.answer_all()
    sim.station = replace(sim.station, transactions=(running(1),))
    return sim


def end_transaction(sim: Sim) -> Effects:
    sim.station = replace(sim.station, transactions=())
    sim.station, effects = refresh(sim.station)
    return effects


@pytest.mark.requirements("G03.FR.05")
@pytest.mark.parametrize("evse", [EVSE_1, {"id": 1, "connectorId": 1}])
def test_inoperative_while_a_transaction_runs_is_scheduled_until_it_ends(evse: dict[str, Any]) -> None:
    sim = with_transaction_on_evse_1()
    effects = change(sim, "Inoperative", evse)
    assert answer(effects) == {"status": "Scheduled"}
    assert not told(effects) and statuses(sim, effects) == [], "the transaction keeps the EVSE Operative"
    assert persisted(effects), "the setting is stored at once, so a reboot does not lose it"

    ended = end_transaction(sim)
    assert told(ended) == [OperativeChanged(1, 1, False), ConnectorStatusChanged(1, 1, "Unavailable")]
    assert availability_state(sim, "Connector", 1, 1) == "Unavailable"
    assert statuses(sim, sim.tick()) == [(1, 1, "Unavailable")], "reported with the next step's settle"


@pytest.mark.requirements("G04.FR.06")
def test_a_station_inoperative_while_a_transaction_runs_is_scheduled_and_the_idle_evse_goes_at_once() -> None:
    sim = with_transaction_on_evse_1()
    effects = change(sim, "Inoperative")
    assert answer(effects) == {"status": "Scheduled"}
    assert statuses(sim, effects) == [(2, 1, "Unavailable")]
    assert availability_state(sim, "ChargingStation") == "Occupied", "still charging on EVSE 1"
    sim.station = replace(sim.station, transactions=())
    assert statuses(sim, sim.tick()) == [(1, 1, "Unavailable")], "a plain step applies it too"
    assert availability_state(sim, "ChargingStation") == "Unavailable"


def test_operative_while_a_transaction_runs_is_accepted_and_cancels_a_scheduled_change() -> None:
    sim = with_transaction_on_evse_1()
    change(sim, "Inoperative", EVSE_1)
    effects = change(sim, "Operative", EVSE_1, "csms-2")
    assert answer(effects) == {"status": "Accepted"}
    assert told(end_transaction(sim)) == []


def test_a_transaction_on_another_evse_does_not_schedule() -> None:
    sim = with_transaction_on_evse_1()
    assert answer(change(sim, "Inoperative", CONNECTOR_2_1)) == {"status": "Accepted"}


# --- persistence ------------------------------------------------------------------------------------------------


@pytest.mark.requirements("G03.FR.08", "G04.FR.09")
def test_a_restarted_station_comes_up_with_the_persisted_availability() -> None:
    first = booted((1, 1))
    stored = persisted(change(first, "Inoperative", CONNECTOR_2_1))

    sim = Sim(make_station((1, 1), stored=stored))
    powered = sim.power_up(0)
    assert told(powered) == [OperativeChanged(2, 1, False), ConnectorStatusChanged(2, 1, "Unavailable")]
    sim.connect(1)
    boot_effects = sim.reply(at_s=2)
    assert statuses(sim, boot_effects) == [(1, 1, "Available"), (2, 1, "Unavailable")]
    assert availability_state(sim, "Connector", 2, 1) == "Unavailable"


def test_persisted_settings_of_components_the_station_no_longer_has_are_ignored() -> None:
    stored = {"availability/EVSE[3]": "Inoperative", "availability/Connector[1,5]": "Inoperative"}
    station = make_station((1,), stored={**stored, "availability/Connector[1,1]": "Inoperative"})
    assert station.availability.inoperative == frozenset({(1, 1)})
