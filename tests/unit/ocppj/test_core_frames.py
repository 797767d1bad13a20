"""Inbound frames the core refuses before reading them as OCPP (Part 4 4.2.3): an empty message, a message larger
than the shell reads, and the NaN/Infinity that Python's json would otherwise accept. Each refusal leaves the
station as it was; its neighbour, the same frame made valid, is handled."""

from __future__ import annotations

import json

import pytest
from core_helpers import booted, frames, of_type, warnings

from chargecore.pure.effects import Ask, DataTransferQuestion
from chargecore.pure.inputs import FrameReceived, OversizedFrameReceived
from chargecore.pure.ocppj.frames import Call, encode_frame, encoded_length_at_most, parse_frame

DATA_TRANSFER = '[2,"dt-1","DataTransfer",{"vendorId":"com.example","data":{"reading":%s}}]'


def test_an_empty_frame_is_a_bad_frame_answered_with_id_minus_1() -> None:
    sim = booted()
    before = sim.station
    effects = sim.feed(FrameReceived(sim.now, ""))
    assert frames(effects) == [[4, "-1", "RpcFrameworkError", "empty frame", {}]]
    assert sim.station == before


def test_a_frame_over_the_limit_is_refused_unread_with_format_violation() -> None:
    sim = booted()
    before = sim.station
    effects = sim.feed(OversizedFrameReceived(sim.now, 600_000, 524_288))
    ((kind, message_id, code, description, details),) = frames(effects)
    assert (kind, message_id, code, details) == (4, "-1", "FormatViolation", {})
    assert "600000" in description and "524288" in description
    assert sim.station == before


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_a_call_are_a_format_violation(constant: str) -> None:
    sim = booted()
    before = sim.station
    effects = sim.feed(FrameReceived(sim.now, DATA_TRANSFER % constant))
    ((kind, message_id, code, description, _),) = frames(effects)
    assert (kind, message_id, code) == (4, "dt-1", "FormatViolation")
    assert constant in description
    assert sim.station == before


@pytest.mark.parametrize(("number", "reading"), [("1.5", 1.5), ("-1e308", -1e308), ('"NaN"', "NaN")])
def test_a_finite_number_or_the_string_nan_goes_to_the_application(number: str, reading: object) -> None:
    sim = booted()
    (ask,) = of_type(sim.feed(FrameReceived(sim.now, DATA_TRANSFER % number)), Ask)
    assert ask.question == DataTransferQuestion("com.example", None, {"reading": reading})


def test_a_reply_holding_nan_is_dropped_and_its_call_stays_outstanding() -> None:
    sim = booted()
    (call,) = [frame for frame in frames(sim.send_data_transfer("com.example", "m")) if frame[0] == 2]
    reply = json.dumps([3, call[1], {"status": "Accepted", "data": 0.0}]).replace("0.0", "NaN")
    effects = sim.feed(FrameReceived(sim.now, reply))
    assert not frames(effects), "a reply is never answered"
    assert any("NaN" in message for message in warnings(effects))
    assert sim.station.rpc.in_flight is not None and sim.station.rpc.in_flight.message_id == call[1]


@pytest.mark.parametrize(
    ("text", "message_id"),
    [('[2,"m1","Heartbeat",{},NaN]', "m1"), ('[2,NaN,"Heartbeat",{}]', "-1"), ("NaN", "-1")],
)
def test_nan_anywhere_in_a_frame_is_refused(text: str, message_id: str) -> None:
    problem = parse_frame(text).failure()
    assert problem.reply is not None
    assert (problem.reply.message_id, problem.reply.code) == (message_id, "FormatViolation")


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param('{"data":"\U0001f600\U0001f600"}', id="astral-characters-raw"),
        pytest.param('{"data":[1e15,9e15,1e5,1E-7]}', id="short-numbers-with-long-reprs"),
        pytest.param('{"data":"\u00e9\u00e9"}', id="non-ascii-raw"),
    ],
)
def test_the_encoded_length_bound_covers_the_worst_growth(payload: str) -> None:
    """What grows most when a received CALL is encoded again (compact, ASCII only) stays within the bound that
    lets BytesPerMessage checks (B06.FR.17) skip the encoding."""
    raw = payload.encode().decode("unicode_escape")
    text = f'[2,"id","DataTransfer",{raw}]'
    call = parse_frame(text).unwrap()
    assert isinstance(call, Call)
    bound = encoded_length_at_most(call)
    assert bound is not None and len(text) < len(encode_frame(call)) <= bound


def test_a_call_the_station_built_has_no_bound() -> None:
    assert encoded_length_at_most(Call("id", "DataTransfer", {"vendorId": "x"})) is None
