"""`chargecore fleet`: the command line of the fleet, the live status line, Ctrl-C and the JSON summary."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TextIO

from chargecore.pure.blocks.provisioning.network_profiles import csms_url_problem
from chargecore.shell.cli import MAX_EVSES, _count, _Parser, _station_identity
from chargecore.tools.fleet.runner import FleetOptions, run_fleet
from chargecore.tools.fleet.scenario import Scenario, ScenarioError, load_scenario
from chargecore.tools.fleet.stats import FleetStats
from chargecore.tools.limits import open_files_as_allowed

MAX_STATIONS = 100_000
MAX_DURATION_S = 7 * 86_400
ID_DIGITS = 5
STATUS_EVERY_S = 1.0
"""The status line on a terminal; elsewhere (a pipe, a file) a line every STATUS_EVERY_S * 10 seconds."""


def _number(low: float, most: float, zero: bool = False) -> Callable[[str], float]:
    """An argparse type: a number from `low` (excluded unless `zero`) to `most`."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (low <= value <= most) or (value == low and not zero):
            raise argparse.ArgumentTypeError(f"{text!r} must be {'from' if zero else 'above'} {low:g} to {most:g}")
        return value

    return parse


def _prefix(text: str) -> str:
    """The ids it makes must be OCPP-J identities (at most 48 characters, no ':')."""
    return _station_identity(text + "0" * ID_DIGITS)[:-ID_DIGITS] if text else text


def fleet_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chargecore fleet", description="Run many simulated stations against a CSMS.")
    parser.add_argument("--csms", required=True, help="CSMS websocket URL, e.g. ws://127.0.0.1:9000")
    parser.add_argument("--stations", required=True, type=_count(MAX_STATIONS), help="how many stations")
    parser.add_argument("--id-prefix", default="FLEET", type=_prefix, help="station ids are PREFIX00001, ...")
    parser.add_argument("--evses", type=_count(MAX_EVSES), default=1, help="EVSEs per station (default 1)")
    parser.add_argument("--data-dir", type=Path, default=Path("fleet-data"), help="storage, one folder per station")
    parser.add_argument("--scenario", type=Path, help="scenario file (.toml or .json), see docs/fleet.md")
    parser.add_argument("--seed", type=int, default=0, help="seed of every scenario decision (default 0)")
    parser.add_argument("--duration", type=_number(0, MAX_DURATION_S), default=60.0, help="seconds (default 60)")
    parser.add_argument(
        "--ramp", type=_number(0, 1e6, zero=True), default=100.0, help="stations started per second, 0: all at once"
    )
    parser.add_argument("--password", help="HTTP Basic password of every station")
    parser.add_argument("--summary", type=Path, help="where the JSON summary goes (default DATA_DIR/summary.json)")
    return parser


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the fleet; exit 0 when it ran (the summary says how well), 2 on a bad command line or scenario."""
    out = out or sys.stdout
    args = fleet_parser().parse_args(argv)
    problem = csms_url_problem(args.csms)
    if problem is not None:
        print(f"chargecore fleet: error: --csms {problem}", file=sys.stderr)
        return 2
    if args.data_dir.exists() and not args.data_dir.is_dir():
        print(f"chargecore fleet: error: --data-dir {args.data_dir} is not a directory", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    except ScenarioError as error:
        print(f"chargecore fleet: error: --scenario: {error}", file=sys.stderr)
        return 2
    options = FleetOptions(
        csms_url=args.csms,
        stations=args.stations,
        id_prefix=args.id_prefix,
        evses=args.evses,
        data_dir=args.data_dir,
        seed=args.seed,
        duration_s=args.duration,
        ramp=args.ramp,
        password=args.password,
    )
    open_files_as_allowed()
    stats = FleetStats(options.stations)
    asyncio.run(_fleet(options, scenario, stats, out))
    summary = stats.summary()
    text = json.dumps(summary, indent=2)
    where = args.summary or args.data_dir / "summary.json"
    where.parent.mkdir(parents=True, exist_ok=True)
    where.write_text(text + "\n", encoding="utf-8")
    print(text, file=out, flush=True)
    return 0


async def _fleet(options: FleetOptions, scenario: Scenario, stats: FleetStats, out: TextIO) -> None:
    """Run the fleet with the status line; SIGINT and SIGTERM stop it cleanly (the summary is still written)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError, RuntimeError, ValueError):  # not in the main thread: no handlers
            loop.add_signal_handler(signum, stop.set)
    status = loop.create_task(_status(stats, out))
    try:
        await run_fleet(options, scenario, stats, stop)
    finally:
        status.cancel()
        with suppress(asyncio.CancelledError):
            await status
        for signum in (signal.SIGINT, signal.SIGTERM):
            with suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signum)
    print(("\n" if out.isatty() else "") + stats.status_line(), file=out, flush=True)


async def _status(stats: FleetStats, out: TextIO) -> None:
    terminal = out.isatty()
    while True:
        await asyncio.sleep(STATUS_EVERY_S if terminal else STATUS_EVERY_S * 10)
        line = stats.status_line()
        print(f"\r{line}\033[K" if terminal else line, end="" if terminal else "\n", file=out, flush=True)
