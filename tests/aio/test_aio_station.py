"""What is specific to the asyncio runtime: `async def` hooks are awaited, a hook that raises (plain or async) is
counted as failed while the station goes on, a stop is clean and bounded in every state, the reconnect back-off
runs on the loop, a store write never blocks the loop, and a bug or a failed write ends the station through the
crash handler. The stations run on an event loop in a thread (`LoopThread`), the CSMS double in its own."""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from half_open import half_open_csms
from harness import boot
from runtimes import AsyncStationInThread, LoopThread

from chargecore.aio import AsyncChargingStation, ConfigurationError, StationOptions
from chargecore.aio import station as aio_station
from chargecore.pure.effects import HookFailed, RegistrationChanged
from chargecore.pure.inputs import Input, SendDataTransfer
from chargecore.pure.state import Station
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.drive import EXIT_BUG, EXIT_STORE
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.storage import StationStore
from chargecore.testing.csms_double import CsmsDouble, wait_until
from chargecore.tools.csms import LocalCsms

WAIT = 5.0
CONFIG = {
    "OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 1, "RetryBackOffRandomRange": 0, "MessageTimeout[Default]": 5},
    "AlignedDataCtrlr": {"Interval": 0},
}


class Crashes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def __call__(self, message: str, exit_code: int) -> None:
        self.seen.append((message, exit_code))


@pytest.fixture
def csms() -> Iterator[CsmsDouble]:
    with CsmsDouble() as double:
        yield double


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    running = LoopThread()
    yield running
    running.close()


Start = Callable[..., AsyncStationInThread]


@pytest.fixture
def start(loop: LoopThread, tmp_path: Path) -> Iterator[Start]:
    """Start asyncio stations on `loop`; stopped at teardown."""
    started: list[AsyncStationInThread] = []

    def start_station(
        url: str, application: Any = None, on_crash: Crashes | None = None, **options: Any
    ) -> AsyncStationInThread:
        options.setdefault("config", CONFIG)
        options.setdefault("data_dir", tmp_path / "data")
        aio = AsyncChargingStation(
            StationOptions(csms_url=url, station_id="CS-AIO", **options),
            application or SimulatedCharger(),
            on_crash=on_crash or Crashes(),
        )
        station = AsyncStationInThread(aio, loop)
        started.append(station)
        station.start()
        return station

    yield start_station
    for station in started:
        station.stop()


def data_transfer(csms: CsmsDouble, vendor: str = "org.example") -> dict[str, Any]:
    reply = csms.call("DataTransfer", {"vendorId": vendor, "data": "ping"})
    assert reply.payload is not None, reply
    return reply.payload


# --- async hooks -------------------------------------------------------------------------------------------------


class AsyncCharger(SimulatedCharger):
    """Its DataTransfer and reset hooks are coroutines that yield to the loop before answering."""

    async def handle_data_transfer(  # type: ignore[override]
        self, vendor_id: str, message_id: str | None, data: Any
    ) -> dict[str, Any] | None:
        await asyncio.sleep(0.05)
        return {"status": "Accepted", "data": f"async {data}"}

    async def is_reset_allowed(self, reset_type: str, evse_id: int | None) -> bool:  # type: ignore[override]
        await asyncio.sleep(0.01)
        return False


def test_async_hooks_are_awaited_and_answer_the_csms(csms: CsmsDouble, start: Start) -> None:
    boot(start(csms.url, AsyncCharger()), csms)  # type: ignore[arg-type]
    assert data_transfer(csms) == {"status": "Accepted", "data": "async ping"}
    reset = csms.call("Reset", {"type": "OnIdle"})
    assert reset.payload is not None and reset.payload["status"] == "Rejected"


class RaisingCharger(SimulatedCharger):
    """handle_data_transfer raises, as a coroutine or as a plain function."""

    def __init__(self, asynchronous: bool) -> None:
        super().__init__()
        self.asynchronous = asynchronous

    def handle_data_transfer(self, vendor_id: str, message_id: str | None, data: Any) -> Any:
        if not self.asynchronous:
            raise RuntimeError("handle_data_transfer broke")

        async def broken() -> None:
            await asyncio.sleep(0)
            raise RuntimeError("handle_data_transfer broke")

        return broken()


@pytest.mark.parametrize("asynchronous", [True, False], ids=["async", "plain"])
def test_a_hook_that_raises_counts_as_failed_and_the_station_goes_on(
    csms: CsmsDouble, start: Start, tmp_path: Path, asynchronous: bool
) -> None:
    crashes, charger, log = Crashes(), RaisingCharger(asynchronous), tmp_path / "station.log"
    station = start(csms.url, charger, crashes, log_file=log)
    boot(station, csms)
    assert data_transfer(csms) == {"status": "Rejected"}  # the refusal a failed handler answers
    failed = wait_until(lambda: [e for e in charger.events if isinstance(e, HookFailed)], "HookFailed", WAIT)
    assert failed[0].hook == "handle_data_transfer" and failed[0].error == "RuntimeError: handle_data_transfer broke"
    assert data_transfer(csms) == {"status": "Rejected"}  # and again: the station keeps answering
    heartbeat = csms.trigger("Heartbeat")
    assert heartbeat.payload == {"status": "Accepted"}
    assert crashes.seen == [] and station.fatal_error is None
    assert "Traceback" in log.read_text(encoding="utf-8")


# --- stopping ----------------------------------------------------------------------------------------------------


def released(data_dir: Path) -> bool:
    """The store was closed: another station may open the data dir."""
    StationStore(data_dir).close()
    return True


def stopped_within(station: AsyncStationInThread, seconds: float) -> bool:
    began = time.monotonic()
    station.stop()
    return time.monotonic() - began <= seconds


def test_stop_when_booted_closes_normally_and_releases_the_store(
    csms: CsmsDouble, start: Start, tmp_path: Path
) -> None:
    station = start(csms.url)
    boot(station, csms)
    assert stopped_within(station, 2.0)
    assert csms.wait_session_closed(1).close_code == 1000
    assert station.state.connection.phase == "stopped"
    assert released(tmp_path / "data")


def test_stop_before_the_boot_is_answered(csms: CsmsDouble, start: Start, tmp_path: Path) -> None:
    station = start(csms.url)
    csms.expect_call("BootNotification")
    assert stopped_within(station, 2.0)
    assert csms.wait_session_closed(1).close_code == 1000
    assert released(tmp_path / "data")


def test_stop_while_the_csms_refuses_every_connection(csms: CsmsDouble, start: Start, tmp_path: Path) -> None:
    """The station is waiting out its back-off between refused dials."""
    csms.refuse_connections()
    station = start(csms.url)
    csms.wait_attempts(1)
    assert stopped_within(station, 2.0)
    assert released(tmp_path / "data")


def test_stop_when_the_csms_went_silent_is_bounded(start: Start, tmp_path: Path) -> None:
    with half_open_csms() as (url, upgraded):
        station = start(url)
        assert upgraded.wait(WAIT)
        wait_until(lambda: station.state.connection.phase == "up", "the station to be connected", WAIT)
        assert stopped_within(station, 2.5)
    assert released(tmp_path / "data")


class StuckCharger(SimulatedCharger):
    """Its async DataTransfer handler never answers, as a hook waiting on dead hardware."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()

    async def handle_data_transfer(  # type: ignore[override]
        self, vendor_id: str, message_id: str | None, data: Any
    ) -> dict[str, Any] | None:
        self.entered.set()
        await asyncio.Event().wait()
        return None


def test_stop_while_an_async_hook_holds_the_core_is_bounded(csms: CsmsDouble, start: Start, tmp_path: Path) -> None:
    charger = StuckCharger()
    station = start(csms.url, charger)
    boot(station, csms)
    csms.send_call("DataTransfer", {"vendorId": "org.example"})
    assert charger.entered.wait(WAIT)
    assert stopped_within(station, 2.5)
    assert released(tmp_path / "data")


def test_stop_twice_and_stop_before_start_are_harmless(loop: LoopThread, tmp_path: Path) -> None:
    options = StationOptions(csms_url="ws://127.0.0.1:9", station_id="CS-AIO", data_dir=tmp_path / "data")
    station = AsyncStationInThread(AsyncChargingStation(options, on_crash=Crashes()), loop)
    station.stop()
    station.stop()
    assert released(tmp_path / "data")


def test_a_configuration_refused_at_construction_releases_the_data_dir(tmp_path: Path) -> None:
    options = StationOptions(
        csms_url="ws://127.0.0.1:9", station_id="CS-AIO", data_dir=tmp_path / "data", client_cert="only-a-cert.pem"
    )
    with pytest.raises(ConfigurationError, match="needs both"):
        AsyncChargingStation(options)
    assert released(tmp_path / "data")


# --- reconnecting ------------------------------------------------------------------------------------------------


def test_a_lost_connection_is_dialled_again_after_the_back_off(csms: CsmsDouble, start: Start) -> None:
    """RetryBackOffWaitMinimum 1 s without a random part: the first retry 1 s after the loss, the next 2 s after
    a refused one (doubled)."""
    station = start(csms.url)
    boot(station, csms)
    csms.refuse_connections()
    csms.close_connection()
    lost = time.monotonic()
    second, third = csms.wait_attempts(3, timeout=10)[1:3]
    assert 0.9 <= second.at - lost < 2.0
    assert 1.9 <= third.at - second.at < 3.0
    csms.accept_connections()
    wait_until(lambda: station.state.connection.phase == "up", "the station to be connected again", 10)


# --- the loop is never blocked -------------------------------------------------------------------------------


def test_a_slow_store_write_does_not_block_the_loop(
    csms: CsmsDouble, start: Start, loop: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each Persist waits 0.3 s (a slow fsync) on the writer thread; a coroutine on the same loop keeps running
    every 10 ms meanwhile, and the write still comes before the frame that depends on it."""
    real, writers = StationStore.put, []

    def slow_put(store: StationStore, entries: Any) -> None:
        writers.append(threading.current_thread())
        time.sleep(0.3)
        real(store, entries)

    monkeypatch.setattr(StationStore, "put", slow_put)
    station = start(csms.url)
    boot(station, csms)
    writers.clear()

    async def longest_pause(seconds: float) -> float:
        longest, last, end = 0.0, time.monotonic(), time.monotonic() + seconds
        while time.monotonic() < end:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            longest, last = max(longest, now - last), now
        return longest

    watching = asyncio.run_coroutine_threadsafe(longest_pause(1.0), loop.loop)
    station.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "20")  # a device-model value is persisted
    assert watching.result(WAIT) < 0.15
    assert writers and all(writer is not loop.thread for writer in writers)


def test_a_stop_during_a_store_write_lets_it_finish_before_the_store_closes(
    csms: CsmsDouble, start: Start, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop's bound (0.1 s here) cancels the core task in the middle of a 0.5 s write; the write still lands."""
    real, writing = StationStore.put, threading.Event()

    def slow_put(store: StationStore, entries: Any) -> None:
        writing.set()
        time.sleep(0.5)
        real(store, entries)

    station = start(csms.url)
    boot(station, csms)
    monkeypatch.setattr(StationStore, "put", slow_put)
    station.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "20")
    assert writing.wait(WAIT)
    station.stop(timeout=0.1)
    monkeypatch.undo()
    kept = StationStore(tmp_path / "data")
    try:
        assert any("HeartbeatInterval" in key and str(value) == "20" for key, value in kept.load().items()), kept.load()
    finally:
        kept.close()


# --- the end of a station --------------------------------------------------------------------------------------


def test_a_store_that_cannot_write_ends_the_station(
    csms: CsmsDouble, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes, full, real = Crashes(), {"now": False}, StationStore.put

    def put(store: StationStore, entries: Any) -> None:
        if full["now"]:
            raise OSError(28, "No space left on device")
        real(store, entries)

    monkeypatch.setattr(StationStore, "put", put)
    station = start(csms.url, on_crash=crashes)
    boot(station, csms)
    full["now"] = True
    station.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "20")
    wait_until(lambda: crashes.seen, "the crash handler", WAIT)
    ((message, code),) = crashes.seen
    assert code == EXIT_STORE and "cannot write" in message and "No space left" in message
    assert station.fatal_error == message
    csms.wait_session_closed(1)


def test_a_bug_in_the_core_ends_the_station(csms: CsmsDouble, start: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    real = aio_station.step

    def step(state: Station, event: Input) -> Any:
        if isinstance(event, SendDataTransfer):
            raise KeyError("planted")
        return real(state, event)

    monkeypatch.setattr(aio_station, "step", step)
    crashes = Crashes()
    station = start(csms.url, on_crash=crashes)
    boot(station, csms)
    station.send_data_transfer("org.example")
    wait_until(lambda: crashes.seen, "the crash handler", WAIT)
    assert crashes.seen == [("bug in the core task: KeyError: 'planted'", EXIT_BUG)]
    csms.wait_session_closed(1)
    assert stopped_within(station, 1.0)


# --- many stations, one loop ---------------------------------------------------------------------------------


def test_many_stations_share_one_loop_without_a_thread_each(loop: LoopThread, tmp_path: Path) -> None:
    """30 stations boot against the local CSMS on one loop; the threads added are the loop's shared executor's
    (store writes), not some per station as the threaded runtime needs."""
    count, threads_before = 30, threading.active_count()
    with LocalCsms(on_log=lambda _line: None) as local:
        applications = [SimulatedCharger() for _ in range(count)]
        stations = [
            AsyncStationInThread(
                AsyncChargingStation(
                    StationOptions(local.url, f"CS-MANY-{n}", tmp_path / str(n), config=CONFIG),
                    applications[n],
                    FrameLog(f"CS-MANY-{n}", stream=io.StringIO()),
                    on_crash=Crashes(),
                ),
                loop,
            )
            for n in range(count)
        ]
        for station in stations:
            station.start()
        try:
            accepted = RegistrationChanged("Accepted")
            wait_until(lambda: all(accepted in a.events for a in applications), "every station booted", 30)
            added = threading.active_count() - threads_before
            assert added <= 10  # the CSMS's own threads and the executor's
        finally:
            for station in stations:
                station.stop()
