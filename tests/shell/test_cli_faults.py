"""`chargecore run` in a subprocess under faults: it never turns into a zombie. A frame the log cannot print as it
is leaves it running; a bug or a store that cannot write ends it within a second with a non-zero exit code and one
line on stderr; `quit`, SIGINT and SIGTERM end it within two seconds, also while the CSMS is silent (half-open) or
never answers the websocket upgrade."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from half_open import half_open_csms
from test_cli import run_args

from chargecore.shell.runtime import EXIT_BUG, EXIT_STORE
from chargecore.testing.csms_double import CsmsDouble, wait_until

WAIT = 10.0

PLANTED_BUG = """
from chargecore.pure.inputs import SendDataTransfer
from chargecore.shell import runtime
real_step = runtime.step
def step(state, event):
    if isinstance(event, SendDataTransfer):
        raise ZeroDivisionError("a planted bug")
    return real_step(state, event)
runtime.step = step
"""
"""`step` raises on the operator's `datatransfer`."""

OPERATOR_BUG = """
from chargecore.shell import cli
def describe(station):
    raise KeyError("a planted bug in the operator thread")
cli.describe = describe
"""
"""The operator's `status` raises, outside the core thread."""

DISK_FULL = """
import errno, os
from chargecore.shell.storage import StationStore
real_put = StationStore.put
def put(store, entries):
    if os.path.exists("disk-full"):
        raise OSError(errno.ENOSPC, "No space left on device", "station.journal")
    real_put(store, entries)
StationStore.put = put
"""
"""Every store write fails with ENOSPC once the file `disk-full` exists in the working directory."""


class Process:
    """`chargecore run` with Python source run first (how a test plants a fault); stdout goes to a file."""

    def __init__(self, tmp_path: Path, csms_url: str, planted: str = "") -> None:
        code = f"{planted}\nfrom chargecore.shell.cli import main\nraise SystemExit(main())"
        self.stdout = tmp_path / "stdout.txt"
        with open(self.stdout, "w", encoding="utf-8") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code, *run_args(tmp_path, csms=csms_url)],
                cwd=tmp_path,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.PIPE,
                text=True,
            )

    def printed(self, text: str) -> None:
        wait_until(lambda: text in self.stdout.read_text(encoding="utf-8"), f"{text!r} on stdout", WAIT)

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def ends_within(self, seconds: float, since: float) -> int:
        """The exit code, asserting that the process ended within `seconds` of `since` (time.monotonic)."""
        code = self.process.wait(WAIT)
        assert time.monotonic() - since < seconds, f"ended {time.monotonic() - since:.2f} s after the request"
        return code

    def stderr_lines(self) -> list[str]:
        assert self.process.stderr is not None
        return self.process.stderr.read().strip().splitlines()


@contextmanager
def running(tmp_path: Path, csms_url: str, planted: str = "") -> Iterator[Process]:
    process = Process(tmp_path, csms_url, planted)
    try:
        yield process
    finally:
        if process.process.poll() is None:
            process.process.kill()
        process.process.wait(WAIT)
        for stream in (process.process.stdin, process.process.stderr):
            if stream is not None:
                stream.close()


def booted(csms: CsmsDouble) -> None:
    csms.answer_boot()
    csms.expect_call("StatusNotification")


@pytest.mark.parametrize(
    ("code", "description"), [("GenericError", "boom \ud800"), ("Generic\ud800Error", "boom")], ids=["in", "code"]
)
def test_a_callerror_with_a_lone_surrogate_leaves_the_station_running(
    tmp_path: Path, code: str, description: str
) -> None:
    """The double sends `[4,"<id>","GenericError","boom \\ud800",{}]` as JSON text (json.dumps escapes it)."""
    with CsmsDouble() as csms, running(tmp_path, csms.url) as station:
        booted(csms)
        station.command("datatransfer org.example")
        csms.reply_error(csms.expect_call("DataTransfer"), code, description)
        station.printed("\\ud800")
        reply = csms.call(
            "GetVariables",
            {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]},
        )
        assert reply.payload is not None
        station.command("quit")
        assert station.ends_within(2.0, time.monotonic()) == 0


def test_a_bug_ends_the_process_with_exit_code_70_within_a_second(tmp_path: Path) -> None:
    with CsmsDouble() as csms, running(tmp_path, csms.url, PLANTED_BUG) as station:
        booted(csms)
        asked = time.monotonic()
        station.command("datatransfer org.example")
        assert station.ends_within(1.0, asked) == EXIT_BUG
        (line,) = station.stderr_lines()
        assert "ZeroDivisionError" in line and "a planted bug" in line
        csms.wait_session_closed(1)
    assert "Traceback" in station.stdout.read_text(encoding="utf-8")


def test_a_bug_in_another_thread_of_the_station_ends_the_process_too(tmp_path: Path) -> None:
    with CsmsDouble() as csms, running(tmp_path, csms.url, OPERATOR_BUG) as station:
        booted(csms)
        asked = time.monotonic()
        station.command("status")
        assert station.ends_within(1.0, asked) == EXIT_BUG
        (line,) = station.stderr_lines()
        assert "operator" in line and "a planted bug in the operator thread" in line
        csms.wait_session_closed(1)


def test_a_full_disk_ends_the_process_with_exit_code_74_within_a_second(tmp_path: Path) -> None:
    with CsmsDouble() as csms, running(tmp_path, csms.url, DISK_FULL) as station:
        booted(csms)
        (tmp_path / "disk-full").touch()
        asked = time.monotonic()
        station.command("set OCPPCommCtrlr HeartbeatInterval 20")  # a device-model value is persisted
        assert station.ends_within(1.0, asked) == EXIT_STORE
        (line,) = station.stderr_lines()
        assert "No space left on device" in line and "station.journal" in line and str(tmp_path / "data") in line
        csms.wait_session_closed(1)


STOPS = {
    "quit": lambda station: station.command("quit"),
    "SIGINT": lambda station: station.process.send_signal(signal.SIGINT),
    "SIGTERM": lambda station: station.process.send_signal(signal.SIGTERM),
}


@pytest.mark.parametrize("upgrade", [True, False], ids=["half-open", "upgrade-unanswered"])
@pytest.mark.parametrize("stop", list(STOPS))
def test_quit_and_signals_stop_the_station_within_two_seconds_when_the_csms_went_silent(
    tmp_path: Path, stop: str, upgrade: bool
) -> None:
    with half_open_csms(upgrade) as (url, connected), running(tmp_path, url) as station:
        assert connected.wait(WAIT)
        if upgrade:
            station.printed('"BootNotification"')  # sent: the reader now waits for the answer, holding its lock
        asked = time.monotonic()
        STOPS[stop](station)
        assert station.ends_within(2.0, asked) == 0
