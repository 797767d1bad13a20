"""Reset while transactions run (B12), driven through `step`: OnIdle waits (Scheduled), Immediate ends the
transactions first (ResetCommand / ImmediateReset), and a station reset reboots only once the CSMS has the Ended
events."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, answer_boot, booted, calls, make_station, of_type, persisted, replies, warnings

from chargecore.pure.effects import Ask, ConnectorStatusChanged, Effects, Notify, PerformReset
from chargecore.pure.inputs import ConnectorFound

BOOT_REASON_KEY = "provisioning/boot_reason"


def charging(evse_id: int = 1, token: str = "TOKEN1", sim: Sim | None = None, **identity: Any) -> Sim:
    """A started transaction on `evse_id` (default TxStartPoint PowerPathClosed), every CALL answered."""
    sim = sim or booted(evse_connectors=(1, 1), **identity)
    sim.plug(evse_id)
    sim.answer_all()
    sim.present_token(token, evse_id)
    sim.reply({"idTokenInfo": {"status": "Accepted"}})
    sim.power_path(True, evse_id)
    sim.answer_all()
    assert [tx.evse_id for tx in sim.station.running_transactions][-1] == evse_id
    return sim


def reset(sim: Sim, payload: dict[str, Any]) -> Effects:
    """The CSMS asks for a reset and the application allows it."""
    (question,) = of_type(sim.csms_call("Reset", payload, "reset-1"), Ask)
    return sim.answer(question.question_id, True)


def events(effects: Effects) -> list[dict[str, Any]]:
    return [call.payload for call in calls(effects) if call.action == "TransactionEvent"]


@pytest.mark.requirements("B12.FR.01", "B12.FR.03", "E07.FR.03")
def test_on_idle_station_reset_is_scheduled_until_the_transaction_ends() -> None:
    sim = charging()
    effects = reset(sim, {"type": "OnIdle"})
    assert replies(effects) == [[3, "reset-1", {"status": "Scheduled"}]]
    assert not of_type(effects, PerformReset) and not events(effects), "the transaction goes on"
    effects = sim.present_token("TOKEN1")  # StopAuthorized ends it (TxStopPoint Authorized)
    assert [e["eventType"] for e in events(effects)] == ["Ended"]
    assert not of_type(effects, PerformReset), "not before the CSMS has the Ended event"
    effects = sim.answer_all()
    assert of_type(effects, PerformReset) == [PerformReset("OnIdle", None)]
    assert persisted(effects)[BOOT_REASON_KEY] == "ScheduledReset"
    assert sim.station.pending_resets == ()


@pytest.mark.requirements("B12.FR.01", "B12.FR.03")
def test_on_idle_station_reset_waits_for_every_transaction() -> None:
    sim = charging(2, "TOKEN2", charging(1))
    assert replies(reset(sim, {"type": "OnIdle"})) == [[3, "reset-1", {"status": "Scheduled"}]]
    sim.present_token("TOKEN1", 1)
    assert not of_type(sim.answer_all(), PerformReset), "EVSE 2 still charges"
    sim.present_token("TOKEN2", 2)
    assert of_type(sim.answer_all(), PerformReset) == [PerformReset("OnIdle", None)]


@pytest.mark.requirements("B12.FR.02", "B12.FR.04", "E07.FR.03")
def test_immediate_station_reset_ends_the_transaction_then_reboots() -> None:
    sim = charging()
    effects = reset(sim, {"type": "Immediate"})
    assert replies(effects) == [[3, "reset-1", {"status": "Accepted"}]]
    (ended,) = events(effects)
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "ResetCommand")
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert ended["transactionInfo"]["chargingState"] == "EVConnected" and "idToken" not in ended
    assert not of_type(effects, PerformReset), "the Ended event goes out first"
    effects = sim.answer_all()
    assert of_type(effects, PerformReset) == [PerformReset("Immediate", None)]
    assert persisted(effects)[BOOT_REASON_KEY] == "RemoteReset"


def rebooted(sim: Sim, found: tuple[ConnectorFound, ...]) -> tuple[Effects, list[tuple[int, int, str]]]:
    """What the shell does on PerformReset: rebuild the station from what it persisted and power it up with what
    the hardware finds on its connectors; then the boot is accepted. The power-up effects, and the boot statuses."""
    after = Sim(make_station((1, 1), stored=persisted(sim.log)), now=sim.now)
    powered = after.power_up(found=found)
    after.connect()
    sent = calls(answer_boot(after, at_s=None) + after.answer_all())
    notified = [c.payload for c in sent if c.action == "StatusNotification"]
    return powered, [(p["evseId"], p["connectorId"], p["connectorStatus"]) for p in notified]


@pytest.mark.requirements("B12.FR.02", "B12.FR.04", "B01.FR.03")
def test_a_cable_still_plugged_in_after_the_reset_is_occupied_at_boot() -> None:
    """TC_B_21 step 9 / TC_B_22 step 7: the EV stays plugged in through the reboot; the hardware says so at
    power-up, before any status goes out."""
    sim = charging()
    reset(sim, {"type": "Immediate"})
    assert of_type(sim.answer_all(), PerformReset)
    powered, statuses = rebooted(sim, (ConnectorFound(1, 1, plugged=True),))
    assert statuses == [(1, 1, "Occupied"), (2, 1, "Available")]
    assert Notify(ConnectorStatusChanged(1, 1, "Occupied")) in powered, "the application hears it once, at power-up"


def test_a_cable_gone_during_the_reboot_leaves_the_connector_available() -> None:
    sim = charging()
    reset(sim, {"type": "Immediate"})
    sim.answer_all()
    _, statuses = rebooted(sim, ())
    assert statuses == [(1, 1, "Available"), (2, 1, "Available")]


def test_a_fault_found_at_power_up_wins_and_an_unknown_connector_is_ignored() -> None:
    sim = booted(evse_connectors=(1, 1))
    found = (ConnectorFound(2, 1, plugged=True, faulted=True), ConnectorFound(3, 1, plugged=True))
    powered, statuses = rebooted(sim, found)
    assert statuses == [(1, 1, "Available"), (2, 1, "Faulted")]
    assert any("no connector 3/1" in w for w in warnings(powered))


def test_the_state_found_at_power_up_is_where_later_hardware_changes_start() -> None:
    """A cable found plugged in is unplugged like any other; the PowerLoss Ended event of a transaction that was
    running when the power went says EVConnected while the cable is still there."""
    sim = charging()
    after = Sim(make_station((1, 1), stored=persisted(sim.log)), now=sim.now)
    after.power_up(found=(ConnectorFound(1, 1, plugged=True),))
    after.connect()
    (ended,) = events(answer_boot(after, at_s=None) + after.answer_all())
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    assert ended["transactionInfo"]["chargingState"] == "EVConnected"
    assert after.plug(1, 1, "unplug") and after.station.connectors[0].phase == "empty"


@pytest.mark.requirements("B12.FR.02")
def test_immediate_station_reset_does_not_wait_for_a_lost_connection() -> None:
    sim = charging()
    assert not of_type(reset(sim, {"type": "Immediate"}), PerformReset)
    effects = sim.lose()
    assert of_type(effects, PerformReset) == [PerformReset("Immediate", None)]
    assert [m.payload["eventType"] for m in sim.station.rpc.lane] == ["Ended"], "delivered after the reboot"


@pytest.mark.requirements("B12.FR.07")
def test_on_idle_evse_reset_waits_for_the_transaction_on_that_evse_only() -> None:
    sim = charging(supports_evse_reset=True)
    effects = reset(sim, {"type": "OnIdle", "evseId": 2})
    assert replies(effects) == [[3, "reset-1", {"status": "Accepted"}]]
    assert of_type(effects, PerformReset) == [PerformReset("OnIdle", 2)], "EVSE 2 has no transaction"
    effects = reset(sim, {"type": "OnIdle", "evseId": 1})
    assert replies(effects) == [[3, "reset-1", {"status": "Scheduled"}]] and not of_type(effects, PerformReset)
    effects = sim.present_token("TOKEN1")
    assert of_type(effects, PerformReset) == [PerformReset("OnIdle", 1)], "an EVSE reset does not wait for the CSMS"
    assert BOOT_REASON_KEY not in persisted(effects)


@pytest.mark.requirements("B12.FR.02", "B12.FR.08")
def test_immediate_evse_reset_ends_its_transaction_and_resets_the_evse() -> None:
    sim = charging(2, "TOKEN2", charging(1, supports_evse_reset=True))
    effects = reset(sim, {"type": "Immediate", "evseId": 1})
    assert replies(effects) == [[3, "reset-1", {"status": "Accepted"}]]
    (ended,) = events(effects)
    assert ended["evse"]["id"] == 1 and ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert of_type(effects, PerformReset) == [PerformReset("Immediate", 1)]
    assert [tx.evse_id for tx in sim.station.running_transactions] == [2]


@pytest.mark.requirements("B12.FR.09")
@pytest.mark.parametrize("reset_type", ["OnIdle", "Immediate"])
def test_evse_reset_with_a_transaction_is_rejected_without_evse_reset_support(reset_type: str) -> None:
    sim = charging(supports_evse_reset=False)
    effects = sim.csms_call("Reset", {"type": reset_type, "evseId": 1}, "reset-1")
    assert replies(effects) == [[3, "reset-1", {"status": "Rejected"}]]
    assert not events(effects) and len(sim.station.running_transactions) == 1
