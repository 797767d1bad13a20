"""Hardware readings per second through `step`, with and without monitors tripping.

    python tests/benchmarks/bench_monitoring.py [--seconds S] [--repeats R]

A booted station (PowerUp, Connected, BootNotification Accepted, StatusNotification answered) gets
`VariableReported` readings of EVSE 1 Power, alternating between two values, with M monitors installed:

- "quiet": ten delta monitors of 1,000,000 W on EVSE 1 Power (never trip; OCPP's Duplicate rule allows at most
  fifty monitors on one variable) plus M monitors on other variables: the cost of evaluating monitors on a
  reading;
- "unwatched": readings of EVSE 1 DCVoltage, which no monitor watches, with the quiet monitors installed;
- "tripping": the same plus one delta monitor of 0.5 W on EVSE 1 Power, so every reading queues a NotifyEvent
  (event built, payload schema-validated, frame encoded and sent) and the CSMS's reply is fed back with
  `step(FrameReceived)` before the next reading.

Timing: time.perf_counter, one warm-up run, then `--repeats` timed runs of about `--seconds / --repeats` each;
the median rate is reported. This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import core_helpers

from chargecore.pure.blocks.monitoring.monitors import Monitor
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.effects import SendFrame
from chargecore.pure.inputs import FrameReceived, VariableReported
from chargecore.pure.state import Station
from chargecore.pure.station import step

NOW = core_helpers.at(2)
"""The moment `core_helpers.booted` answers the boot: the readings come from then on."""
POWER = VariableKey("EVSE", "Power", 1)
OTHERS = (VariableKey("EVSE", "ACCurrent", 1), VariableKey("OCPPCommCtrlr", "HeartbeatInterval"))


def _answer_outstanding(station: Station, payload: dict[str, object]) -> Station:
    in_flight = station.rpc.in_flight
    assert in_flight is not None
    station, _ = step(station, FrameReceived(NOW, json.dumps([3, in_flight.message_id, payload])))
    return station


def booted(monitors: tuple[Monitor, ...]) -> Station:
    return core_helpers.booted(factory_monitors=monitors).station


def monitors_for(others: int, tripping: bool) -> tuple[Monitor, ...]:
    quiet = [Monitor(n + 1, POWER, "Delta", 1_000_000, n) for n in range(10)]
    elsewhere = [Monitor(11 + n, OTHERS[n % 2], "Delta", 1_000_000, n % 10) for n in range(others)]
    trip = [Monitor(11 + others, POWER, "Delta", 0.5, 0)] if tripping else []
    return tuple(quiet + elsewhere + trip)


def run(station: Station, readings: int, tripping: bool, variable: str = "Power") -> Station:
    for n in range(readings):
        station, effects = step(
            station, VariableReported(NOW + timedelta(microseconds=n), "EVSE", variable, str((n + 1) % 2), 1)
        )
        if tripping:
            assert any(isinstance(e, SendFrame) for e in effects)
            station = _answer_outstanding(station, {})
    return station


def rate(station: Station, tripping: bool, seconds: float, repeats: int, variable: str = "Power") -> float:
    run(station, 200, tripping, variable)  # warm-up
    batch, rates = 200, []
    for _ in range(repeats):
        started, done = time.perf_counter(), 0
        while time.perf_counter() - started < seconds / repeats:
            run(station, batch, tripping, variable)
            done += batch
        rates.append(done / (time.perf_counter() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, median of {args.repeats} runs")
    print(f"{'monitors elsewhere':>18} {'unwatched/s':>12} {'quiet/s':>9} {'tripping/s':>11}")
    for others in (0, 100, 1000, 10000):
        quiet_station = booted(monitors_for(others, False))
        unwatched = rate(quiet_station, False, args.seconds, args.repeats, "DCVoltage")
        quiet = rate(quiet_station, False, args.seconds, args.repeats)
        tripping = rate(booted(monitors_for(others, True)), True, args.seconds, args.repeats)
        print(f"{others:>18} {unwatched:>12,.0f} {quiet:>9,.0f} {tripping:>11,.0f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
