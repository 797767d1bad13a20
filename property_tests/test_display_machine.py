"""A stateful property test of block O through `step`: hypothesis sets, replaces and clears display messages, faults
and recovers connectors and lets time pass on a two-EVSE station; the test keeps its own model of the store.

Invariants: every SetDisplayMessage gets the status the model predicts (window, capacity); after every step, what
the last ShowMessages told each EVSE equals the naive reference choice over the model's messages; a ShowMessages
never repeats the list an EVSE already shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core_helpers import Sim, booted, of_type, replies
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from chargecore.pure.blocks.display.messages import PRIORITIES, STATES, EvseSituation, StoredMessage
from chargecore.pure.effects import Effects, MessageContent, ShowMessages, ShownMessage
from chargecore.pure.inputs import Tick
from chargecore.pure.ocppj.timestamps import ocpp_time, station_time
from property_tests.test_display_choice import reference

EVSES = (1, 2)
CAPACITY = 10
NO_TARIFF = {"TariffCostCtrlr": {"Enabled[Tariff]": False}}


@dataclass(frozen=True)
class Sent:
    info: dict[str, Any]
    start: datetime | None
    end: datetime | None


class DisplayMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sim: Sim = booted((1, 1), config=NO_TARIFF)
        self.model: dict[int, StoredMessage] = {}
        self.order = 0
        self.faulted: set[int] = set()
        self.shown: dict[int, tuple[ShownMessage, ...]] = {}

    # --- helpers -------------------------------------------------------------------------------------------

    def moment(self) -> datetime:
        return station_time(self.sim.station, self.sim.now)

    def took(self, effects: Effects) -> None:
        for show in of_type(effects, ShowMessages):
            assert show.messages != self.shown.get(show.evse_id, ()), f"EVSE {show.evse_id} told the same list again"
            self.shown[show.evse_id] = show.messages
        now = self.moment()
        self.model = {i: m for i, m in self.model.items() if m.end is None or now < m.end}

    # --- rules ---------------------------------------------------------------------------------------------

    @rule(
        message_id=st.integers(1, 12),
        priority=st.sampled_from(PRIORITIES),
        state=st.one_of(st.none(), st.sampled_from(STATES)),
        start=st.one_of(st.none(), st.integers(-30, 90)),
        length=st.one_of(st.none(), st.integers(-10, 90)),
        evse=st.sampled_from([None, 1, 2]),
    )
    def set_message(
        self, message_id: int, priority: str, state: str | None, start: int | None, length: int | None, evse: int | None
    ) -> None:
        now = self.moment()
        begins = None if start is None else now + timedelta(seconds=start)
        ends = None if length is None else (begins or now) + timedelta(seconds=length)
        info: dict[str, Any] = {
            "id": message_id,
            "priority": priority,
            "message": {"format": "UTF8", "content": f"m{message_id}"},
        }
        if state is not None:
            info["state"] = state
        if begins is not None:
            info["startDateTime"] = ocpp_time(self.sim.station, self.sim.now + timedelta(seconds=start or 0))
        if ends is not None:
            info["endDateTime"] = ocpp_time(self.sim.station, self.sim.now + (ends - now))
        if evse is not None:
            info["display"] = {"name": "Display", "evse": {"id": evse}}
        fits = len([i for i in self.model if i != message_id]) < CAPACITY
        window = ends is None or (ends > now and (begins is None or ends > begins))
        effects = self.sim.csms_call("SetDisplayMessage", {"message": info})
        (reply,) = replies(effects)
        expected = "Accepted" if fits and window else "Rejected"
        assert reply[2]["status"] == expected, (reply, info)
        if expected == "Accepted":
            self.order += 1
            start_at = None if begins is None else _parsed(info["startDateTime"])
            end_at = None if ends is None else _parsed(info["endDateTime"])
            content = MessageContent(f"m{message_id}", "UTF8")
            self.model[message_id] = StoredMessage(
                message_id, priority, content, self.order, info, state, start_at, end_at, None, evse
            )
        self.took(effects)

    @rule(message_id=st.integers(1, 12))
    def clear(self, message_id: int) -> None:
        effects = self.sim.csms_call("ClearDisplayMessage", {"id": message_id})
        (reply,) = replies(effects)
        assert reply[2]["status"] == ("Accepted" if message_id in self.model else "Unknown")
        self.model.pop(message_id, None)
        self.took(effects)

    @rule(evse=st.sampled_from(EVSES))
    def fault_or_recover(self, evse: int) -> None:
        change = "recover" if evse in self.faulted else "fault"
        self.faulted ^= {evse}
        effects = self.sim.plug(evse, 1, change)
        self.took(effects + self.sim.answer_all())

    @rule(seconds=st.integers(1, 40))
    def time_passes(self, seconds: int) -> None:
        effects = self.sim.feed(Tick(self.sim.now + timedelta(seconds=seconds)))
        self.took(effects + self.sim.answer_all())

    @invariant()
    def each_display_shows_the_reference_choice(self) -> None:
        now = self.moment()
        for evse in EVSES:
            where = EvseSituation(evse, "Faulted" if evse in self.faulted else "Idle")
            expected = reference(tuple(self.model.values()), where, now, ())
            assert list(self.shown.get(evse, ())) == expected, (evse, now)


def _parsed(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


DisplayMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestDisplayMachine = DisplayMachine.TestCase
