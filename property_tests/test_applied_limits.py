"""Property: the limits handed to the hardware are right at every instant when the shell ticks at
`next_deadline`, as it does. Random profile sets (the strategies of test_composite_schedule), random transactions,
and random extra ticks, all on whole seconds; between two steps the last `ApplyChargingLimit` of each EVSE
(before any: its maximum) must equal the composite schedule at the sampled seconds (the first, the middle and
the last of each stretch). A boundary between two whole seconds of the shell clock takes effect at the next one.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.blocks.smart_charging.charging_profiles import Profile
from chargecore.pure.effects import ApplyChargingLimit
from chargecore.pure.inputs import Tick
from chargecore.pure.state import Station, Transaction
from chargecore.pure.station import next_deadline, step
from property_tests.support import fresh_station
from property_tests.test_composite_schedule import W0, profile_sets

EVSES = (1, 2)
HORIZON = 3 * 3600


def _installed(profiles: tuple[Profile, ...], transactions: list[Transaction]) -> Station:
    station = replace(fresh_station({}), transactions=tuple(transactions))
    for profile in profiles:
        station, _ = smart_charging.install(station, profile)
    return station


def _composite_limit(station: Station, evse_id: int, moment: datetime) -> float:
    return smart_charging.composite_for(station, evse_id, moment, 1, "A").periods[0].limit


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    profile_sets(),
    st.lists(st.sampled_from(EVSES), unique=True),
    st.lists(st.integers(1, HORIZON), max_size=6),
)
def test_the_hardware_limit_equals_the_composite_at_every_instant(
    profiles: tuple[Profile, ...], with_transaction: list[int], extra_ticks: list[int]
) -> None:
    transactions = [
        Transaction(f"tx-{e}", e, 1, W0 - timedelta(minutes=30 * e), phase="started") for e in with_transaction
    ]
    station = _installed(profiles, transactions)
    hardware = {e: 22_000 / (230 * 3) for e in EVSES}  # the EVSE maximum until told otherwise
    now = W0
    extra = sorted(W0 + timedelta(seconds=s) for s in extra_ticks)
    end = W0 + timedelta(seconds=HORIZON)
    while now < end:
        station, effects = step(station, Tick(now))
        for effect in effects:
            if isinstance(effect, ApplyChargingLimit):
                hardware[effect.evse_id] = effect.limit
        deadline = next_deadline(station)
        assert deadline is None or deadline > now
        following = min([end, *(t for t in extra if t > now), *([deadline] if deadline else [])])
        middle = now + timedelta(seconds=(following - now).total_seconds() // 2)
        for moment in (now, middle, following - timedelta(seconds=1)):
            if now <= moment < following:
                for evse_id in EVSES:
                    expected = _composite_limit(station, evse_id, moment)
                    assert math.isclose(hardware[evse_id], expected, rel_tol=1e-9, abs_tol=1e-9), (moment, evse_id)
        now = following
