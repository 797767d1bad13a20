"""Many idle stations in one asyncio process against `chargecore csms` on loopback: boot time and memory.

    python tests/benchmarks/bench_fleet.py [--stations 100,1000] [--evses 1]

The CSMS runs as its own process (`chargecore csms --quiet`), as a CSMS team would run it. This process imports
the fleet, starts the asyncio loop and measures its RSS with no station (the base); then it starts stations in
steps (all of a step at once, `--ramp 0`), waits until every one of them is booted (BootNotification Accepted,
its StatusNotifications answered) and idle, and measures RSS again. Printed per step: the stations, the seconds
from the first start until all were booted, the RSS, and the RSS per station beyond the base; at the end the
slope between the first and the last step (the figure the goal is about: at most 256 KiB per idle station) and
the seconds to boot 1,000 (goal: at most 30 s on a 2-core machine). RSS is VmRSS of /proc/self/status after a
`gc.collect()`. This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chargecore.tools.fleet.runner import FleetOptions, SimulatedSite
from chargecore.tools.fleet.scenario import Scenario
from chargecore.tools.fleet.stats import FleetStats
from chargecore.tools.limits import open_files_as_allowed

CSMS = "import sys; from chargecore.shell.cli import main; sys.exit(main(sys.argv[1:]))"
SETTLE_S = 2.0
"""After the last boot: the StatusNotifications and their answers go by, the station is idle."""


def rss_kib() -> int:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the stations did not all boot in time")
        await asyncio.sleep(0.05)


async def bench(url: str, steps: list[int], evses: int, ramp: float, data_dir: Path) -> None:
    options = FleetOptions(csms_url=url, stations=steps[-1], evses=evses, data_dir=data_dir, ramp=0)
    stats = FleetStats(steps[-1])
    await asyncio.sleep(0.1)
    base = rss_kib()
    print(f"{'stations':>9} {'booted after s':>15} {'RSS MiB':>9} {'KiB/station over base':>22}")
    print(f"{0:>9} {'':>15} {base / 1024:>9.1f} {'':>22}")
    sites: list[SimulatedSite] = []
    began = time.monotonic()
    figures: list[tuple[int, int, float]] = []
    try:
        for count in steps:
            step_began = time.monotonic()
            for number, index in enumerate(range(len(sites), count)):
                if ramp > 0:
                    await asyncio.sleep(max(0.0, step_began + number / ramp - time.monotonic()))
                site = SimulatedSite(options.station_id(index), options, Scenario(), stats)
                sites.append(site)
                await site.station.start()
            await until(lambda count=count: stats.booted >= count, 600)
            booted_s = time.monotonic() - began
            await asyncio.sleep(SETTLE_S)
            rss = rss_kib()
            figures.append((count, rss, booted_s))
            print(f"{count:>9} {booted_s:>15.2f} {rss / 1024:>9.1f} {(rss - base) / count:>22.1f}", flush=True)
    finally:
        await asyncio.gather(*(site.station.stop() for site in sites), return_exceptions=True)
    (first, first_rss, _), (last, last_rss, _) = figures[0], figures[-1]
    if last > first:
        print(f"slope {first}..{last} stations: {(last_rss - first_rss) / (last - first):.1f} KiB per idle station")
    print(
        f"CALLERRORs from the CSMS {stats.callerrors_in}, from the stations {stats.callerrors_out}, "
        f"crashed {stats.crashed}, errors {stats.errors} {stats.first_errors[:3]}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", default="100,1000", help="comma-separated steps (default 100,1000)")
    parser.add_argument("--evses", type=int, default=1)
    parser.add_argument("--ramp", type=float, default=0, help="stations started per second in a step (0: all at once)")
    args = parser.parse_args()
    steps = sorted(int(part) for part in args.stations.split(","))
    open_files_as_allowed()
    port = free_port()
    csms = subprocess.Popen(
        [sys.executable, "-c", CSMS, "csms", "--quiet", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        with tempfile.TemporaryDirectory() as data_dir:
            print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, evses per station {args.evses}")
            asyncio.run(bench(f"ws://127.0.0.1:{port}", steps, args.evses, args.ramp, Path(data_dir)))
    finally:
        csms.terminate()
        csms.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
