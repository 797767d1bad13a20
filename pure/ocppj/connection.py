"""The websocket connection's lifecycle and reconnect back-off (Part 4 section 5.3).

The core decides when and where to connect, and with which credentials; the shell only dials. Where is the
network profile that `network_profiles` chooses (B10): this module tells it of every start, failed attempt and
lost connection. The random part of the back-off arrives as the `jitter` of `ConnectionLost`, so the same inputs
always give the same waits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chargecore.pure.blocks.provisioning import network_profiles
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_int, get_value
from chargecore.pure.effects import Connect, Disconnect, Effects, Log
from chargecore.pure.lifecycle import CONNECTION_LIFECYCLE
from chargecore.pure.ocppj.timestamps import later, seconds
from chargecore.pure.state import Connection, Station


def _move(connection: Connection, trigger: str) -> Connection | None:
    """None where the table has no edge: the caller refuses the input (`refusal`)."""
    phase = CONNECTION_LIFECYCLE.lookup(connection.phase, trigger)
    return None if phase is None else replace(connection, phase=phase)


LONGEST_PING_INTERVAL = 86_400
"""A day: a longer WebSocketPingInterval is as good as none, and saturating keeps the shell's timer in range."""


def refusal(station: Station, trigger: str) -> Log:
    return CONNECTION_LIFECYCLE.refusal(station.connection.phase, trigger)


def connect_effect(station: Station) -> Connect:
    profile = network_profiles.current_profile(station)
    password = get_value(station.device_model, VariableKey("SecurityCtrlr", "BasicAuthPassword"))
    station_id = station.identity.station_id
    return connect_at(profile.url, station_id, profile.security_profile, password, ping_interval(station))


def connect_at(
    url: str, station_id: str, security_profile: int, basic_auth_password: str | None, ping_interval: int = 0
) -> Connect:
    """What to dial with at this security profile: HTTP Basic auth at profiles 1 and 2, when there is a password;
    the client certificate at profile 3, which authenticates the station instead (Part 2 A00 security profiles)."""
    basic_auth = security_profile in network_profiles.BASIC_AUTH_PROFILES and bool(basic_auth_password)
    return Connect(
        url=url,
        station_id=station_id,
        security_profile=security_profile,
        basic_auth_password=basic_auth_password if basic_auth else None,
        ping_interval=ping_interval,
        client_certificate=security_profile == network_profiles.CLIENT_CERTIFICATE_PROFILE,
    )


def ping_interval(station: Station) -> int:
    """OCPPCommCtrlr.WebSocketPingInterval (Part 4 8.4): seconds between the station's pings, 0 leaving pings to
    the CSMS. Read at every connection attempt, so a changed value applies from the next connection."""
    seconds = get_int(station.device_model, "OCPPCommCtrlr", "WebSocketPingInterval", default=0)
    return min(max(seconds, 0), LONGEST_PING_INTERVAL)


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


def power_up(station: Station) -> tuple[Station, Effects]:
    """Only from `off`: `step` refuses a PowerUp in any other state before it gets here."""
    moved = replace(station.connection, phase=CONNECTION_LIFECYCLE.move(station.connection.phase, "power_up"))
    station = network_profiles.start_cycle(station)
    return replace(station, connection=moved), (connect_effect(station),)


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
    station = network_profiles.start_cycle(station) if was_up else network_profiles.attempt_failed(station)
    return replace(station, connection=waiting)


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    retry_at = station.connection.retry_at
    if retry_at is None or now < retry_at:
        return station, ()
    moved = replace(station.connection, phase=CONNECTION_LIFECYCLE.move(station.connection.phase, "retry"))
    retrying = replace(moved, retry_at=None, failed_attempts=moved.failed_attempts + 1)
    return replace(station, connection=retrying), (connect_effect(station),)


def stop(station: Station) -> tuple[Station, Effects]:
    was_up = station.connection.phase in ("up", "connecting")
    moved = _move(station.connection, "stop")
    if moved is None:  # a second Shutdown
        return station, (refusal(station, "stop"),)
    return replace(station, connection=replace(moved, retry_at=None)), ((Disconnect(),) if was_up else ())


def is_up(station: Station) -> bool:
    return station.connection.phase == "up"
