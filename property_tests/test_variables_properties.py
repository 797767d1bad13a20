"""Get/SetVariables (B05, B06) as properties, over the real catalogue and over random small catalogues.

For any sequence of SetVariables and GetVariables requests sent through `step`:
- a value the station accepted (Accepted or RebootRequired) is what GetVariables returns afterwards (WriteOnly
  values, which GetVariables never returns, are checked in the model instead);
- a set the station did not accept changes nothing in the device model;
- after a restart (the state rebuilt from what the station persisted, as the shell does) every persistent
  value it accepted is still there, and every other value is back at its catalogue default.

The oracle does not predict which values are valid (the unit tests pin the rules); it follows the station's own
answers, and checks that the answers and the model agree across the sequence and the restart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.boot import boot_station
from chargecore.pure.device_model.addressing import component_json, variable_json
from chargecore.pure.device_model.catalogue import CATALOGUE, DeviceModel, VariableDefinition, VariableKey
from chargecore.pure.device_model.model import build_device_model, get_value
from chargecore.pure.effects import Effects, InternalError, Persist, SendFrame
from chargecore.pure.inputs import Connected, FrameReceived, Input, PowerUp, Tick
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import step

from .support import boot_response, response_to

T0 = datetime(2024, 1, 1, tzinfo=UTC)
EVSE_CONNECTORS = (1, 2)
IDENTITY = StationIdentity("CS-VARIABLES", "ws://csms.invalid/ocpp", EVSE_CONNECTORS)
ACCEPTED = ("Accepted", "RebootRequired")
ATTRIBUTES = ("Actual", "Target", "MinSet", "MaxSet")

Address = tuple[VariableKey, str]


# --- a station driven like the shell drives it ----------------------------------------------------------------


@dataclass
class Driver:
    station: Station
    storage: dict[str, Any] = field(default_factory=dict)
    now: datetime = T0
    counter: int = 0

    def feed(self, event: Input) -> Effects:
        self.now = event.now
        self.station, effects = step(self.station, event)
        assert not [effect for effect in effects if isinstance(effect, InternalError)], effects
        for effect in effects:
            if isinstance(effect, Persist):
                self.storage.update(effect.entries)
        return effects

    def answer_outstanding(self) -> None:
        """A well-behaved CSMS answers every CALL the station sends, until none is outstanding."""
        while (in_flight := self.station.rpc.in_flight) is not None:
            answer = [3, in_flight.message_id, response_to(in_flight.call.action, self.now)]
            self.feed(FrameReceived(self.now, json.dumps(answer)))

    def boot(self, status: str = "Accepted") -> Driver:
        self.feed(PowerUp(self.now, "nonce"))
        self.feed(Connected(self.now + timedelta(seconds=1)))
        in_flight = self.station.rpc.in_flight
        assert in_flight is not None and in_flight.call.action == "BootNotification"
        self.feed(FrameReceived(self.now, json.dumps([3, in_flight.message_id, boot_response(self.now, status)])))
        self.answer_outstanding()
        assert self.station.registration.status == status
        return self

    def csms(self, action: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """One CSMS request; the per-item results of its CALLRESULT. Reconnects if the station dropped the
        connection (a new BasicAuthPassword), as the shell would."""
        self.counter += 1
        message_id = f"csms-{self.counter}"
        effects = self.feed(FrameReceived(self.now, json.dumps([2, message_id, action, payload])))
        (reply,) = [f for f in (json.loads(e.text) for e in effects if isinstance(e, SendFrame)) if f[1] == message_id]
        assert reply[0] == 3, reply
        if self.station.connection.retry_at is not None:
            self.feed(Tick(self.station.connection.retry_at))
            self.feed(Connected(self.now))
        self.answer_outstanding()
        results: list[dict[str, Any]] = next(iter(reply[2].values()))
        return results


def station_with(catalogue: Mapping[str, Any], stored: Mapping[str, Any]) -> Station:
    return boot_station(IDENTITY, None, stored, catalogue).unwrap()


def request_item(key: VariableKey, attribute: str) -> dict[str, Any]:
    return {"component": component_json(key), "variable": variable_json(key), "attributeType": attribute}


# --- values worth trying ------------------------------------------------------------------------------------


def candidates(definition: VariableDefinition) -> list[str]:
    """Values that are often valid for this variable, and some that are often not."""
    values = [
        "",
        "0",
        "1",
        "-7",
        "2.5",
        "true",
        "false",
        "abc",
        "2030-01-01T00:00:00Z",
        "x" * 20,
        "0123456789abcdefXYZ",
    ]
    for limit in (definition.min_limit, definition.max_limit):
        if limit is not None:
            values += [str(int(limit)), str(int(limit) + 1), str(int(limit) - 1)]
    if definition.values_list:
        values += list(definition.values_list)
        values.append(",".join(definition.values_list[:2]))
        values.append(definition.values_list[0] + "," + definition.values_list[0])
    values += [value for value in (spec.default for spec in definition.attributes.values()) if value is not None]
    return values


TEXT = st.characters(blacklist_categories=("Cs",))
"""Any Unicode text (lone surrogates are not text)."""


@dataclass(frozen=True)
class Operation:
    kind: str  # "set" or "get"
    items: tuple[tuple[Address, str], ...]
    """(address, value) per item; the value is ignored by a get."""


def operations(model: DeviceModel) -> st.SearchStrategy[list[Operation]]:
    keys = sorted(model.definitions, key=repr)
    unknown = [VariableKey("NoSuchCtrlr", "Enabled"), VariableKey(keys[0].component, "NoSuchVariable")]

    @st.composite
    def one_item(draw: st.DrawFn) -> tuple[Address, str]:
        key = draw(st.sampled_from(keys + unknown))
        definition = model.definitions.get(key)
        attribute = draw(st.sampled_from(["Actual", "Actual", *ATTRIBUTES]))
        pool = candidates(definition) if definition is not None else ["1"]
        return (key, attribute), draw(st.sampled_from(pool) | st.text(TEXT, max_size=12))

    operation = st.builds(
        Operation, st.sampled_from(["set", "set", "get"]), st.lists(one_item(), min_size=1, max_size=6).map(tuple)
    )
    return st.lists(operation, min_size=1, max_size=12)


# --- the property -------------------------------------------------------------------------------------------------


def read_back(driver: Driver, addresses: list[Address]) -> dict[Address, str | None]:
    """What the station says each address holds: GetVariables, or the model for WriteOnly attributes."""
    results = driver.csms("GetVariables", {"getVariableData": [request_item(*address) for address in addresses]})
    seen: dict[Address, str | None] = {}
    for address, result in zip(addresses, results, strict=True):
        if result["attributeStatus"] == "Accepted":
            seen[address] = result["attributeValue"]
        else:
            assert result.get("attributeStatusInfo", {}).get("reasonCode") == "WriteOnly", result
            seen[address] = get_value(driver.station.device_model, *address)
    return seen


def check_sequence(catalogue: Mapping[str, Any], steps: list[Operation]) -> None:
    driver = Driver(station_with(catalogue, {})).boot()
    model = driver.station.device_model
    defaults = dict(model.values)
    accepted: dict[Address, str] = {}
    for operation in steps:
        payload_items = [request_item(*address) for address, _ in operation.items]
        if operation.kind == "get":
            driver.csms("GetVariables", {"getVariableData": payload_items})
            continue
        expected_values = dict(driver.station.device_model.values)
        data = [
            {**item, "attributeValue": text} for item, (_, text) in zip(payload_items, operation.items, strict=True)
        ]
        results = driver.csms("SetVariables", {"setVariableData": data})
        for (address, text), result in zip(operation.items, results, strict=True):
            if result["attributeStatus"] in ACCEPTED:
                accepted[address] = expected_values[address] = text
        assert dict(driver.station.device_model.values) == expected_values, "only accepted items changed the model"
    if not accepted:
        return
    addresses = sorted(accepted, key=repr)
    assert read_back(driver, addresses) == accepted

    # Pending: an Accepted boot would set HeartbeatInterval from the response (B01.FR.04) over the CSMS's value
    restarted = Driver(station_with(catalogue, driver.storage), dict(driver.storage), driver.now).boot("Pending")
    definitions = restarted.station.device_model.definitions
    expected = {
        address: text if definitions[address[0]].attributes[address[1]].persistent else defaults.get(address, "")
        for address, text in accepted.items()
    }
    assert {a: v or "" for a, v in read_back(restarted, addresses).items()} == {a: v or "" for a, v in expected.items()}


PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STANDARD_MODEL = build_device_model(EVSE_CONNECTORS).unwrap()


@PROPERTY_SETTINGS
@given(st.data())
def test_set_then_get_over_the_standard_catalogue(data: st.DataObject) -> None:
    check_sequence(CATALOGUE, data.draw(operations(STANDARD_MODEL)))


# --- random small catalogues ----------------------------------------------------------------------------------

NAMES = ("Alpha", "Beta", "Gamma", "Delta", "Omega")
TYPES = ("integer", "decimal", "boolean", "string", "dateTime", "OptionList", "MemberList", "SequenceList")


@st.composite
def variable_spec(draw: st.DrawFn, name: str) -> dict[str, Any]:
    data_type = draw(st.sampled_from(TYPES))
    values_list = ["a", "b", "c"] if data_type in ("OptionList", "MemberList", "SequenceList") else None
    min_limit = draw(st.none() | st.integers(0, 3)) if data_type in ("integer", "decimal", "string") else None
    max_limit = None if min_limit is None else min_limit + draw(st.integers(0, 20))
    attributes = {
        attribute: {
            "mutability": draw(st.sampled_from(["ReadOnly", "ReadWrite", "ReadWrite", "WriteOnly"])),
            "persistent": draw(st.booleans()),
            "default": None,
        }
        for attribute in draw(st.lists(st.sampled_from(ATTRIBUTES), min_size=1, max_size=3, unique=True))
    }
    return {
        "name": name,
        "instance": draw(st.none() | st.just("One")),
        "required": False,
        "attributes": attributes,
        "characteristics": {
            "dataType": data_type,
            "unit": None,
            "minLimit": min_limit,
            "maxLimit": max_limit,
            "valuesList": values_list,
            "supportsMonitoring": False,
        },
        "description": "generated",
    }


@st.composite
def small_catalogues(draw: st.DrawFn) -> dict[str, Any]:
    components = []
    for component in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)):
        names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
        scope = draw(st.sampled_from(["station", "station", "evse", "connector"]))
        variables = [draw(variable_spec(name)) for name in names]
        components.append({"name": component + "Ctrlr", "scope": scope, "variables": variables})
    return {"components": components}


@PROPERTY_SETTINGS
@given(st.data())
def test_set_then_get_over_random_small_catalogues(data: st.DataObject) -> None:
    catalogue = data.draw(small_catalogues())
    model = build_device_model(EVSE_CONNECTORS, catalogue=catalogue).unwrap()
    check_sequence(catalogue, data.draw(operations(model)))
