"""TriggerMessage through `step` (F06): the response goes out before the message it triggers."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, booted, calls, frames, replies

from chargecore.pure.effects import Effects

NOT_IMPLEMENTED = [
    "SignCombinedCertificate",
    "PublishFirmwareStatusNotification",
]


def trigger(sim: Sim, request: dict[str, Any]) -> tuple[str, Effects]:
    """Send a TriggerMessage; the status answered and the step's effects."""
    effects = sim.csms_call("TriggerMessage", request, "tm-1")
    (reply,) = replies(effects)
    assert reply[:2] == [3, "tm-1"], reply
    return reply[2]["status"], effects


def triggered_statuses(sim: Sim, effects: Effects) -> list[tuple[int, int]]:
    sent = calls(effects) + calls(sim.answer_all())
    return [(c.payload["evseId"], c.payload["connectorId"]) for c in sent if c.action == "StatusNotification"]


@pytest.mark.requirements("F06.FR.04")
def test_a_triggered_heartbeat_follows_the_response() -> None:
    sim = booted()
    status, effects = trigger(sim, {"requestedMessage": "Heartbeat"})
    assert status == "Accepted"
    sent = frames(effects)
    assert [frame[0] for frame in sent] == [3, 2], "the TriggerMessageResponse goes before the Heartbeat"
    assert sent[1][2] == "Heartbeat"


def test_a_trigger_while_a_call_is_outstanding_is_queued_behind_it() -> None:
    sim = booted()
    sim.send_data_transfer("com.example")
    status, effects = trigger(sim, {"requestedMessage": "Heartbeat"})
    assert status == "Accepted" and not calls(effects)
    assert [call.action for call in calls(sim.reply())] == ["Heartbeat"]


@pytest.mark.requirements("F06.FR.02")
def test_status_notification_for_one_connector() -> None:
    sim = booted(evse_connectors=(2, 1))
    status, effects = trigger(sim, {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 2}})
    assert status == "Accepted"
    assert triggered_statuses(sim, effects) == [(1, 2)]


def test_status_notification_for_every_connector_of_an_evse() -> None:
    sim = booted(evse_connectors=(2, 1))
    status, effects = trigger(sim, {"requestedMessage": "StatusNotification", "evse": {"id": 1}})
    assert status == "Accepted"
    assert triggered_statuses(sim, effects) == [(1, 1), (1, 2)]


def test_status_notification_for_every_connector() -> None:
    sim = booted(evse_connectors=(2, 1))
    status, effects = trigger(sim, {"requestedMessage": "StatusNotification"})
    assert status == "Accepted"
    assert triggered_statuses(sim, effects) == [(1, 1), (1, 2), (2, 1)]


@pytest.mark.parametrize("evse", [{"id": 3}, {"id": 1, "connectorId": 3}])
def test_status_notification_for_a_connector_that_does_not_exist_is_rejected(evse: dict[str, int]) -> None:
    sim = booted(evse_connectors=(2, 1))
    status, effects = trigger(sim, {"requestedMessage": "StatusNotification", "evse": evse})
    assert status == "Rejected" and not calls(effects)


@pytest.mark.requirements("F06.FR.17")
def test_boot_notification_is_rejected_once_accepted() -> None:
    sim = booted()
    status, effects = trigger(sim, {"requestedMessage": "BootNotification"})
    assert status == "Rejected" and not calls(effects)


@pytest.mark.requirements("F06.FR.08")
@pytest.mark.parametrize("message", NOT_IMPLEMENTED)
def test_messages_the_station_cannot_produce_are_not_implemented(message: str) -> None:
    sim = booted()
    status, effects = trigger(sim, {"requestedMessage": message})
    assert status == "NotImplemented" and not calls(effects)


@pytest.mark.requirements("F06.FR.04")
@pytest.mark.parametrize("message", ["LogStatusNotification", "FirmwareStatusNotification"])
@pytest.mark.parametrize("evse", [None, {"id": 1}], ids=["station", "specific-evse"])
def test_log_and_firmware_status_are_idle_when_nothing_uploads_or_downloads(
    message: str, evse: dict[str, int] | None
) -> None:
    sim = booted()
    request: dict[str, Any] = {"requestedMessage": message}
    if evse is not None:
        request["evse"] = evse
    status, effects = trigger(sim, request)
    assert status == "Accepted"
    assert [(call.action, call.payload) for call in calls(effects)] == [(message, {"status": "Idle"})]
    assert frames(effects)[0][0] == 3, "the response goes out first"


def test_an_unknown_requested_message_violates_the_schema() -> None:
    sim = booted()
    (reply,) = replies(sim.csms_call("TriggerMessage", {"requestedMessage": "Coffee"}, "tm-1"))
    assert reply[:3] == [4, "tm-1", "PropertyConstraintViolation"]
