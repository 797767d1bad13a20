"""chargecore's own CSMS answers every frame a station may send as Part 4 says, and keeps the connection.

A raw websocket client speaking `ocpp2.0.1` plays the station and sends the kit's frames over loopback: each
broken frame must get the CALLERROR code and message id it is labelled with (or nothing, for a malformed
reply), each near-valid CALL its labelled code, each valid CALL a schema-valid CALLRESULT; after every frame a
Heartbeat on the same connection must still be answered.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import websocket
from hypothesis import HealthCheck, given, settings

from chargecore.pure.ocppj.schemas import validate
from chargecore.testing.strategies import BrokenFrame, NearValidCall, broken_frames, calls, near_valid_calls
from chargecore.tools.csms import LocalCsms

FRAMES = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PROBE_ID = "probe-after-the-frame"
"""The message id of the Heartbeat sent after each frame: no kit strategy draws it (ids are UUIDs or words)."""


@pytest.fixture(scope="module")
def csms() -> Iterator[LocalCsms]:
    with LocalCsms(port=0, on_log=lambda _line: None, keep_messages=False) as running:
        yield running


def answer_to(csms: LocalCsms, text: str) -> list[Any] | None:
    """The frame the CSMS answers `text` with (None when it answers nothing), checking that the connection
    stays open: a Heartbeat sent after `text` is answered on it."""
    ws = websocket.create_connection(csms.url + "/CS-FRAMES", subprotocols=["ocpp2.0.1"], timeout=5)
    try:
        ws.send(text)
        ws.send(json.dumps([2, PROBE_ID, "Heartbeat", {}]))
        first: list[Any] = json.loads(ws.recv())
        if first[:2] == [3, PROBE_ID]:
            return None
        probe = json.loads(ws.recv())
        assert probe[:2] == [3, PROBE_ID], f"the connection did not stay usable after {text!r}: {probe}"
        return first
    finally:
        ws.close()


@FRAMES
@given(frame=broken_frames())
def test_broken_frames_get_their_part4_answer(csms: LocalCsms, frame: BrokenFrame) -> None:
    answer = answer_to(csms, frame.text)
    if frame.expected is None:
        assert answer is None, (frame, answer)
    else:
        assert answer is not None and answer[:3] == [4, frame.message_id, frame.expected], (frame, answer)
        assert len(answer) == 5 and isinstance(answer[3], str) and answer[4] == {}, answer


@FRAMES
@given(call=near_valid_calls(sent_by="station"))
def test_near_valid_calls_get_their_labelled_code(csms: LocalCsms, call: NearValidCall) -> None:
    answer = answer_to(csms, call.text)
    assert answer is not None and answer[:3] == [4, call.message_id, call.error_code], (call, answer)


@FRAMES
@given(text=calls(sent_by="station"))
def test_valid_calls_get_a_valid_result(csms: LocalCsms, text: str) -> None:
    _, message_id, action, _ = json.loads(text)
    answer = answer_to(csms, text)
    assert answer is not None and answer[:2] == [3, message_id], (text, answer)
    assert validate(action, "Response", answer[2]).unwrap() == answer[2]
