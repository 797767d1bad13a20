"""Running blocking work (a transfer, a signature check) off the core: the work's result always reaches the
caller's `deliver`, even when the work has a bug (no silent death: the traceback is logged and the result is the
caller's `crashed` value, for a transfer `Failed(INTERNAL)`).

Where the work runs is the runtime's choice, a `Runner`: the threaded runtime gives each job a daemon thread of
its own (`in_thread`), the asyncio runtime hands it to an executor (`loop.run_in_executor`), so that the event
loop never blocks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from chargecore.shell.transfer.outcome import Failed, Failure, Outcome

T = TypeVar("T")
Runner = Callable[[str, Callable[[], None]], None]
"""Runs `work` (which never raises) somewhere other than the core, under `name`; returns at once."""

_log = logging.getLogger("chargecore.shell.transfer")


def in_thread(name: str, work: Callable[[], None]) -> None:
    """The threaded runtime's `Runner`: a daemon thread per job, named `name`."""
    threading.Thread(target=work, name=name, daemon=True).start()


def guarded(
    name: str, job: Callable[[], T], deliver: Callable[[T], None], crashed: Callable[[Exception], T]
) -> Callable[[], None]:
    """`job` then `deliver` of its result as one piece of work that never raises: a job that raises is a bug, its
    traceback logged and `crashed(error)` delivered instead; a `deliver` that raises is logged."""

    def work() -> None:
        try:
            result = job()
        except Exception as error:  # a bug, not a failure: jobs return their failures, they never raise
            _log.exception("%s crashed", name)
            result = crashed(error)
        try:
            deliver(result)
        except Exception:
            _log.exception("delivering the result of %s failed", name)

    return work


def transfer_crashed(error: Exception) -> Outcome:
    """What a transfer whose code raised ends as."""
    return Failed(Failure.INTERNAL, f"internal error: {type(error).__name__}")


def start(name: str, job: Callable[[], Outcome], deliver: Callable[[Outcome], None], run: Runner = in_thread) -> None:
    """Run the transfer `job` (e.g. `lambda: download(url, dir, "fw.bin", options)`) with `run` and pass its outcome
    to `deliver` (typically `submit` of an input built from it)."""
    run(name, guarded(name, job, deliver, transfer_crashed))
