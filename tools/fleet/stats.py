"""The fleet's statistics: counters shared by every station of the process, the live status line and the JSON
summary. Each station's log is a `CountingLog`: it counts frames instead of printing them."""

from __future__ import annotations

import time
from typing import Any

from chargecore.shell.frame_log import FrameLog

KEPT_ERRORS = 20
"""The first station errors are kept for the summary; the rest are only counted."""


class FleetStats:
    """Counters over the whole fleet; every station updates them from the one event loop."""

    def __init__(self, stations: int) -> None:
        self.stations = stations
        self.started = 0
        self.connected = 0
        self.connects = 0
        self.ever_connected = 0
        self.booted = 0
        self.frames_in = 0
        self.frames_out = 0
        self.callerrors_in = 0
        """CALLERRORs the CSMS sent."""
        self.callerrors_out = 0
        """CALLERRORs the stations sent."""
        self.transactions_running = 0
        self.transactions_started = 0
        self.transactions_ended = 0
        self.transactions_with_energy = 0
        """Ended transactions whose meter register rose while they ran."""
        self.energy_wh = 0.0
        self.badges = 0
        self.badges_refused: dict[str, int] = {}
        """Refused badges by the status the core decided (Invalid, Unknown offline, ...)."""
        self.faults = 0
        self.network_drops = 0
        self.crashed = 0
        self.errors = 0
        self.first_errors: list[str] = []
        self.began = time.monotonic()
        self.boot_seconds: float | None = None
        """Seconds from the start until every station was booted."""
        self._last = (self.began, 0, 0)

    @property
    def reconnects(self) -> int:
        """Connections beyond each station's first."""
        return self.connects - self.ever_connected

    def station_booted(self) -> None:
        self.booted += 1
        if self.booted == self.stations and self.boot_seconds is None:
            self.boot_seconds = round(time.monotonic() - self.began, 3)

    def refused(self, status: str) -> None:
        self.badges_refused[status] = self.badges_refused.get(status, 0) + 1

    def transaction_ended(self, energy_wh: float) -> None:
        """A transaction ended; `energy_wh` is how much the meter register rose while it ran."""
        self.transactions_ended += 1
        self.transactions_running -= 1
        self.energy_wh += energy_wh
        self.transactions_with_energy += energy_wh > 0

    def error(self, station_id: str, message: str) -> None:
        self.errors += 1
        if len(self.first_errors) < KEPT_ERRORS:
            self.first_errors.append(f"{station_id}: {message.splitlines()[0][:300]}")

    def status_line(self) -> str:
        """One line: what is connected and running, and the frame rates since the previous line."""
        now = time.monotonic()
        then, frames_in, frames_out = self._last
        seconds = max(now - then, 1e-6)
        rate_in, rate_out = (self.frames_in - frames_in) / seconds, (self.frames_out - frames_out) / seconds
        self._last = (now, self.frames_in, self.frames_out)
        return (
            f"{now - self.began:6.0f}s stations {self.started}/{self.stations} connected {self.connected} "
            f"booted {self.booted} tx {self.transactions_running} (ended {self.transactions_ended}) "
            f"frames/s in {rate_in:.0f} out {rate_out:.0f} "
            f"CALLERRORs {self.callerrors_in + self.callerrors_out} reconnects {self.reconnects}"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "stations": self.stations,
            "started": self.started,
            "booted": self.booted,
            "connected_at_end": self.connected,
            "seconds": round(time.monotonic() - self.began, 3),
            "seconds_to_boot_all": self.boot_seconds,
            "frames_in": self.frames_in,
            "frames_out": self.frames_out,
            "callerrors_from_csms": self.callerrors_in,
            "callerrors_from_stations": self.callerrors_out,
            "reconnects": self.reconnects,
            "network_drops": self.network_drops,
            "faults": self.faults,
            "badges": self.badges,
            "badges_refused": self.badges_refused,
            "transactions_started": self.transactions_started,
            "transactions_ended": self.transactions_ended,
            "transactions_running_at_end": self.transactions_running,
            "transactions_ended_with_energy": self.transactions_with_energy,
            "energy_kwh": round(self.energy_wh / 1000, 3),
            "stations_crashed": self.crashed,
            "errors": self.errors,
            "first_errors": self.first_errors,
        }


class CountingLog(FrameLog):
    """A station's log in the fleet: frames and connections are counted, errors kept (a few), nothing printed."""

    __slots__ = ("_connected", "_ever", "_station_id", "_stats")

    def __init__(self, station_id: str, stats: FleetStats) -> None:  # no stream, no file: nothing to open
        self._station_id = station_id
        self._stats = stats
        self._connected = False
        self._ever = False

    def frame(self, direction: str, text: str) -> None:
        stats = self._stats
        error = text.startswith("[4")
        if direction == "send":
            stats.frames_out += 1
            stats.callerrors_out += error
        else:
            stats.frames_in += 1
            stats.callerrors_in += error

    def event(self, level: str, message: str) -> None:
        if message.startswith("connected to "):
            self._up(True)
            self._stats.connects += 1
            self._stats.ever_connected += not self._ever
            self._ever = True
        elif message == "connection lost":
            self._up(False)
        elif level == "error":
            self._stats.error(self._station_id, message)

    def _up(self, up: bool) -> None:
        if up != self._connected:
            self._connected = up
            self._stats.connected += 1 if up else -1

    def close(self) -> None:
        self._up(False)
