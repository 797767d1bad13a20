"""The websocket connection's lifecycle and reconnect back-off (Part 4 section 5.3).

The core decides when and where to connect, and with which credentials; the shell only dials. This module
decides when; where and with which credentials is the provisioning block's (`blocks/provisioning/dialling.py`,
the network profile B10 chooses), which wraps the moves here that start or end an attempt. The random part
of the back-off arrives as the `jitter` of `ConnectionLost`, so the same inputs always give the same waits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chargecore.pure.device_model.model import get_int
from chargecore.pure.effects import Disconnect, Effects, Log
from chargecore.pure.lifecycle import CONNECTION_LIFECYCLE
from chargecore.pure.ocppj.timestamps import later, seconds
from chargecore.pure.state import Connection, Station


def _move(connection: Connection, trigger: str) -> Connection | None:
    """None where the table has no edge: the caller refuses the input (`refusal`)."""
    phase = CONNECTION_LIFECYCLE.lookup(connection.phase, trigger)
    return None if phase is None else replace(connection, phase=phase)


def refusal(station: Station, trigger: str) -> Log:
    return CONNECTION_LIFECYCLE.refusal(station.connection.phase, trigger)


def ping_interval(station: Station) -> int:
    """OCPPCommCtrlr.WebSocketPingInterval (Part 4 8.4): seconds between the station's pings, 0 leaving pings to
    the CSMS. Read at every connection attempt, so a changed value applies from the next connection. The catalogue
    bounds it (0 to a day), so the shell's timer stays in range."""
    return get_int(station.device_model, "OCPPCommCtrlr", "WebSocketPingInterval", default=0)


def back_off(station: Station, failed_attempts: int, jitter: float) -> timedelta:
    """The wait before the next reconnection attempt, `failed_attempts` being the reconnection attempts that
    already failed: WaitMinimum doubled after every failed attempt, at most RepeatTimes times, plus
    jitter * RandomRange."""
    model = station.device_model
    minimum = get_int(model, "OCPPCommCtrlr", "RetryBackOffWaitMinimum", default=3)
    repeat = get_int(model, "OCPPCommCtrlr", "RetryBackOffRepeatTimes", default=5)
    spread = get_int(model, "OCPPCommCtrlr", "RetryBackOffRandomRange", default=5)
    doublings = min(failed_attempts, repeat)
    return seconds(minimum * 2**doublings + min(max(jitter, 0.0), 1.0) * spread)


def power_up(station: Station) -> Station:
    """Only from `off`: `step` refuses a PowerUp in any other state before it gets here."""
    moved = replace(station.connection, phase=CONNECTION_LIFECYCLE.move(station.connection.phase, "power_up"))
    return replace(station, connection=moved)


def on_connected(station: Station) -> Station | None:
    """None when no attempt was under way (the input is refused)."""
    moved = _move(station.connection, "connected")
    if moved is None:
        return None
    connected = replace(moved, failed_attempts=0, retry_at=None, refusals_reported=frozenset())
    return replace(station, connection=connected)


def on_lost(station: Station, now: datetime, jitter: float) -> Station | None:
    was_up = station.connection.phase == "up"
    moved = _move(station.connection, "lost")
    if moved is None:
        return None
    attempts = 0 if was_up else station.connection.failed_attempts
    offline_since = now if was_up else station.connection.offline_since
    waiting = replace(
        moved,
        failed_attempts=attempts,
        retry_at=later(now, back_off(station, attempts, jitter)),
        offline_since=offline_since,
    )
    return replace(station, connection=waiting)


def retry_when_due(station: Station, now: datetime) -> Station | None:
    """The station dialling again, once the back-off has run out; None before."""
    retry_at = station.connection.retry_at
    if retry_at is None or now < retry_at:
        return None
    moved = replace(station.connection, phase=CONNECTION_LIFECYCLE.move(station.connection.phase, "retry"))
    retrying = replace(moved, retry_at=None, failed_attempts=moved.failed_attempts + 1)
    return replace(station, connection=retrying)


def stop(station: Station) -> tuple[Station, Effects]:
    was_up = station.connection.phase in ("up", "connecting")
    moved = _move(station.connection, "stop")
    if moved is None:  # a second Shutdown
        return station, (refusal(station, "stop"),)
    return replace(station, connection=replace(moved, retry_at=None)), ((Disconnect(),) if was_up else ())


def is_up(station: Station) -> bool:
    return station.connection.phase == "up"
