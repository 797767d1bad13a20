"""How fast the CSMS prober runs: examples per second and frames per example.

    python tests/benchmarks/bench_probe.py [--examples K] [--repeats R]

Against chargecore csms (tools/csms.py) with one and with two stations, garbage on and off, side by side with the
same probe of the `ocpp`-package CSMS of the conformance tests (garbage off: that CSMS mishandles it, and a failing
run would measure shrinking, not probing). Each figure is the median of `--repeats` runs with a fixed seed; the
CPU column is this process's CPU time per example (the stations, the CSMS and hypothesis all run in it), steadier
than the wall clock on a shared machine. A script, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "testing_kit"))

from broken_csms import QuietPackageCsms
from test_against_ocpp_package_csms import PackageCsmsServer

from chargecore.testing.csms_prober import ProbeSettings
from chargecore.testing.probe_run import run_probe
from chargecore.tools.csms import LocalCsms

SEED = 16


@contextmanager
def chargecore_csms() -> Iterator[str]:
    with LocalCsms(heartbeat_interval=300, on_log=lambda _line: None, keep_messages=False) as csms:
        yield csms.url


@contextmanager
def package_csms() -> Iterator[str]:
    with PackageCsmsServer(QuietPackageCsms) as server:
        yield server.url


def measure(
    serve: Callable[[], AbstractContextManager[str]], stations: int, garbage: bool, examples: int
) -> tuple[float, ...]:
    settings = ProbeSettings("", "BENCH", stations=stations, garbage=garbage)
    with serve() as url:
        cpu = time.process_time()
        result = run_probe(replace(settings, url=url), examples=examples, seed=SEED)
        cpu = time.process_time() - cpu
    if not result.passed:
        raise SystemExit(f"the probe failed, nothing to measure:\n{result.transcript or result.error}")
    return result.examples_per_second, result.frames / result.examples, 1000 * cpu / result.examples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cases = [
        ("chargecore csms", chargecore_csms, 1, True),
        ("chargecore csms", chargecore_csms, 2, True),
        ("chargecore csms", chargecore_csms, 1, False),
        ("ocpp-package CSMS", package_csms, 1, False),
    ]
    print(f"{args.examples} examples per run, median of {args.repeats} runs, seed {SEED}")
    print(f"{'CSMS':<20}{'stations':>9}{'garbage':>9}{'examples/s':>12}{'frames/example':>16}{'CPU ms/example':>16}")
    for name, serve, stations, garbage in cases:
        runs = [measure(serve, stations, garbage, args.examples) for _ in range(args.repeats)]
        rate, frames, cpu = (statistics.median(column) for column in zip(*runs, strict=True))
        print(f"{name:<20}{stations:>9}{'on' if garbage else 'off':>9}{rate:>12.1f}{frames:>16.1f}{cpu:>16.0f}")


if __name__ == "__main__":
    main()
