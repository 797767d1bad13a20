"""Reset through `step` (B11, B12): the application is asked, the answer goes out before the reset happens, and
a station reset makes the next boot say RemoteReset."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import (
    Sim,
    answer_boot,
    booted,
    of_type,
    persisted,
    replies,
    started,
)

from chargecore.pure.effects import Ask, PerformReset, Persist, ResetQuestion, SendFrame
from chargecore.pure.inputs import LocalReset

BOOT_REASON_KEY = "provisioning/boot_reason"


def ask_reset(sim: Sim, payload: dict[str, Any]) -> Ask:
    effects = sim.csms_call("Reset", payload, "reset-1")
    assert not replies(effects), "answered before the application was asked"
    (question,) = of_type(effects, Ask)
    return question


@pytest.mark.requirements("B11.FR.01")
@pytest.mark.parametrize("reset_type", ["Immediate", "OnIdle"])
def test_an_allowed_station_reset_is_accepted_then_performed(reset_type: str) -> None:
    sim = booted()
    question = ask_reset(sim, {"type": reset_type})
    assert question.question == ResetQuestion(reset_type, None)
    effects = sim.answer(question.question_id, True)
    assert replies(effects) == [[3, "reset-1", {"status": "Accepted"}]]
    kinds = [type(effect) for effect in effects]
    assert kinds.index(Persist) < kinds.index(SendFrame) < kinds.index(PerformReset), "persist, reply, then reset"
    assert persisted(effects) == {BOOT_REASON_KEY: "RemoteReset"}
    assert of_type(effects, PerformReset) == [PerformReset(reset_type, None)]


@pytest.mark.requirements("B11.FR.01")
@pytest.mark.parametrize("answer", [False, None, "yes"])
def test_a_reset_the_application_does_not_allow_is_rejected(answer: object) -> None:
    sim = booted()
    question = ask_reset(sim, {"type": "Immediate"})
    effects = sim.answer(question.question_id, answer)
    assert replies(effects) == [[3, "reset-1", {"status": "Rejected"}]]
    assert not of_type(effects, PerformReset) and not persisted(effects)


def test_after_a_remote_reset_the_station_boots_with_reason_remote_reset() -> None:
    """What the shell does: the Persist of the accepted reset is all the next station start sees."""
    sim = booted()
    stored: dict[str, Any] = {"rpc/epoch": sim.station.epoch}
    stored.update(persisted(sim.answer(ask_reset(sim, {"type": "Immediate"}).question_id, True)))
    rebooted = started(stored=stored)
    assert rebooted.outstanding().payload["reason"] == "RemoteReset"
    assert persisted(answer_boot(rebooted))[BOOT_REASON_KEY] is None


def test_a_local_reset_reboots_with_reason_local_reset() -> None:
    sim = booted()
    effects = sim.feed(LocalReset(sim.now))
    assert persisted(effects) == {BOOT_REASON_KEY: "LocalReset"}
    assert of_type(effects, PerformReset) == [PerformReset("Immediate", None)]


@pytest.mark.requirements("B11.FR.08")
def test_an_evse_reset_resets_only_that_evse() -> None:
    sim = booted(evse_connectors=(1, 2))
    question = ask_reset(sim, {"type": "OnIdle", "evseId": 2})
    assert question.question == ResetQuestion("OnIdle", 2)
    effects = sim.answer(question.question_id, True)
    assert replies(effects) == [[3, "reset-1", {"status": "Accepted"}]]
    assert of_type(effects, PerformReset) == [PerformReset("OnIdle", 2)]
    assert BOOT_REASON_KEY not in persisted(effects)


@pytest.mark.parametrize("evse_id", [0, 3, 99])
def test_a_reset_of_an_unknown_evse_is_rejected_without_asking(evse_id: int) -> None:
    sim = booted(evse_connectors=(1, 2))
    effects = sim.csms_call("Reset", {"type": "Immediate", "evseId": evse_id}, "reset-1")
    assert replies(effects) == [[3, "reset-1", {"status": "Rejected"}]]
    assert not of_type(effects, Ask) and not of_type(effects, PerformReset)


@pytest.mark.requirements("B11.FR.09")
def test_an_evse_reset_on_a_station_that_cannot_reset_evses_is_rejected() -> None:
    sim = booted(evse_connectors=(1, 1), supports_evse_reset=False)
    effects = sim.csms_call("Reset", {"type": "Immediate", "evseId": 1}, "reset-1")
    assert replies(effects) == [[3, "reset-1", {"status": "Rejected"}]]
    assert not of_type(effects, Ask)


def test_an_invalid_reset_request_is_answered_with_the_schema_error() -> None:
    sim = booted()
    (reply,) = replies(sim.csms_call("Reset", {"type": "Sometime"}, "reset-1"))
    assert reply[:3] == [4, "reset-1", "PropertyConstraintViolation"]


def test_an_answer_to_an_unknown_question_is_refused() -> None:
    sim = booted()
    before = sim.station
    effects = sim.answer(42, True)
    assert sim.station == before and not replies(effects) and not of_type(effects, PerformReset)
