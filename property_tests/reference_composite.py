"""A deliberately naive reference for the composite schedule: the limit at one instant, straight from the rules
(docs/smart_charging.md), with no sweep, no merging and no shared code with
pure/blocks/smart_charging/composite_schedule.py.

Evaluated at every whole second of a window it gives what the composite schedule must say at that second.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from chargecore.pure.blocks.smart_charging.charging_profiles import Profile
from chargecore.pure.blocks.smart_charging.composite_schedule import Conditions

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def profile_value(
    profile: Profile, t: datetime, anchor_session_start: datetime | None
) -> tuple[float, int, float, str] | None:
    """(limit, phases, minChargingRate, unit) of the profile's period in force at t, or None."""
    if profile.valid_from is not None and t < profile.valid_from:
        return None
    if profile.valid_to is not None and t >= profile.valid_to:
        return None
    schedule = profile.schedule
    if profile.kind == "Relative":
        if anchor_session_start is None:
            return None
        begin = anchor_session_start
    else:
        if schedule.start is None:
            return None
        begin = schedule.start
        if profile.kind == "Recurring" and profile.recurrency in ("Daily", "Weekly"):
            step = DAY if profile.recurrency == "Daily" else WEEK
            if t < begin:
                return None
            while begin + step <= t:  # naive on purpose: walk the recurrences one by one
                begin += step
            if schedule.duration is not None and t >= begin + timedelta(seconds=schedule.duration):
                return None
    if t < begin:
        return None
    if schedule.duration is not None and t >= begin + timedelta(seconds=schedule.duration):
        return None
    elapsed = t - begin
    chosen = None
    for period in schedule.periods:
        if timedelta(seconds=period.start) <= elapsed:
            chosen = period
    if chosen is None:
        return None
    return chosen.limit, chosen.number_phases or 0, schedule.min_rate or 0.0, schedule.rate_unit


def _in_unit(value: tuple[float, int, float, str], unit: str, conditions: Conditions) -> tuple[float, int, float]:
    limit, phases, min_rate, from_unit = value
    phases = phases or conditions.supply_phases
    if from_unit == unit:
        return limit, phases, min_rate
    factor = conditions.voltage * phases
    if unit == "W":
        return limit * factor, phases, min_rate * factor
    return limit / factor, phases, min_rate / factor


def layer_value(
    profiles: Sequence[Profile], t: datetime, unit: str, conditions: Conditions, session_start: datetime | None
) -> tuple[float, int, float] | None:
    """Highest stack level in force; among equal stack levels the lowest (limit, phases, minimum)."""
    found = []
    for profile in profiles:
        value = profile_value(profile, t, session_start)
        if value is not None:
            found.append((profile.stack_level, _in_unit(value, unit, conditions)))
    if not found:
        return None
    top = max(stack for stack, _ in found)
    return min(value for stack, value in found if stack == top)


def usable(profiles: Sequence[Profile], conditions: Conditions) -> list[Profile]:
    if not conditions.offline:
        return list(profiles)
    return [p for p in profiles if p.purpose not in conditions.ignored_offline]


def evse_limit_at(
    profiles: Sequence[Profile], evse_id: int, t: datetime, unit: str, conditions: Conditions
) -> tuple[float, int]:
    profiles = usable(profiles, conditions)
    session = conditions.transactions.get(evse_id)
    start = None if session is None else session.started_at
    tx = layer_value(
        [
            p
            for p in profiles
            if p.purpose == "TxProfile"
            and p.evse_id == evse_id
            and session is not None
            and p.transaction_id == session.transaction_id
        ],
        t,
        unit,
        conditions,
        start,
    )
    if tx is None:
        tx = layer_value(
            [p for p in profiles if p.purpose == "TxDefaultProfile" and p.evse_id == evse_id],
            t,
            unit,
            conditions,
            start,
        )
    if tx is None:
        tx = layer_value(
            [p for p in profiles if p.purpose == "TxDefaultProfile" and p.evse_id == 0], t, unit, conditions, start
        )
    phases = conditions.supply_phases
    watts = conditions.evse_max_power.get(evse_id, 0.0)
    maximum = watts if unit == "W" else watts / (conditions.voltage * phases)
    limits = [maximum]
    if tx is not None:
        limits.append(tx[0])
        phases = tx[1]
    for purpose, scope, anchor in (
        ("ChargingStationMaxProfile", 0, None),
        ("ChargingStationExternalConstraints", 0, None),
        ("ChargingStationExternalConstraints", evse_id, start),
    ):
        cap = layer_value(
            [p for p in profiles if p.purpose == purpose and p.evse_id == scope], t, unit, conditions, anchor
        )
        if cap is not None:
            limits.append(cap[0])
    limit = min(limits)
    if tx is not None and limit < tx[2]:
        limit = 0.0
    return limit, phases


def station_limit_at(profiles: Sequence[Profile], t: datetime, unit: str, conditions: Conditions) -> float:
    total = 0.0
    for evse_id in sorted(conditions.evse_max_power):
        total += evse_limit_at(profiles, evse_id, t, unit, conditions)[0]
    limits = [total]
    for purpose in ("ChargingStationMaxProfile", "ChargingStationExternalConstraints"):
        cap = layer_value(
            [p for p in usable(profiles, conditions) if p.purpose == purpose and p.evse_id == 0],
            t,
            unit,
            conditions,
            None,
        )
        if cap is not None:
            limits.append(cap[0])
    return min(limits)
