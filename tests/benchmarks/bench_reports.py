"""FullInventory report generation through the whole station path, for the real catalogue and for one of ~20,000
variables.

    python tests/benchmarks/bench_reports.py [--repeats R] [--variables N]

Per run, as the shell's core thread does it minus the I/O: `step(station, FrameReceived(GetBaseReport))` (parse,
schema validation, the report built from the device model, split by ItemsPerMessage/BytesPerMessage[GetReport],
each NotifyReport payload schema-checked when queued, the response and the first NotifyReport frame encoded),
then one `step(station, FrameReceived(NotifyReportResponse))` per NotifyReport until the station has sent them
all. "first frame" is the time of the GetBaseReport step alone (building, splitting and queueing the whole
report); "whole report" adds answering every NotifyReport and sending the next.

The large catalogue is the real one plus copies of its station-level components under new names (not
required, same variables, characteristics and defaults) until it holds about `--variables` variables. The
station has 2 EVSEs with 2 connectors each. Timing: time.perf_counter, one warm-up run, then `--repeats`
timed runs; the median is reported. This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from returns.result import Failure

from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.catalogue import CATALOGUE
from chargecore.pure.device_model.model import build_device_model
from chargecore.pure.effects import Effects, InternalError, SendFrame
from chargecore.pure.inputs import Connected, FrameReceived, PowerUp
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import step

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
EVSE_CONNECTORS = (2, 2)


def plain(value: Any) -> Any:
    """The frozen catalogue as JSON-shaped dicts and lists."""
    if isinstance(value, Mapping):
        return {name: plain(item) for name, item in value.items()}
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value


def large_catalogue(variables: int) -> dict[str, Any]:
    catalogue = plain(CATALOGUE)
    templates = [component for component in catalogue["components"] if component["scope"] == "station"]
    per_copy = sum(len(component["variables"]) for component in templates)
    copies = max(0, (variables - count_variables(catalogue)) // per_copy)
    for copy in range(1, copies + 1):
        for template in templates:
            variables_ = [{**variable, "required": False} for variable in template["variables"]]
            catalogue["components"].append({**template, "name": f"{template['name']}X{copy}", "variables": variables_})
    return catalogue


def count_variables(catalogue: Mapping[str, Any]) -> int:
    return sum(len(component["variables"]) for component in catalogue["components"])


def sent(effects: Effects) -> list[str]:
    problems = [effect for effect in effects if isinstance(effect, InternalError)]
    if problems:
        raise SystemExit(f"internal error: {problems}")
    return [effect.text for effect in effects if isinstance(effect, SendFrame)]


def booted(catalogue: Mapping[str, Any]) -> Station:
    """PowerUp, Connected, BootNotification Accepted and every StatusNotification answered: an idle session."""
    model = build_device_model(EVSE_CONNECTORS, catalogue=catalogue)
    if isinstance(model, Failure):
        raise SystemExit(f"catalogue refused: {model.failure()}")
    identity = StationIdentity("CS-BENCH", "ws://csms.invalid", EVSE_CONNECTORS)
    station, _ = step(initial_station(identity, model.unwrap(), {}), PowerUp(NOW, "bench"))
    station, effects = step(station, Connected(NOW))
    (boot,) = (json.loads(text) for text in sent(effects))
    answer = {"status": "Accepted", "currentTime": "2025-01-01T12:00:00Z", "interval": 300}
    station, _ = step(station, FrameReceived(NOW, json.dumps([3, boot[1], answer])))
    while station.rpc.in_flight is not None:
        station, _ = step(station, FrameReceived(NOW, json.dumps([3, station.rpc.in_flight.message_id, {}])))
    return station


def full_inventory(station: Station) -> tuple[float, float, int, int, int]:
    """One report: (seconds to the first frame, seconds for the whole report, messages, items, bytes)."""
    request = json.dumps([2, "bench-report", "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}])
    start = time.perf_counter()
    station, effects = step(station, FrameReceived(NOW, request))
    first = time.perf_counter() - start
    frames = sent(effects)[1:]
    while station.rpc.in_flight is not None:
        answer = f'[3,"{station.rpc.in_flight.message_id}",{{}}]'
        station, effects = step(station, FrameReceived(NOW, answer))
        frames.extend(sent(effects))
    whole = time.perf_counter() - start
    items = sum(len(json.loads(frame)[3]["reportData"]) for frame in frames)
    return first, whole, len(frames), items, sum(len(frame.encode()) for frame in frames)


def measure(name: str, catalogue: Mapping[str, Any], repeats: int) -> None:
    station = booted(catalogue)
    variables = len(station.device_model.definitions)
    full_inventory(station)  # warm-up
    runs = [full_inventory(station) for _ in range(repeats)]
    first = statistics.median(run[0] for run in runs)
    whole = statistics.median(run[1] for run in runs)
    _, _, messages, items, size = runs[0]
    if items != variables:
        raise SystemExit(f"{name}: {items} items reported for {variables} variables")
    print(
        f"| {name} | {variables:,} | {messages:,} | {size / 1e6:.2f} MB | {first * 1e3:,.1f} ms | "
        f"{whole * 1e3:,.1f} ms | {variables / whole:,.0f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--variables", type=int, default=20_000)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]} on {platform.machine()}, median of {args.repeats} runs")
    print("| catalogue | variables | NotifyReport messages | bytes sent | first frame | whole report | variables/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    measure("real catalogue", CATALOGUE, args.repeats)
    measure(f"~{args.variables:,} variables", large_catalogue(args.variables), args.repeats)


if __name__ == "__main__":
    main()
