"""Get/SetVariables items per second through the whole station path, next to the `ocpp` package's ChargePoint,
and the cost of one variable at 200 and at 20,000 variables.

    python tests/benchmarks/bench_variables.py [--seconds S] [--repeats R]

chargecore side: `step(station, FrameReceived)` per request (parse, schema validation, limits, lookups and
checks, reply encoding; for SetVariables also the new model, Persist and Notify effects), as
`bench_rpc.ChargecoreRunner` runs it. The station is booted and has the standard catalogue plus a generated
component `BenchCtrlr` of integer ReadWrite persistent variables `Setting0..`; a request of n items names
Setting0..Setting(n-1). SetVariables alternates between two requests with different values, so every item
really changes a value (Persist and Notify every time).

ocpp side: `ocpp.v201.ChargePoint.route_message` with @on handlers for GetVariables and SetVariables that keep
the values in a dict (found: Accepted with the value; set: stored, Accepted), i.e. a peer with no value
checks at all; shipped settings (validation in the executor) and with `ASYNC_VALIDATION = False`.

Scaling: the same 1-item GetVariables and SetVariables through `step`, on a station of about 200 variables
(the standard catalogue) and of 20,000 (BenchCtrlr padded), plus the bare lookup (`get_definition` and
`get_value`). A script, not a pytest test; about 30 s with the defaults.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from importlib import resources
from typing import Any

from bench_rpc import ChargecoreRunner, OcppRunner, booted_station, measure
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result

from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import build_device_model, get_definition, get_value

EVSE_CONNECTORS = (1, 1)
ITEM_COUNTS = (1, 10, 100)


def bench_catalogue(settings: int) -> dict[str, Any]:
    """The standard catalogue plus BenchCtrlr with `settings` integer ReadWrite persistent variables."""
    variable = {
        "instance": None,
        "required": False,
        "attributes": {"Actual": {"mutability": "ReadWrite", "persistent": True, "default": "0"}},
        "characteristics": {
            "dataType": "integer",
            "unit": None,
            "minLimit": 0,
            "maxLimit": None,
            "valuesList": None,
            "supportsMonitoring": False,
        },
        "description": "benchmark setting",
    }
    bench = {
        "name": "BenchCtrlr",
        "scope": "station",
        "variables": [{**variable, "name": f"Setting{n}"} for n in range(settings)],
    }
    standard = json.loads(resources.files("chargecore.specs").joinpath("device_model.json").read_text("utf-8"))
    return {"components": [*standard["components"], bench] if settings else standard["components"]}


def model_of(settings: int) -> DeviceModel:
    return build_device_model(EVSE_CONNECTORS, catalogue=bench_catalogue(settings)).unwrap()


def request(action: str, message_id: str, count: int, value: str | None = None) -> str:
    items: list[dict[str, Any]] = [
        {"component": {"name": "BenchCtrlr"}, "variable": {"name": f"Setting{n}"}} for n in range(count)
    ]
    if value is None:
        payload: dict[str, Any] = {"getVariableData": items}
    else:
        payload = {"setVariableData": [{**item, "attributeValue": value} for item in items]}
    return json.dumps([2, message_id, action, payload], separators=(",", ":"))


def frames(action: str, count: int) -> list[str]:
    if action == "GetVariables":
        return [request(action, f"get-{count}", count)]
    return [request(action, f"set-{count}-{value}", count, value) for value in ("1", "2")]


def check(reply_text: str, action: str, count: int) -> None:
    reply = json.loads(reply_text)
    assert reply[0] == 3, reply_text
    results = next(iter(reply[2].values()))
    assert len(results) == count and all(r["attributeStatus"] == "Accepted" for r in results), reply_text


# --- the peer ------------------------------------------------------------------------------------------------


class VariablesChargePoint(ChargePoint):
    """An `ocpp` ChargePoint answering Get/SetVariables from a dict, without any value checks."""

    values: dict[tuple[str, str], str]

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **kwargs: Any) -> Any:
        results = []
        for item in get_variable_data:
            value = self.values.get((item["component"]["name"], item["variable"]["name"]))
            result = {"component": item["component"], "variable": item["variable"], "attribute_type": "Actual"}
            if value is None:
                results.append({**result, "attribute_status": "UnknownVariable"})
            else:
                results.append({**result, "attribute_status": "Accepted", "attribute_value": value})
        return call_result.GetVariables(get_variable_result=results)

    @on("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **kwargs: Any) -> Any:
        results = []
        for item in set_variable_data:
            self.values[(item["component"]["name"], item["variable"]["name"])] = item["attribute_value"]
            status = {"attribute_status": "Accepted", "attribute_type": "Actual"}
            results.append({"component": item["component"], "variable": item["variable"], **status})
        return call_result.SetVariables(set_variable_result=results)


def peer(async_validation: bool, settings: int) -> OcppRunner:
    runner = OcppRunner(async_validation)
    charge_point = VariablesChargePoint("BENCH-1", runner.connection)
    charge_point.values = {("BenchCtrlr", f"Setting{n}"): "0" for n in range(settings)}
    runner.charge_point = charge_point
    return runner


# --- scaling -------------------------------------------------------------------------------------------------


def lookup_ns(model: DeviceModel, repeats: int) -> float:
    """Nanoseconds per get_definition + get_value of one variable, median of `repeats` runs."""
    keys = [VariableKey("BenchCtrlr", f"Setting{n}") for n in range(0, 100)]
    samples = []
    for _ in range(repeats + 1):
        started = time.perf_counter()
        for _ in range(200):
            for key in keys:
                get_definition(model, key)
                get_value(model, key)
        samples.append((time.perf_counter() - started) / (200 * len(keys)) * 1e9)
    return statistics.median(samples[1:])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="timed seconds per cell")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per cell (median reported)")
    args = parser.parse_args(argv)
    print(
        f"Python {sys.version.split()[0]}; {args.repeats} timed runs of ~{args.seconds / args.repeats:.2f} s per cell"
    )
    print()

    largest = max(ITEM_COUNTS)
    station = booted_station(model_of(largest))
    header = f"{'request':<26}{'chargecore items/s':>20}{'ocpp items/s':>14}{'ratio':>8}"
    header += f"{'ocpp-sync items/s':>19}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    peers = {"ocpp": peer(True, largest), "ocpp-sync": peer(False, largest)}
    for action in ("GetVariables", "SetVariables"):
        for count in ITEM_COUNTS:
            texts = frames(action, count)
            runners: dict[str, Any] = {"chargecore": ChargecoreRunner(station), **peers}
            for runner in runners.values():
                for text in texts:
                    check(runner.reply_to(text), action, count)
            rates = {name: count * measure(r.run, texts, args.seconds, args.repeats) for name, r in runners.items()}
            ours = rates["chargecore"]
            print(
                f"{f'{action} x{count}':<26}{ours:>20,.0f}{rates['ocpp']:>14,.0f}{ours / rates['ocpp']:>7.1f}x"
                f"{rates['ocpp-sync']:>19,.0f}{ours / rates['ocpp-sync']:>7.1f}x"
            )
    for runner in peers.values():
        runner.close()
    print()

    print(f"{'one variable':<40}{'~200 variables':>16}{'~20,000 variables':>19}")
    print("-" * 75)
    small, big = model_of(100), model_of(20_000 - 100)
    rows: dict[str, list[float]] = {
        "lookup (get_definition + get_value), ns": [],
        "GetVariables x1 via step, us": [],
        "SetVariables x1 via step, us": [],
    }
    for model in (small, big):
        rows["lookup (get_definition + get_value), ns"].append(lookup_ns(model, args.repeats))
        runner = ChargecoreRunner(booted_station(model))
        for label, action in (
            ("GetVariables x1 via step, us", "GetVariables"),
            ("SetVariables x1 via step, us", "SetVariables"),
        ):
            rows[label].append(1e6 / measure(runner.run, frames(action, 1), args.seconds, args.repeats))
    print(f"{'(definitions in the model)':<40}{len(small.definitions):>16,}{len(big.definitions):>19,}")
    for label, (at_small, at_big) in rows.items():
        print(f"{label:<40}{at_small:>16,.2f}{at_big:>19,.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
