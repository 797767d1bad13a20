"""The station's clock: the time the shell stamps every input with.

The wall clock can be stepped back (an NTP correction, an operator, a dying RTC battery); a core that saw time go
backwards would re-fire timers and send events out of order. So the wall clock is read once, at start, and from
then on time runs on the monotonic counter. Agreeing with the CSMS is the core's business: it keeps the offset
that Boot and Heartbeat answers give (pure/ocppj/timestamps.py), so a wrong wall clock at start is corrected there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def wall_clock() -> datetime:
    return datetime.now(UTC)


class MonotonicClock:
    """Wall time read once at construction, advanced by the monotonic counter since then: never goes back."""

    def __init__(
        self, wall: Callable[[], datetime] = wall_clock, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._monotonic = monotonic
        self._started = monotonic()
        self._anchor = wall()

    def __call__(self) -> datetime:
        return self._anchor + timedelta(seconds=self._monotonic() - self._started)
