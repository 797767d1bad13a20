"""The kit's strategies keep their promises: every payload is schema-valid, every near-valid payload breaks its
schema in exactly one place with the labelled code, and the realistic values have their real-world forms.

The checks use a validator compiled here from the raw schemas (not the core's `validate`, which stops at the
first error), so "exactly one error" is counted, not assumed. Examples per action and direction: 40 in CI,
`CHARGECORE_KIT_EXAMPLES=2000` for a nightly run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.ocppj.schemas import SCHEMA_NAMES, error_code, error_keyword, schema_text
from chargecore.pure.station import CSMS_CALLS
from chargecore.testing.part4 import ERROR_CODES
from chargecore.testing.shape import StationShape
from chargecore.testing.strategies import (
    ACTIONS,
    DIRECTIONS,
    SENT_BY_CSMS,
    SENT_BY_STATION,
    NearValid,
    call_errors,
    call_results,
    calls,
    id_tokens,
    near_valid,
    near_valid_calls,
    payloads,
    timestamps,
    transaction_events,
)
from chargecore.tools.csms import STATION_ACTIONS

EXAMPLES = int(os.environ.get("CHARGECORE_KIT_EXAMPLES", "40"))
PER_MESSAGE = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
VALIDATORS: Mapping[str, Any] = {
    name: jsonschema_rs.validator_for(json.loads(schema_text(name))) for name in SCHEMA_NAMES
}
MESSAGES = [
    pytest.param(action, direction, id=f"{action}-{direction}") for action in ACTIONS for direction in DIRECTIONS
]
RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3}|\.\d{6})?Z")
PART4_CODE_OF_KEYWORD = {
    "type": "TypeConstraintViolation",
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "additionalProperties": "FormatViolation",
    "enum": "PropertyConstraintViolation",
    "maxLength": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
}
"""Part 4 table 8 read for each schema keyword, written out here so that a wrong shared table fails this test:
a wrong JSON type breaks a data type constraint, a missing field or a wrong count an occurrence constraint, a
value out of its range or list an invalid value; a property the message does not have makes the payload not of
the message's syntax (FormatViolation, as the station core answers; Part 4 and its errata say no more)."""


def errors(action: str, direction: str, payload: Any) -> list[Any]:
    return list(VALIDATORS[action + direction.capitalize()].iter_errors(payload))


def test_the_kit_knows_every_action_of_ocpp_201() -> None:
    assert len(ACTIONS) == 64 and len(set(ACTIONS)) == 64
    assert {"BootNotification", "TransactionEvent", "SetChargingProfile", "Get15118EVCertificate"} <= set(ACTIONS)


@pytest.mark.parametrize(("action", "direction"), MESSAGES)
def test_payloads_are_valid_for_their_schema(action: str, direction: str) -> None:
    @PER_MESSAGE
    @given(payloads(action, direction))
    def check(payload: dict[str, Any]) -> None:
        assert errors(action, direction, payload) == [], payload
        json.dumps(payload, allow_nan=False)

    check()


@pytest.mark.parametrize(("action", "direction"), MESSAGES)
def test_near_valid_breaks_exactly_one_rule_with_its_part4_code(action: str, direction: str) -> None:
    @PER_MESSAGE
    @given(near_valid(action, direction))
    def check(broken: NearValid) -> None:
        found = errors(action, direction, broken.payload)
        assert len(found) == 1, (broken, [error.message for error in found])
        keyword = error_keyword(found[0])
        assert broken.where.endswith(f"({keyword})"), (broken, keyword)
        assert broken.error_code == PART4_CODE_OF_KEYWORD[keyword] == error_code(keyword), broken

    check()


def test_near_valid_covers_every_kind_of_violation() -> None:
    """Across a rich message, each of the four Part 4 schema codes turns up."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(near_valid("TransactionEvent", "request"))
    def collect(broken: NearValid) -> None:
        seen.add(broken.error_code)

    collect()
    assert seen == {
        "FormatViolation",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "TypeConstraintViolation",
    }


def test_an_empty_schema_still_has_near_valid_payloads() -> None:
    """HeartbeatRequest has no field at all: the only way to break it is a field it does not know."""

    @settings(max_examples=10, deadline=None, database=None)
    @given(near_valid("Heartbeat", "request"))
    def check(broken: NearValid) -> None:
        assert broken.error_code == "FormatViolation" and list(broken.payload) == ["unexpectedField"]

    check()


@settings(max_examples=100, deadline=None, database=None)
@given(call=near_valid_calls())
def test_near_valid_calls_carry_their_id_action_and_code(call: Any) -> None:
    type_id, message_id, action, payload = json.loads(call.text)
    assert (type_id, message_id, action) == (2, call.message_id, call.action)
    assert len(errors(action, "request", payload)) == 1


@settings(max_examples=200, deadline=None, database=None)
@given(text=calls())
def test_calls_are_whole_valid_call_frames(text: str) -> None:
    type_id, message_id, action, payload = json.loads(text)
    assert type_id == 2 and isinstance(message_id, str) and 0 < len(message_id) <= 36
    assert errors(action, "request", payload) == []


@settings(max_examples=100, deadline=None, database=None)
@given(text=call_results("BootNotification", message_id="m-1"), error=call_errors())
def test_results_and_errors_are_whole_frames(text: str, error: str) -> None:
    type_id, message_id, payload = json.loads(text)
    assert (type_id, message_id) == (3, "m-1") and errors("BootNotification", "response", payload) == []
    type_id, message_id, code, description, details = json.loads(error)
    assert type_id == 4 and code in ERROR_CODES and len(description) <= 255 and isinstance(details, dict)


@settings(max_examples=100, deadline=None, database=None)
@given(moment=timestamps())
def test_timestamps_are_rfc3339_utc(moment: str) -> None:
    assert RFC3339_UTC.fullmatch(moment), moment
    datetime.fromisoformat(moment)


ID_TOKEN_FORMS = {
    "ISO14443": r"([0-9A-F]{8}|[0-9A-F]{14})",
    "ISO15693": r"[0-9A-F]{16}",
    "eMAID": r"[A-Z]{2}\*[A-Z0-9]{3}\*C[A-Z0-9]{8}\*[A-Z0-9]|[A-Z]{2}[A-Z0-9]{3}C[A-Z0-9]{8}",
    "KeyCode": r"[0-9]{4,8}",
    "MacAddress": r"([0-9A-F]{2}:){5}[0-9A-F]{2}",
    "Central": r"[0-9a-f-]{36}",
    "Local": r"[A-Za-z0-9]{1,20}",
    "NoAuthorization": r"",
}


@settings(max_examples=200, deadline=None, database=None)
@given(token=id_tokens())
def test_id_tokens_have_the_form_of_their_type(token: dict[str, str]) -> None:
    assert re.fullmatch(ID_TOKEN_FORMS[token["type"]], token["idToken"]), token


@settings(max_examples=200, deadline=None, database=None)
@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=4).map(lambda counts: StationShape(tuple(counts))),
    data=st.data(),
)
def test_evse_and_connector_ids_exist_on_the_station(shape: StationShape, data: st.DataObject) -> None:
    status = data.draw(payloads("StatusNotification", "request", shape))
    assert (status["evseId"], status["connectorId"]) in shape.connectors
    availability = data.draw(payloads("ChangeAvailability", "request", shape))
    if "evse" in availability:
        evse = availability["evse"]
        assert evse["id"] in shape.evse_ids
        assert "connectorId" not in evse or (evse["id"], evse["connectorId"]) in shape.connectors


def test_a_station_shape_needs_connectors() -> None:
    with pytest.raises(ValueError):
        StationShape(evses=())
    with pytest.raises(ValueError):
        StationShape(evses=(1, 0))


@settings(max_examples=100, deadline=None, database=None)
@given(events=transaction_events(StationShape(evses=(1, 2)), max_updates=4))
def test_transaction_events_tell_one_consistent_transaction(events: list[dict[str, Any]]) -> None:
    assert [event["eventType"] for event in events] == ["Started", *["Updated"] * (len(events) - 2), "Ended"]
    assert [event["seqNo"] for event in events] == list(range(len(events)))
    assert len({event["transactionInfo"]["transactionId"] for event in events}) == 1
    moments = [datetime.fromisoformat(event["timestamp"]) for event in events]
    assert moments == sorted(moments) and len(set(moments)) == len(moments)
    assert len({(event["evse"]["id"], event["evse"].get("connectorId")) for event in events if "evse" in event}) == 1
    assert (events[0]["evse"]["id"], events[0]["evse"]["connectorId"]) in StationShape(evses=(1, 2)).connectors
    assert all("stoppedReason" not in event["transactionInfo"] for event in events[:-1])
    for event in events:
        assert errors("TransactionEvent", "request", event) == []


def test_unknown_actions_and_directions_are_refused_early() -> None:
    with pytest.raises(ValueError):
        payloads("FooBar", "request")
    with pytest.raises(ValueError):
        payloads("Heartbeat", "Request")


def test_the_senders_of_actions_agree_with_the_station_and_the_local_csms() -> None:
    """Part 2's split of requests by sender, as the kit holds it, is what the station core handles and what
    chargecore's local CSMS answers; DataTransfer alone goes both ways."""
    assert set(ACTIONS) == SENT_BY_STATION | SENT_BY_CSMS
    assert {"DataTransfer"} == SENT_BY_STATION & SENT_BY_CSMS
    assert set(CSMS_CALLS) == SENT_BY_CSMS
    assert STATION_ACTIONS == SENT_BY_STATION
