"""Registration through `step`: cold boot Accepted (B01), Pending (B02) and Rejected (B03)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from core_helpers import (
    CSMS_TIME,
    Sim,
    answer_boot,
    at,
    booted,
    calls,
    make_station,
    of_type,
    persisted,
    replies,
    started,
    warnings,
)

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import Ask, Connect, Notify, RegistrationChanged
from chargecore.pure.station import next_deadline

HEARTBEAT_KEY = "device_model/OCPPCommCtrlr/HeartbeatInterval/Actual"


@pytest.mark.requirements("B01.FR.01", "B01.FR.09")
def test_power_up_connects_and_boots_with_reason_power_up() -> None:
    sim = Sim(make_station())
    powered = sim.power_up(0)
    assert of_type(powered, Connect) and not calls(powered)
    booting = sim.connect(1)
    (boot,) = calls(booting)
    assert boot.action == "BootNotification"
    assert boot.payload["reason"] == "PowerUp"
    assert {"model", "vendorName"} <= set(boot.payload["chargingStation"])


@pytest.mark.requirements("B01.FR.01", "B01.FR.05", "B01.FR.09")
def test_accepted_sets_heartbeat_interval_persists_it_and_reports_every_connector() -> None:
    sim = started(evse_connectors=(2, 1))
    effects = answer_boot(sim, "Accepted", interval=123)

    assert sim.station.registration.status == "Accepted"
    assert Notify(RegistrationChanged("Accepted")) in effects
    model = sim.station.device_model
    assert get_value(model, VariableKey("OCPPCommCtrlr", "HeartbeatInterval")) == "123"
    assert persisted(effects)[HEARTBEAT_KEY] == "123"
    assert sim.station.registration.heartbeat_at == at(2 + 123)

    sent = calls(effects) + calls(sim.answer_all())
    startup, *statuses = sent  # A04: the security event queued at power-up is the oldest message
    assert (startup.action, startup.payload["type"]) == ("SecurityEventNotification", "StartupOfTheDevice")
    assert [s.action for s in statuses] == ["StatusNotification"] * 3
    assert [(s.payload["evseId"], s.payload["connectorId"]) for s in statuses] == [(1, 1), (1, 2), (2, 1)]
    assert {s.payload["connectorStatus"] for s in statuses} == {"Available"}


def test_the_clock_offset_from_current_time_stamps_status_notifications() -> None:
    """The station adopts the CSMS's currentTime: the StatusNotifications sent with the answer carry that time,
    and one 10 s later carries it plus 10 s, not the shell's clock."""
    sim = started()
    answer_boot(sim)
    (status,) = calls(sim.reply())  # after the StartupOfTheDevice security event
    assert status.payload["timestamp"] == CSMS_TIME
    sim.answer_all()
    sim.now = at(12)
    (later,) = calls(sim.plug())
    assert later.payload["timestamp"] == "2030-01-01T00:00:10.000Z"


@pytest.mark.requirements("B02.FR.08")
def test_pending_retries_the_boot_after_the_interval() -> None:
    sim = started()
    effects = answer_boot(sim, "Pending", interval=20)
    assert sim.station.registration.status == "Pending"
    assert Notify(RegistrationChanged("Pending")) in effects
    assert not calls(effects)
    assert next_deadline(sim.station) == at(22)
    assert not calls(sim.tick(21.999))
    (retry,) = calls(sim.tick(22))
    assert retry.action == "BootNotification"
    assert retry.payload["reason"] == "PowerUp"


@pytest.mark.requirements("B02.FR.02")
def test_pending_sends_nothing_but_boot_notification_and_holds_the_rest() -> None:
    sim = started()
    answer_boot(sim, "Pending", interval=20, at_s=2)
    sim.now = at(5)
    sim.plug()
    sim.send_data_transfer("com.example", "held")
    sim.tick(20)
    sim.tick(22)
    answer_boot(sim, "Pending", interval=20, at_s=23)
    assert {call.action for call in calls(tuple(sim.log))} == {"BootNotification"}

    assert [call.action for call in calls(sim.tick(43))] == ["BootNotification"]
    held = calls(answer_boot(sim, "Accepted", interval=300, at_s=44)) + calls(sim.answer_all())
    assert [call.action for call in held] == ["SecurityEventNotification", "DataTransfer", "StatusNotification"]
    assert held[1].payload["messageId"] == "held"
    assert held[2].payload["connectorStatus"] == "Occupied"


def test_pending_still_answers_csms_requests() -> None:
    sim = started()
    answer_boot(sim, "Pending", interval=20, at_s=2)
    (question,) = of_type(sim.csms_call("DataTransfer", {"vendorId": "com.example"}, "dt-1"), Ask)
    assert replies(sim.answer(question.question_id, {"status": "Accepted"})) == [[3, "dt-1", {"status": "Accepted"}]]


def test_a_boot_notification_triggered_while_pending_has_reason_triggered() -> None:
    sim = started()
    answer_boot(sim, "Pending", interval=60, at_s=2)
    sim.now = at(10)
    effects = sim.csms_call("TriggerMessage", {"requestedMessage": "BootNotification"}, "tm-1")
    assert replies(effects) == [[3, "tm-1", {"status": "Accepted"}]]
    (boot,) = calls(effects)
    assert boot.payload["reason"] == "Triggered"
    assert next_deadline(sim.station) == at(10 + 30), "only the MessageTimeout runs; the retry timer stopped"
    answer_boot(sim, "Accepted", interval=300, at_s=11)
    assert sim.station.registration.status == "Accepted"


@pytest.mark.requirements("B03.FR.08")
@pytest.mark.parametrize("status", ["Rejected", None])
@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("Reset", {"type": "Immediate"}),
        ("TriggerMessage", {"requestedMessage": "BootNotification"}),
        ("DataTransfer", {"vendorId": "com.example"}),
    ],
)
def test_csms_requests_get_security_error_while_rejected_or_unanswered(
    status: str | None, action: str, payload: dict[str, str]
) -> None:
    sim = started()
    if status is not None:
        answer_boot(sim, status, interval=60, at_s=2)
    before = sim.station
    effects = sim.csms_call(action, payload, "x-1")
    (reply,) = replies(effects)
    assert reply[:3] == [4, "x-1", "SecurityError"]
    assert not calls(effects) and not of_type(effects, Ask)
    assert sim.station == before


@pytest.mark.requirements("B03.FR.02", "B03.FR.06")
def test_rejected_sends_nothing_until_the_interval_has_passed_then_boots_again() -> None:
    sim = started()
    effects = answer_boot(sim, "Rejected", interval=45)
    assert Notify(RegistrationChanged("Rejected")) in effects
    mark = len(sim.log)
    sim.now = at(5)
    sim.plug()
    sim.send_data_transfer("com.example")
    assert not calls(sim.tick(46.999))
    assert not calls(tuple(sim.log[mark:]))
    (retry,) = calls(sim.tick(47))
    assert retry.action == "BootNotification"


@pytest.mark.parametrize("failure", ["timeout", "callerror"])
def test_a_boot_without_a_usable_answer_is_sent_again_later(failure: str) -> None:
    sim = started()
    if failure == "timeout":
        sim.tick(1 + 30)  # MessageTimeout[Default] is 30 s
    else:
        sim.now = at(31)
        sim.reply_error()
    assert sim.station.rpc.in_flight is None
    retry_at = sim.station.registration.retry_at
    assert retry_at is not None and retry_at > at(31)
    (again,) = calls(sim.tick_deadline())
    assert again.action == "BootNotification"


def test_a_reset_station_boots_with_the_stored_reason_and_forgets_it_once_accepted() -> None:
    sim = started(stored={"provisioning/boot_reason": "RemoteReset"})
    assert sim.outstanding().payload["reason"] == "RemoteReset"
    effects = answer_boot(sim)
    assert "provisioning/boot_reason" in persisted(effects)
    assert persisted(effects)["provisioning/boot_reason"] is None


# --- numbers a hostile CSMS may send (issue 10: every number bounded, timer arithmetic saturates) ---------------

DAY_S = 86400
"""OCPPCommCtrlr.HeartbeatInterval's maxLimit in the catalogue."""


def run_for(sim: Sim, ticks: int) -> None:
    """Tick at each deadline `ticks` times, the CSMS answering whatever the station sends: the point where an
    overflowing timer used to raise."""
    for _ in range(ticks):
        sim.tick_deadline()
        sim.answer_all()


@pytest.mark.parametrize("interval", [2**40, 10**20])
def test_an_accepted_boot_with_a_huge_interval_heartbeats_at_the_longest_allowed_interval(interval: int) -> None:
    sim = started()
    effects = answer_boot(sim, "Accepted", interval=interval)
    assert get_value(sim.station.device_model, VariableKey("OCPPCommCtrlr", "HeartbeatInterval")) == str(DAY_S)
    assert persisted(effects)[HEARTBEAT_KEY] == str(DAY_S)
    assert any(f"interval {interval} s" in warning for warning in warnings(effects))
    sim.answer_all()
    assert next_deadline(sim.station) == at(2 + DAY_S)
    assert [call.action for call in calls(sim.tick_deadline())] == ["Heartbeat"]
    run_for(sim, 3)


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
@pytest.mark.parametrize("interval", [2**40, 10**20])
def test_a_pending_or_rejected_boot_with_a_huge_interval_retries_after_the_longest_allowed_interval(
    status: str, interval: int
) -> None:
    sim = started()
    answer_boot(sim, status, interval=interval)
    assert sim.station.registration.retry_at == at(2 + DAY_S)
    assert [call.action for call in calls(sim.tick_deadline())] == ["BootNotification"]


@pytest.mark.parametrize("current_time", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00"])
def test_an_implausible_current_time_in_the_boot_answer_is_ignored_and_named(current_time: str) -> None:
    sim = started()
    effects = sim.reply({"currentTime": current_time, "interval": 300, "status": "Accepted"}, at_s=2)
    assert sim.station.registration.status == "Accepted"
    assert sim.station.registration.clock_offset == timedelta(0), "the station keeps its own clock"
    assert any(current_time in warning and "ignored" in warning for warning in warnings(effects))
    (status,) = [call for call in calls(sim.answer_all()) if call.action == "StatusNotification"]
    assert status.payload["timestamp"] == "2024-05-01T12:00:02.000Z"
    run_for(sim, 3)


def test_an_implausible_current_time_in_a_heartbeat_answer_is_ignored_and_the_clock_kept() -> None:
    sim = booted(interval=60)
    offset = sim.station.registration.clock_offset
    sim.tick_deadline()
    effects = sim.reply({"currentTime": "9999-12-31T23:59:59Z"})
    assert sim.station.registration.clock_offset == offset
    assert any("9999-12-31T23:59:59Z" in warning for warning in warnings(effects))
    (status,) = calls(sim.plug())
    assert status.payload["timestamp"] == "2030-01-01T00:01:00.000Z"
    run_for(sim, 3)


def test_a_plausible_far_current_time_is_taken() -> None:
    """The bound is the calendar's safety margin, not a guess at the right time: a CSMS in 2999 is obeyed."""
    sim = started()
    effects = sim.reply({"currentTime": "2999-12-31T23:59:00Z", "interval": 300, "status": "Accepted"}, at_s=2)
    assert not warnings(effects)
    (status,) = [call for call in calls(sim.answer_all()) if call.action == "StatusNotification"]
    assert status.payload["timestamp"] == "2999-12-31T23:59:00.000Z"
    run_for(sim, 3)
