"""The composite schedule of a 24 h window: time per computation, speed-up over the naive per-second reference,
and how the cost grows with the number of profiles and of periods.

    python tests/benchmarks/bench_composite.py [--repeats R] [--reference-seconds S]

Profiles (seeded, so every run computes the same thing): purposes and scopes in turn (ChargingStationMaxProfile,
ExternalConstraints on the station, TxDefaultProfile on the station and on EVSE 1, TxProfile for the transaction
on EVSE 1), kinds Absolute / Recurring Daily / Relative in turn, stack levels spread so validation would accept
them, units A and W alternating, each with N periods of 24 h / N and random limits. The station has 2 EVSEs and
a transaction on EVSE 1. Timed: `composite_schedule(...)` for EVSE 1 and for EVSE 0 (which computes both EVSEs
and the station caps), in A, median of `--repeats` runs after one warm-up.

The reference (property_tests/reference_composite.py) evaluates every second of the window. It is timed over
the first `--reference-seconds` seconds and scaled to 24 h (it costs the same per second whatever the second),
and the first hour of both is compared so the speed-up is between two agreeing computations.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # property_tests, for the reference

from chargecore.pure.blocks.smart_charging.charging_profiles import Period, Profile, Schedule
from chargecore.pure.blocks.smart_charging.composite_schedule import Conditions, composite_schedule
from chargecore.pure.state import Transaction
from property_tests.reference_composite import evse_limit_at, station_limit_at

DAY = 86_400
START = datetime(2024, 3, 4, 0, 0, tzinfo=UTC)
CONDITIONS = Conditions(
    MappingProxyType({1: 22_000.0, 2: 11_000.0}),
    MappingProxyType({1: Transaction("tx-1", 1, 1, START - timedelta(hours=1))}),
)
SCOPES = (
    ("ChargingStationMaxProfile", 0),
    ("ChargingStationExternalConstraints", 0),
    ("TxDefaultProfile", 0),
    ("TxDefaultProfile", 1),
    ("TxProfile", 1),
)


def profiles(count: int, periods: int, seed: int = 7) -> list[Profile]:
    draw = random.Random(seed)
    made = []
    step = DAY // periods
    for index in range(count):
        purpose, evse_id = SCOPES[index % len(SCOPES)]
        kind = ("Absolute", "Recurring", "Relative")[index % 3]
        if purpose == "ChargingStationMaxProfile" and kind == "Relative":
            kind = "Absolute"
        unit = "A" if index % 2 == 0 else "W"
        top = 64 if unit == "A" else 44_000
        schedule = Schedule(
            unit,
            tuple(Period(k * step, float(draw.randint(0, top))) for k in range(periods)),
            None if kind == "Relative" else START - timedelta(seconds=draw.randint(0, 3600)),
        )
        recurrency = "Daily" if kind == "Recurring" else None
        transaction_id = "tx-1" if purpose == "TxProfile" else None
        stack = index // len(SCOPES)
        made.append(Profile(index + 1, evse_id, purpose, kind, stack, schedule, recurrency, None, None, transaction_id))
    return made


def timed(run: Callable[[], object], repeats: int) -> float:
    run()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def reference_seconds(installed: list[Profile], evse_id: int, seconds: int) -> float:
    """Seconds the naive reference takes for `seconds` seconds of window (one run: it is slow)."""
    began = time.perf_counter()
    for second in range(seconds):
        t = START + timedelta(seconds=second)
        if evse_id:
            evse_limit_at(installed, evse_id, t, "A", CONDITIONS)
        else:
            station_limit_at(installed, t, "A", CONDITIONS)
    return time.perf_counter() - began


def agree(installed: list[Profile], evse_id: int) -> bool:
    schedule = composite_schedule(installed, evse_id, START, 3600, "A", CONDITIONS)
    for second in range(0, 3600, 13):
        t = START + timedelta(seconds=second)
        expected = (
            evse_limit_at(installed, evse_id, t, "A", CONDITIONS)[0]
            if evse_id
            else station_limit_at(installed, t, "A", CONDITIONS)
        )
        if not math.isclose(schedule.at(second).limit, expected, rel_tol=1e-9, abs_tol=1e-9):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--reference-seconds", type=int, default=1800)
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.system()}")
    print("composite schedule of a 24 h window, unit A, 2 EVSEs, transaction on EVSE 1\n")
    print("| profiles x periods | EVSE | composite (ms) | output periods | reference, 24 h (s) | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for count in (1, 10, 100):
        installed = profiles(count, 24)
        for evse_id in (1, 0):
            if not agree(installed, evse_id):
                print(f"composite and reference disagree for {count} profiles, EVSE {evse_id}", file=sys.stderr)
                return 1
            cost = timed(
                lambda chosen=installed, evse=evse_id: composite_schedule(chosen, evse, START, DAY, "A", CONDITIONS),
                args.repeats,
            )
            size = len(composite_schedule(installed, evse_id, START, DAY, "A", CONDITIONS).periods)
            naive = reference_seconds(installed, evse_id, args.reference_seconds) * DAY / args.reference_seconds
            print(f"| {count} x 24 | {evse_id} | {cost * 1000:.2f} | {size} | {naive:.1f} | {naive / cost:,.0f}x |")
    print("\ngrowth, EVSE 0 (every profile is used):\n")
    print("| profiles x periods | total periods | composite (ms) | us per period |")
    print("|---|---:|---:|---:|")
    for count, periods in ((10, 6), (10, 24), (10, 96), (10, 384), (40, 24), (100, 24), (400, 24)):
        installed = profiles(count, periods)
        cost = timed(lambda chosen=installed: composite_schedule(chosen, 0, START, DAY, "A", CONDITIONS), args.repeats)
        total = count * periods
        print(f"| {count} x {periods} | {total} | {cost * 1000:.2f} | {cost * 1e6 / total:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
