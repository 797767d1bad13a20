"""What blocks O and I add to every `step`: the display and tariff settle (station._settle runs them after every
input), on an idle station and on one with a charging session, a driver's tariff text and N display messages.

    python tests/benchmarks/bench_display.py [--messages N] [--steps S]

Both settles skip a step that changed nothing they depend on (their `basis`); the figures are the cost of that
check, and of a full evaluation (a new message each step) for comparison. Medians of 5 runs; a script, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_helpers import Sim, booted

from chargecore.pure.blocks.display import display_messages
from chargecore.pure.blocks.tariff_cost import tariff_cost
from chargecore.pure.state import Station


def settle_us(station: Station, sim: Sim, steps: int, *, fresh: bool = False) -> float:
    """Microseconds per settle of both blocks; `fresh`: the display's basis forgotten each time (full evaluation)."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(steps):
            state = station
            if fresh:
                state = _forgotten(state)
            state, _ = tariff_cost.settle(state, sim.now)
            spoken = tariff_cost.display_languages(state) if state.display.messages else {}  # as station._settle
            display_messages.settle(state, sim.now, tariff_cost.own_messages(state), spoken)
        runs.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(runs)


def _forgotten(station: Station) -> Station:
    return replace(station, display=replace(station.display, basis=None))


def charging(messages: int) -> Sim:
    sim = booted((1, 1))
    sim.plug()
    sim.answer_all()
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted", "personalMessage": {"format": "UTF8", "content": "0.30/kWh"}}})
    sim.power_path()
    sim.answer_all()
    for message_id in range(messages):
        info = {"id": message_id, "priority": "NormalCycle", "message": {"format": "UTF8", "content": f"m{message_id}"}}
        sim.csms_call("SetDisplayMessage", {"message": info})
    return sim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20000)
    args = parser.parse_args()
    idle = booted((1, 1))
    busy = charging(args.messages)
    rows = (
        ("idle station", settle_us(idle.station, idle, args.steps)),
        (f"session, tariff text, {args.messages} messages", settle_us(busy.station, busy, args.steps)),
        ("  the same, evaluated in full", settle_us(busy.station, busy, args.steps // 4, fresh=True)),
    )
    for label, micros in rows:
        print(f"{label:<40} {micros:7.1f} us per step")


if __name__ == "__main__":
    main()
