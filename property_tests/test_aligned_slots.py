"""Clock-aligned meter values (J01) while the CSMS corrects the station clock at random, forward and back.

The oracle is written here from J01.FR.01 and TC_J_01's post-scenario check ("the intervals between the
timestamps must equal AlignedDataInterval"): the test keeps its own model of the station clock (the CSMS time of
the boot answer, moved by every correction it sends) and checks, for every MeterValuesRequest:

- its timestamp is a slot boundary counted from midnight, later than the slot before (no slot twice);
- it follows the slot before by exactly Interval, unless a forward correction came in between (a clock that
  jumped over a boundary reports the slot it landed in, so the gap is then a whole number of Intervals);
- it went out while the station clock was inside that slot (never early, never a slot late).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core_helpers import CSMS_TIME, Sim, at, booted, calls
from hypothesis import given, settings
from hypothesis import strategies as st

from chargecore.pure.effects import Effects
from chargecore.pure.inputs import Tick
from chargecore.pure.station import next_deadline

INTERVAL = timedelta(seconds=60)
"""AlignedDataCtrlr.Interval; it divides the day, so every slot is a whole Interval long."""
TOLERANCE = timedelta(milliseconds=10)
"""OCPP times carry milliseconds: each correction the test sends is truncated to them."""
BOOT_ANSWERED = at(2)
"""When `booted` answers the BootNotification with CSMS_TIME."""

WAIT = st.tuples(st.just("wait"), st.integers(min_value=100, max_value=150_000))
SMALL = st.tuples(st.just("correct"), st.integers(min_value=-1_000, max_value=1_000))
LARGE = st.tuples(st.just("correct"), st.integers(min_value=-90_000, max_value=90_000))
STEPS = st.lists(st.one_of(WAIT, SMALL, LARGE), max_size=30)
"""Milliseconds of waiting (the shell ticking at every deadline) and clock corrections by Heartbeat answers."""


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def on_grid(moment: datetime) -> bool:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return (moment - midnight) % INTERVAL == timedelta(0)


def slots_sent(sim: Sim, until: datetime) -> list[tuple[datetime, datetime]]:
    """Tick at every deadline up to `until` (at once for one already past), then at `until`, the CSMS answering
    everything; each slot sent as (its timestamp, the shell's moment it went out)."""
    sent: list[tuple[datetime, datetime]] = []
    while (deadline := next_deadline(sim.station)) is not None and deadline <= until:
        effects = sim.feed(Tick(max(deadline, sim.now)))
        sent += _meter_values(effects + sim.answer_all(), sim.now)  # a slot may wait behind a Heartbeat
    effects = sim.feed(Tick(until))
    return sent + _meter_values(effects + sim.answer_all(), sim.now)


def _meter_values(effects: Effects, now: datetime) -> list[tuple[datetime, datetime]]:
    return [
        (parse(call.payload["meterValue"][0]["timestamp"]), now)
        for call in calls(effects)
        if call.action == "MeterValues"
    ]


@settings(max_examples=150, deadline=None)
@given(steps=STEPS)
def test_every_slot_goes_out_once_one_interval_apart_whatever_the_corrections(steps: list[tuple[str, int]]) -> None:
    sim = booted(config={"AlignedDataCtrlr": {"Interval": 60}, "SampledDataCtrlr": {"TxUpdatedInterval": 0}})
    sim.meter(500.0)
    offset = parse(CSMS_TIME) - BOOT_ANSWERED  # the test's model of the station clock: shell time plus this
    slots: list[datetime] = []
    jumped = False
    set_back = sum(-milliseconds for kind, milliseconds in steps if kind == "correct" and milliseconds < 0)
    for kind, milliseconds in [*steps, ("wait", 151_000 + set_back)]:  # enough to get back, plus an Interval
        amount = timedelta(milliseconds=milliseconds)
        if kind == "correct":
            sim.correct_clock(amount.total_seconds())
            offset += amount
            jumped = jumped or amount > timedelta(0)
            continue
        for slot, sent_at in slots_sent(sim, sim.now + amount):
            clock = sent_at + offset
            assert on_grid(slot), slot
            assert slot - TOLERANCE <= clock < slot + INTERVAL + TOLERANCE, (slot, clock)
            if slots:
                gap = slot - slots[-1]
                assert gap > timedelta(0), f"slot {slot} sent again or out of order after {slots[-1]}"
                assert gap == INTERVAL or (jumped and gap % INTERVAL == timedelta(0)), (slots[-1], slot)
            slots.append(slot)
            jumped = False
    assert slots, "a slot goes out at the latest an Interval after the clock is back where it was"
