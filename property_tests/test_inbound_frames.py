"""Whatever arrives on the websocket, the core answers it the way Part 4 says, or drops it if it is a reply.

For any text in each registration state: `step` does not raise, no `InternalError`, at most one frame answers
the inbound one (our own CALLs it causes may follow it), the answer carries the inbound message id (or "-1"
when that cannot be read), a CALLRESULT is valid for the action's Response schema and a CALLERROR carries a
code from Part 4 table 8. Replies (CALLRESULT / CALLERROR frames) are never answered.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timedelta
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.effects import (
    Ask,
    DataTransferQuestion,
    Effects,
    InternalError,
    NetworkProfileQuestion,
    Question,
    ResetQuestion,
    UnlockQuestion,
)
from chargecore.pure.inputs import Answer, Connected, FrameReceived, PowerUp
from chargecore.pure.ocppj.schemas import ACTIONS
from chargecore.pure.state import Station
from chargecore.pure.station import step

from .support import (
    CALL,
    CALLERROR,
    CALLRESULT,
    MAX_MESSAGE_ID_LENGTH,
    PART4_ERROR_CODES,
    T0,
    Harness,
    SentFrame,
    boot_response,
    csms_time,
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
SUPPORTED_REQUESTS = (
    "Reset",
    "TriggerMessage",
    "DataTransfer",
    "GetBaseReport",
    "GetReport",
    "ClearCache",
    "SendLocalList",
    "GetLocalListVersion",
    "GetVariables",
    "SetVariables",
    "SetNetworkProfile",
    "ChangeAvailability",
)
"""The CSMS requests the station implements (docs/architecture.md); it answers the others NotSupported."""
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

json_texts = st.text(max_size=12) | st.text(st.characters(categories=["Cs", "Ll"]), min_size=1, max_size=3)
"""Strings, some with lone surrogates ("Cs"), which only a JSON escape can carry."""
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | json_texts
"""JSON's scalars: NaN and Infinity are not JSON, and a frame holding one is a FormatViolation (test_core_frames)."""
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_texts, inner, max_size=4),
    max_leaves=12,
)
json_objects = st.dictionaries(json_texts, json_values, max_size=5)

timestamps = st.datetimes(min_value=T0.replace(tzinfo=None), max_value=T0.replace(tzinfo=None, year=2100)).map(
    csms_time
)
evse = st.fixed_dictionaries({"id": st.integers(0, 3)}, optional={"connectorId": st.integers(0, 3)})

authorization_data = st.fixed_dictionaries(
    {"idToken": st.fixed_dictionaries({"idToken": st.text(max_size=36), "type": st.just("ISO14443")})},
    optional={"idTokenInfo": st.fixed_dictionaries({"status": st.sampled_from(["Accepted", "Blocked"])})},
)
"""SendLocalList entries: idTokenInfo present (add or update) or left out (remove)."""
component_variable = st.fixed_dictionaries(
    {
        "component": st.sampled_from(
            [{"name": "OCPPCommCtrlr"}, {"name": "EVSE", "evse": {"id": 1}}, {"name": "EVSE"}, {"name": "x"}]
        ),
        "variable": st.sampled_from([{"name": "HeartbeatInterval"}, {"name": "AvailabilityState"}, {"name": "y"}]),
    }
)
VALID_PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    # CSMS requests the station supports
    "Reset": st.fixed_dictionaries(
        {"type": st.sampled_from(["Immediate", "OnIdle"])}, optional={"evseId": st.integers(0, 3)}
    ),
    "TriggerMessage": st.fixed_dictionaries(
        {
            "requestedMessage": st.sampled_from(
                [
                    "BootNotification",
                    "LogStatusNotification",
                    "FirmwareStatusNotification",
                    "Heartbeat",
                    "MeterValues",
                    "SignChargingStationCertificate",
                    "SignV2GCertificate",
                    "StatusNotification",
                    "TransactionEvent",
                    "SignCombinedCertificate",
                    "PublishFirmwareStatusNotification",
                ]
            )
        },
        optional={"evse": evse},
    ),
    "DataTransfer": st.fixed_dictionaries(
        {"vendorId": st.text(max_size=255)}, optional={"messageId": st.text(max_size=50), "data": json_values}
    ),
    "GetBaseReport": st.fixed_dictionaries(
        {
            "requestId": st.integers(-(2**31), 2**31 - 1),
            "reportBase": st.sampled_from(["ConfigurationInventory", "FullInventory", "SummaryInventory"]),
        }
    ),
    "GetReport": st.fixed_dictionaries(
        {"requestId": st.integers(-(2**31), 2**31 - 1)},
        optional={
            "componentVariable": st.lists(
                st.fixed_dictionaries(
                    {"component": st.fixed_dictionaries({"name": st.sampled_from(["EVSE", "TxCtrlr", "x"])})},
                    optional={"variable": st.fixed_dictionaries({"name": st.sampled_from(["Enabled", "y"])})},
                ),
                min_size=1,
                max_size=3,
            ),
            "componentCriteria": st.lists(
                st.sampled_from(["Active", "Available", "Enabled", "Problem"]), min_size=1, max_size=4
            ),
        },
    ),
    "ClearCache": st.just({}),
    "GetLocalListVersion": st.just({}),
    "SendLocalList": st.fixed_dictionaries(
        {"versionNumber": st.integers(-2, 5), "updateType": st.sampled_from(["Full", "Differential"])},
        optional={"localAuthorizationList": st.lists(authorization_data, min_size=1, max_size=3)},
    ),
    "ChangeAvailability": st.fixed_dictionaries(
        {"operationalStatus": st.sampled_from(["Operative", "Inoperative"])}, optional={"evse": evse}
    ),
    "GetVariables": st.fixed_dictionaries({"getVariableData": st.lists(component_variable, min_size=1, max_size=3)}),
    "SetVariables": st.fixed_dictionaries(
        {
            "setVariableData": st.lists(
                st.builds(
                    lambda item, value: {**item, "attributeValue": value},
                    component_variable,
                    st.sampled_from(["30", "true", "-1", "x", ""]),
                ),
                min_size=1,
                max_size=3,
            )
        }
    ),
    "SetNetworkProfile": st.fixed_dictionaries(
        {
            "configurationSlot": st.integers(-1, 4),
            "connectionData": st.fixed_dictionaries(
                {
                    "ocppVersion": st.just("OCPP20"),
                    "ocppTransport": st.just("JSON"),
                    "ocppCsmsUrl": st.sampled_from(["ws://csms.example/ocpp", "wss://csms.example/ocpp"]),
                    "messageTimeout": st.integers(-1, 60),
                    "securityProfile": st.integers(0, 3),
                    "ocppInterface": st.just("Wired0"),
                }
            ),
        }
    ),
    # responses to the station's own CALLs
    "BootNotificationResponse": st.builds(
        lambda now, interval, status: {"currentTime": now, "interval": interval, "status": status},
        timestamps,
        st.integers(-10, 10**6),
        st.sampled_from(["Accepted", "Pending", "Rejected"]),
    ),
    "StatusNotificationResponse": st.just({}),
    "HeartbeatResponse": st.builds(lambda now: {"currentTime": now}, timestamps),
}
"""Hand-written generators of schema-valid payloads, the starting point of the one-field-broken variants."""


def _field_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a payload that holds a value, nested objects and arrays included."""
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    paths = []
    for key, child in children:
        paths.append((*prefix, key))
        paths.extend(_field_paths(child, (*prefix, key)))
    return paths


@st.composite
def broken(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A valid payload with exactly one defect: a field dropped, retyped, made too long or not Unicode (a lone
    surrogate), or one field added."""
    payload = copy.deepcopy(draw(valid))
    paths = _field_paths(payload)
    defect = draw(st.sampled_from(["drop", "retype", "overlong", "surrogate", "extra"])) if paths else "extra"
    if defect == "extra":
        payload[draw(st.sampled_from(["unexpectedField", "status", "customData"]))] = draw(json_values)
        return payload
    *parent_path, last = draw(st.sampled_from(paths))
    parent = payload
    for key in parent_path:
        parent = parent[key]
    if defect == "drop":
        del parent[last]
    elif defect == "retype":
        parent[last] = draw(json_values)
    elif defect == "surrogate":
        parent[last] = draw(st.sampled_from(["\ud800", "a\udfff", "\udc00\ud800"]))
    else:
        parent[last] = "x" * draw(st.integers(51, 600))
    return payload


def payloads_for(name: str) -> st.SearchStrategy[Any]:
    valid = VALID_PAYLOADS.get(name)
    if valid is None:
        return json_objects | json_values
    return valid | broken(valid) | json_objects


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
        response = draw(
            st.sampled_from(["BootNotificationResponse", "StatusNotificationResponse", "HeartbeatResponse"])
        )
        fields = [type_id, message_id, draw(payloads_for(response))]
    elif type_id == CALLERROR:
        fields = [type_id, message_id, draw(st.sampled_from(sorted(PART4_ERROR_CODES)) | st.text(max_size=10))]
        fields += [draw(st.text(max_size=20) | json_values), draw(json_objects | json_values)]
    else:
        action = draw(action_names)
        fields = [type_id, message_id, action, draw(payloads_for(action))]
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
}
"""What an integrator's hook may answer (an answer that breaks the response schema is an application bug)."""


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
    # Only a question whose answer makes the reply holds the reply back; a follow-up one (the CSR a
    # TriggerMessage(SignChargingStationCertificate) starts) comes after the reply.
    asks = [effect for effect in effects if isinstance(effect, Ask) and type(effect.question) in application_answers]
    if asks:
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
    return lambda question: data.draw(application_answers[type(question)], label="application answer")


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
@given(action=st.sampled_from(SUPPORTED_REQUESTS), data=st.data())
def test_requests_are_checked_against_the_official_schema(status: str, action: str, data: st.DataObject) -> None:
    """A supported request with one field broken is refused with a schema code exactly when the official schema
    refuses it (some defects, like dropping an optional field, leave it valid)."""
    payload = data.draw(broken(VALID_PAYLOADS[action]), label="payload")
    _, reply = check_inbound(registered(status), json.dumps([CALL, "csms-1", action, payload]), _drawn_answers(data))
    assert reply is not None
    if schema_valid(action, "Request", payload):
        assert reply.type_id == CALLRESULT, reply
    else:
        assert reply.code in SCHEMA_ERROR_CODES, reply


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
