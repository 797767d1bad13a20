"""Whatever arrives on the websocket, the core answers it the way Part 4 says, or drops it if it is a reply.

For any text in each registration state: `step` does not raise, no `InternalError`, at most one frame answers
the inbound one (our own CALLs it causes may follow it), the answer carries the inbound message id (or "-1"
when that cannot be read), a CALLRESULT is valid for the action's Response schema and a CALLERROR carries a
code from Part 4 table 8. Replies (CALLRESULT / CALLERROR frames) are never answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.security.certificate_store import CertificateCheck, StoreChanged
from chargecore.pure.effects import (
    Ask,
    ChainFacts,
    ChainQuestion,
    CheckCertificateQuestion,
    CustomerDataQuestion,
    DataTransferQuestion,
    Effects,
    InstallOwnQuestion,
    InternalError,
    NetworkProfileQuestion,
    Question,
    RemoveCertificateQuestion,
    ResetQuestion,
    StoreCertificateQuestion,
    UnlockQuestion,
)
from chargecore.pure.inputs import Answer, Connected, FrameReceived, PowerUp
from chargecore.pure.ocppj.frames import Call, encode_frame, encoded_length_at_most, parse_frame
from chargecore.pure.ocppj.schemas import ACTIONS
from chargecore.pure.state import Station
from chargecore.pure.station import CSMS_CALLS, step
from chargecore.testing.shape import StationShape
from chargecore.testing.strategies import (
    BrokenFrame,
    Direction,
    NearValidCall,
    broken_frames,
    calls,
    json_objects,
    json_texts,
    json_values,
    near_valid,
    near_valid_calls,
    payloads,
)

from .support import (
    CALL,
    CALLERROR,
    CALLRESULT,
    EVSE_CONNECTORS,
    MAX_MESSAGE_ID_LENGTH,
    PART4_ERROR_CODES,
    T0,
    Harness,
    SentFrame,
    boot_response,
    inbound_view,
    is_reply,
    schema_valid,
    sent_frames,
)

NOW = T0 + timedelta(seconds=5)
NONCE = "cafe"
BOOT_ID = f"{NONCE}-1-1"
"""The first message id of the station under test: its BootNotification."""
FIRST_STATUS_ID = f"{NONCE}-1-2"
"""Once Accepted, the station's second CALL: the StatusNotification outstanding in the Accepted state."""

REGISTRATION_STATES = ("Unknown", "Pending", "Accepted", "Rejected")
SCHEMA_ERROR_CODES = frozenset(
    {"FormatViolation", "OccurrenceConstraintViolation", "PropertyConstraintViolation", "TypeConstraintViolation"}
)
"""Part 4 table 8: the codes about a payload that does not fit its schema."""
FRAME_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def registered(status: str) -> Station:
    """A connected station whose BootNotification the CSMS answered with `status` ("Unknown": not yet)."""
    harness = Harness()
    harness.run(PowerUp(T0, NONCE))
    boot = sent_frames(harness.run(Connected(T0)))[0]
    assert boot.message_id == BOOT_ID
    if status != "Unknown":
        harness.run(FrameReceived(T0, json.dumps([CALLRESULT, BOOT_ID, boot_response(T0, status)])))
    return harness.station


# --- strategies -----------------------------------------------------------------------------------------------

SHAPE = StationShape(EVSE_CONNECTORS)


def payloads_for(action: str, direction: Direction) -> st.SearchStrategy[Any]:
    """Valid payloads, payloads broken in one place, and random JSON objects; random JSON for unknown actions."""
    if action not in ACTIONS:
        return json_objects | json_values
    broken = near_valid(action, direction, SHAPE).map(lambda near: near.payload)
    return payloads(action, direction, SHAPE) | broken | json_objects


type_ids = st.sampled_from([CALL] * 6 + [CALLRESULT] * 2 + [CALLERROR] * 2 + [0, 1, 5, -1, 2.0, 3.0, True, "2", None])
message_ids = (
    st.text(min_size=1, max_size=MAX_MESSAGE_ID_LENGTH)
    | st.text(min_size=MAX_MESSAGE_ID_LENGTH + 1, max_size=60)
    | json_texts
    | st.sampled_from(["", BOOT_ID, FIRST_STATUS_ID, "-1"])
    | st.integers()
    | st.none()
)
action_names = (
    st.sampled_from(["Reset", "TriggerMessage", "DataTransfer", "ChangeAvailability"])
    | st.sampled_from(sorted(ACTIONS))
    | st.text(max_size=20)
)


@st.composite
def near_valid_frames(draw: st.DrawFn) -> str:
    """Frames shaped like OCPP-J: right or wrong type ids, ids of any length, known and unknown actions,
    valid, broken and random payloads, and now and then an element too many or too few."""
    type_id = draw(type_ids)
    message_id = draw(message_ids)
    if type_id == CALLRESULT:
        response = draw(st.sampled_from(["BootNotification", "StatusNotification", "Heartbeat"]))
        fields = [type_id, message_id, draw(payloads_for(response, "response"))]
    elif type_id == CALLERROR:
        fields = [type_id, message_id, draw(st.sampled_from(sorted(PART4_ERROR_CODES)) | st.text(max_size=10))]
        fields += [draw(st.text(max_size=20) | json_values), draw(json_objects | json_values)]
    else:
        action = draw(action_names)
        fields = [type_id, message_id, action, draw(payloads_for(action, "request"))]
    shape = draw(st.sampled_from(["as is"] * 6 + ["element dropped", "element added"]))
    if shape == "element dropped":
        del fields[draw(st.integers(0, len(fields) - 1))]
    elif shape == "element added":
        fields.append(draw(json_values))
    return json.dumps(fields)


any_text = st.text() | st.binary().map(lambda raw: raw.decode("utf-8", errors="replace"))
"""Arbitrary text, and arbitrary bytes decoded the way the shell decodes a binary websocket message."""

application_answers = {
    ResetQuestion: st.booleans() | st.sampled_from([None, "yes", 1]),
    DataTransferQuestion: st.none()
    | st.fixed_dictionaries(
        {"status": st.sampled_from(["Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"])},
        optional={"data": json_values.filter(lambda value: value is not None)},
    ),
    NetworkProfileQuestion: st.booleans() | st.none(),
    UnlockQuestion: st.booleans() | st.none(),
    CheckCertificateQuestion: st.just(CertificateCheck((), problem="not a PEM certificate")),
    ChainQuestion: st.just(ChainFacts(parsed=False, problem="not a PEM certificate")),
    StoreCertificateQuestion: st.just(StoreChanged((), problem="the store is read-only")),
    RemoveCertificateQuestion: st.just(StoreChanged((), problem="the store is read-only")),
    InstallOwnQuestion: st.just(StoreChanged((), problem="the store is read-only")),
    CustomerDataQuestion: st.none() | st.lists(st.text(max_size=20), max_size=3).map(tuple),
}
"""What an integrator's hook may answer (an answer that breaks the response schema is an application bug), and
what the shell answers about certificates it cannot read or store."""


# --- the oracle -----------------------------------------------------------------------------------------------


def _answers(effects: Effects) -> list[SentFrame]:
    """The frames that answer the inbound one; they go out before any CALL of ours it causes (F06.FR.04)."""
    frames = sent_frames(effects)
    answers = [frame for frame in frames if frame.type_id != CALL]
    assert frames[: len(answers)] == answers, f"an answer followed our CALL: {frames}"
    return answers


def check_inbound(
    station: Station, text: str, answer_for: Callable[[Question], Any]
) -> tuple[Station, SentFrame | None]:
    """Feed one inbound frame (and the application's answer if the core asks one); check and return the state
    after the frame and the frame that answered it (None for a reply, which must get no answer)."""
    after, effects = _step_checked(station, FrameReceived(NOW, text))
    answers = _answers(effects)
    # A question holds the reply back when no reply went out; a follow-up one (the CSR a
    # TriggerMessage(SignChargingStationCertificate) starts) comes after the reply.
    asks = [effect for effect in effects if isinstance(effect, Ask)]
    if asks and not answers:
        assert len(asks) == 1 and not answers, effects
        answers = _answers(_step_checked(after, Answer(NOW, asks[0].question_id, answer_for(asks[0].question)))[1])
    frame, message_id = inbound_view(text)
    if is_reply(frame):
        assert answers == [], f"a reply was answered: {text!r} -> {answers}"
        return after, None
    assert len(answers) == 1, f"{text!r} -> {answers}"
    reply = answers[0]
    assert reply.message_id == (message_id or "-1"), f"{text!r} -> {reply}"
    if reply.type_id == CALLRESULT:
        assert frame is not None and frame[0] == CALL and len(frame) == 4, f"{text!r} -> {reply}"
        assert schema_valid(frame[2], "Response", reply.payload), f"invalid {frame[2]}Response: {reply.payload}"
    return after, reply


def _step_checked(station: Station, event: FrameReceived | Answer) -> tuple[Station, Effects]:
    after, effects = step(station, event)
    assert not [effect for effect in effects if isinstance(effect, InternalError)], effects
    return after, effects


def _drawn_answers(data: st.DataObject) -> Callable[[Question], Any]:
    """Answers drawn for the questions above; None (the application could not answer) to the others."""
    return lambda question: data.draw(application_answers.get(type(question), st.none()), label="application answer")


# --- properties -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", REGISTRATION_STATES)
@FRAME_SETTINGS
@given(text=any_text, data=st.data())
def test_any_text_is_answered_per_part4(status: str, text: str, data: st.DataObject) -> None:
    check_inbound(registered(status), text, _drawn_answers(data))


@pytest.mark.parametrize("status", REGISTRATION_STATES)
@FRAME_SETTINGS
@given(text=near_valid_frames(), data=st.data())
def test_near_valid_frames_are_answered_per_part4(status: str, text: str, data: st.DataObject) -> None:
    check_inbound(registered(status), text, _drawn_answers(data))


@pytest.mark.parametrize("status", ["Pending", "Accepted"])
@FRAME_SETTINGS
@given(text=calls(shape=SHAPE), data=st.data())
def test_valid_requests_get_a_valid_result_or_a_part4_error(status: str, text: str, data: st.DataObject) -> None:
    """A schema-valid request of any action gets a schema-valid CALLRESULT or a CALLERROR of table 8, never one
    that blames the payload."""
    _, reply = check_inbound(registered(status), text, _drawn_answers(data))
    assert reply is not None
    assert reply.type_id == CALLRESULT or reply.code not in SCHEMA_ERROR_CODES, (text, reply)


@pytest.mark.parametrize("status", ["Pending", "Accepted"])
@FRAME_SETTINGS
@given(call=near_valid_calls(shape=SHAPE), data=st.data())
def test_near_valid_requests_get_their_part4_code(status: str, call: NearValidCall, data: st.DataObject) -> None:
    """A request broken in one place gets exactly the code Part 4 gives that violation, unless the station does
    not handle the action at all (a request only a station sends): NotSupported comes first."""
    _, reply = check_inbound(registered(status), call.text, _drawn_answers(data))
    expected = call.error_code if call.action in CSMS_CALLS else "NotSupported"
    assert reply is not None and (reply.type_id, reply.message_id, reply.code) == (
        CALLERROR,
        call.message_id,
        expected,
    ), (call, reply)


@pytest.mark.parametrize("status", REGISTRATION_STATES)
@FRAME_SETTINGS
@given(frame=broken_frames())
def test_broken_frames_get_their_labelled_answer(status: str, frame: BrokenFrame) -> None:
    """Garbage and malformed frames get the CALLERROR code and message id the kit labels them with (Part 4), and
    malformed replies get nothing."""
    _, reply = check_inbound(registered(status), frame.text, _no_question)
    answered = None if reply is None else (reply.type_id, reply.message_id, reply.code)
    assert answered == (None if frame.expected is None else (CALLERROR, frame.message_id, frame.expected)), frame


@pytest.mark.parametrize("status", ["Unknown", pytest.param("Rejected", marks=pytest.mark.requirements("B03.FR.08"))])
@FRAME_SETTINGS
@given(
    message_id=st.text(min_size=1, max_size=MAX_MESSAGE_ID_LENGTH),
    action=st.sampled_from(sorted(ACTIONS)),
    payload=json_objects,
)
def test_requests_before_acceptance_get_security_error(
    status: str, message_id: str, action: str, payload: dict[str, Any]
) -> None:
    """Until the CSMS accepts the boot, every well-formed request of a known action gets SecurityError and
    changes nothing."""
    station = registered(status)
    after, reply = check_inbound(station, json.dumps([CALL, message_id, action, payload]), _no_question)
    assert reply is not None and (reply.type_id, reply.code) == (CALLERROR, "SecurityError")
    assert after == station


@pytest.mark.parametrize("status", REGISTRATION_STATES)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param('[2,"\\ud800","Authorize",{}]', id="lone-surrogate-id"),
        pytest.param('[2,"ok","Reset",{"type":"\\udfff"}]', id="lone-surrogate-value"),
        pytest.param('[2,"ok","Reset",{"type":"Immediate","evseId":"\\ud800"}]', id="lone-surrogate-wrong-type"),
        pytest.param(json.dumps([CALLRESULT, "0" * 37, {}]), id="reply-with-overlong-id"),
        pytest.param(json.dumps([CALLERROR, 17, "GenericError", "", {}]), id="reply-with-numeric-id"),
    ],
)
def test_found_examples(status: str, text: str) -> None:
    """Inputs these properties found, kept as fixed cases: a reply with an unreadable id was answered with a
    CALLERROR "-1"; a lone surrogate (a JSON escape) in the id made the answer unencodable as UTF-8, and in a
    payload made `step` raise from the schema validator."""
    check_inbound(registered(status), text, _no_question)


def _no_question(question: Question) -> Any:
    raise AssertionError(f"unexpected question {question}")


@given(payload=json_objects, as_bytes=st.booleans())
def test_the_encoded_length_bound_holds_for_any_call(payload: dict[str, Any], as_bytes: bool) -> None:
    """`encoded_length_at_most` lets BytesPerMessage checks skip encoding a received CALL: it must never be below
    the real compact encoding, for the shortest text that carries the payload (non-ASCII written raw, no spaces),
    as text or as UTF-8 bytes."""
    text = json.dumps([CALL, "id", "DataTransfer", payload], ensure_ascii=False, separators=(",", ":"))
    call = parse_frame(text.encode("utf-8", "surrogatepass") if as_bytes else text).unwrap()
    assert isinstance(call, Call)
    bound = encoded_length_at_most(call)
    assert bound is not None and len(encode_frame(call)) <= bound
