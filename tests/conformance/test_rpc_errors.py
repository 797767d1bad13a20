"""OCPP-J RPC framework errors (Part 4 section 4): every kind of bad frame from the CSMS, over the wire.

Each case checks the CALLERROR the station answers with (or that it answers nothing), and that the station
keeps working afterwards. Part 4 has no requirement ids, so these tests carry no requirements marker.
"""

from __future__ import annotations

import json

import pytest
from harness import Booted

from chargecore.shell.link import DEFAULT_MAX_FRAME_BYTES
from chargecore.testing.csms_double import CsmsDouble

LONG_ID = "x" * 37


def assert_still_working(csms: CsmsDouble) -> None:
    """A bad frame must not break the session: a trigger is still answered and acted on."""
    assert csms.trigger("Heartbeat").payload == {"status": "Accepted"}
    csms.expect_call("Heartbeat")


@pytest.mark.parametrize(
    ("frame", "message_id", "code"),
    [
        pytest.param("this is not json", "-1", "RpcFrameworkError", id="not-json"),
        pytest.param('{"type": 2}', "-1", "RpcFrameworkError", id="not-an-array"),
        pytest.param("[]", "-1", "RpcFrameworkError", id="empty-array"),
        pytest.param(json.dumps([2, LONG_ID, "Reset", {"type": "OnIdle"}]), "-1", "RpcFrameworkError", id="long-id"),
        pytest.param('[2, "m1", "Reset"]', "m1", "RpcFrameworkError", id="call-without-payload"),
        pytest.param('[9, "m2", "Heartbeat", {}]', "m2", "MessageTypeNotSupported", id="message-type-9"),
        pytest.param('[2, "m3", "FooBar", {}]', "m3", "NotImplemented", id="unknown-action"),
        pytest.param(
            json.dumps(
                [2, "m4", "PublishFirmware", {"location": "http://x/fw", "checksum": "0" * 32, "requestId": 1}]
            ),
            "m4",
            "NotSupported",
            id="known-unsupported-action",
        ),
        pytest.param('[2, "m5", "Reset", {"type": 5}]', "m5", "TypeConstraintViolation", id="reset-type-number"),
        pytest.param('[2, "m6", "Reset", {"type": "Now"}]', "m6", "PropertyConstraintViolation", id="reset-type-now"),
        pytest.param('[2, "m7", "Reset", {}]', "m7", "OccurrenceConstraintViolation", id="reset-without-type"),
        pytest.param(
            '[2, "m8", "Reset", {"type": "OnIdle", "when": "now"}]', "m8", "FormatViolation", id="reset-extra-property"
        ),
        pytest.param('[2, "m9", "Reset", ["OnIdle"]]', "m9", "FormatViolation", id="payload-not-object"),
        pytest.param("", "-1", "RpcFrameworkError", id="empty-message"),
        pytest.param('[2, "m10", "Reset", {"type": "OnIdle", "evseId": NaN}]', "m10", "FormatViolation", id="nan"),
        pytest.param(
            '[2, "m11", "Reset", {"type": "OnIdle", "evseId": -Infinity}]', "m11", "FormatViolation", id="inf"
        ),
        pytest.param("[" * (DEFAULT_MAX_FRAME_BYTES + 1), "-1", "FormatViolation", id="over-max-frame-bytes"),
    ],
)
def test_bad_frame_answered_with_callerror(
    csms: CsmsDouble, booted: Booted, frame: str, message_id: str, code: str
) -> None:
    csms.send_raw(frame)
    reply = csms.wait_reply(message_id)
    assert (reply.error_code, reply.payload) == (code, None), reply
    assert reply.error_description, "a CALLERROR says what was wrong"
    assert booted.application.resets == [], "a refused Reset does nothing"
    assert_still_working(csms)


def test_callresult_with_unknown_id_dropped(csms: CsmsDouble, booted: Booted) -> None:
    mark = csms.inbound_count()
    csms.send_raw(json.dumps([3, "no-such-call", {"currentTime": "2024-01-01T00:00:00Z"}]))
    csms.send_raw(json.dumps([4, "no-such-call-either", "InternalError", "", {}]))
    assert_still_working(csms)
    # the station handles frames in order, so an answer to the stray frames would have come before the trigger's
    answers = [f.frame for f in csms.inbound_since(mark) if f.frame is None or f.frame[0] != 2]
    assert [frame[0] if frame else None for frame in answers] == [3], f"only the trigger answered: {answers}"
