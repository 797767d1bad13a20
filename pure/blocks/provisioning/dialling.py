"""Where and how the station dials: the network profile that `network_profiles` chooses (B10), with the
credentials of its security profile (A00). The connection's lifecycle and its back-off (`ocppj/connection.py`,
Part 4) know no profile; this module wraps the moments that concern one: every start of a connection cycle,
every failed attempt and lost connection is told to `network_profiles`, and every attempt gets its `Connect`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chargecore.pure.blocks.provisioning import network_profiles
from chargecore.pure.blocks.security import root_migration
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import Connect, Effects
from chargecore.pure.inputs import DialFailure
from chargecore.pure.ocppj import connection
from chargecore.pure.state import Station


def connect_effect(station: Station) -> Connect:
    profile = network_profiles.current_profile(station)
    password = get_value(station.device_model, VariableKey("SecurityCtrlr", "BasicAuthPassword"))
    station_id = station.identity.station_id
    connect = connect_at(profile.url, station_id, profile.security_profile, password, connection.ping_interval(station))
    return replace(connect, csms_roots=root_migration.trusted_roots(station))


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


def power_up(station: Station) -> tuple[Station, Effects]:
    """Only from `off`: `step` refuses a PowerUp in any other state before it gets here."""
    started = connection.power_up(network_profiles.start_cycle(station))
    return started, (connect_effect(started),)


def on_lost(station: Station, now: datetime, jitter: float, failure: DialFailure | None = None) -> Station | None:
    """None when no connection was up or under way (the input is refused). A lost connection starts a new cycle
    at the first profile; a failed attempt counts against the profile it tried, unless a CSMS root migration
    re-validates it with the fallback root at once (M05.FR.14)."""
    was_up = connection.is_up(station)
    security_profile = network_profiles.current_profile(station).security_profile
    moved = connection.on_lost(station, now, jitter)
    if moved is None:
        return None
    if was_up:
        return network_profiles.start_cycle(root_migration.attempt_over(moved))
    if root_migration.revalidates(moved, failure, security_profile):
        return root_migration.try_fallback(moved, now)
    return network_profiles.attempt_failed(root_migration.attempt_over(moved))


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """Dial again once the back-off has run out."""
    retrying = connection.retry_when_due(station, now)
    return (station, ()) if retrying is None else (retrying, (connect_effect(station),))
