"""TransferJobs (shell/transfer_jobs.py), shared by both runtimes: the blocking work of a transfer effect runs on the
runtime's Runner, and its outcome comes back as an input through `submit`, a bug in the work included.

The asyncio cases run the jobs as the asyncio station does (`loop.run_in_executor`) and check that the loop keeps
serving other tasks while a job blocks."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from transfer_servers import HttpFiles

from chargecore.pure import effects as fx
from chargecore.pure.inputs import FirmwareDownloaded, FirmwareVerified, Input
from chargecore.shell import firmware, firmware_signing
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import StationOptions
from chargecore.shell.transfer.worker import Runner
from chargecore.shell.transfer_jobs import TransferJobs

PAYLOAD = b"firmware image " * 1000
NOW = datetime(2026, 12, 4, tzinfo=UTC)


def options(tmp_path: Path) -> StationOptions:
    return StationOptions(csms_url="ws://127.0.0.1:9", station_id="CS001", data_dir=tmp_path)


async def carry_out(tmp_path: Path, effects: list[fx.Effect], count: int, beside: Any = None) -> list[Input]:
    """Carry out `effects` with jobs on an executor, as AsyncChargingStation does, while `beside` (a coroutine) runs
    on the same loop; the first `count` inputs the jobs submit."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Input] = asyncio.Queue()
    executor = ThreadPoolExecutor(2)

    def submit(make: Callable[[datetime], Input]) -> None:
        loop.call_soon_threadsafe(inbox.put_nowait, make(NOW))

    def run(_name: str, work: Callable[[], None]) -> None:
        loop.run_in_executor(executor, work)

    jobs = TransferJobs(options(tmp_path), submit, FrameLog("CS001", stream=io.StringIO()), run)
    try:
        for effect in effects:
            jobs.carry_out(effect)
        if beside is not None:
            await beside
        return [await asyncio.wait_for(inbox.get(), 10) for _ in range(count)]
    finally:
        jobs.stop()
        executor.shutdown(wait=False)


@pytest.mark.requirements("L01.FR.01")
def test_a_download_on_the_executor_is_reported_as_an_input(tmp_path: Path, http_files: HttpFiles) -> None:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    effect = fx.DownloadFirmware(5, http_files.url + "fw.bin")
    [heard] = asyncio.run(carry_out(tmp_path, [effect], 1))
    assert isinstance(heard, FirmwareDownloaded) and heard.request_id == 5 and heard.path is not None
    assert Path(heard.path).read_bytes() == PAYLOAD


def test_the_threaded_runner_reports_the_same_way(tmp_path: Path, http_files: HttpFiles) -> None:
    """The default Runner (a thread per job), as the threaded runtime uses it."""
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    heard: list[Input] = []
    arrived = threading.Event()

    def submit(make: Callable[[datetime], Input]) -> None:
        heard.append(make(NOW))
        arrived.set()

    jobs = TransferJobs(options(tmp_path), submit, FrameLog("CS001", stream=io.StringIO()))
    jobs.carry_out(fx.DownloadFirmware(6, http_files.url + "missing.bin"))
    assert arrived.wait(10)
    [failed] = heard
    assert isinstance(failed, FirmwareDownloaded) and failed.path is None and "not found" in (failed.error or "")


def test_a_download_job_that_raises_is_logged_and_heard_as_failed_while_the_loop_keeps_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    started, released = threading.Event(), threading.Event()
    released_in_time: list[bool] = []

    def broken_download(*_args: Any, **_kwargs: Any) -> Any:
        started.set()
        released_in_time.append(released.wait(10))  # only the loop releases it: a blocked loop never would
        raise RuntimeError("a bug in the transfer code")

    monkeypatch.setattr(firmware, "download", broken_download)

    async def the_loop_answers() -> None:
        await asyncio.to_thread(started.wait, 10)
        released.set()

    effect = fx.DownloadFirmware(7, "http://127.0.0.1:9/fw.bin")
    [heard] = asyncio.run(carry_out(tmp_path, [effect], 1, the_loop_answers()))
    assert released_in_time == [True]
    assert isinstance(heard, FirmwareDownloaded) and heard.request_id == 7 and heard.path is None
    assert heard.error is not None and heard.error.startswith("internal error")
    assert "chargecore-firmware-7 crashed" in caplog.text and "RuntimeError: a bug in the transfer code" in caplog.text


@pytest.mark.requirements("L01.FR.03")
def test_a_signature_check_that_raises_is_heard_as_a_failed_check_and_the_file_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    image = tmp_path / "fw.bin"
    image.write_bytes(PAYLOAD)

    def broken_check(*_args: Any) -> str | None:
        raise ValueError("a bug in the signature check")

    monkeypatch.setattr(firmware_signing, "signature_problem", broken_check)
    effect = fx.VerifyFirmware(8, str(image), "PEM", "c2ln")
    [heard] = asyncio.run(carry_out(tmp_path, [effect], 1))
    assert heard == FirmwareVerified(NOW, 8, "internal error: ValueError")
    assert "ValueError: a bug in the signature check" in caplog.text


def test_results_arrive_in_the_order_the_jobs_end(tmp_path: Path, http_files: HttpFiles) -> None:
    """Two jobs at once, one quick failure and one signature check of a file that is not base64: both heard, each
    once, through the one inbox."""
    image = tmp_path / "fw.bin"
    image.write_bytes(PAYLOAD)
    effects: list[fx.Effect] = [
        fx.VerifyFirmware(9, str(image), "PEM", "not base64!"),
        fx.DownloadFirmware(10, http_files.url + "missing.bin"),
    ]
    heard = asyncio.run(carry_out(tmp_path, effects, 2))
    assert sorted(type(one).__name__ for one in heard) == ["FirmwareDownloaded", "FirmwareVerified"]
    verified = next(one for one in heard if isinstance(one, FirmwareVerified))
    assert verified.problem == "the signature is not base64" and not image.exists()


def test_a_runner_is_what_the_station_passes(tmp_path: Path) -> None:
    """Nothing runs on the caller's thread: a Runner that only collects the work leaves no input behind."""
    collected: list[str] = []
    runner: Runner = lambda name, _work: collected.append(name)  # noqa: E731 - a one-line Runner
    heard: list[Input] = []
    jobs = TransferJobs(
        options(tmp_path), lambda make: heard.append(make(NOW)), FrameLog("CS001", stream=io.StringIO()), runner
    )
    jobs.carry_out(fx.VerifyFirmware(11, str(tmp_path / "fw.bin"), "PEM", "c2ln"))
    assert collected == ["chargecore-firmware-verify-11"] and heard == []
