"""What the availability block costs: `availability.refresh`, which `step` runs after every input, and a
ChangeAvailability round trip.

    python tests/benchmarks/bench_availability.py [--repeats R]

- refresh, nothing changed (every ordinary step): per station shape, on a booted station.
- refresh after a change (a connector plugged, so the statuses are derived again and AvailabilityState
  updated): the same state handed in with its memo cleared.
- ChangeAvailability EVSE Inoperative then Operative: `step(FrameReceived)` for each request, the
  StatusNotifications they cause answered by the CSMS through `step` too; reported per request.

Timing: time.perf_counter over `number` calls, `--repeats` runs, the median reported. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core_helpers import Sim, booted

from chargecore.pure.blocks.availability.availability import refresh
from chargecore.pure.inputs import FrameReceived
from chargecore.pure.station import step

SHAPES = ((1,), (1, 1), (2, 2, 2, 2))


def median_seconds(run: Callable[[], object], number: int, repeats: int) -> float:
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            run()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def change_round_trip(sim: Sim) -> Callable[[], object]:
    texts = [
        json.dumps([2, f"m{status}", "ChangeAvailability", {"operationalStatus": status, "evse": {"id": 1}}])
        for status in ("Inoperative", "Operative")
    ]

    def run() -> None:
        station = sim.station
        for text in texts:
            station, _ = step(station, FrameReceived(sim.now, text))
            while (in_flight := station.rpc.in_flight) is not None:
                station, _ = step(station, FrameReceived(sim.now, json.dumps([3, in_flight.message_id, {}])))

    return run


def measure(shape: tuple[int, ...], repeats: int) -> tuple[float, float, float]:
    sim = booted(shape)
    station = sim.station
    unchanged = median_seconds(partial(refresh, station), 100_000, repeats)
    cleared = replace(station, availability=replace(station.availability, basis=None, shown=()))
    first = replace(cleared.connectors[0], phase="plugged")
    changed = median_seconds(
        partial(refresh, replace(cleared, connectors=(first, *cleared.connectors[1:]))), 20_000, repeats
    )
    request = median_seconds(change_round_trip(sim), 2_000, repeats) / 2
    return unchanged, changed, request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    print(f"Python {sys.version.split()[0]}, median of {repeats} runs")
    print("| connectors per EVSE | refresh, nothing changed | refresh after a change | ChangeAvailability request |")
    print("|---|---:|---:|---:|")
    for shape in SHAPES:
        unchanged, changed, request = measure(shape, repeats)
        print(f"| {shape} | {unchanged * 1e6:.2f} µs | {changed * 1e6:.1f} µs | {request * 1e6:.0f} µs |")


if __name__ == "__main__":
    main()
