"""The connection through `step`: reconnect back-off (Part 4 5.3), boots after a reconnect, timers that never
fall due twice, Shutdown, and inputs the core refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from core_helpers import Sim, answer_boot, at, booted, calls, make_station, of_type, started, warnings

from chargecore.pure.blocks.provisioning.dialling import connect_at
from chargecore.pure.effects import Connect, Disconnect
from chargecore.pure.station import next_deadline

BACK_OFF = {
    "OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 2, "RetryBackOffRepeatTimes": 3, "RetryBackOffRandomRange": 10}
}


def back_offs(sim: Sim, jitters: list[float]) -> list[float]:
    """Lose the connection, then fail every reconnect attempt; the waits before each attempt, in seconds."""
    waits = []
    for jitter in jitters:
        lost_at = sim.now
        sim.lose(jitter=jitter)
        retry_at = sim.station.connection.retry_at
        assert retry_at is not None
        waits.append((retry_at - lost_at).total_seconds())
        assert of_type(sim.tick_deadline(), Connect), "no reconnect attempt when the back-off ended"
        sim.now += timedelta(seconds=1)  # the attempt takes a second to fail
    return waits


def test_back_off_starts_at_wait_minimum_doubles_and_stops_doubling_after_repeat_times() -> None:
    sim = booted(config=BACK_OFF)
    sim.now = at(100)
    assert back_offs(sim, [0.0] * 7) == [2, 4, 8, 16, 16, 16, 16]


def test_back_off_adds_jitter_times_random_range() -> None:
    sim = booted(config=BACK_OFF)
    sim.now = at(100)
    assert back_offs(sim, [0.5, 0.25, 0.999]) == pytest.approx([2 + 5, 4 + 2.5, 8 + 9.99])


def test_when_the_first_connection_at_power_up_fails_the_first_retry_waits_wait_minimum() -> None:
    """Part 4 5.3: the first reconnection attempt comes after RetryBackOffWaitMinimum, doubling from there."""
    sim = Sim(make_station(config=BACK_OFF))
    sim.power_up(0)
    sim.lose(1)
    assert sim.station.connection.retry_at == at(1 + 2)
    sim.tick_deadline()
    sim.lose(4)
    assert sim.station.connection.retry_at == at(4 + 4)


def test_a_successful_connection_resets_the_back_off() -> None:
    sim = booted(config=BACK_OFF)
    sim.now = at(100)
    back_offs(sim, [0.0] * 4)
    sim.connect()
    assert back_offs(sim, [0.0]) == [2]


def test_a_reconnect_does_not_boot_an_accepted_station_again() -> None:
    sim = booted()
    sim.lose(100)
    sim.tick_deadline()
    assert "BootNotification" not in [call.action for call in calls(sim.connect(105))]


@pytest.mark.parametrize(
    "status",
    [pytest.param("Rejected", marks=pytest.mark.requirements("B03.FR.02", "B03.FR.06")), "Pending"],
)
def test_a_reconnect_during_the_retry_interval_waits_for_it_before_booting(status: str) -> None:
    """The CSMS may close the connection of a station it did not accept; reconnecting is no reason to boot
    before the interval the CSMS asked for has passed."""
    sim = started()
    answer_boot(sim, status, interval=60)
    sim.lose(10)
    sim.tick_deadline()
    assert not calls(sim.connect(15))
    assert not calls(sim.tick(61.999))
    assert [call.action for call in calls(sim.tick(62))] == ["BootNotification"]


def test_a_boot_lost_with_the_connection_is_sent_on_the_next_connection() -> None:
    sim = started()
    sim.lose(5)
    sim.tick_deadline()
    assert [call.action for call in calls(sim.connect(9))] == ["BootNotification"]


@pytest.mark.parametrize("status", ["Pending", "Rejected", "unanswered"])
def test_no_timer_stays_due_while_the_station_is_offline(status: str) -> None:
    """The shell feeds a Tick when `next_deadline` is reached; a deadline that a Tick does not move would make
    it spin. Here the boot retry falls due while every reconnect attempt fails."""
    sim = started()
    if status == "unanswered":
        sim.lose(2)
    else:
        answer_boot(sim, status, interval=20)
        sim.lose(3)
    for _ in range(12):  # past the boot retry, with every reconnect attempt failing
        sim.tick_deadline()
        deadline = next_deadline(sim.station)
        assert deadline is None or deadline > sim.now, f"timer still due after Tick({sim.now})"
        if sim.station.connection.phase == "connecting":
            sim.lose()
    assert sim.now > at(60)
    sim.tick_deadline()
    assert [call.action for call in calls(sim.connect())] == ["BootNotification"]


def test_shutdown_disconnects_and_stops_reconnecting() -> None:
    sim = booted()
    effects = sim.shutdown()
    assert effects == (Disconnect(),)
    assert sim.station.connection.phase == "stopped"
    assert not of_type(sim.tick(10_000), Connect)


def test_shutdown_while_waiting_to_reconnect_stops_without_a_disconnect() -> None:
    sim = booted()
    sim.lose(50)
    assert not of_type(sim.shutdown(), Disconnect)
    assert sim.station.connection.phase == "stopped"
    assert not of_type(sim.tick(10_000), Connect)


def test_connected_without_an_attempt_is_refused() -> None:
    sim = booted()
    before = sim.station
    effects = sim.connect()
    assert sim.station == before
    assert warnings(effects) and len(effects) == 1


def test_a_second_power_up_is_refused() -> None:
    sim = booted()
    before = sim.station
    effects = sim.power_up()
    assert sim.station == before
    assert warnings(effects) and len(effects) == 1


def test_connection_lost_when_nothing_is_up_is_refused() -> None:
    sim = booted()
    sim.lose(10)
    before = sim.station
    effects = sim.lose(11)
    assert sim.station == before
    assert warnings(effects) and len(effects) == 1


# --- what to dial with: the credentials of each security profile (A00) -------------------------------------------

PASSWORD = "0123456789abcdef"


@pytest.mark.parametrize(
    ("profile", "password", "basic_auth", "client_certificate"),
    [
        (1, PASSWORD, PASSWORD, False),
        (2, PASSWORD, PASSWORD, False),
        (3, PASSWORD, None, True),
        (1, None, None, False),
        (2, "", None, False),
        (3, None, None, True),
    ],
)
def test_basic_auth_at_profiles_1_and_2_with_a_password_the_client_certificate_at_profile_3(
    profile: int, password: str | None, basic_auth: str | None, client_certificate: bool
) -> None:
    url = "wss://csms.example/ocpp"
    connect = connect_at(url, "CS001", profile, password)
    assert connect == Connect(url, "CS001", profile, basic_auth, client_certificate=client_certificate)


@pytest.mark.parametrize(("profile", "basic_auth", "client_certificate"), [(2, PASSWORD, False), (3, None, True)])
def test_the_station_dials_with_the_credentials_of_its_security_profile(
    profile: int, basic_auth: str | None, client_certificate: bool
) -> None:
    config = {"SecurityCtrlr": {"SecurityProfile": profile, "BasicAuthPassword": PASSWORD}}
    sim = Sim(make_station(config=config, has_client_certificate=True))
    [connect] = of_type(sim.power_up(0), Connect)
    assert (connect.basic_auth_password, connect.client_certificate) == (basic_auth, client_certificate)
