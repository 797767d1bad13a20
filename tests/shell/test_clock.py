"""The shell's clock (shell/clock.py): anchored to the wall once, then monotonic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chargecore.shell import clock, runtime
from chargecore.shell.clock import MonotonicClock

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Sources:
    """A wall clock and a monotonic counter the test moves by hand."""

    def __init__(self) -> None:
        self.wall_time = START
        self.counter = 1000.0

    def wall(self) -> datetime:
        return self.wall_time

    def monotonic(self) -> float:
        return self.counter

    def wait(self, seconds: float) -> None:
        self.wall_time += timedelta(seconds=seconds)
        self.counter += seconds


def test_the_clock_starts_at_the_wall_time_and_runs_with_the_monotonic_counter() -> None:
    sources = Sources()
    station_clock = MonotonicClock(sources.wall, sources.monotonic)
    assert station_clock() == START
    sources.wait(2.5)
    assert station_clock() == START + timedelta(seconds=2.5)


@pytest.mark.parametrize("step", [timedelta(seconds=-1), timedelta(hours=-3), timedelta(days=-400)])
def test_the_clock_never_goes_back_when_the_wall_clock_is_stepped_back(step: timedelta) -> None:
    sources = Sources()
    station_clock = MonotonicClock(sources.wall, sources.monotonic)
    readings = [station_clock()]
    for _ in range(5):
        sources.wait(0.5)
        sources.wall_time += step  # NTP, an operator or a dead RTC battery moves the wall clock back
        readings.append(station_clock())
    assert readings == sorted(readings) and len(set(readings)) == len(readings)
    assert readings[-1] - readings[0] == timedelta(seconds=2.5), "the steps are ignored, the elapsed time is not"


def test_a_wall_clock_stepped_forward_is_ignored_too() -> None:
    """Only the start reads the wall: the CSMS's offset (Boot/Heartbeat currentTime) corrects the rest."""
    sources = Sources()
    station_clock = MonotonicClock(sources.wall, sources.monotonic)
    sources.wait(1)
    sources.wall_time += timedelta(hours=1)
    assert station_clock() == START + timedelta(seconds=1)


class SteppedBack(datetime):
    """The wall clock one hour in the past."""

    @classmethod
    def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
        return datetime.now(UTC) - timedelta(hours=1)


def test_the_stations_default_clock_ignores_a_wall_clock_stepped_back(monkeypatch: pytest.MonkeyPatch) -> None:
    before = runtime.utc_now()
    monkeypatch.setattr(runtime, "datetime", SteppedBack)
    monkeypatch.setattr(clock, "datetime", SteppedBack)
    assert runtime.utc_now() >= before
