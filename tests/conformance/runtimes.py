"""Both runtimes behind the one synchronous face the conformance tests use: the threaded `ChargingStation` as it
is, and the asyncio `AsyncChargingStation` on an event loop in a thread of its own (`LoopThread`), its
`start`/`stop` coroutines run there and every other attribute (operator methods, `state`, `application`)
passed through: those are safe from any thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from chargecore.aio import AsyncChargingStation
from chargecore.shell.runtime import STOP_SECONDS

T = TypeVar("T")
RUNTIMES = ("threaded", "asyncio")
SLACK_SECONDS = 5.0
"""How much longer than its own bound a coroutine run from the test thread may take before the test fails."""


class LoopThread:
    """An event loop running in a daemon thread until `close`."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="aio-test-loop")
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T], timeout: float = SLACK_SECONDS) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(SLACK_SECONDS)
        if not self.thread.is_alive():
            self.loop.close()


class AsyncStationInThread:
    """An AsyncChargingStation with the threaded station's synchronous `start` and `stop`."""

    def __init__(self, station: AsyncChargingStation, loop: LoopThread) -> None:
        self.aio = station
        self._loop = loop

    def start(self) -> None:
        self._loop.run(self.aio.start())

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        self._loop.run(self.aio.stop(timeout), timeout + SLACK_SECONDS)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.aio, name)
