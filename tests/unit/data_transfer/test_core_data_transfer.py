"""DataTransfer through `step`: from the CSMS, answered by the application (P01), and from the application,
answered by the CSMS (P02)."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, at, booted, calls, of_type, replies

from chargecore.pure.effects import (
    Ask,
    DataTransferAnswered,
    DataTransferQuestion,
    Effects,
    InternalError,
    Notify,
)
from chargecore.pure.inputs import Answer
from chargecore.pure.station import step

REQUEST = {"vendorId": "com.example", "messageId": "Hello", "data": {"n": 1}}


def ask(sim: Sim) -> Ask:
    effects = sim.csms_call("DataTransfer", REQUEST, "dt-1")
    assert not replies(effects), "answered before the application was asked"
    (question,) = of_type(effects, Ask)
    return question


def answered(effects: Effects) -> list[DataTransferAnswered]:
    return [n.event for n in of_type(effects, Notify) if isinstance(n.event, DataTransferAnswered)]


def test_the_application_is_asked_and_its_answer_is_the_response() -> None:
    sim = booted()
    question = ask(sim)
    assert question.question == DataTransferQuestion("com.example", "Hello", {"n": 1})
    response = {"status": "Accepted", "data": ["any", "json"]}
    assert replies(sim.answer(question.question_id, response)) == [[3, "dt-1", response]]


@pytest.mark.requirements("P01.FR.05", "P01.FR.06")
@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (None, "UnknownVendorId"),
        ({"status": "UnknownMessageId"}, "UnknownMessageId"),
        ({"status": "Rejected"}, "Rejected"),
    ],
)
def test_no_handler_means_unknown_vendor_id_and_refusals_pass_through(answer: Any, status: str) -> None:
    sim = booted()
    assert replies(sim.answer(ask(sim).question_id, answer)) == [[3, "dt-1", {"status": status}]]


def test_an_invalid_answer_from_the_application_never_reaches_the_csms() -> None:
    sim = booted()
    question = ask(sim)
    _, effects = step(sim.station, Answer(sim.now, question.question_id, {"status": "Maybe"}))
    assert of_type(effects, InternalError)
    (reply,) = replies(effects)
    assert reply[:3] == [4, "dt-1", "InternalError"]


def test_the_application_sends_a_data_transfer_and_hears_the_answer() -> None:
    sim = booted()
    sim.now = at(10)
    (call,) = calls(sim.send_data_transfer("com.example", "Ping", {"x": [1, 2]}))
    assert (call.action, call.payload) == (
        "DataTransfer",
        {"vendorId": "com.example", "messageId": "Ping", "data": {"x": [1, 2]}},
    )
    response = {"status": "Accepted", "data": "pong"}
    assert answered(sim.reply(response)) == [DataTransferAnswered("com.example", "Ping", response)]


def test_optional_fields_are_left_out() -> None:
    sim = booted()
    (call,) = calls(sim.send_data_transfer("com.example"))
    assert call.payload == {"vendorId": "com.example"}


@pytest.mark.parametrize("failure", ["timeout", "callerror", "invalid response", "connection lost"])
def test_a_data_transfer_without_a_usable_answer_is_answered_none(failure: str) -> None:
    sim = booted()
    sim.now = at(10)
    sim.send_data_transfer("com.example", "Ping")
    if failure == "timeout":
        effects = sim.tick(10 + 30)
    elif failure == "callerror":
        effects = sim.reply_error("NotSupported")
    elif failure == "invalid response":
        effects = sim.reply({"status": "Fine"})
    else:
        effects = sim.lose(11)
    assert answered(effects) == [DataTransferAnswered("com.example", "Ping", None)]
    assert sim.station.rpc.in_flight is None


def test_a_data_transfer_queued_while_offline_goes_after_the_reconnect() -> None:
    sim = booted()
    sim.lose(10)
    sim.now = at(11)
    assert not calls(sim.send_data_transfer("com.example", "later"))
    sim.tick_deadline()
    sent = calls(sim.connect(20)) + calls(sim.answer_all())
    assert [call.payload.get("messageId") for call in sent if call.action == "DataTransfer"] == ["later"]
