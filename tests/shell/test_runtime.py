"""The core thread never dies quietly: an application hook that raises is logged, reported and counted as failed
while the station goes on; a bug in the core or a store that cannot write ends the station through the crash
handler, with the websocket closed; and stopping is bounded even when the CSMS went silent (half-open)."""

from __future__ import annotations

import errno
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from charging_profiles import constant_profile
from core_helpers import connection_data
from half_open import half_open_csms
from harness import Booted, boot, settle
from sessions import authorize_locally, plug

from chargecore.pure.effects import HookFailed
from chargecore.pure.inputs import Input, SendDataTransfer
from chargecore.pure.state import Station
from chargecore.shell import runtime
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.runtime import EXIT_BUG, EXIT_STORE, ChargingStation, StationOptions
from chargecore.shell.storage import StationStore
from chargecore.testing.csms_double import CsmsDouble, wait_until

STATION_ID = "CS-RUNTIME"
WAIT = 5.0
CONFIG = {"AlignedDataCtrlr": {"Interval": 0}}
"""No clock-aligned meter values, so nothing arrives at the CSMS by chance."""


class FailingCharger(SimulatedCharger):
    """A SimulatedCharger whose hook named `failing` raises RuntimeError; every other hook works as usual."""

    def __init__(self, failing: str, only: Callable[..., bool] = lambda *_: True) -> None:
        super().__init__()
        self.failing = failing
        self.only = only
        """Raise only for the calls whose arguments this accepts."""

    def __getattribute__(self, name: str) -> Any:
        hook = super().__getattribute__(name)
        if name != object.__getattribute__(self, "failing"):
            return hook

        def failing(*args: Any) -> Any:
            if self.only(*args):
                raise RuntimeError(f"{name} broke")
            return hook(*args)

        failing.__name__ = name
        return failing

    def failures(self) -> list[HookFailed]:
        return [event for event in self.events if isinstance(event, HookFailed)]


class Crashes:
    """A crash handler that records instead of ending the test process."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def __call__(self, message: str, exit_code: int) -> None:
        self.seen.append((message, exit_code))


@pytest.fixture
def csms() -> Iterator[CsmsDouble]:
    with CsmsDouble() as double:
        yield double


Start = Callable[..., ChargingStation]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    """Start stations with an application, a crash handler and StationOptions overrides; stopped at teardown."""
    started: list[ChargingStation] = []

    def start_station(
        url: str, application: SimulatedCharger | None = None, on_crash: Crashes | None = None, **options: Any
    ) -> ChargingStation:
        options.setdefault("config", CONFIG)
        station = ChargingStation(
            StationOptions(csms_url=url, station_id=STATION_ID, data_dir=tmp_path / "data", **options),
            application or SimulatedCharger(),
            on_crash=on_crash or Crashes(),
        )
        started.append(station)
        station.start()
        return station

    yield start_station
    for station in started:
        station.stop()


def log_events(path: Path, level: str) -> list[str]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [line["message"] for line in lines if line["kind"] == "event" and line["level"] == level]


def still_answers(csms: CsmsDouble) -> None:
    wanted = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    reply = csms.call("GetVariables", {"getVariableData": [wanted]})
    assert reply.payload is not None and reply.payload["getVariableResult"][0]["attributeStatus"] == "Accepted"


# --- hooks that raise ----------------------------------------------------------------------------------------


def reset_refused(booted: Booted, csms: CsmsDouble) -> None:
    assert csms.call("Reset", {"type": "OnIdle"}).payload == {"status": "Rejected"}


def unlock_failed(booted: Booted, csms: CsmsDouble) -> None:
    reply = csms.call("UnlockConnector", {"evseId": 1, "connectorId": 1})
    assert reply.payload == {"status": "UnlockFailed"}


def data_transfer_rejected(booted: Booted, csms: CsmsDouble) -> None:
    assert csms.call("DataTransfer", {"vendorId": "org.example"}).payload == {"status": "Rejected"}


def network_profile_failed(booted: Booted, csms: CsmsDouble) -> None:
    reply = csms.call("SetNetworkProfile", {"configurationSlot": 2, "connectionData": connection_data(csms.url)})
    assert reply.payload is not None and reply.payload["status"] == "Failed"


def token_left_to_the_csms(booted: Booted, csms: CsmsDouble) -> None:
    authorize_locally(booted, csms)  # the station asks the CSMS, as without a verdict


def energy_not_started(booted: Booted, csms: CsmsDouble) -> None:
    """TxStartPoint PowerPathClosed: a power path that did not close starts no transaction."""
    authorize_locally(booted, csms)
    plug(booted, csms)
    wait_until(lambda: failing_hooks(booted), "the failure to be reported", WAIT)
    settle(booted.station, csms)
    assert csms.calls("TransactionEvent") == []
    assert not any(evse.power_path_closed for evse in booted.station.state.evse_hardware)


def limit_not_applied(booted: Booted, csms: CsmsDouble) -> None:
    profile = constant_profile(1, "TxDefaultProfile", 8)
    assert csms.call("SetChargingProfile", {"evseId": 1, "chargingProfile": profile}).payload == {"status": "Accepted"}


def message_not_shown(booted: Booted, csms: CsmsDouble) -> None:
    """The display hook failed: the message stays stored and accepted; the station goes on."""
    info = {"id": 1, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "hello"}}
    assert csms.call("SetDisplayMessage", {"message": info}).payload == {"status": "Accepted"}


def cost_not_shown(booted: Booted, csms: CsmsDouble) -> None:
    """The cost hook failed at the running cost; the CostUpdated is answered all the same."""
    plug(booted, csms)
    authorize_locally(booted, csms)
    started = csms.expect_call("TransactionEvent")
    csms.reply(started, {"idTokenInfo": {"status": "Accepted"}})
    cost = {"totalCost": 1.5, "transactionId": started.payload["transactionInfo"]["transactionId"]}
    assert csms.call("CostUpdated", cost).payload == {}


def evse_reset_goes_on(booted: Booted, csms: CsmsDouble) -> None:
    assert csms.call("Reset", {"type": "Immediate", "evseId": 1}).payload == {"status": "Accepted"}


def station_reset_goes_on(booted: Booted, csms: CsmsDouble) -> None:
    assert csms.call("Reset", {"type": "Immediate"}).payload == {"status": "Accepted"}
    csms.wait_session_closed(1)
    boot(booted.station, csms)  # the station rebooted all the same


def failing_hooks(booted: Booted) -> list[str]:
    application = booted.application
    assert isinstance(application, FailingCharger)
    return [failure.hook for failure in application.failures()]


START_ON_POWER_PATH = {"config": {**CONFIG, "TxCtrlr": {"TxStartPoint": "PowerPathClosed"}}}

HOOK_FAILURES: list[tuple[str, dict[str, Any], Callable[[Booted, CsmsDouble], None]]] = [
    ("is_reset_allowed", {}, reset_refused),
    ("unlock_connector", {}, unlock_failed),
    ("handle_data_transfer", {}, data_transfer_rejected),
    ("validate_network_profile", {}, network_profile_failed),
    ("validate_token", {"validates_tokens": True}, token_left_to_the_csms),
    (
        "start_energy_transfer",
        {"config": {**CONFIG, "TxCtrlr": {"TxStartPoint": "PowerPathClosed"}}},
        energy_not_started,
    ),
    ("apply_charging_limit", {}, limit_not_applied),
    ("show_messages", {}, message_not_shown),
    ("show_cost", {}, cost_not_shown),
    ("reset_evse", {}, evse_reset_goes_on),
    ("reboot", {}, station_reset_goes_on),
]


@pytest.mark.parametrize(("hook", "options", "counted_as_failed"), HOOK_FAILURES, ids=[h[0] for h in HOOK_FAILURES])
def test_a_hook_that_raises_is_logged_reported_and_counted_as_failed(
    csms: CsmsDouble,
    start: Start,
    tmp_path: Path,
    hook: str,
    options: dict[str, Any],
    counted_as_failed: Callable[[Booted, CsmsDouble], None],
) -> None:
    crashes = Crashes()
    log = tmp_path / "station.log"
    booted = boot(start(csms.url, FailingCharger(hook), crashes, log_file=log, **options), csms)
    counted_as_failed(booted, csms)
    wait_until(lambda: hook in failing_hooks(booted), f"HookFailed({hook}) for the application", WAIT)
    assert booted.application.failures()[0].error == f"RuntimeError: {hook} broke"
    errors = log_events(log, "error")
    assert any(f"{hook} raised" in error and "Traceback" in error and f"{hook} broke" in error for error in errors)
    still_answers(csms)
    assert crashes.seen == [] and booted.station.fatal_error is None


def test_an_on_event_that_raises_is_reported_to_on_event(csms: CsmsDouble, start: Start, tmp_path: Path) -> None:
    """The station goes on, and the application hears of its own failure as a HookFailed event."""
    charger = FailingCharger("on_event", only=lambda event: not isinstance(event, HookFailed))
    booted = boot(start(csms.url, charger, log_file=tmp_path / "station.log"), csms)
    wait_until(lambda: "on_event" in failing_hooks(booted), "HookFailed(on_event)", WAIT)
    still_answers(csms)


def test_an_on_event_that_always_raises_does_not_report_its_failures_in_a_loop(csms: CsmsDouble, start: Start) -> None:
    """Each failed event is reported once as HookFailed; the failure to deliver that report is only logged."""
    delivered: list[Any] = []
    charger = FailingCharger("on_event", only=lambda event: delivered.append(event) is None)
    station = start(csms.url, charger)
    boot(station, csms)
    settle(station, csms)

    def reports_match() -> bool:
        reports = [event for event in delivered if isinstance(event, HookFailed)]
        return len(reports) == len(delivered) - len(reports)

    wait_until(reports_match, "one HookFailed per failed event", WAIT)
    time.sleep(0.3)
    assert reports_match(), "failures of on_event keep feeding each other"
    still_answers(csms)


# --- bugs and a store that cannot write ----------------------------------------------------------------------


def broken_on(kind: type, real: Callable[[Station, Any], Any]) -> Callable[[Station, Any], Any]:
    """`step` with a bug: it raises on inputs of `kind`."""

    def step(state: Station, event: Input) -> Any:
        if isinstance(event, kind):
            raise ZeroDivisionError("a bug in the core")
        return real(state, event)

    return step


def assert_ended(station: ChargingStation, csms: CsmsDouble, crashes: Crashes, exit_code: int, *named: str) -> None:
    """The crash handler ran once within a second, the station counts as stopped, and the CSMS saw the websocket
    close."""
    wait_until(lambda: crashes.seen, "the crash handler", 1.0)
    assert station.wait(1.0)
    ((message, code),) = crashes.seen
    assert code == exit_code and station.fatal_error == message
    assert "\n" not in message and all(word in message for word in named), message
    csms.wait_session_closed(1, 1.0)


def test_an_exception_in_step_ends_the_station_through_the_crash_handler(
    csms: CsmsDouble, start: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes, log = Crashes(), tmp_path / "station.log"
    monkeypatch.setattr(runtime, "step", broken_on(SendDataTransfer, runtime.step))
    station = start(csms.url, on_crash=crashes, log_file=log)
    boot(station, csms)
    station.send_data_transfer("org.example")
    assert_ended(station, csms, crashes, EXIT_BUG, "ZeroDivisionError", "a bug in the core")
    assert any("Traceback" in error and "a bug in the core" in error for error in log_events(log, "error"))


def test_an_exception_in_next_deadline_ends_the_station(
    csms: CsmsDouble, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes, broken = Crashes(), {"now": False}
    real = runtime.next_deadline

    def next_deadline(state: Station) -> datetime | None:
        if broken["now"]:
            raise OverflowError("date value out of range")
        return real(state)

    monkeypatch.setattr(runtime, "next_deadline", next_deadline)
    station = start(csms.url, on_crash=crashes)
    boot(station, csms)
    broken["now"] = True
    station.send_data_transfer("org.example")  # wakes the core thread, which asks for the next deadline
    assert_ended(station, csms, crashes, EXIT_BUG, "OverflowError")


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        PermissionError(errno.EACCES, "Permission denied"),
        ValueError("the store's own kind of failure"),
    ],
    ids=["ENOSPC", "EACCES", "other"],
)
def test_a_store_that_cannot_write_ends_the_station(
    csms: CsmsDouble, start: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    """The core counts what it persisted as durable: a failed write cannot be stepped over."""
    crashes, full = Crashes(), {"now": False}
    real = StationStore.put

    def put(store: StationStore, entries: Any) -> None:
        if full["now"]:
            raise failure
        real(store, entries)

    monkeypatch.setattr(StationStore, "put", put)
    station = start(csms.url, on_crash=crashes)
    boot(station, csms)
    full["now"] = True
    station.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "20")  # a device-model value is persisted
    assert_ended(station, csms, crashes, EXIT_STORE, "cannot write", str(tmp_path / "data"), str(failure))


# --- stopping --------------------------------------------------------------------------------------------------


def test_stop_is_bounded_when_the_csms_went_silent(start: Start) -> None:
    """The reader thread holds websocket-client's frame lock in recv, so closing the websocket blocks."""
    with half_open_csms() as (url, upgraded):
        station = start(url)
        assert upgraded.wait(WAIT)
        wait_until(lambda: station.state.connection.phase == "up", "the station to be connected", WAIT)
        began = time.monotonic()
        station.submit_stop()
        assert station.wait(2.0)
        station.stop()
        assert time.monotonic() - began < 2.0


class BlockingCharger(SimulatedCharger):
    """Its DataTransfer handler blocks until released, as a hook waiting on dead hardware would."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def handle_data_transfer(self, vendor_id: str, message_id: str | None, data: Any) -> dict[str, Any] | None:
        self.entered.set()
        self.release.wait(WAIT)
        return None


def test_a_stop_is_bounded_while_a_hook_holds_the_core_thread(csms: CsmsDouble, start: Start) -> None:
    charger = BlockingCharger()
    station = start(csms.url, charger)
    boot(station, csms)
    csms.send_call("DataTransfer", {"vendorId": "org.example"})
    assert charger.entered.wait(WAIT)
    try:
        began = time.monotonic()
        station.submit_stop()
        assert station.wait(2.0)
        station.stop()
        assert time.monotonic() - began < 2.0
    finally:
        charger.release.set()
