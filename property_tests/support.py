"""What both property suites share: the station under test, a test double of the shell that records a run so
that it can be replayed, and an OCPP-J oracle written from Part 4 and the official JSON schemas.

The oracle re-derives its facts (error codes, schema validity) instead of importing the core's tables, so a
wrong table in the core cannot make its own test pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, TypeAlias

import jsonschema_rs

from chargecore.pure.boot import boot_station
from chargecore.pure.effects import Effects, InternalError, PerformReset, Persist, SendFrame
from chargecore.pure.inputs import Input, PowerUp
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import _INPUTS, settle_after, step
from chargecore.testing.part4 import ERROR_CODES

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVSE_CONNECTORS = (1, 2)
IDENTITY = StationIdentity("CS-PROPERTY", "ws://csms.invalid/ocpp", EVSE_CONNECTORS)
CONNECTORS = tuple(
    (evse_index + 1, connector_index + 1)
    for evse_index, count in enumerate(EVSE_CONNECTORS)
    for connector_index in range(count)
)
MESSAGE_TIMEOUT = timedelta(seconds=30)
"""OCPPCommCtrlr.MessageTimeout[Default] of the station under test: the catalogue default, never changed."""

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_MESSAGE_ID_LENGTH = 36
MAX_ERROR_DESCRIPTION_LENGTH = 255
PART4_ERROR_CODES = frozenset(ERROR_CODES)
"""Part 4 section 4.3, table 8: the only codes a CALLERROR may carry."""


def _load_schemas() -> Mapping[str, jsonschema_rs.Validator]:
    folder = resources.files("ocpp.v201").joinpath("schemas")
    return {
        entry.name.removesuffix(".json"): jsonschema_rs.validator_for(json.loads(entry.read_text()))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    }


SCHEMAS = _load_schemas()


def schema_valid(action: str, direction: str, payload: Any) -> bool:
    """Whether `payload` is a valid `action` Request/Response by the official OCPP 2.0.1 schema."""
    validator = SCHEMAS.get(action + direction)
    try:
        return validator is not None and validator.is_valid(payload)
    except UnicodeEncodeError:  # an unpaired surrogate is not Unicode text, so no JSON-schema string
        return False


# --- frames the station sends ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SentFrame:
    """A frame the station sent, already checked to be well-formed OCPP-J."""

    type_id: int
    message_id: str
    action: str | None = None
    payload: Any = None
    code: str | None = None


def read_sent(text: str) -> SentFrame:
    """Parse a frame the station sent and fail unless it is well-formed OCPP-J (Part 4 4.2, 4.3): a CALL's
    payload must be valid for its Request schema, a CALLERROR's code must be in table 8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise AssertionError(f"a websocket text message must be valid UTF-8: {text!r}") from error
    data = json.loads(text)
    assert isinstance(data, list) and len(data) >= 2 and type(data[0]) is int, text
    type_id, message_id = data[0], data[1]
    assert isinstance(message_id, str) and 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH, text
    if type_id == CALL:
        assert len(data) == 4 and isinstance(data[2], str), text
        assert schema_valid(data[2], "Request", data[3]), f"invalid {data[2]}Request sent: {text}"
        return SentFrame(CALL, message_id, action=data[2], payload=data[3])
    if type_id == CALLRESULT:
        assert len(data) == 3 and isinstance(data[2], dict), text
        return SentFrame(CALLRESULT, message_id, payload=data[2])
    assert type_id == CALLERROR and len(data) == 5, text
    code, description, details = data[2:]
    assert code in PART4_ERROR_CODES, f"error code {code!r} is not in Part 4 table 8"
    assert isinstance(description, str) and len(description) <= MAX_ERROR_DESCRIPTION_LENGTH, text
    assert isinstance(details, dict), text
    return SentFrame(CALLERROR, message_id, code=code)


def sent_frames(effects: Effects) -> list[SentFrame]:
    return [read_sent(effect.text) for effect in effects if isinstance(effect, SendFrame)]


def inbound_view(text: str) -> tuple[list[Any] | None, str | None]:
    """An inbound frame as a JSON array (None if it is not one), and its message id if readable (Part 4 4.2:
    a non-empty string of at most 36 characters); a CALLERROR about an unreadable id carries "-1" (4.2.3)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(data, list) or not data:
        return None, None
    message_id = data[1] if len(data) > 1 and isinstance(data[1], str) else None
    readable = message_id is not None and 0 < len(message_id) <= MAX_MESSAGE_ID_LENGTH
    return data, message_id if readable else None


def is_reply(frame: list[Any] | None) -> bool:
    """Whether an inbound array is a CALLRESULT or CALLERROR by its type id, which is never answered."""
    return frame is not None and type(frame[0]) is int and frame[0] in (CALLRESULT, CALLERROR)


# --- what a well-behaved CSMS answers to the station's CALLs -------------------------------------------------


def csms_time(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def boot_response(now: datetime, status: str, interval: int = 60) -> dict[str, Any]:
    return {"currentTime": csms_time(now), "interval": interval, "status": status}


_RESPONSES: Mapping[str, Callable[[datetime], dict[str, Any]]] = {
    "BootNotification": lambda now: boot_response(now, "Accepted"),
    "Heartbeat": lambda now: {"currentTime": csms_time(now)},
    "StatusNotification": lambda now: {},
    "DataTransfer": lambda now: {"status": "Accepted"},
    "NotifyReport": lambda now: {},
    "MeterValues": lambda now: {},
    "Authorize": lambda now: {"idTokenInfo": {"status": "Accepted"}},
    "TransactionEvent": lambda now: {},
    "SecurityEventNotification": lambda now: {},
}


def response_to(action: str, now: datetime) -> dict[str, Any]:
    """A valid response to a CALL the station sent (a KeyError means the station sent a new kind of CALL)."""
    return _RESPONSES[action](now)


# --- the test double of the shell ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Reboot:
    """The shell's reaction to `PerformReset` of the whole station: rebuild the state from storage, PowerUp."""

    now: datetime
    nonce: str


Event: TypeAlias = Input | Reboot


def fresh_station(stored: Mapping[str, Any]) -> Station:
    """The state the shell builds at start from what earlier runs stored (device-model values are strings)."""
    return boot_station(IDENTITY, None, stored).unwrap()


class Harness:
    """Feeds events to `step` like the shell: executes `Persist` into its storage (up to a station reset, after
    which the shell executes nothing more) and records every event and its effects for replay."""

    def __init__(self) -> None:
        self.storage: dict[str, Any] = {}
        self.station = fresh_station(self.storage)
        self.events: list[Event] = []
        self.outputs: list[Effects] = []

    def run(self, event: Event) -> Effects:
        if isinstance(event, Reboot):
            self.station = fresh_station(self.storage)
            given: Input = PowerUp(event.now, event.nonce)
        else:
            given = event
        expected = settling_always(self.station, given)
        self.station, effects = step(self.station, given)
        assert (self.station, effects) == expected, f"{event}: skipping the settling changed the step"
        internal = [effect for effect in effects if isinstance(effect, InternalError)]
        assert not internal, f"{event} caused {internal}"
        for effect in effects:
            if isinstance(effect, PerformReset) and effect.evse_id is None:
                break
            if isinstance(effect, Persist):
                for key, value in effect.entries:
                    if value is None:
                        self.storage.pop(key, None)
                    else:
                        self.storage[key] = value
        self.events.append(event)
        self.outputs.append(effects)
        return effects


def settling_always(station: Station, event: Input) -> tuple[Station, Effects]:
    """`step` without its shortcut (`Settled`): the blocks settle after every input, whatever the memo says."""
    handled, effects = _INPUTS[type(event)](station, event)
    return settle_after(handled, station.device_model, event.now, effects)


def replay(events: list[Event]) -> Harness:
    """Run recorded events again from a fresh, empty storage."""
    harness = Harness()
    for event in events:
        harness.run(event)
    return harness
