"""Availability through `step`: connector status (G01), status after an offline period (B04) and Heartbeat
(G02)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from core_helpers import CSMS_TIME, Sim, answer_boot, at, booted, calls, started, warnings

from chargecore.pure.effects import ConnectorStatusChanged, Effects, Notify
from chargecore.pure.station import next_deadline

OFFLINE_THRESHOLD_60S = {"OCPPCommCtrlr": {"OfflineThreshold": 60}}


def statuses(sim: Sim, effects: Effects) -> list[tuple[int, int, str]]:
    """(evse, connector, status) of the StatusNotifications sent by `effects` and after them, as the CSMS
    answers each so the next one goes."""
    sent = calls(effects) + calls(sim.answer_all())
    return [
        (call.payload["evseId"], call.payload["connectorId"], call.payload["connectorStatus"])
        for call in sent
        if call.action == "StatusNotification"
    ]


@pytest.mark.requirements("G01.FR.01")
def test_a_status_change_is_reported_and_the_application_told() -> None:
    sim = booted(evse_connectors=(1, 1))
    sim.now = at(10)
    effects = sim.plug(evse_id=2)
    assert Notify(ConnectorStatusChanged(2, 1, "Occupied")) in effects
    assert statuses(sim, effects) == [(2, 1, "Occupied")]
    assert statuses(sim, sim.plug(evse_id=2, change="unplug")) == [(2, 1, "Available")]


def test_a_fault_covers_every_connector_of_the_evse_and_hides_the_plug() -> None:
    sim = booted(evse_connectors=(2,))
    sim.now = at(10)
    assert statuses(sim, sim.plug(evse_id=1, connector_id=None, change="fault")) == [
        (1, 1, "Faulted"),
        (1, 2, "Faulted"),
    ]
    assert statuses(sim, sim.plug(evse_id=1, connector_id=1)) == [], "plugged while faulted is still Faulted"
    assert statuses(sim, sim.plug(evse_id=1, connector_id=None, change="recover")) == [
        (1, 1, "Occupied"),
        (1, 2, "Available"),
    ]


def test_an_impossible_connector_change_is_refused() -> None:
    sim = booted()
    sim.now = at(10)
    sim.plug()
    sim.answer_all()
    before = sim.station
    for evse_id in (1, 7):  # plugged already; no such EVSE
        effects = sim.plug(evse_id=evse_id)
        assert sim.station == before
        assert warnings(effects) and not calls(effects)


def offline_then_back(sim: Sim, offline_seconds: float, plug_while_offline: bool) -> list[tuple[int, int, str]]:
    """Lose the connection at T0+100 s, optionally plug EVSE 1, and reconnect `offline_seconds` later."""
    sim.lose(100)
    if plug_while_offline:
        sim.now = at(101)
        sim.plug()
    sim.tick_deadline()  # the reconnect attempt
    return statuses(sim, sim.connect(100 + offline_seconds))


@pytest.mark.requirements("B04.FR.01")
def test_offline_longer_than_offline_threshold_reports_every_connector() -> None:
    sim = booted(evse_connectors=(1, 1), config=OFFLINE_THRESHOLD_60S)
    assert offline_then_back(sim, 60.5, plug_while_offline=True) == [(1, 1, "Occupied"), (2, 1, "Available")]


@pytest.mark.requirements("B04.FR.02")
@pytest.mark.parametrize("offline_seconds", [10, 60])
def test_offline_up_to_offline_threshold_reports_only_changed_connectors(offline_seconds: float) -> None:
    sim = booted(evse_connectors=(1, 1), config=OFFLINE_THRESHOLD_60S)
    assert offline_then_back(sim, offline_seconds, plug_while_offline=True) == [(1, 1, "Occupied")]


@pytest.mark.requirements("B04.FR.02")
def test_a_short_outage_without_changes_reports_nothing() -> None:
    sim = booted(evse_connectors=(1, 1), config=OFFLINE_THRESHOLD_60S)
    assert offline_then_back(sim, 10, plug_while_offline=False) == []


def station_clock(seconds: float) -> str:
    """The station clock at T0 + `seconds`: `booted` set it to CSMS_TIME at T0 + 2 s."""
    moment = datetime.fromisoformat(CSMS_TIME.replace("Z", "+00:00")) + timedelta(seconds=seconds - 2)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@pytest.mark.requirements("B04.FR.01", "B04.FR.02")
@pytest.mark.parametrize("offline_seconds", [10, 60.5])
def test_a_status_that_changed_offline_carries_the_time_of_the_change(offline_seconds: float) -> None:
    """Plugged at T0+101 s while offline: the StatusNotification sent on reconnecting says T0+101 s; a connector
    that did not change (reported only after a long outage, B04.FR.01) is reported as of the reconnect."""
    sim = booted(evse_connectors=(1, 1), config=OFFLINE_THRESHOLD_60S)
    sim.lose(100)
    sim.now = at(101)
    sim.plug()
    sim.tick_deadline()  # the reconnect attempt
    reconnected = 100 + offline_seconds
    sent = calls(sim.connect(reconnected)) + calls(sim.answer_all())
    stamps = {
        (call.payload["evseId"], call.payload["connectorStatus"]): call.payload["timestamp"]
        for call in sent
        if call.action == "StatusNotification"
    }
    expected = {(1, "Occupied"): station_clock(101)}
    if offline_seconds > 60:
        expected[(2, "Available")] = station_clock(reconnected)
    assert stamps == expected
    sim.now = at(200)
    (unplugged,) = calls(sim.plug(change="unplug"))
    assert unplugged.payload["timestamp"] == station_clock(200), "online, a change is reported as it happens"


def test_a_status_notification_lost_with_the_connection_is_sent_again() -> None:
    sim = booted(config=OFFLINE_THRESHOLD_60S)
    sim.now = at(50)
    assert [call.action for call in calls(sim.plug())] == ["StatusNotification"]
    sim.lose(51)
    sim.tick_deadline()
    effects = sim.connect(55)
    assert statuses(sim, effects) == [(1, 1, "Occupied")]
    again = [call for call in calls(tuple(sim.log)) if call.action == "StatusNotification"][-1]
    assert again.payload["timestamp"] == station_clock(50), "the time of the plug, not of the resend"


def test_heartbeat_every_interval_from_the_boot_answer() -> None:
    sim = booted(interval=100)  # accepted at T0+2 s
    assert next_deadline(sim.station) == at(102)
    assert not calls(sim.tick(101.999))
    (first,) = calls(sim.tick(102))
    assert first.action == "Heartbeat" and first.payload == {}
    sim.reply(at_s=102.5)
    (second,) = calls(sim.tick_deadline())
    assert second.action == "Heartbeat" and sim.now == at(202)


def test_the_heartbeat_answer_sets_the_clock() -> None:
    sim = booted(interval=100)
    sim.tick(102)
    sim.reply({"currentTime": "2031-06-01T08:00:00Z"}, at_s=103)
    jumped = sim.outstanding()  # more than ClockCtrlr.TimeAdjustmentReportingThreshold (20 s)
    assert (jumped.action, jumped.payload["type"]) == ("SecurityEventNotification", "SettingSystemTime")
    assert jumped.payload["timestamp"] == "2031-06-01T08:00:00.000Z", "on the clock just set"
    sim.reply()
    sim.now = at(113)
    (status,) = calls(sim.plug())
    assert status.payload["timestamp"] == "2031-06-01T08:00:10.000Z"
    assert CSMS_TIME not in status.payload["timestamp"]


def test_no_heartbeat_while_disconnected() -> None:
    sim = booted(interval=100)
    sim.lose(50)
    sim.tick_deadline()  # a reconnect attempt that never completes
    assert not calls(sim.tick(102))
    assert not calls(sim.tick(500))
    after_outage = calls(sim.connect(501)) + calls(sim.answer_all())
    assert {call.action for call in after_outage} == {"StatusNotification"}, "no heartbeat saved up while offline"
    (beat,) = calls(sim.tick_deadline())
    assert beat.action == "Heartbeat"


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_no_heartbeat_before_accepted(status: str) -> None:
    sim = started()
    answer_boot(sim, status, interval=1000)
    assert sim.station.registration.heartbeat_at is None
    assert not calls(sim.tick(900))
