"""Property tests of the composite schedule (K08) against the naive per-second reference.

Hypothesis draws sets of profiles of every purpose (ChargingStationMaxProfile, ExternalConstraints on the
station and on an EVSE, TxDefaultProfile on the station and on an EVSE, TxProfile for the running transaction or
another one), every kind (Absolute, Recurring Daily and Weekly, Relative), units A and W, numberPhases, validity,
durations and minChargingRate, with transactions on some EVSEs, online or offline.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.smart_charging.charging_profiles import Period, Profile, Schedule
from chargecore.pure.blocks.smart_charging.composite_schedule import (
    CompositePeriod,
    CompositeSchedule,
    Conditions,
    composite_schedule,
)
from chargecore.pure.state import Transaction
from property_tests.reference_composite import evse_limit_at, layer_value, station_limit_at, usable

W0 = datetime(2024, 3, 4, 10, 0, 0, tzinfo=UTC)
EVSES = (1, 2)
PURPOSES = (
    ("ChargingStationMaxProfile", 0),
    ("ChargingStationExternalConstraints", 0),
    ("ChargingStationExternalConstraints", 1),
    ("TxDefaultProfile", 0),
    ("TxDefaultProfile", 1),
    ("TxDefaultProfile", 2),
    ("TxProfile", 1),
    ("TxProfile", 2),
)
PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

moments = st.builds(
    lambda seconds, micros: W0 + timedelta(seconds=seconds, microseconds=micros),
    st.integers(-3 * 3600, 3600),
    st.sampled_from([0, 0, 0, 250_000, 999_999]),
)


@st.composite
def periods(draw: Any, unit: str) -> tuple[Period, ...]:
    count = draw(st.integers(1, 4))
    starts = [0]
    for _ in range(count - 1):
        starts.append(starts[-1] + draw(st.integers(1, 1500)))
    top = 64 if unit == "A" else 44_000
    return tuple(
        Period(start, float(draw(st.integers(0, top))), draw(st.sampled_from([None, 1, 2, 3]))) for start in starts
    )


@st.composite
def profiles(draw: Any, profile_id: int) -> Profile:
    purpose, evse_id = draw(st.sampled_from(PURPOSES))
    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    recurrency = draw(st.sampled_from(["Daily", "Weekly"])) if kind == "Recurring" else None
    unit = draw(st.sampled_from(["A", "W"]))
    start = None
    if kind != "Relative":
        start = draw(moments)
        if recurrency is not None:
            start -= draw(st.integers(0, 2)) * (timedelta(days=1) if recurrency == "Daily" else timedelta(days=7))
    valid_from = draw(st.none() | moments)
    valid_to = draw(st.none() | moments.map(lambda moment: moment + timedelta(hours=2)))
    schedule = Schedule(
        unit,
        draw(periods(unit)),
        start,
        draw(st.none() | st.integers(1, 4000)),
        draw(st.none() | st.sampled_from([6.0, 10.0, 4000.0])),
    )
    transaction_id = draw(st.sampled_from([f"tx-{evse_id}", "tx-other"])) if purpose == "TxProfile" else None
    stack = draw(st.integers(0, 2))
    return Profile(
        profile_id, evse_id, purpose, kind, stack, schedule, recurrency, valid_from, valid_to, transaction_id
    )


@st.composite
def profile_sets(draw: Any) -> tuple[Profile, ...]:
    count = draw(st.integers(0, 6))
    return tuple(draw(profiles(index + 1)) for index in range(count))


@st.composite
def conditions(draw: Any) -> Conditions:
    transactions = {}
    for evse_id in EVSES:
        if draw(st.booleans()):
            started = W0 + timedelta(seconds=draw(st.integers(-7200, 1800)))
            transactions[evse_id] = Transaction(f"tx-{evse_id}", evse_id, 1, started)
    ignored = draw(
        st.frozensets(st.sampled_from(["ChargingStationExternalConstraints", "TxDefaultProfile", "TxProfile"]))
    )
    return Conditions(
        MappingProxyType({1: 22_000.0, 2: 11_000.0}),
        MappingProxyType(transactions),
        supply_phases=draw(st.sampled_from([1, 3])),
        voltage=230.0,
        offline=draw(st.booleans()),
        ignored_offline=ignored,
    )


def reference(profiles_: tuple[Profile, ...], evse_id: int, t: datetime, unit: str, given: Conditions) -> float:
    if evse_id == 0:
        return station_limit_at(profiles_, t, unit, given)
    return evse_limit_at(profiles_, evse_id, t, unit, given)[0]


@PROPERTY
@given(
    profile_sets(),
    conditions(),
    st.sampled_from([0, 1, 2]),
    st.sampled_from(["A", "W"]),
    st.integers(1, 1800),
)
def test_composite_agrees_with_the_per_second_reference(
    installed: tuple[Profile, ...], given_: Conditions, evse_id: int, unit: str, duration: int
) -> None:
    schedule = composite_schedule(installed, evse_id, W0, duration, unit, given_)
    assert schedule.periods[0].start == 0
    for second in range(duration):
        expected = reference(installed, evse_id, W0 + timedelta(seconds=second), unit, given_)
        assert math.isclose(schedule.at(second).limit, expected, rel_tol=1e-9, abs_tol=1e-9), second
        if evse_id:
            phases = evse_limit_at(installed, evse_id, W0 + timedelta(seconds=second), unit, given_)[1]
            assert schedule.at(second).number_phases == phases, second


@PROPERTY
@given(profile_sets(), conditions(), st.sampled_from([0, 1, 2]), st.sampled_from(["A", "W"]))
def test_composite_never_exceeds_the_station_maximum_or_external_limit_in_force(
    installed: tuple[Profile, ...], given_: Conditions, evse_id: int, unit: str
) -> None:
    """In force: the highest stack level of ChargingStationMaxProfile, or of ExternalConstraints on the station
    or on this EVSE, that is valid and running at that second (and not ignored offline)."""
    duration = 1800
    schedule = composite_schedule(installed, evse_id, W0, duration, unit, given_)
    scopes = [("ChargingStationMaxProfile", 0), ("ChargingStationExternalConstraints", 0)]
    if evse_id:
        scopes.append(("ChargingStationExternalConstraints", evse_id))
    session = given_.transactions.get(evse_id)
    for second in range(0, duration, 7):
        t = W0 + timedelta(seconds=second)
        for purpose, scope in scopes:
            chosen = [p for p in usable(installed, given_) if p.purpose == purpose and p.evse_id == scope]
            anchor = session.started_at if scope and session is not None else None
            in_force = layer_value(chosen, t, unit, given_, anchor)
            if in_force is not None:
                assert schedule.at(second).limit <= in_force[0] + 1e-9, (second, purpose, scope)


@PROPERTY
@given(profile_sets(), conditions(), st.sampled_from([0, 1, 2]), st.sampled_from(["A", "W"]), st.randoms())
def test_composite_does_not_depend_on_the_installation_order(
    installed: tuple[Profile, ...], given_: Conditions, evse_id: int, unit: str, shuffler: random.Random
) -> None:
    shuffled = list(installed)
    shuffler.shuffle(shuffled)
    first = composite_schedule(installed, evse_id, W0, 86_400, unit, given_)
    assert composite_schedule(shuffled, evse_id, W0, 86_400, unit, given_) == first


def _join(left: CompositeSchedule, right: CompositeSchedule) -> tuple[CompositePeriod, ...]:
    shifted = [replace(p, start=p.start + left.duration) for p in right.periods]
    joined: list[CompositePeriod] = []
    for period in [*left.periods, *shifted]:
        if joined and (joined[-1].limit, joined[-1].number_phases) == (period.limit, period.number_phases):
            continue
        joined.append(period)
    return tuple(joined)


@PROPERTY
@given(profile_sets(), conditions(), st.sampled_from([0, 1, 2]), st.sampled_from(["A", "W"]), st.integers(1, 86_399))
def test_splitting_the_window_in_two_and_joining_gives_the_same_schedule(
    installed: tuple[Profile, ...], given_: Conditions, evse_id: int, unit: str, cut: int
) -> None:
    whole = composite_schedule(installed, evse_id, W0, 86_400, unit, given_)
    left = composite_schedule(installed, evse_id, W0, cut, unit, given_)
    right = composite_schedule(installed, evse_id, W0 + timedelta(seconds=cut), 86_400 - cut, unit, given_)
    assert _join(left, right) == whole.periods


@pytest.mark.parametrize("unit", ["A", "W"])
def test_reference_and_composite_agree_on_a_plain_day(unit: str) -> None:
    """A sanity anchor for the properties: without profiles both give the EVSE maximum all day."""
    given_ = Conditions(MappingProxyType({1: 22_000.0, 2: 11_000.0}))
    schedule = composite_schedule((), 1, W0, 86_400, unit, given_)
    assert len(schedule.periods) == 1
    assert schedule.periods[0].limit == reference((), 1, W0, unit, given_)
