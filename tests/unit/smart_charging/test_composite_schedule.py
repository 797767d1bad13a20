"""The composite schedule (K08) as a pure function: the worked example of docs/smart_charging.md, worked out by
hand, and plain regression tests for the rules the property tests exercise at random."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from chargecore.pure.blocks.smart_charging.charging_profiles import Period, Profile, Schedule
from chargecore.pure.blocks.smart_charging.composite_schedule import Conditions, composite_schedule
from chargecore.pure.state import Transaction

TEN = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
MAX_A = 22_000 / (230 * 3)
"""An EVSE's maximum (EVSE.Power MaxSet 22 kW) in A on 3 phases at 230 V: 31.88 A."""


def at(hours: float) -> datetime:
    return TEN + timedelta(hours=hours)


def make(
    profile_id: int,
    purpose: str,
    evse_id: int,
    periods: list[tuple[int, float]],
    kind: str = "Absolute",
    start: datetime | None = TEN,
    stack: int = 0,
    unit: str = "A",
    *,
    duration: int | None = None,
    min_rate: float | None = None,
    phases: int | None = None,
    **profile_fields: Any,
) -> Profile:
    schedule = Schedule(
        unit,
        tuple(Period(offset, limit, phases) for offset, limit in periods),
        None if kind == "Relative" else start,
        duration,
        min_rate,
    )
    return Profile(profile_id, evse_id, purpose, kind, stack, schedule, **profile_fields)


def given(transactions: dict[int, Transaction] | None = None, **fields: Any) -> Conditions:
    return Conditions(MappingProxyType({1: 22_000.0, 2: 22_000.0}), MappingProxyType(transactions or {}), **fields)


def limits(
    profiles: list[Profile], evse_id: int, conditions: Conditions, duration: int = 4 * 3600
) -> list[tuple[int, float]]:
    schedule = composite_schedule(profiles, evse_id, TEN, duration, "A", conditions)
    return [(p.start, round(p.limit, 2)) for p in schedule.periods]


WORKED = [
    make(1, "ChargingStationMaxProfile", 0, [(0, 40.0), (7200, 24.0)]),
    make(2, "TxDefaultProfile", 0, [(0, 16.0)], kind="Recurring", start=at(-2), recurrency="Daily"),
    make(3, "TxDefaultProfile", 1, [(0, 20.0)], start=at(1), stack=1, duration=3600),
    make(4, "TxProfile", 2, [(0, 10.0), (1800, 32.0)], kind="Relative", transaction_id="tx-2"),
]
WORKED_CONDITIONS = given({2: Transaction("tx-2", 2, 1, at(0.5))})


def test_worked_example_evse_1_takes_its_own_tx_default_over_the_station_wide_one() -> None:
    assert limits(WORKED, 1, WORKED_CONDITIONS) == [(0, 16.0), (3600, 20.0), (7200, 16.0)]


def test_worked_example_evse_2_follows_its_tx_profile_under_its_maximum_and_the_station_maximum() -> None:
    assert limits(WORKED, 2, WORKED_CONDITIONS) == [(0, 16.0), (1800, 10.0), (3600, round(MAX_A, 2)), (7200, 24.0)]


def test_worked_example_evse_0_sums_the_evses_capped_by_the_station_maximum() -> None:
    assert limits(WORKED, 0, WORKED_CONDITIONS) == [(0, 32.0), (1800, 26.0), (3600, 40.0), (7200, 24.0)]


def test_without_profiles_an_evse_may_draw_its_maximum_and_the_station_their_sum() -> None:
    assert limits([], 1, given()) == [(0, round(MAX_A, 2))]
    assert limits([], 0, given()) == [(0, round(2 * MAX_A, 2))]


def test_the_highest_stack_level_wins_even_when_it_is_higher() -> None:
    profiles = [make(1, "TxDefaultProfile", 1, [(0, 10.0)]), make(2, "TxDefaultProfile", 1, [(0, 20.0)], stack=1)]
    assert limits(profiles, 1, given()) == [(0, 20.0)]


def test_a_weekly_profile_repeats_every_seven_days_with_its_duration() -> None:
    weekly = make(
        1,
        "TxDefaultProfile",
        1,
        [(0, 6.0)],
        kind="Recurring",
        start=at(1 - 14 * 24),
        recurrency="Weekly",
        duration=1800,
    )
    assert limits([weekly], 1, given()) == [(0, round(MAX_A, 2)), (3600, 6.0), (5400, round(MAX_A, 2))]


def test_valid_to_ends_a_profile_and_valid_from_starts_it() -> None:
    window = make(1, "TxDefaultProfile", 1, [(0, 6.0)], valid_from=at(1), valid_to=at(2))
    assert limits([window], 1, given()) == [(0, round(MAX_A, 2)), (3600, 6.0), (7200, round(MAX_A, 2))]


def test_a_relative_profile_needs_a_transaction() -> None:
    relative = make(1, "TxDefaultProfile", 1, [(0, 6.0)], kind="Relative")
    assert limits([relative], 1, given()) == [(0, round(MAX_A, 2))]


def test_a_tx_profile_of_another_transaction_does_not_apply() -> None:
    other = make(1, "TxProfile", 1, [(0, 6.0)], transaction_id="tx-old")
    assert limits([other], 1, given({1: Transaction("tx-new", 1, 1, TEN)})) == [(0, round(MAX_A, 2))]


@pytest.mark.parametrize(("limit", "expected"), [(10.0, 10.0), (9.9, 0.0)])
def test_under_the_minimum_charging_rate_the_evse_pauses(limit: float, expected: float) -> None:
    tx_default = make(1, "TxDefaultProfile", 1, [(0, 16.0)], min_rate=10.0)
    maximum = make(2, "ChargingStationMaxProfile", 0, [(0, limit)])
    assert limits([tx_default, maximum], 1, given()) == [(0, expected)]


def test_watts_convert_to_amperes_with_the_periods_phases() -> None:
    one_phase = make(1, "TxDefaultProfile", 1, [(0, 2300.0)], unit="W", phases=1)
    schedule = composite_schedule([one_phase], 1, TEN, 60, "A", given())
    assert [(p.limit, p.number_phases) for p in schedule.periods] == [(10.0, 1)]


def test_a_boundary_between_seconds_takes_effect_at_the_next_whole_second() -> None:
    late = make(1, "TxDefaultProfile", 1, [(0, 6.0)], start=TEN + timedelta(seconds=10, milliseconds=1))
    assert limits([late], 1, given(), 60) == [(0, round(MAX_A, 2)), (11, 6.0)]


def test_offline_the_ignored_purposes_are_left_out() -> None:
    tx_default = make(1, "TxDefaultProfile", 1, [(0, 6.0)])
    ignoring = given(offline=True, ignored_offline=frozenset({"TxDefaultProfile"}))
    assert limits([tx_default], 1, ignoring) == [(0, round(MAX_A, 2))]
    assert limits([tx_default], 1, given(ignored_offline=frozenset({"TxDefaultProfile"}))) == [(0, 6.0)]


def test_identical_profiles_under_two_ids_limit_like_one() -> None:
    twins = [make(1, "TxDefaultProfile", 1, [(0, 6.0)]), make(2, "TxDefaultProfile", 1, [(0, 6.0)])]
    assert limits(twins, 1, given()) == [(0, 6.0)]
