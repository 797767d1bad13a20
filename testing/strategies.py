"""Hypothesis strategies for every OCPP 2.0.1 message, generated from the official JSON schemas.

Why our own schema-driven generator rather than `hypothesis-jsonschema`: the 128 OCPP schemas use a small,
regular subset of draft-06 (type, $ref to local definitions, properties/required/additionalProperties false,
enum, maxLength, items/minItems/maxItems, minimum/maximum, format date-time), so a walker over that subset is
short, and it lets the generator know *what* a field is: `hypothesis-jsonschema` must treat every string as an
arbitrary string (an idToken of 36 random code points, a `date-time` from its own regex, an evseId of 2**31),
needs its jsonschema dependency and a canonicalisation pass per schema, and is 10 to 70 times slower per
example (tests/benchmarks/bench_strategies.py prints both side by side); its 0.23.1 also fails under hypothesis
6.13x and later, which removed an internal it uses. Here loose fields get realistic values: timestamps in
RFC 3339 UTC, idTokens of each type in their real formats, EVSE and connector ids inside a `StationShape`,
transaction ids as UUIDs, vendor ids as reverse DNS names.

The schemas come from chargecore.pure.ocppj.schemas (the station core's loader), and a near-valid payload's
error code from its keyword through the core's one table (`error_code`), so the kit and the station agree.
"""

from __future__ import annotations

import copy
import json
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal

from hypothesis import strategies as st

from chargecore.pure.device_model.catalogue import CATALOGUE
from chargecore.pure.ocppj.schemas import ACTIONS as _ACTION_SET
from chargecore.pure.ocppj.schemas import SCHEMA_NAMES, error_code, schema_text
from chargecore.testing.part4 import ERROR_CODES
from chargecore.testing.shape import StationShape

Direction = Literal["request", "response"]
Json = Any
"""A JSON value as the json module reads it."""

ACTIONS: tuple[str, ...] = tuple(sorted(_ACTION_SET))
"""The 64 OCPP 2.0.1 actions."""

DIRECTIONS: tuple[Direction, ...] = ("request", "response")

Sender = Literal["station", "csms"]
SENT_BY_STATION: frozenset[str] = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)
"""The requests a Charging Station sends to the CSMS (Part 2); a receiver may refuse the others NotSupported."""
SENT_BY_CSMS: frozenset[str] = frozenset(ACTIONS) - SENT_BY_STATION | {"DataTransfer"}
"""The requests a CSMS sends to a station; DataTransfer goes both ways."""

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_MESSAGE_ID_LENGTH = 36


ID_TOKEN_TYPES: tuple[str, ...] = (
    "Central",
    "eMAID",
    "ISO14443",
    "ISO15693",
    "KeyCode",
    "Local",
    "MacAddress",
    "NoAuthorization",
)

_EPOCH = datetime(2024, 1, 1)
_HORIZON = datetime(2035, 12, 31)
_ARRAY_CAP = 3
"""Arrays get at most this many items unless the schema asks for more: realistic sizes, fast examples."""
_TEXT_CAP = 24
_INT32_MAX = 2**31 - 1
_PLAIN = string.ascii_letters + string.digits
_UPPER_ALNUM = string.ascii_uppercase + string.digits


def _compact(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"))


@cache
def _schema(action: str, direction: Direction) -> Mapping[str, Any]:
    if direction not in DIRECTIONS:
        raise ValueError(f"direction is 'request' or 'response', not {direction!r}")
    name = action + direction.capitalize()
    if name not in SCHEMA_NAMES:
        raise ValueError(f"{action!r} is not an OCPP 2.0.1 action")
    schema: Mapping[str, Any] = json.loads(schema_text(name))
    return schema


# --- realistic values ------------------------------------------------------------------------------------------


def _rfc3339(moment: datetime, digits: int) -> str:
    whole = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{moment.strftime('%f')[:digits]}Z" if digits else f"{whole}Z"


def timestamps(min_value: datetime = _EPOCH, max_value: datetime = _HORIZON) -> st.SearchStrategy[str]:
    """RFC 3339 UTC timestamps (`2026-12-04T13:37:00Z`), with no fraction, milliseconds or microseconds."""
    return st.builds(
        _rfc3339,
        st.datetimes(min_value.replace(tzinfo=None), max_value.replace(tzinfo=None)),
        st.sampled_from([0, 3, 6]),
    )


def _hex(size: int) -> st.SearchStrategy[str]:
    return st.binary(min_size=size, max_size=size).map(lambda raw: raw.hex().upper())


def _chars(alphabet: str, low: int, high: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=low, max_size=high)


def _emaid(country: str, provider: str, instance: str, check: str, separated: bool) -> str:
    """ISO 15118 / DIN SPEC 91286 eMAID: `DE*ABC*C12345678*9`, or `DEABCC12345678` without separators."""
    return f"{country}*{provider}*C{instance}*{check}" if separated else f"{country}{provider}C{instance}"


_ID_TOKEN_VALUES: Mapping[str, st.SearchStrategy[str]] = {
    "ISO14443": _hex(4) | _hex(7),  # 4- or 7-byte UID
    "ISO15693": _hex(8),
    "eMAID": st.builds(
        _emaid,
        st.sampled_from(["DE", "NL", "FR", "BE", "AT", "GB", "SE", "CH"]),
        _chars(_UPPER_ALNUM, 3, 3),
        _chars(_UPPER_ALNUM, 8, 8),
        _chars(_UPPER_ALNUM, 1, 1),
        st.booleans(),
    ),
    "KeyCode": _chars(string.digits, 4, 8),
    "MacAddress": st.binary(min_size=6, max_size=6).map(lambda raw: ":".join(f"{byte:02X}" for byte in raw)),
    "Central": st.uuids().map(str),
    "Local": _chars(_PLAIN, 1, 20),
    "NoAuthorization": st.just(""),
}


def id_tokens(kind: str | None = None) -> st.SearchStrategy[dict[str, str]]:
    """IdTokenType objects with a plausible idToken for their type (empty for NoAuthorization)."""
    kinds = st.sampled_from(ID_TOKEN_TYPES) if kind is None else st.just(kind)
    return kinds.flatmap(lambda chosen: _ID_TOKEN_VALUES[chosen].map(lambda value: {"idToken": value, "type": chosen}))


def message_ids() -> st.SearchStrategy[str]:
    """Valid OCPP-J message ids: UUIDs as most implementations send, or short counters and names."""
    return st.uuids().map(str) | _chars(_PLAIN + "-", 1, MAX_MESSAGE_ID_LENGTH)


_TEXT_BY_NAME: Mapping[str, st.SearchStrategy[str]] = {
    "transactionId": st.uuids().map(str),
    "vendorId": st.sampled_from(["org.openchargealliance", "com.example.charger", "io.chargecore", "de.ladesaeule"]),
    "chargePointVendor": st.sampled_from(["ChargeCore", "Alfen", "ABB", "Wallbox", "Kempower"]),
    "vendorName": st.sampled_from(["ChargeCore", "Alfen", "ABB", "Wallbox", "Kempower"]),
    "model": st.sampled_from(["CC-22", "Eve Single", "Terra AC", "Pulsar Plus", "S-Series"]),
    "serialNumber": _chars(_UPPER_ALNUM, 6, 16),
    "firmwareVersion": st.builds("{}.{}.{}".format, *(st.integers(0, 20) for _ in range(3))),
    "currency": st.sampled_from(["EUR", "USD", "GBP", "SEK", "CHF"]),
    "language": st.sampled_from(["en", "de", "nl", "fr", "sv"]),
    "location": st.builds("https://files.example.com/{}.bin".format, _chars(_PLAIN, 1, 12)),
    "remoteLocation": st.builds("ftp://logs.example.com/{}".format, _chars(_PLAIN, 1, 12)),
    "ocppCsmsUrl": st.builds("wss://csms.example.com/ocpp/{}".format, _chars(_PLAIN, 1, 12)),
    "issuerNameHash": _hex(32),
    "issuerKeyHash": _hex(32),
}
"""Loose string fields whose real-world values have a known form (the schema only bounds their length)."""

_DEVICE_MODEL_NAMES: tuple[tuple[str, str], ...] = tuple(
    (component["name"], variable["name"])
    for component in CATALOGUE["components"]
    for variable in component["variables"]
)
"""(component, variable) names of the OCPP device model (Part 2 appendix 3, as chargecore's catalogue holds them):
most generated component/variable pairs name a real variable, the rest random ones (an unknown-variable path)."""


_FREE_JSON: st.SearchStrategy[Json] = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | _chars(_PLAIN + " ", 0, 20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_chars(_PLAIN, 1, 12), inner, max_size=3),
    max_leaves=8,
)
"""Free-form JSON as vendors send it in DataTransfer."""


# --- the schema walker ------------------------------------------------------------------------------------------


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    """A node with its `$ref` followed, and the name of the definition it came from."""
    name = None
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = root["definitions"][name]
    return name, node


class _Generator:
    """Builds the strategy of one schema for one station shape."""

    def __init__(self, root: Mapping[str, Any], shape: StationShape) -> None:
        self.root = root
        self.shape = shape
        self.evse_ids = st.sampled_from(shape.evse_ids)
        self.connector_ids = st.integers(1, max(shape.evses))

    def value(self, node: Mapping[str, Any], name: str | None = None) -> st.SearchStrategy[Json]:
        definition, node = _resolve(self.root, node)
        if definition == "IdTokenType":
            return id_tokens()
        if "enum" in node:
            return st.sampled_from(node["enum"])
        kind = node.get("type")
        if kind == "object":
            return self.object(node)
        if kind == "array":
            low = node.get("minItems", 0)
            high = min(node.get("maxItems", _ARRAY_CAP), max(low, _ARRAY_CAP))
            return st.lists(self.value(node["items"], name), min_size=low, max_size=high)
        if kind == "string":
            return self.text(node, name)
        if kind == "integer":
            return self.integer(node, name)
        if kind == "number":
            low, high = node.get("minimum", 0), node.get("maximum", 100_000)
            return st.integers(int(low * 10), int(high * 10)).map(lambda tenths: tenths / 10)
        if kind == "boolean":
            return st.booleans()
        if kind is None:  # DataTransfer's `data`: any JSON the two parties agree on
            return _FREE_JSON
        raise ValueError(f"schema node of unknown type: {node}")

    def text(self, node: Mapping[str, Any], name: str | None) -> st.SearchStrategy[str]:
        if node.get("format") == "date-time":
            return timestamps()
        limit = node.get("maxLength", 1000)
        known = _TEXT_BY_NAME.get(name or "")
        if known is not None:
            return known.map(lambda value: value[:limit])
        # short words mostly; now and then exactly maxLength characters, the edge a receiver must still take
        return _chars(_PLAIN + " -_.", 0, min(limit, _TEXT_CAP)) | st.sampled_from("AZ09").map(lambda c: c * limit)

    def integer(self, node: Mapping[str, Any], name: str | None) -> st.SearchStrategy[int]:
        if name == "evseId":
            return self.evse_ids
        if name == "connectorId":
            return self.connector_ids
        low = int(node.get("minimum", 0))
        return st.integers(low, int(node.get("maximum", _INT32_MAX)))

    def object(self, node: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Json]]:
        properties = {
            key: self.value(child, key) for key, child in node.get("properties", {}).items() if key != "customData"
        }
        required = set(node.get("required", ()))
        fields = st.fixed_dictionaries(
            {key: value for key, value in properties.items() if key in required},
            optional={key: value for key, value in properties.items() if key not in required},
        )
        if "component" in properties and "variable" in properties:
            fields = st.tuples(fields, st.sampled_from(_DEVICE_MODEL_NAMES) | st.none()).map(
                lambda drawn: _name_variable(*drawn)
            )
        if "connectorId" not in properties:
            return fields
        evse_key = "evseId" if "evseId" in properties else "id"
        return st.tuples(fields, st.sampled_from(self.shape.connectors)).map(
            lambda drawn: _place_connector(drawn[0], evse_key, *drawn[1])
        )


def _name_variable(fields: dict[str, Json], names: tuple[str, str] | None) -> dict[str, Json]:
    """A component and variable named as in the device model (the variable is optional in ComponentVariableType)."""
    if names is not None:
        fields["component"]["name"] = names[0]
        if "variable" in fields:
            fields["variable"]["name"] = names[1]
    return fields


def _place_connector(fields: dict[str, Json], evse_key: str, evse: int, connector: int) -> dict[str, Json]:
    """An EVSE id and a connector id that exist together on the station (EVSEType, StatusNotification)."""
    if evse_key in fields:
        fields[evse_key] = evse
    if "connectorId" in fields:
        fields["connectorId"] = connector
    return fields


@cache
def _payloads(action: str, direction: Direction, shape: StationShape) -> st.SearchStrategy[dict[str, Json]]:
    root = _schema(action, direction)
    return _Generator(root, shape).object(root)


def payloads(
    action: str, direction: Direction, shape: StationShape | None = None
) -> st.SearchStrategy[dict[str, Json]]:
    """Schema-valid payloads of `action`'s request or response, with realistic values (customData left out)."""
    return _payloads(action, direction, shape or StationShape.default())


def _actions(action: str | None, sent_by: Sender | None = None) -> st.SearchStrategy[str]:
    if action is not None:
        return st.just(action)
    if sent_by is None:
        return st.sampled_from(ACTIONS)
    return st.sampled_from(sorted(SENT_BY_STATION if sent_by == "station" else SENT_BY_CSMS))


# Frame strategies are composites, so that a failing example prints as the frame text or dataclass it is,
# not as the source of the lambdas that built it.


@st.composite
def _call(draw: st.DrawFn, action: str | None, shape: StationShape | None, sent_by: Sender | None) -> str:
    chosen = draw(_actions(action, sent_by))
    return _compact([CALL, draw(message_ids()), chosen, draw(payloads(chosen, "request", shape))])


def calls(
    action: str | None = None, shape: StationShape | None = None, *, sent_by: Sender | None = None
) -> st.SearchStrategy[str]:
    """Whole CALL frame texts `[2,"id","Action",{...}]` of `action` (when None: any action, or any that
    `sent_by` sends)."""
    return _call(action, shape, sent_by)


@st.composite
def _call_result(draw: st.DrawFn, action: str | None, shape: StationShape | None, message_id: str | None) -> str:
    chosen = draw(_actions(action))
    reply_id = draw(message_ids()) if message_id is None else message_id
    return _compact([CALLRESULT, reply_id, draw(payloads(chosen, "response", shape))])


def call_results(
    action: str | None = None, shape: StationShape | None = None, message_id: str | None = None
) -> st.SearchStrategy[str]:
    """Whole CALLRESULT frame texts `[3,"id",{...}]` with a valid response of `action` (any when None)."""
    return _call_result(action, shape, message_id)


_ERROR_DETAILS: st.SearchStrategy[dict[str, str]] = st.just({}) | st.fixed_dictionaries(
    {"cause": _chars(_PLAIN + " ", 0, 40)}
)


@st.composite
def _call_error(draw: st.DrawFn, message_id: str | None) -> str:
    reply_id = draw(message_ids()) if message_id is None else message_id
    code, description = draw(st.sampled_from(ERROR_CODES)), draw(_chars(_PLAIN + " .", 0, 255))
    return _compact([CALLERROR, reply_id, code, description, draw(_ERROR_DETAILS)])


def call_errors(message_id: str | None = None) -> st.SearchStrategy[str]:
    """Whole CALLERROR frame texts `[4,"id","Code","description",{details}]` with a Part 4 code."""
    return _call_error(message_id)


# --- transactions -----------------------------------------------------------------------------------------------


@st.composite
def _transaction_events(draw: st.DrawFn, shape: StationShape | None, max_updates: int) -> list[dict[str, Json]]:
    station = shape or StationShape.default()
    base = payloads("TransactionEvent", "request", station)
    transaction_id = draw(st.uuids().map(str))
    evse, connector = draw(st.sampled_from(station.connectors))
    started = draw(st.datetimes(_EPOCH, _HORIZON - timedelta(days=2)))
    updates = draw(st.integers(0, max_updates))
    steps = draw(st.lists(st.integers(1, 3600), min_size=updates + 2, max_size=updates + 2))
    kinds = ["Started", *["Updated"] * updates, "Ended"]
    events = []
    moment = started
    for seq_no, kind in enumerate(kinds):
        event = draw(base)
        info = event["transactionInfo"]
        info["transactionId"] = transaction_id
        if kind != "Ended":
            info.pop("stoppedReason", None)
        event.update(eventType=kind, seqNo=seq_no, timestamp=_rfc3339(moment.replace(tzinfo=UTC), 0))
        if seq_no == 0 or "evse" in event:
            event["evse"] = {"id": evse, "connectorId": connector}
        events.append(event)
        moment += timedelta(seconds=steps[seq_no])
    return events


def transaction_events(
    shape: StationShape | None = None, max_updates: int = 5
) -> st.SearchStrategy[list[dict[str, Json]]]:
    """One transaction as TransactionEventRequests: Started, up to `max_updates` Updated, Ended; one
    transactionId, seqNo rising from 0, timestamps rising, one EVSE and connector of the station."""
    return _transaction_events(shape, max_updates)


# --- near-valid payloads -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NearValid:
    """A payload that breaks its schema in exactly one place; `error_code` is what the receiver must answer
    (Part 4 section 4.3) and `where` names the place and the rule broken."""

    payload: dict[str, Json]
    error_code: str
    where: str


@dataclass(frozen=True, slots=True)
class _Defect:
    keyword: str
    path: tuple[str | int, ...]
    """The place changed: the key set, added or (when `replacement` is None) removed."""
    replacement: st.SearchStrategy[Json] | None


_WRONG_TYPE: Mapping[str, st.SearchStrategy[Json]] = {
    "string": st.sampled_from([17, True, None, [], {}]),
    "integer": st.sampled_from(["5", 1.5, None, [1], {}]),
    "number": st.sampled_from(["3.5", None, True, [], {}]),
    "boolean": st.sampled_from(["true", 0, 1, None]),
    "object": st.sampled_from(["{}", 0, None, [], True]),
    "array": st.sampled_from(["[]", 0, None, {}]),
}
"""Values of another JSON type (a JSON number fits "number" whether integral or not, so none is offered)."""

_BAD_TIMESTAMPS = st.sampled_from(
    ["yesterday", "2026-12-04", "2026-13-04T13:37:00Z", "2026-12-04T25:00:00Z", "04/12/2026 13:37", "1765000000"]
)
"""Strings that no RFC 3339 date-time reader accepts."""

_UNKNOWN_PROPERTY = "unexpectedField"


def _defects(
    root: Mapping[str, Any], node: Mapping[str, Any], value: Json, path: tuple[str | int, ...]
) -> Iterator[_Defect]:
    """Every single change that makes `value` (valid for `node`) break exactly one rule of the schema."""
    _, node = _resolve(root, node)
    kind = str(node.get("type"))
    if path and "enum" not in node and kind in _WRONG_TYPE:  # enum rejects any other type too: two errors
        yield _Defect("type", path, _WRONG_TYPE[kind])
    if "enum" in node:
        members = set(node["enum"])
        wrong = [
            variant for member in node["enum"] for variant in (member.lower(), member.upper()) if variant not in members
        ]
        yield _Defect("enum", path, st.sampled_from([*wrong, "Unknown_Value"]))
    if kind == "string" and "maxLength" in node:
        yield _Defect("maxLength", path, st.integers(1, 20).map(lambda extra: "x" * (node["maxLength"] + extra)))
    if kind == "string" and node.get("format") == "date-time":
        yield _Defect("format", path, _BAD_TIMESTAMPS)
    if kind == "integer" and "minimum" in node:
        yield _Defect("minimum", path, st.integers(1, 100).map(lambda below: int(node["minimum"]) - below))
    if kind == "integer" and "maximum" in node:
        yield _Defect("maximum", path, st.integers(1, 100).map(lambda above: int(node["maximum"]) + above))
    if kind == "array":
        yield from _array_defects(root, node, value, path)
    if kind == "object":
        yield from _object_defects(root, node, value, path)


def _array_defects(
    root: Mapping[str, Any], node: Mapping[str, Any], value: list[Json], path: tuple[str | int, ...]
) -> Iterator[_Defect]:
    if node.get("minItems", 0) >= 1:
        yield _Defect("minItems", path, st.just([]))
    if "maxItems" in node and value and node["maxItems"] <= 64:
        yield _Defect("maxItems", path, st.just([copy.deepcopy(value[0]) for _ in range(node["maxItems"] + 1)]))
    for index, item in enumerate(value):
        yield from _defects(root, node["items"], item, (*path, index))


def _object_defects(
    root: Mapping[str, Any], node: Mapping[str, Any], value: dict[str, Json], path: tuple[str | int, ...]
) -> Iterator[_Defect]:
    for key in node.get("required", ()):
        yield _Defect("required", (*path, key), None)
    if node.get("additionalProperties") is False:
        yield _Defect("additionalProperties", (*path, _UNKNOWN_PROPERTY), st.sampled_from([1, "x", {"a": 1}]))
    for key, item in value.items():
        yield from _defects(root, node["properties"][key], item, (*path, key))


def _apply(payload: dict[str, Json], defect: _Defect, replacement: Json) -> dict[str, Json]:
    broken = copy.deepcopy(payload)
    *parents, last = defect.path
    holder: Any = broken
    for key in parents:
        holder = holder[key]
    if defect.replacement is None:
        del holder[last]
    else:
        holder[last] = replacement
    return broken


def describe_path(path: tuple[str | int, ...]) -> str:
    """A place in a payload as the station core's error descriptions name it: `evse/id`, or `payload`."""
    return "/".join(str(part) for part in path) or "payload"


@st.composite
def _near_valid(draw: st.DrawFn, action: str, direction: Direction, shape: StationShape | None) -> NearValid:
    root = _schema(action, direction)
    payload = draw(payloads(action, direction, shape))
    by_keyword: dict[str, list[_Defect]] = {}
    for found in _defects(root, root, payload, ()):
        by_keyword.setdefault(found.keyword, []).append(found)
    # the kind of violation first, then the place: otherwise the many required fields crowd out the rarer kinds
    defect = draw(st.sampled_from(by_keyword[draw(st.sampled_from(sorted(by_keyword)))]))
    replacement = None if defect.replacement is None else draw(defect.replacement)
    return NearValid(
        _apply(payload, defect, replacement),
        error_code(defect.keyword),
        f"{describe_path(defect.path)} ({defect.keyword})",
    )


def near_valid(action: str, direction: Direction, shape: StationShape | None = None) -> st.SearchStrategy[NearValid]:
    """Payloads of `action` that break its schema in exactly one place, labelled with the Part 4 code due:
    a value of the wrong JSON type -> TypeConstraintViolation; a required field missing or an array of too
    few or too many items -> OccurrenceConstraintViolation; a value outside enum / maxLength / minimum /
    maximum / date-time format -> PropertyConstraintViolation; a property the schema does not know ->
    FormatViolation (additionalProperties is false: the payload is not of the message's syntax)."""
    return _near_valid(action, direction, shape)


@dataclass(frozen=True, slots=True)
class NearValidCall:
    text: str
    message_id: str
    action: str
    error_code: str
    where: str


@st.composite
def _near_valid_call(
    draw: st.DrawFn, action: str | None, shape: StationShape | None, sent_by: Sender | None
) -> NearValidCall:
    chosen = draw(_actions(action, sent_by))
    message_id = draw(message_ids())
    broken = draw(near_valid(chosen, "request", shape))
    return NearValidCall(
        _compact([CALL, message_id, chosen, broken.payload]), message_id, chosen, broken.error_code, broken.where
    )


def near_valid_calls(
    action: str | None = None, shape: StationShape | None = None, *, sent_by: Sender | None = None
) -> st.SearchStrategy[NearValidCall]:
    """CALL frames whose payload is near-valid (see `near_valid`), with the CALLERROR code they must get from a
    receiver that handles the action (one that does not may answer NotSupported first)."""
    return _near_valid_call(action, shape, sent_by)


# --- arbitrary JSON and broken frames ----------------------------------------------------------------------------

json_texts: st.SearchStrategy[str] = st.text(max_size=12) | st.text(
    st.characters(categories=["Cs", "Ll"]), min_size=1, max_size=3
)
"""Strings, some with lone surrogates ("Cs"), which only a JSON escape can carry."""
json_scalars: st.SearchStrategy[Json] = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | json_texts
)
"""JSON's scalars (NaN and Infinity are not JSON; `broken_frames` holds frames with them)."""
json_values: st.SearchStrategy[Json] = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_texts, inner, max_size=4),
    max_leaves=12,
)
json_objects: st.SearchStrategy[dict[str, Json]] = st.dictionaries(json_texts, json_values, max_size=5)


@dataclass(frozen=True, slots=True)
class BrokenFrame:
    """A websocket text message that is not a valid OCPP-J CALL. `expected` is the CALLERROR code the receiver
    must answer with `message_id` ("-1" when the id cannot be read, Part 4 4.2.3), or None when no answer is
    due (a malformed reply: answering it could start an error ping-pong, and Part 4 4.2.3 allows dropping)."""

    text: str
    message_id: str | None
    expected: str | None
    reason: str


def _with_id(build: Callable[[str], Json], expected: str, reason: str) -> st.SearchStrategy[BrokenFrame]:
    """A frame whose message id is readable, so the answer carries it."""
    return message_ids().map(lambda message_id: BrokenFrame(_compact(build(message_id)), message_id, expected, reason))


_NOT_JSON = st.sampled_from(
    ["", "hello", "[2,", '[2,"a","Heartbeat",{}', "{'a': 1}", "[2,'id','Heartbeat',{}]", "\x00", '[2,"a"]]']
)
_NOT_ARRAYS = st.one_of(json_objects, json_scalars).map(_compact)
_UNREADABLE_IDS: st.SearchStrategy[Json] = (
    st.integers() | st.none() | st.just("") | _chars(_PLAIN, MAX_MESSAGE_ID_LENGTH + 1, 60) | st.just([])
)
_NOT_INTEGER_TYPES: st.SearchStrategy[Json] = st.sampled_from(["2", 2.5, None, "CALL", [2]])
_UNKNOWN_TYPES = st.integers(-5, 99).filter(lambda type_id: type_id not in (CALL, CALLRESULT, CALLERROR))
_UNKNOWN_ACTIONS = st.sampled_from(["FooBar", "", "heartbeat", "BootNotificationRequest", "Reset2"]) | _chars(
    string.ascii_letters, 1, 30
).filter(lambda name: name not in _ACTION_SET)
_NOT_OBJECTS: st.SearchStrategy[Json] = st.sampled_from([[], "{}", 1, None, True, [{}]])
_NON_NUMBERS = st.sampled_from(["NaN", "Infinity", "-Infinity"])


@st.composite
def _one_kind_of(draw: st.DrawFn, *kinds: st.SearchStrategy[BrokenFrame]) -> BrokenFrame:
    """A frame of one kind, each kind as likely as the others; printed as the BrokenFrame when a test fails."""
    return draw(draw(st.sampled_from(kinds)))


def broken_frames() -> st.SearchStrategy[BrokenFrame]:
    """Garbage and malformed frames labelled with the CALLERROR the receiver must answer, as Part 4 says and the
    station core does (pure/ocppj/frames.py): not JSON, not an array or an id that cannot be read ->
    RpcFrameworkError with id "-1"; a type id that is not an integer or a CALL of the wrong length ->
    RpcFrameworkError; an unknown type id -> MessageTypeNotSupported (4.4); a payload that is not an object or
    holds NaN / Infinity (not JSON numbers) -> FormatViolation; an unknown action -> NotImplemented; a reply
    to nothing or a malformed reply -> no answer."""
    unreadable = "-1"
    return _one_kind_of(
        _NOT_JSON.map(lambda text: BrokenFrame(text, unreadable, "RpcFrameworkError", "not JSON")),
        _NOT_ARRAYS.map(lambda text: BrokenFrame(text, unreadable, "RpcFrameworkError", "not a JSON array")),
        st.just(BrokenFrame("[]", unreadable, "RpcFrameworkError", "an empty array")),
        st.builds(
            lambda message_id, payload: BrokenFrame(
                _compact([CALL, message_id, "Heartbeat", payload]),
                unreadable,
                "RpcFrameworkError",
                "unreadable message id",
            ),
            _UNREADABLE_IDS,
            st.just({}),
        ),
        st.builds(
            lambda type_id, message_id: BrokenFrame(
                _compact([type_id, message_id, "Heartbeat", {}]),
                message_id,
                "RpcFrameworkError",
                "type id not an integer",
            ),
            _NOT_INTEGER_TYPES,
            message_ids(),
        ),
        st.builds(
            lambda type_id, message_id: BrokenFrame(
                _compact([type_id, message_id, "Heartbeat", {}]),
                message_id,
                "MessageTypeNotSupported",
                "unknown type id",
            ),
            _UNKNOWN_TYPES,
            message_ids(),
        ),
        _with_id(lambda message_id: [CALL, message_id, "Heartbeat"], "RpcFrameworkError", "a CALL of 3 elements"),
        _with_id(
            lambda message_id: [CALL, message_id, "Heartbeat", {}, {}], "RpcFrameworkError", "a CALL of 5 elements"
        ),
        _with_id(lambda message_id: [CALL, message_id, 17, {}], "RpcFrameworkError", "an action that is not a string"),
        st.builds(
            lambda message_id, payload: BrokenFrame(
                _compact([CALL, message_id, "Heartbeat", payload]),
                message_id,
                "FormatViolation",
                "payload not an object",
            ),
            message_ids(),
            _NOT_OBJECTS,
        ),
        st.builds(
            lambda message_id, number: BrokenFrame(
                f'[2,{_compact(message_id)},"Heartbeat",{{"{_UNKNOWN_PROPERTY}":{number}}}]',
                message_id,
                "FormatViolation",
                f"{number} is not a JSON number",
            ),
            message_ids(),
            _NON_NUMBERS,
        ),
        st.builds(
            lambda message_id, action: BrokenFrame(
                _compact([CALL, message_id, action, {}]), message_id, "NotImplemented", "unknown action"
            ),
            message_ids(),
            _UNKNOWN_ACTIONS,
        ),
        st.builds(
            lambda message_id: BrokenFrame(
                _compact([CALLRESULT, message_id, {}]), message_id, None, "a reply to nothing"
            ),
            message_ids(),
        ),
        st.builds(
            lambda message_id: BrokenFrame(
                _compact([CALLRESULT, message_id]), message_id, None, "a malformed CALLRESULT"
            ),
            message_ids(),
        ),
        st.builds(
            lambda message_id: BrokenFrame(
                _compact([CALLERROR, message_id, "GenericError"]), message_id, None, "a malformed CALLERROR"
            ),
            message_ids(),
        ),
    )
