"""Inbound CSMS frames per second: chargecore's whole inbound path next to the `ocpp` package's ChargePoint.

    python tests/benchmarks/bench_rpc.py [--seconds S] [--repeats R] [--clock wall|cpu]

chargecore side, per frame, as the shell's core thread does it minus the I/O: `step(station, FrameReceived)`
(parse, schema validation where the code validates, boot gating, dispatch, reply encoding: the SendFrame text
is produced by `step`), then the effects are executed in order; an `Ask` is answered at once with
`step(station, Answer)`, as `shell/runtime.py` does. The station is booted (PowerUp, Connected, BootNotification
Accepted, StatusNotifications answered), so its RPC session is idle with an empty queue, and the state
returned by each step is threaded into the next.

ocpp side: `ocpp.v201.ChargePoint.route_message(raw)` awaited per frame in one asyncio loop, on a ChargePoint
whose fake connection's async `send` records the reply, with @on handlers for GetVariables, SetChargingProfile
and DataTransfer that return simple valid results. Two columns: the package's default (`ASYNC_VALIDATION`
True: each request and response is validated in the loop's default thread-pool executor) and with
`ocpp.messages.ASYNC_VALIDATION = False` (validated inline), the fairer comparison of the Python work alone.

Every runner is checked once before it is timed (the reply to each frame kind is a CALLRESULT whose payload
passes its response schema, or the CALLERROR expected for an action chargecore does not support yet), and the
script probes with a schema-invalid variant whether chargecore currently validates that request at all.

Timing: `--clock wall` (time.perf_counter, the default) or `--clock cpu` (time.process_time: the CPU time of
the whole process, every thread included, so the ocpp package's executor threads count; steadier on a shared
machine, where wall time also counts the time other processes hold the cores). Per frame kind, one warm-up run
per implementation sizes its runs to about `--seconds / --repeats`; then `--repeats` rounds run every
implementation once in turn (interleaved, so a burst of load hits all columns alike), and each column shows its
median rate. This is a script, not a pytest test.

The floor column: per frame only json.loads, the compiled request and response validators and json.dumps of the
reply, the part of the work no implementation can skip; "floor/ours" is how many times chargecore's whole path
costs. The msgspec column is the same floor with msgspec's reader and writer, a stricter one. The last lines print
issue 15's goals for the mix row with PASS or FAIL: chargecore at least 25x the `ocpp` column (the package as
shipped) and within 5x the (json) floor, and the mix against the msgspec floor without a goal.

Figures (README "Performance"): `--clock cpu` (defaults), three runs in a row on the shared 2-core VM at load
0.9-1.1: the mix at 34.9x ocpp (median; 34.3-35.6x) and 2.2x the floor (2.2-2.3x; 5.7x the msgspec floor),
34,738 mix frames/s; both goals met. The SetChargingProfile row sends the same profile every time, which the
station recognises as the one installed (nothing to recompute); the "limits change" row, which changes the applied
limits with every frame, runs at ~7,000 frames/s (10.1-10.4x ocpp).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from itertools import cycle, islice
from typing import Any

import msgspec
import ocpp.messages
from ocpp.routing import on
from ocpp.v201 import ChargePoint, call_result
from returns.result import Failure

from chargecore.pure import effects as fx
from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.catalogue import DeviceModel
from chargecore.pure.device_model.model import build_device_model
from chargecore.pure.inputs import Answer, Connected, FrameReceived, Input, PowerUp
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import step

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

GOAL_OCPP = 25.0
"""Issue 15: the mix at least this many times the `ocpp` package's rate."""
GOAL_FLOOR = 5.0
"""Issue 15: the mix costs at most this many times the floor."""

Clock = Callable[[], float]
CLOCKS: dict[str, Clock] = {"wall": time.perf_counter, "cpu": time.process_time}

# --- the frames ---------------------------------------------------------------------------------------------


def _frame(message_id: str, action: str, payload: dict[str, Any]) -> str:
    return json.dumps([2, message_id, action, payload], separators=(",", ":"))


GET_VARIABLES = {
    "getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "MessageTimeout", "instance": "Default"}},
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}},
        {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "SecurityProfile"}},
    ]
}


def _set_charging_profile(first_limit: float) -> dict[str, Any]:
    """A day of 24 hourly periods from `first_limit` W up, for EVSE 1 (TxDefaultProfile 42, stack level 1)."""
    return {
        "evseId": 1,
        "chargingProfile": {
            "id": 42,
            "stackLevel": 1,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "validFrom": "2025-01-01T00:00:00Z",
            "validTo": "2025-01-02T00:00:00Z",
            "chargingSchedule": [
                {
                    "id": 1,
                    "startSchedule": "2025-01-01T00:00:00Z",
                    "duration": 86400,
                    "chargingRateUnit": "W",
                    "minChargingRate": 1380.0,
                    "chargingSchedulePeriod": [
                        {"startPeriod": hour * 3600, "limit": first_limit + 150.5 * hour, "numberPhases": 3}
                        for hour in range(24)
                    ],
                }
            ],
        },
    }


SET_CHARGING_PROFILE = _set_charging_profile(7400.0)
CHANGING_PROFILES = (SET_CHARGING_PROFILE, _set_charging_profile(7300.0))
"""Alternated, every frame replaces the profile with one 100 W apart: the applied limits change each time."""

DATA_TRANSFER = {"vendorId": "com.example.bench", "messageId": "meter", "data": {"session": 7, "energy": 1234.5}}

DATA_TRANSFER_ANSWER = {"status": "Accepted"}
"""What the benchmark's application answers to every DataTransfer (both sides)."""


@dataclass(frozen=True)
class FrameKind:
    name: str
    action: str
    payload: dict[str, Any]
    invalid_payload: dict[str, Any]
    """A schema-invalid request of the same action: tells whether chargecore validates it today."""

    @property
    def text(self) -> str:
        return _frame(f"bench-{self.action}", self.action, self.payload)


KINDS = (
    FrameKind("GetVariables (4 variables)", "GetVariables", GET_VARIABLES, {"getVariableData": []}),
    FrameKind("SetChargingProfile (24 periods)", "SetChargingProfile", SET_CHARGING_PROFILE, {"evseId": 1}),
    FrameKind("DataTransfer (Ask/Answer)", "DataTransfer", DATA_TRANSFER, {"data": "no vendorId"}),
)

UNSUPPORTED_CODES = frozenset({"NotSupported", "NotImplemented"})
VIOLATION_CODES = frozenset(
    {"FormatViolation", "OccurrenceConstraintViolation", "PropertyConstraintViolation", "TypeConstraintViolation"}
)

# --- chargecore -----------------------------------------------------------------------------------------------


def booted_station(model: DeviceModel | None = None) -> Station:
    """A station (two EVSEs of one connector, the standard device model unless given) after PowerUp, Connected
    and an Accepted boot, with its StatusNotifications answered."""
    evse_connectors = (1, 1)
    model = model or build_device_model(evse_connectors).unwrap()
    identity = StationIdentity("BENCH-1", "ws://localhost:9000/ocpp", evse_connectors)
    station = initial_station(identity, model, {})
    station, _ = step(station, PowerUp(NOW, "bench"))
    station, _ = step(station, Connected(NOW))
    boot = {"currentTime": "2025-01-01T12:00:00Z", "interval": 300, "status": "Accepted"}
    while station.rpc.in_flight is not None:
        in_flight = station.rpc.in_flight
        response = boot if in_flight.call.action == "BootNotification" else {}
        station, effects = step(station, FrameReceived(NOW, json.dumps([3, in_flight.message_id, response])))
        refused = [effect for effect in effects if isinstance(effect, fx.InternalError | fx.Log)]
        assert not refused, refused
    assert station.registration.status == "Accepted", station.registration
    assert station.connection.phase == "up" and station.rpc.phase == "idle" and not station.rpc.queue, station.rpc
    return station


def _application_answer(question: fx.Question) -> Any:
    assert isinstance(question, fx.DataTransferQuestion), question
    return DATA_TRANSFER_ANSWER


class ChargecoreRunner:
    """Feeds inbound frames to `step` and executes the effects like the shell's core thread (minus I/O)."""

    def __init__(self, station: Station, clock: Clock = time.perf_counter) -> None:
        self.station = station
        self.clock = clock
        self.sent: list[str] = []

    def _process(self, event: Input) -> None:
        self.station, effects = step(self.station, event)
        for effect in effects:
            kind = type(effect)
            if kind is fx.SendFrame:
                self.sent.append(effect.text)
            elif kind is fx.Ask:
                self._process(Answer(NOW, effect.question_id, _application_answer(effect.question)))
            elif kind is fx.InternalError or kind is fx.Log:
                raise AssertionError(f"unexpected effect on the benchmark path: {effect}")

    def run(self, texts: Sequence[str], count: int) -> float:
        """Seconds taken to handle `count` frames, cycling through `texts`."""
        frames = list(islice(cycle(texts), count))
        process, clock = self._process, self.clock
        started = clock()
        for text in frames:
            process(FrameReceived(NOW, text))
        elapsed = clock() - started
        assert len(self.sent) == count, "a frame got no reply"
        del self.sent[:]
        return elapsed

    def reply_to(self, text: str) -> str:
        del self.sent[:]
        self._process(FrameReceived(NOW, text))
        assert len(self.sent) == 1, self.sent
        return self.sent.pop()


# --- the floor ---------------------------------------------------------------------------------------------


def _json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class FloorRunner:
    """What no implementation can skip: parse the frame, validate the request with the compiled validator,
    validate and encode the reply (the reply chargecore gives, prepared once per frame text). Two of them: with
    the standard library's json (the floor issue 15 set its goal against) and with msgspec, the fastest reader
    and writer at hand (a stricter floor; chargecore reads frames with msgspec and writes them with json)."""

    def __init__(
        self, replies: dict[str, str], clock: Clock, loads: Callable[[str], Any], dumps: Callable[[Any], Any]
    ) -> None:
        self.replies = {text: json.loads(reply) for text, reply in replies.items()}
        self.clock = clock
        self.loads, self.dumps = loads, dumps

    def run(self, texts: Sequence[str], count: int) -> float:
        frames = list(islice(cycle(texts), count))
        replies, loads, dumps, clock = self.replies, self.loads, self.dumps, self.clock
        started = clock()
        for text in frames:
            _, _, action, payload = loads(text)
            validate(action, "Request", payload)
            reply = replies[text]
            validate(action, "Response", reply[2])
            dumps(reply)
        return clock() - started


# --- ocpp -------------------------------------------------------------------------------------------------------


class RecordingConnection:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def recv(self) -> str:  # pragma: no cover - route_message is fed directly
        raise NotImplementedError


class BenchChargePoint(ChargePoint):
    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **kwargs: Any) -> Any:
        return call_result.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_value": "30",
                    "component": item["component"],
                    "variable": item["variable"],
                }
                for item in get_variable_data
            ]
        )

    @on("SetChargingProfile")
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **kwargs: Any) -> Any:
        return call_result.SetChargingProfile(status="Accepted")

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **kwargs: Any) -> Any:
        return call_result.DataTransfer(status=DATA_TRANSFER_ANSWER["status"])


class OcppRunner:
    def __init__(self, async_validation: bool, clock: Clock = time.perf_counter) -> None:
        self.async_validation = async_validation
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.connection = RecordingConnection()
        self.charge_point = BenchChargePoint("BENCH-1", self.connection)

    async def _route(self, frames: list[str]) -> float:
        route, clock = self.charge_point.route_message, self.clock
        started = clock()
        for text in frames:
            await route(text)
        return clock() - started

    def _run_in_loop(self, frames: list[str]) -> float:
        saved = ocpp.messages.ASYNC_VALIDATION
        ocpp.messages.ASYNC_VALIDATION = self.async_validation
        try:
            return self.loop.run_until_complete(self._route(frames))
        finally:
            ocpp.messages.ASYNC_VALIDATION = saved

    def run(self, texts: Sequence[str], count: int) -> float:
        elapsed = self._run_in_loop(list(islice(cycle(texts), count)))
        assert len(self.connection.sent) == count, "a frame got no reply"
        del self.connection.sent[:]
        return elapsed

    def reply_to(self, text: str) -> str:
        del self.connection.sent[:]
        self._run_in_loop([text])
        assert len(self.connection.sent) == 1, self.connection.sent
        return self.connection.sent.pop()

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_default_executor())
        self.loop.close()


# --- checks -------------------------------------------------------------------------------------------------


def check_reply(kind: FrameKind, reply_text: str, *, allow_unsupported: bool) -> str:
    """Assert the reply is a correct CALLRESULT, or the CALLERROR expected for an unsupported action."""
    reply = json.loads(reply_text)
    request_id = json.loads(kind.text)[1]
    assert reply[1] == request_id, f"{kind.action}: reply {reply_text} does not answer {request_id}"
    if reply[0] == 3:
        checked = validate(kind.action, "Response", reply[2])
        assert not isinstance(checked, Failure), f"{kind.action}: invalid response {reply_text}: {checked}"
        return "CALLRESULT"
    assert reply[0] == 4, f"{kind.action}: not a CALLRESULT or CALLERROR: {reply_text}"
    assert allow_unsupported and reply[2] in UNSUPPORTED_CODES, f"{kind.action}: unexpected {reply_text}"
    return f"CALLERROR {reply[2]}"


def chargecore_validates(station: Station, kind: FrameKind) -> bool:
    """Does today's chargecore check this request against its schema? (A handled action must; an unsupported
    one is answered NotSupported before validation.)"""
    runner = ChargecoreRunner(station)
    reply = json.loads(runner.reply_to(_frame("probe", kind.action, kind.invalid_payload)))
    if reply[0] == 4 and reply[2] in VIOLATION_CODES:
        return True
    assert reply[0] == 4 and reply[2] in UNSUPPORTED_CODES, f"invalid {kind.action} got {reply}"
    return False


# --- timing -----------------------------------------------------------------------------------------------------

Run = Callable[[Sequence[str], int], float]


def run_size(run: Run, texts: Sequence[str], seconds: float) -> int:
    """Frames (a multiple of len(texts)) that one timed run of `run` handles in about `seconds`; warms it up."""
    count = 64
    while True:
        elapsed = run(texts, count)
        if elapsed >= 0.05:
            break
        count *= 4 if elapsed < 0.0125 else 2
    return max(len(texts), int(count / elapsed * seconds) // len(texts) * len(texts))


def measure_side_by_side(
    runs: Mapping[str, Run], texts: Sequence[str], seconds: float, repeats: int
) -> dict[str, float]:
    """Median frames/s of each run over `repeats` rounds of about seconds/repeats per run, the runs interleaved
    within each round."""
    per_run = max(seconds / repeats, 0.02)
    counts = {name: run_size(run, texts, per_run) for name, run in runs.items()}
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            rates[name].append(counts[name] / run(texts, counts[name]))
    return {name: statistics.median(samples) for name, samples in rates.items()}


def measure(run: Run, texts: Sequence[str], seconds: float, repeats: int) -> float:
    """Median frames/s of one run alone."""
    return measure_side_by_side({"run": run}, texts, seconds, repeats)["run"]


def goal_line(label: str, figure: float, goal: float, met: bool) -> str:
    return f"goal: {label}: {figure:.1f}x (goal {goal:g}x) {'PASS' if met else 'FAIL'}"


def validation_cost(kind: FrameKind, repeats: int, clock: Clock) -> float:
    """Microseconds per `validate(action, "Request", payload)` call, median of `repeats` runs."""
    count = 20_000
    samples = []
    for _ in range(repeats + 1):
        started = clock()
        for _ in range(count):
            validate(kind.action, "Request", kind.payload)
        samples.append((clock() - started) / count * 1e6)
    return statistics.median(samples[1:])


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per implementation and frame kind")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median reported)")
    parser.add_argument(
        "--clock", choices=sorted(CLOCKS), default="wall", help="wall: perf_counter; cpu: process CPU time"
    )
    args = parser.parse_args(argv)
    clock = CLOCKS[args.clock]

    print(f"Python {sys.version.split()[0]} ({platform.python_implementation()}) on {platform.platform()}")
    print(f"machine {platform.machine()}, {os.cpu_count()} CPUs ({platform.processor() or 'processor unknown'})")
    packages = ("ocpp", "jsonschema-rs", "jsonschema", "returns", "msgspec")
    print("packages: " + ", ".join(f"{name} {_version(name)}" for name in packages))
    print(
        f"{args.repeats} timed runs of ~{args.seconds / args.repeats:.2f} s per cell after a warm-up, interleaved; "
        f"median shown; clock: {args.clock} ({os.getloadavg()[0]:.1f} load average at start)"
    )
    print()

    station = booted_station()
    chargecore = ChargecoreRunner(station, clock)
    ocpp_async = OcppRunner(async_validation=True, clock=clock)
    ocpp_sync = OcppRunner(async_validation=False, clock=clock)
    changing = [_frame("bench-SetChargingProfile", "SetChargingProfile", p) for p in CHANGING_PROFILES]
    replies = {text: chargecore.reply_to(text) for text in [*(kind.text for kind in KINDS), *changing]}
    floor = FloorRunner(replies, clock, json.loads, _json_dumps)
    strict_floor = FloorRunner(replies, clock, msgspec.json.decode, msgspec.json.encode)
    runners: dict[str, Any] = {
        "chargecore": chargecore,
        "ocpp": ocpp_async,
        "ocpp-sync": ocpp_sync,
        "floor": floor,
        "msgspec-floor": strict_floor,
    }

    for kind in KINDS:
        assert not isinstance(validate(kind.action, "Request", kind.payload), Failure), kind.name
        assert isinstance(validate(kind.action, "Request", kind.invalid_payload), Failure), kind.name
        outcome = check_reply(kind, chargecore.reply_to(kind.text), allow_unsupported=kind.action != "DataTransfer")
        validated = chargecore_validates(station, kind)
        for name in ("ocpp", "ocpp-sync"):
            assert check_reply(kind, runners[name].reply_to(kind.text), allow_unsupported=False) == "CALLRESULT"
        path = "parse + schema validation + handler" if validated else "parse, no schema validation"
        print(f"chargecore {kind.action}: {outcome} ({path}); ocpp: CALLRESULT (request and response validated)")
    print()

    for text in changing:
        assert json.loads(replies[text])[2] == {"status": "Accepted"}, replies[text]
    rows = [(kind.name, [kind.text]) for kind in KINDS]
    rows.append(("SetChargingProfile (limits change)", changing))
    rows.append(("mix (1:1:1, interleaved)", [kind.text for kind in KINDS]))
    header = (
        f"{'frame kind':<34}{'chargecore/s':>14}{'ocpp/s':>10}{'ratio':>8}{'ocpp-sync/s':>13}{'ratio':>8}"
        f"{'floor/s':>10}{'floor/ours':>12}{'msgspec/s':>11}{'/ours':>7}"
    )
    print(header)
    print("-" * len(header))
    for label, texts in rows:
        rates = measure_side_by_side(
            {name: runner.run for name, runner in runners.items()}, texts, args.seconds, args.repeats
        )
        ours = rates["chargecore"]
        print(
            f"{label:<34}{ours:>14,.0f}{rates['ocpp']:>10,.0f}{ours / rates['ocpp']:>7.1f}x"
            f"{rates['ocpp-sync']:>13,.0f}{ours / rates['ocpp-sync']:>7.1f}x"
            f"{rates['floor']:>10,.0f}{rates['floor'] / ours:>11.1f}x"
            f"{rates['msgspec-floor']:>11,.0f}{rates['msgspec-floor'] / ours:>6.1f}x"
        )
    print()
    print("ocpp = ocpp.v201.ChargePoint.route_message as shipped (ASYNC_VALIDATION=True, validation in executor)")
    print("ocpp-sync = the same with ocpp.messages.ASYNC_VALIDATION = False (validation inline)")
    print("chargecore DataTransfer = step(FrameReceived) + step(Answer), counted as one frame")
    print("limits change = two profiles 100 W apart, alternated: each frame changes the applied limits (not in mix)")
    print("floor = json.loads + compiled validation of request and reply + json.dumps of the reply (goal: <= 5x)")
    print("msgspec = the same floor with msgspec's reader and writer: stricter, no goal (chargecore reads with it)")
    print()
    versus_ocpp, versus_floor = ours / rates["ocpp"], rates["floor"] / ours  # the last row: the mix
    print(goal_line("mix chargecore/ocpp", versus_ocpp, GOAL_OCPP, versus_ocpp >= GOAL_OCPP))
    print(goal_line("mix chargecore cost/floor", versus_floor, GOAL_FLOOR, versus_floor <= GOAL_FLOOR))
    print(f"mix chargecore cost/msgspec floor: {rates['msgspec-floor'] / ours:.1f}x (no goal)")
    print()
    print("chargecore schema validation alone, validate(action, 'Request', payload), per call:")
    for kind in KINDS:
        print(f"  {kind.action:<20}{validation_cost(kind, args.repeats, clock):8.2f} us")

    ocpp_async.close()
    ocpp_sync.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
