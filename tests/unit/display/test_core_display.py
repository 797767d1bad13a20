"""Display messages (block O) through `step`: what is stored and persisted, when ShowMessages goes out, and for
which EVSE."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core_helpers import T0, Sim, booted, of_type, persisted, replies

from chargecore.pure.blocks.display import display_messages
from chargecore.pure.blocks.display.display_messages import KEY_PREFIX
from chargecore.pure.boot import dropped_records
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.effects import Persist, ShowMessages
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.station import next_deadline

NO_TARIFF = {"TariffCostCtrlr": {"Enabled[Tariff]": False}}


def message(message_id: int, text: str, priority: str = "NormalCycle", **extra: Any) -> dict[str, Any]:
    return {"id": message_id, "priority": priority, "message": {"format": "UTF8", "content": text}, **extra}


def set_message(sim: Sim, info: dict[str, Any]) -> tuple[str, list[ShowMessages]]:
    effects = sim.csms_call("SetDisplayMessage", {"message": info})
    (reply,) = replies(effects)
    return reply[2]["status"], of_type(effects, ShowMessages)


def texts(show: ShowMessages) -> list[str]:
    return [shown.content.text for shown in show.messages]


def station(evse_connectors: tuple[int, ...] = (1,), **config: Any) -> Sim:
    return booted(evse_connectors, config={**NO_TARIFF, **config})


def test_show_messages_goes_out_once_per_change() -> None:
    sim = station()
    status, shown = set_message(sim, message(1, "hello"))
    assert status == "Accepted"
    assert [(s.evse_id, texts(s)) for s in shown] == [(1, ["hello"])]
    assert not of_type(sim.tick(), ShowMessages), "nothing changed: nothing to show again"
    _, shown = set_message(sim, message(1, "hello"))
    assert not shown, "the same list again is not a change"


def test_a_message_for_one_display_goes_to_that_evse_only() -> None:
    sim = station((1, 1))
    _, shown = set_message(sim, message(1, "evse two", display={"name": "Display", "evse": {"id": 2}}))
    assert [(s.evse_id, texts(s)) for s in shown] == [(2, ["evse two"])]
    status, _ = set_message(sim, message(2, "x", display={"name": "Display", "evse": {"id": 3}}))
    assert status == "Rejected", "the station has no EVSE 3"


def test_a_state_message_follows_the_evse_state() -> None:
    sim = station()
    _, shown = set_message(sim, message(1, "out of order", state="Faulted"))
    assert not shown
    assert [texts(s) for s in of_type(sim.plug(change="fault"), ShowMessages)] == [["out of order"]]
    assert [texts(s) for s in of_type(sim.plug(change="recover"), ShowMessages)] == [[]]


def test_set_and_clear_persist_the_message() -> None:
    sim = station()
    info = message(5, "kept")
    effects = sim.csms_call("SetDisplayMessage", {"message": info})
    assert persisted(effects)[f"{KEY_PREFIX}5"]["info"] == info
    assert of_type(effects, Persist)[0] is effects[0], "persisted before the reply"
    effects = sim.csms_call("ClearDisplayMessage", {"id": 5})
    assert persisted(effects) == {f"{KEY_PREFIX}5": None}


def test_a_stored_message_is_restored_and_a_damaged_one_dropped() -> None:
    stored = {
        f"{KEY_PREFIX}1": {"info": message(1, "back"), "order": 4},
        f"{KEY_PREFIX}2": {"info": {**message(2, "x"), "endDateTime": "not a time"}, "order": 5},
        f"{KEY_PREFIX}3": {"info": {"id": 3}, "order": 6},
        f"{KEY_PREFIX}4": {"info": message(4, "x"), "order": "first"},
        f"{KEY_PREFIX}5": ["not", "a", "record"],
    }
    sim = booted(config=NO_TARIFF, stored=stored)
    assert [m.message_id for m in sim.station.display.messages] == [1]
    assert sim.station.display.next_order == 5
    assert any(texts(s) == ["back"] for s in of_type(tuple(sim.log), ShowMessages))
    dropped = dropped_records(sim.station, stored)
    assert sorted(line.split(":")[0] for line in dropped) == [f"{KEY_PREFIX}{i}" for i in (2, 3, 4, 5)]
    assert all("stored display message dropped" in line for line in dropped)


def test_the_window_edges_are_the_block_deadline_in_shell_time() -> None:
    sim = station()
    start = T0 + timedelta(minutes=10)
    window = {
        "startDateTime": ocpp_time(sim.station, start),
        "endDateTime": ocpp_time(sim.station, start + timedelta(minutes=5)),
    }
    _, shown = set_message(sim, message(1, "soon", **window))
    assert not shown
    assert next_deadline(sim.station) is not None and next_deadline(sim.station) <= start
    while sim.now < start:
        effects = sim.tick_deadline()
    assert [texts(s) for s in of_type(effects, ShowMessages)] == [["soon"]]
    while sim.station.display.messages:
        effects = sim.tick_deadline()
    assert [texts(s) for s in of_type(effects, ShowMessages)] == [[]]
    assert persisted(effects) == {f"{KEY_PREFIX}1": None}, "an outdated message leaves the store"


def test_the_window_is_read_on_the_csms_clock() -> None:
    """startDateTime is CSMS time: once the CSMS has moved the station clock an hour ahead, a message that starts
    in 30 minutes of CSMS time is due 30 minutes from now, not 90."""
    sim = station()
    sim.correct_clock(3600)
    starts = ocpp_time(sim.station, sim.now + timedelta(minutes=30))
    _, shown = set_message(sim, message(1, "later", startDateTime=starts))
    assert not shown
    due = display_messages.deadline(sim.station)
    assert due is not None and abs(due - (sim.now + timedelta(minutes=30))) < timedelta(seconds=1)


def test_display_and_tariff_controllers_say_available_because_their_blocks_answer() -> None:
    """The device model tells the truth: Available true for O and I, and their CSMS messages are handled."""
    sim = booted()
    model = sim.station.device_model
    for component, instance in (
        ("DisplayMessageCtrlr", None),
        ("TariffCostCtrlr", "Tariff"),
        ("TariffCostCtrlr", "Cost"),
    ):
        assert model.values[VariableKey(component, "Available", variable_instance=instance), "Actual"] == "true"
    for action, payload in (
        ("GetDisplayMessages", {"requestId": 1}),
        ("ClearDisplayMessage", {"id": 1}),
        ("CostUpdated", {"totalCost": 1, "transactionId": "x"}),
    ):
        (reply,) = replies(sim.csms_call(action, payload))
        assert reply[0] == 3, reply


def test_a_message_cleared_before_its_start_leaves_no_timer_due() -> None:
    """Found by property_tests/test_display_machine.py: the start edge of the only message stayed the block's
    deadline after ClearDisplayMessage, so a timer was due for ever (a shell would spin on it)."""
    sim = station()
    starts = ocpp_time(sim.station, sim.now + timedelta(seconds=1))
    assert set_message(sim, message(1, "soon", startDateTime=starts))[0] == "Accepted"
    assert next_deadline(sim.station) is not None
    (reply,) = replies(sim.csms_call("ClearDisplayMessage", {"id": 1}))
    assert reply[2] == {"status": "Accepted"}
    assert display_messages.deadline(sim.station) is None
