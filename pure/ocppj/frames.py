"""OCPP-J RPC frames (Part 4 section 4): parse text into CALL / CALLRESULT / CALLERROR, and build them back.

Parsing never raises: a frame that is not a valid RPC frame becomes a `FrameError` that already carries
the CALLERROR to answer with (Part 4 4.2.3: message id "-1" when the id cannot be read). An empty message is such a
frame, not the end of the stream; NaN and Infinity, which Python's json reads, are not JSON and refused; a message
too large to read never gets here as text (`oversized`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from returns.result import Failure, Result, Success

CALL = 2
CALLRESULT = 3
CALLERROR = 4
MAX_MESSAGE_ID_LENGTH = 36
MAX_ERROR_DESCRIPTION_LENGTH = 255
UNREADABLE_MESSAGE_ID = "-1"

_ENCODER = json.JSONEncoder(separators=(",", ":"))
"""Compact JSON, non-ASCII escaped: a text the CSMS sent with a lone surrogate ("\\ud800" is valid JSON) can be
echoed, measured, sent and stored without a UnicodeEncodeError; stateless, so one instance is shared."""


def compact_json(value: Any) -> str:
    """The JSON text the station sends and measures: compact, ASCII only (so its length is its size in bytes)."""
    return _ENCODER.encode(value)


@dataclass(frozen=True, slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]
    received_length: int = field(default=0, compare=False)
    """Length of the text a received CALL was parsed from (0 for one the station built): bounds its compact
    encoding (`encoded_length_at_most`) without encoding it."""


@dataclass(frozen=True, slots=True)
class CallResult:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    message_id: str
    code: str
    description: str = ""
    details: dict[str, Any] | None = None


Frame = Call | CallResult | CallError


@dataclass(frozen=True, slots=True)
class FrameError:
    """An inbound frame that cannot be handled; `reply` is the CALLERROR to send, or None to drop it."""

    reply: CallError | None
    reason: str


def _error(message_id: str, code: str, reason: str) -> Failure[FrameError]:
    return Failure(FrameError(CallError(message_id, code, reason[:MAX_ERROR_DESCRIPTION_LENGTH]), reason))


@functools.cache
def _fast_reader() -> Callable[[str | bytes], Any]:
    """msgspec's JSON reader, 3-4x json.loads (the largest share of an inbound frame's cost), imported with the
    first frame read: a station starts without it (~20 ms of imports), since it sends its BootNotification before
    it reads anything. Whatever it reads, json.loads reads the same (integers of any size stay integers;
    property_tests/test_frame_reading.py); what it refuses (NaN and Infinity, numbers beyond a float, lone
    surrogates, bytes not UTF-8, deep nesting) goes to json, whose answer (a value or an error) is the frame's."""
    import msgspec.json

    return msgspec.json.Decoder().decode


def _read_json(text: str | bytes, not_json: list[str]) -> Any:
    """The JSON value of `text`; NaN, Infinity or -Infinity, which Python's json reads, land in `not_json`."""
    try:
        return _fast_reader()(text)
    except (ValueError, RecursionError):  # msgspec's DecodeError and UnicodeEncodeError are ValueErrors
        return json.loads(text, parse_constant=not_json.append)


def parse_frame(text: str | bytes) -> Result[Frame, FrameError]:
    """Parse one websocket text message into a frame (Part 4 4.1.7, 4.2, 4.4)."""
    if not text:
        return _error(UNREADABLE_MESSAGE_ID, "RpcFrameworkError", "empty frame")
    not_json: list[str] = []
    try:
        data = _read_json(text, not_json)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _error(UNREADABLE_MESSAGE_ID, "RpcFrameworkError", "frame is not valid JSON")
    elements = data if isinstance(data, list) else []
    type_id = elements[0] if elements else None
    is_reply = type(type_id) is int and type_id in (CALLRESULT, CALLERROR)
    message_id = elements[1] if len(elements) > 1 and isinstance(elements[1], str) else None
    readable = message_id is not None and 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH
    if not_json:
        return _not_json(message_id if readable else None, is_reply, not_json[0])
    if not elements:
        return _error(UNREADABLE_MESSAGE_ID, "RpcFrameworkError", "frame is not a JSON array")
    if message_id is None or not readable:
        if is_reply:  # never answer a reply: no error ping-pong
            return Failure(FrameError(None, "reply with an unreadable message id dropped"))
        return _error(UNREADABLE_MESSAGE_ID, "RpcFrameworkError", "message id cannot be read")
    if type(type_id) is not int:
        return _error(message_id, "RpcFrameworkError", "message type id is not an integer")
    if type_id == CALL:
        return _parse_call(message_id, data, len(text))
    if type_id == CALLRESULT:
        return _parse_call_result(message_id, data)
    if type_id == CALLERROR:
        return _parse_call_error(message_id, data)
    return _error(message_id, "MessageTypeNotSupported", f"message type {type_id} is not supported")


def oversized(size: int, limit: int) -> FrameError:
    """A message larger than the station reads is refused unread, so its id is unknown: a syntactically incorrect
    message (FormatViolation, as for a request over BytesPerMessage, B06.FR.16) with message id "-1"."""
    reason = f"a message of {size} bytes, more than the {limit} bytes the station reads"
    return FrameError(CallError(UNREADABLE_MESSAGE_ID, "FormatViolation", reason), reason)


def _not_json(message_id: str | None, is_reply: bool, constant: str) -> Failure[FrameError]:
    """NaN, Infinity and -Infinity are not JSON (RFC 8259 section 6), though Python's json reads them: the frame is
    syntactically incorrect, a FormatViolation (a reply holding one is dropped, as any malformed reply)."""
    reason = f"{constant} is not a JSON number"
    if is_reply:
        return Failure(FrameError(None, f"reply dropped: {reason}"))
    return _error(message_id or UNREADABLE_MESSAGE_ID, "FormatViolation", reason)


def _parse_call(message_id: str, data: list[Any], length: int) -> Result[Frame, FrameError]:
    if len(data) != 4 or not isinstance(data[2], str):
        return _error(message_id, "RpcFrameworkError", "a CALL has 4 elements: [2, id, action, payload]")
    if not isinstance(data[3], dict):
        return _error(message_id, "FormatViolation", "the payload of a CALL must be a JSON object")
    return Success(Call(message_id, data[2], data[3], length))


def _parse_call_result(message_id: str, data: list[Any]) -> Result[Frame, FrameError]:
    if len(data) != 3 or not isinstance(data[2], dict):
        return Failure(FrameError(None, "malformed CALLRESULT dropped"))
    return Success(CallResult(message_id, data[2]))


def _parse_call_error(message_id: str, data: list[Any]) -> Result[Frame, FrameError]:
    if len(data) != 5 or not isinstance(data[2], str) or not isinstance(data[3], str):
        return Failure(FrameError(None, "malformed CALLERROR dropped"))
    details = data[4] if isinstance(data[4], dict) else None
    return Success(CallError(message_id, data[2], data[3], details))


GROWTH_BY_ENCODING = 12
"""How many times longer than the text it was read from a parsed frame's compact ASCII encoding can be: an astral
character (one code point, four UTF-8 bytes) becomes a 12-character surrogate-pair escape; a number grows less
(the 4 characters of 1e15 become the 18 of 1000000000000000.0); whitespace, duplicate keys and escapes of
ASCII characters only shrink."""


def encoded_length_at_most(call: Call) -> int | None:
    """An upper bound of `len(encode_frame(call))` for a received CALL, without encoding it; None when unknown."""
    return call.received_length * GROWTH_BY_ENCODING if call.received_length else None


def encode_frame(frame: Frame) -> str:
    """Serialise a frame as compact JSON text."""
    body: list[Any]
    if isinstance(frame, Call):
        body = [CALL, frame.message_id, frame.action, frame.payload]
    elif isinstance(frame, CallResult):
        body = [CALLRESULT, frame.message_id, frame.payload]
    else:
        description = frame.description[:MAX_ERROR_DESCRIPTION_LENGTH]
        body = [CALLERROR, frame.message_id, frame.code, description, frame.details or {}]
    return compact_json(body)
