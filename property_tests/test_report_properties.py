"""A report split into any ItemsPerMessage/BytesPerMessage[GetReport] covers every variable exactly once, in
seqNo order with tbc on all but the last, and no frame the station sends exceeds either limit.

The catalogue is random too: a DeviceDataCtrlr holding the two limits (set through the device model, as a
station's config would) and random components at station, EVSE or connector scope whose string variables carry
random values of up to 300 characters, so items range from tiny to about 2 kB. The byte limit stays above what
one item needs (an item that cannot fit makes the station answer Rejected: a core test covers that). The frames
measured are the real ones `step` sends, one NotifyReport at a time as the CSMS answers each.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from returns.result import Success

from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.model import build_device_model
from chargecore.pure.effects import Effects, InternalError, SendFrame
from chargecore.pure.inputs import Connected, FrameReceived, PowerUp
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import step

from .support import T0, boot_response

NAMES = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
VALUES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


def _limit(name: str, value: int) -> dict[str, Any]:
    return {
        "name": name,
        "instance": "GetReport",
        "required": True,
        "attributes": {"Actual": {"mutability": "ReadOnly", "persistent": False, "default": str(value)}},
        "characteristics": {
            "dataType": "integer",
            "unit": None,
            "minLimit": 1,
            "maxLimit": None,
            "valuesList": None,
            "supportsMonitoring": False,
        },
        "description": f"{name} of a report",
    }


@st.composite
def string_variable(draw: st.DrawFn, name: str) -> dict[str, Any]:
    mutability = draw(st.sampled_from(["ReadOnly", "ReadWrite", "WriteOnly"]))
    return {
        "name": name,
        "instance": draw(st.none() | NAMES),
        "required": False,
        "attributes": {"Actual": {"mutability": mutability, "persistent": False, "default": draw(st.none() | VALUES)}},
        "characteristics": {
            "dataType": "string",
            "unit": draw(st.none() | st.sampled_from(["s", "W", "Percent"])),
            "minLimit": None,
            "maxLimit": None,
            "valuesList": None,
            "supportsMonitoring": draw(st.booleans()),
        },
        "description": "a random variable",
    }


@st.composite
def component(draw: st.DrawFn, name: str) -> dict[str, Any]:
    variable_names = draw(st.lists(NAMES, min_size=1, max_size=8, unique=True))
    return {
        "name": name,
        "scope": draw(st.sampled_from(["station", "evse", "connector"])),
        "variables": [draw(string_variable(variable_name)) for variable_name in variable_names],
    }


@st.composite
def catalogues(draw: st.DrawFn, items_per_message: int, bytes_per_message: int) -> dict[str, Any]:
    names = draw(st.lists(NAMES.filter(lambda name: name != "DeviceDataCtrlr"), min_size=1, max_size=5, unique=True))
    limits = {
        "name": "DeviceDataCtrlr",
        "scope": "station",
        "variables": [_limit("ItemsPerMessage", items_per_message), _limit("BytesPerMessage", bytes_per_message)],
    }
    return {"components": [limits, *(draw(component(name)) for name in names)]}


def _send(station: Station, frame: list[Any], seconds: float) -> tuple[Station, Effects]:
    station, effects = step(station, FrameReceived(T0 + timedelta(seconds=seconds), json.dumps(frame)))
    assert not [effect for effect in effects if isinstance(effect, InternalError)], effects
    return station, effects


def _sent(effects: Effects) -> list[str]:
    return [effect.text for effect in effects if isinstance(effect, SendFrame)]


def _booted(catalogue: dict[str, Any], evse_connectors: tuple[int, ...]) -> Station:
    model = build_device_model(evse_connectors, catalogue=catalogue)
    assert isinstance(model, Success), model
    identity = StationIdentity("CS-PROPERTY", "ws://csms.invalid/ocpp", evse_connectors)
    station = initial_station(identity, model.unwrap(), {})
    station, _ = step(station, PowerUp(T0, "nonce"))
    station, effects = step(station, Connected(T0))
    (boot,) = [json.loads(text) for text in _sent(effects)]
    station, effects = _send(station, [3, boot[1], boot_response(T0, "Accepted")], 1)
    while station.rpc.in_flight is not None:  # StatusNotifications
        station, effects = _send(station, [3, station.rpc.in_flight.message_id, {}], 1)
    return station


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    data=st.data(),
    items_per_message=st.integers(1, 200),
    bytes_per_message=st.integers(3000, 12000),
    evse_connectors=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
    action=st.sampled_from(["FullInventory", "ConfigurationInventory", "GetReport"]),
)
def test_a_split_report_covers_every_variable_once_within_the_limits(
    data: st.DataObject,
    items_per_message: int,
    bytes_per_message: int,
    evse_connectors: tuple[int, ...],
    action: str,
) -> None:
    catalogue = data.draw(catalogues(items_per_message, bytes_per_message))
    station = _booted(catalogue, evse_connectors)
    request = {"requestId": 7} if action == "GetReport" else {"requestId": 7, "reportBase": action}
    station, effects = _send(
        station, [2, "report-1", "GetReport" if action == "GetReport" else "GetBaseReport", request], 2
    )
    (response, *first) = _sent(effects)
    status = json.loads(response)[2]["status"]

    model = station.device_model
    expected = [
        key
        for key, definition in model.definitions.items()
        if action != "ConfigurationInventory"
        or any(spec.mutability != "ReadOnly" for spec in definition.attributes.values())
    ]
    if not expected:
        assert status == "EmptyResultSet" and not first and not station.rpc.queue
        return
    assert status == "Accepted", "every item fits: a value of 300 characters takes at most 1,800 bytes"

    frames = list(first)
    while station.rpc.in_flight is not None:
        station, effects = _send(station, [3, station.rpc.in_flight.message_id, {}], 3)
        frames.extend(_sent(effects))
    payloads = [json.loads(text)[3] for text in frames]
    for text, payload in zip(frames, payloads, strict=True):
        assert len(text.encode()) <= bytes_per_message
        assert len(payload["reportData"]) <= items_per_message
    assert [payload["seqNo"] for payload in payloads] == list(range(len(payloads)))
    assert [payload["tbc"] for payload in payloads] == [True] * (len(payloads) - 1) + [False]
    reported = [
        (
            item["component"]["name"],
            item["component"].get("evse", {}).get("id"),
            item["component"].get("evse", {}).get("connectorId"),
            item["variable"]["name"],
            item["variable"].get("instance"),
        )
        for payload in payloads
        for item in payload["reportData"]
    ]
    assert reported == [
        (key.component, key.evse_id, key.connector_id, key.variable, key.variable_instance) for key in expected
    ]
