"""The composite schedule (K08): what an EVSE, or the whole station (EVSE 0), may draw over a window of time.

A pure function of explicit inputs. Rules (docs/smart_charging.md has the worked example):

- A profile limits at instant t when validFrom <= t < validTo and its schedule runs at t: Absolute from
  startSchedule; Recurring from the latest startSchedule + k days/weeks (k >= 0) not after t; Relative from the
  start of the transaction on the EVSE (without one it does not apply). A schedule with a duration stops that
  long after its start (a recurrence also at the next one); the period in force is the last one started.
- Within one purpose and scope the highest stackLevel wins; equal stack levels yield the lowest limit.
- The transaction layer of EVSE e: its TxProfile (for the transaction running on e), else its own
  TxDefaultProfile, else the station-wide TxDefaultProfile (EVSE 0), else the EVSE's maximum power.
- EVSE e may draw min(transaction layer, EVSE maximum, ChargingStationMaxProfile, ExternalConstraints on 0,
  ExternalConstraints on e); a limit under the transaction schedule's minChargingRate becomes 0 (pause rather
  than charge where the EV cannot).
- EVSE 0 may draw the sum over its EVSEs, capped by ChargingStationMaxProfile and ExternalConstraints on 0.
- Limits convert between A and W with the period's numberPhases (absent: the supply phases) and the nominal
  voltage; the composite's numberPhases is the transaction layer's.
- Offline, the purposes in IgnoredProfilePurposesOffline are left out.

Time is whole seconds from the window start: a boundary at a fractional instant takes effect at the next whole
second, so the schedule is exact at every whole second. The computation sweeps over boundaries (a heap per
purpose, then a merge of the layers): O(n log n) in the number of periods n, independent of the window length.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from chargecore.pure.blocks.smart_charging.charging_profiles import (
    EXTERNAL,
    MAX_PROFILE,
    RECURRENCE_SECONDS,
    TX,
    TX_DEFAULT,
    Profile,
)
from chargecore.pure.state import Transaction


@dataclass(frozen=True, slots=True)
class Conditions:
    """Everything besides the profiles that the composite schedule depends on."""

    evse_max_power: Mapping[int, float]
    """Watts each EVSE can deliver at most (EVSE.Power maxLimit); the limit where no profile limits."""
    transactions: Mapping[int, Transaction] = field(default_factory=lambda: MappingProxyType({}))
    """The transaction running on each EVSE, with its start on the same clock as the profiles."""
    supply_phases: int = 3
    voltage: float = 230.0
    offline: bool = False
    ignored_offline: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CompositePeriod:
    start: int
    limit: float
    number_phases: int


@dataclass(frozen=True, slots=True)
class CompositeSchedule:
    evse_id: int
    start: datetime
    duration: int
    unit: str
    periods: tuple[CompositePeriod, ...]
    """From second 0, each until the next; consecutive periods always differ."""

    def at(self, second: int) -> CompositePeriod:
        """The period in force `second` seconds after the start."""
        return self.periods[bisect_right([p.start for p in self.periods], second) - 1]


@dataclass(frozen=True, slots=True)
class _Level:
    """What one layer says during a stretch of time, in the requested unit."""

    limit: float
    phases: int
    min_rate: float


Steps = list[tuple[int, _Level | None]]
"""A step function over [0, duration): (first second, level or None for no limit), ascending, from 0."""


def whole_seconds(start: datetime, moment: datetime) -> int:
    """The first whole second from `start` at or after `moment` (exact integer arithmetic)."""
    delta = moment - start
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return -(-micros // 1_000_000)


def convert(limit: float, from_unit: str, to_unit: str, phases: int, voltage: float) -> float:
    if from_unit == to_unit:
        return limit
    return limit * voltage * phases if to_unit == "W" else limit / (voltage * phases)


def _anchors(profile: Profile, start: datetime, duration: int, session: Transaction | None) -> Iterable[int]:
    """The seconds at which the profile's schedule (re)starts, as far as they matter for the window."""
    if profile.kind == "Relative":
        return () if session is None else (whole_seconds(start, session.started_at),)
    if profile.schedule.start is None:
        return ()
    first = whole_seconds(start, profile.schedule.start)
    every = RECURRENCE_SECONDS.get(profile.recurrency or "") if profile.kind == "Recurring" else None
    if every is None:
        return (first,)
    k = max(0, -first // every)
    return range(first + k * every, duration, every)


def _segments(
    profile: Profile, start: datetime, duration: int, unit: str, conditions: Conditions, session: Transaction | None
) -> list[tuple[int, int, int, _Level]]:
    """(from, to, stack level, level) for each stretch of the window the profile limits."""
    schedule = profile.schedule
    low = 0 if profile.valid_from is None else max(0, whole_seconds(start, profile.valid_from))
    high = duration if profile.valid_to is None else min(duration, whole_seconds(start, profile.valid_to))
    if low >= high:
        return []
    every = RECURRENCE_SECONDS.get(profile.recurrency or "") if profile.kind == "Recurring" else None
    length = min(math.inf if schedule.duration is None else schedule.duration, every or math.inf)
    segments = []
    for anchor in _anchors(profile, start, duration, session):
        end = anchor + length
        for index, period in enumerate(schedule.periods):
            following = schedule.periods[index + 1].start if index + 1 < len(schedule.periods) else math.inf
            begin, finish = max(low, anchor + period.start), min(high, end, anchor + following)
            if begin < finish:
                phases = period.number_phases or conditions.supply_phases
                level = _Level(
                    convert(period.limit, schedule.rate_unit, unit, phases, conditions.voltage),
                    phases,
                    convert(schedule.min_rate or 0.0, schedule.rate_unit, unit, phases, conditions.voltage),
                )
                segments.append((begin, int(finish), profile.stack_level, level))
    return segments


def _winner(segments: Sequence[tuple[int, int, int, _Level]]) -> Steps:
    """Per second the level of the highest stack level in force (lowest level among equals): a heap sweep.

    Heap entries are plain tuples (-stack, limit, phases, min rate, end, n, level): comparisons stay native and
    the unique n settles full ties before the level is reached."""
    ordered = sorted(segments, key=lambda segment: segment[0])
    points = sorted({0, *(s[0] for s in segments), *(s[1] for s in segments)})
    heap: list[tuple[int, float, int, float, int, int, _Level]] = []
    steps: Steps = []
    index = 0
    for point in points:
        while index < len(ordered) and ordered[index][0] <= point:
            _, finish, stack, level = ordered[index]
            heapq.heappush(heap, (-stack, level.limit, level.phases, level.min_rate, finish, index, level))
            index += 1
        while heap and heap[0][4] <= point:
            heapq.heappop(heap)
        steps.append((point, heap[0][6] if heap else None))
    return steps


Combine = Callable[[Sequence[_Level | None]], _Level | None]


def _combine(layers: Sequence[Steps], combine: Combine) -> Steps:
    """Merge step functions point by point: one pass over their boundaries in time order."""
    events = sorted((point, i, level) for i, steps in enumerate(layers) for point, level in steps)
    current: list[_Level | None] = [None] * len(layers)
    merged: Steps = []
    for index, (point, layer, level) in enumerate(events):
        current[layer] = level
        if index + 1 == len(events) or events[index + 1][0] != point:
            merged.append((point, combine(current)))
    return merged


def _first(levels: Sequence[_Level | None]) -> _Level | None:
    return next((level for level in levels if level is not None), None)


def _evse_limit(maximum: _Level) -> Combine:
    """min(transaction layer or maximum, maximum, caps...) with the transaction layer's phases and minimum."""

    def combine(levels: Sequence[_Level | None]) -> _Level:
        tx, caps = levels[0], [level for level in levels[1:] if level is not None]
        chosen = tx or maximum
        limit = min([chosen.limit, maximum.limit, *(cap.limit for cap in caps)])
        if limit < chosen.min_rate:
            limit = 0.0
        return _Level(limit, chosen.phases, 0.0)

    return combine


def _station_limit(phases: int, evse_count: int) -> Combine:
    def combine(levels: Sequence[_Level | None]) -> _Level:
        evses, caps = levels[:evse_count], [level for level in levels[evse_count:] if level is not None]
        total = sum(level.limit for level in evses if level is not None)
        return _Level(min([total, *(cap.limit for cap in caps)]), phases, 0.0)

    return combine


@dataclass(frozen=True, slots=True)
class _Window:
    start: datetime
    duration: int
    unit: str
    conditions: Conditions

    def layer(self, profiles: Iterable[Profile], session: Transaction | None = None) -> Steps:
        segments = [
            segment
            for profile in profiles
            for segment in _segments(profile, self.start, self.duration, self.unit, self.conditions, session)
        ]
        return _winner(segments)


def _evse_steps(profiles: Sequence[Profile], evse_id: int, window: _Window) -> Steps:
    conditions = window.conditions
    session = conditions.transactions.get(evse_id)

    def chosen(purpose: str, scope: int) -> list[Profile]:
        return [p for p in profiles if p.purpose == purpose and p.evse_id == scope]

    tx_profiles = [p for p in chosen(TX, evse_id) if session is not None and p.transaction_id == session.transaction_id]
    tx_layer = _combine(
        [
            window.layer(tx_profiles, session),
            window.layer(chosen(TX_DEFAULT, evse_id), session),
            window.layer(chosen(TX_DEFAULT, 0), session),
        ],
        _first,
    )
    watts = conditions.evse_max_power.get(evse_id, 0.0)
    phases = conditions.supply_phases
    maximum = _Level(convert(watts, "W", window.unit, phases, conditions.voltage), phases, 0.0)
    caps = [
        window.layer(chosen(MAX_PROFILE, 0)),
        window.layer(chosen(EXTERNAL, 0)),
        window.layer(chosen(EXTERNAL, evse_id), session),
    ]
    return _combine([tx_layer, *caps], _evse_limit(maximum))


def composite_schedule(
    profiles: Iterable[Profile], evse_id: int, start: datetime, duration: int, unit: str, conditions: Conditions
) -> CompositeSchedule:
    """The limits EVSE `evse_id` (0: the grid connection of the whole station) is held to from `start` for
    `duration` seconds, in `unit` ("A" or "W")."""
    ignored = conditions.ignored_offline if conditions.offline else frozenset()
    usable = [profile for profile in profiles if profile.purpose not in ignored]
    window = _Window(start, max(duration, 1), unit, conditions)
    if evse_id == 0:
        evse_ids = sorted(conditions.evse_max_power)
        layers = [_evse_steps(usable, evse, window) for evse in evse_ids]
        caps = [
            window.layer(p for p in usable if p.purpose == purpose and p.evse_id == 0)
            for purpose in (MAX_PROFILE, EXTERNAL)
        ]
        steps = _combine([*layers, *caps], _station_limit(conditions.supply_phases, len(evse_ids)))
    else:
        steps = _evse_steps(usable, evse_id, window)
    return CompositeSchedule(evse_id, start, duration, unit, _periods(steps, window.duration))


def _periods(steps: Steps, duration: int) -> tuple[CompositePeriod, ...]:
    """The steps inside the window as periods, merging neighbours that change nothing."""
    periods: list[CompositePeriod] = []
    for point, level in steps:
        if point >= duration or level is None:
            continue
        if periods and (periods[-1].limit, periods[-1].number_phases) == (level.limit, level.phases):
            continue
        periods.append(CompositePeriod(point, level.limit, level.phases))
    return tuple(periods)
