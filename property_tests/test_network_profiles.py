"""Network profiles under random stored profiles, priority lists, attempt limits and connection histories: the
station never dials below the security profile it has reached (A00.FR.005, B09.FR.04), that level never goes
down, a connection at a higher level leaves no profile below it (A05.FR.06), and a slot is given up only after
NetworkProfileConnectionAttempts failed attempts on it (B10.FR.03)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core_helpers import connection_data
from hypothesis import given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.provisioning.network_profiles import (
    LAST_CONNECTED_KEY,
    PROFILES_KEY,
    priority,
    security_level,
)
from chargecore.pure.boot import boot_station
from chargecore.pure.effects import Connect, Effects
from chargecore.pure.inputs import Connected, ConnectionLost, PowerUp, Tick
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import next_deadline, step

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SLOTS = (1, 2, 3)
CONFIGURED_URL = "ws://configured.example/ocpp"


def url_of(slot: int, security_profile: int) -> str:
    return f"{'ws' if security_profile == 1 else 'wss'}://slot{slot}.example/ocpp"


@dataclass(frozen=True)
class Setup:
    profiles: dict[int, int]
    """slot -> security profile of the stored profiles."""
    order: list[int]
    attempts: int
    level: int
    last_connected: int | None


setups = st.builds(
    Setup,
    profiles=st.dictionaries(st.sampled_from(SLOTS), st.sampled_from((1, 2)), max_size=3),
    order=st.permutations(SLOTS).flatmap(lambda slots: st.integers(0, 3).map(lambda n: list(slots[:n]))),
    attempts=st.integers(1, 3),
    level=st.sampled_from((1, 2)),
    last_connected=st.none() | st.sampled_from(SLOTS),
)
histories = st.lists(st.sampled_from(("fail", "connect")), max_size=30)


def station_of(setup: Setup) -> Station:
    config = {
        "OCPPCommCtrlr": {
            "NetworkConfigurationPriority": ",".join(map(str, setup.order)),
            "NetworkProfileConnectionAttempts": setup.attempts,
        },
        "SecurityCtrlr": {"SecurityProfile": setup.level},
    }
    stored: dict[str, Any] = {LAST_CONNECTED_KEY: setup.last_connected}
    if setup.profiles:
        entries = [
            {"configurationSlot": s, "connectionData": connection_data(url_of(s, p), p)}
            for s, p in setup.profiles.items()
        ]
        stored[PROFILES_KEY] = entries
    return boot_station(StationIdentity("CS-NET", CONFIGURED_URL, (1,)), config, stored).unwrap()


@settings(max_examples=150, deadline=None)
@given(setups, histories)
def test_never_below_the_reached_security_profile_and_slots_change_only_after_their_attempts(
    setup: Setup, history: list[str]
) -> None:
    station = station_of(setup)
    highest = security_level(station.device_model)
    now = T0
    station, effects = step(station, PowerUp(now, "n0nce"))
    check_connect(effects, station, setup)
    failed_on_slot = 0
    for event in history:
        now += timedelta(seconds=1)
        slot = station.network.slot
        if event == "connect":
            station, effects = step(station, Connected(now))
            level = security_level(station.device_model)
            assert all(profile.security_profile >= level for profile in station.network.profiles)
            assert station.network.last_connected == slot
            removed = set(setup.profiles) - {profile.slot for profile in station.network.profiles}
            assert not removed & set(priority(station.device_model))
            station, effects = step(station, ConnectionLost(now, 0.0))  # and it drops again at once
            failed_on_slot = 0
        else:
            station, effects = step(station, ConnectionLost(now, 0.0))
            failed_on_slot += 1
            if station.network.slot != slot:
                assert failed_on_slot == setup.attempts, "a slot was given up before its attempts ran out"
                failed_on_slot = 0
            else:
                failed_on_slot %= setup.attempts
        while not any(isinstance(effect, Connect) for effect in effects):  # other timers may fall due first
            deadline = next_deadline(station)
            assert deadline is not None and deadline - now < timedelta(hours=1), "no reconnection is scheduled"
            now = max(now, deadline)
            station, effects = step(station, Tick(now))
        level = security_level(station.device_model)
        assert level >= highest, "the security profile went down"
        highest = level
        check_connect(effects, station, setup)


def check_connect(effects: Effects, station: Station, setup: Setup) -> None:
    """One Connect, to a profile the station has, never below the security profile reached."""
    [connect] = [effect for effect in effects if isinstance(effect, Connect)]
    level = security_level(station.device_model)
    assert connect.security_profile >= level, f"dialled {connect} below security profile {level}"
    assert connect.url in {url_of(slot, profile) for slot, profile in setup.profiles.items()} | {CONFIGURED_URL}
