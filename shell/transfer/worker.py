"""Running a transfer off the core thread: one daemon thread per transfer whose result always reaches the
caller's `deliver`, even when the transfer code has a bug (no silent thread death: the traceback is logged
and the outcome is `Failed(INTERNAL)`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from chargecore.shell.transfer.outcome import Failed, Failure, Outcome

_log = logging.getLogger("chargecore.shell.transfer")


def start(name: str, job: Callable[[], Outcome], deliver: Callable[[Outcome], None]) -> threading.Thread:
    """Run `job` (e.g. `lambda: download(url, dir, "fw.bin", options)`) in a new thread named `name` and pass
    its outcome to `deliver` (typically `ChargingStation.submit` of an input built from it)."""

    def run() -> None:
        try:
            outcome = job()
        except Exception as error:  # a bug, not a transfer failure: transfers return Failed, they never raise
            _log.exception("transfer %s crashed", name)
            outcome = Failed(Failure.INTERNAL, f"internal error: {type(error).__name__}")
        try:
            deliver(outcome)
        except Exception:
            _log.exception("delivering the outcome of transfer %s failed", name)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread
