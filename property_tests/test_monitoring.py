"""Monitors over random readings and random report limits.

- A threshold monitor's events are exactly the changes of side of the threshold, in order, each with the
  reading that caused it; a delta monitor's events are exactly the readings more than its delta away from
  the previous event's reading. Both oracles are written here from N07.FR.16-18, not taken from the core.
- A monitoring report split under any ItemsPerMessage/BytesPerMessage covers every monitor exactly once, in
  messages numbered from 0, tbc on all but the last, none over the limits.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.monitoring import monitoring
from chargecore.pure.blocks.monitoring.monitors import Monitor, Monitoring
from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import build_device_model
from chargecore.pure.inputs import VariableReported
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.outcome import Reply
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import step

NOW = datetime(2024, 1, 1, tzinfo=UTC)
POWER = VariableKey("EVSE", "Power", 1)
READINGS = st.lists(st.integers(min_value=0, max_value=22000), min_size=1, max_size=30)


def station_with(*monitors: Monitor, config: dict[str, Any] | None = None) -> Station:
    model = build_device_model((1, 1), config).unwrap()
    station = initial_station(StationIdentity("CS-PROPERTY", "ws://csms.invalid", (1, 1)), model, {})
    return replace(station, monitoring=Monitoring(monitors=monitors, next_monitor_id=len(monitors) + 1))


def events_of_readings(station: Station, readings: list[int]) -> list[dict[str, Any]]:
    """Feed each reading through `step` as a hardware value of EVSE 1 Power; every eventData queued, in order.
    Severity 0 monitors are never filtered, and the queue keeps what an offline station will send."""
    for value in readings:
        station, _ = step(station, VariableReported(NOW, "EVSE", "Power", str(value), evse_id=1))
    return [event for call in station.rpc.queue if call.action == "NotifyEvent" for event in call.payload["eventData"]]


@settings(max_examples=150, deadline=None)
@given(threshold=st.integers(min_value=0, max_value=22000), upper=st.booleans(), readings=READINGS)
def test_threshold_events_are_the_changes_of_side(threshold: int, upper: bool, readings: list[int]) -> None:
    kind = "UpperThreshold" if upper else "LowerThreshold"
    station = station_with(Monitor(1, POWER, kind, threshold, 0))
    expected = []
    beyond = False
    previous = 0  # Power's catalogue default
    for value in readings:
        now_beyond = value > threshold if upper else value < threshold
        if value != previous and now_beyond != beyond:
            expected.append((str(value), not now_beyond))
            beyond = now_beyond
        previous = value
    got = [(e["actualValue"], e["cleared"]) for e in events_of_readings(station, readings)]
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(delta=st.integers(min_value=0, max_value=5000), readings=READINGS)
def test_delta_events_are_the_readings_far_enough_from_the_last_event(delta: int, readings: list[int]) -> None:
    station = station_with(Monitor(1, POWER, "Delta", delta, 0, reference="0"))
    expected = []
    reference = 0
    for value in readings:
        if abs(value - reference) > delta:
            expected.append(str(value))
            reference = value
    assert [e["actualValue"] for e in events_of_readings(station, readings)] == expected


VARIABLES = (
    POWER,
    VariableKey("EVSE", "Power", 2),
    VariableKey("EVSE", "AvailabilityState", 1),
    VariableKey("OCPPCommCtrlr", "HeartbeatInterval"),
    VariableKey("ChargingStation", "AvailabilityState"),
)


@settings(max_examples=100, deadline=None)
@given(
    chosen=st.lists(st.tuples(st.sampled_from(VARIABLES), st.integers(0, 9)), min_size=1, max_size=25, unique=True),
    items_per_message=st.integers(min_value=1, max_value=6),
    bytes_per_message=st.integers(min_value=1200, max_value=4000),  # a variable with 10 monitors still fits
)
def test_a_report_under_any_limits_covers_every_monitor_once(
    chosen: list[tuple[VariableKey, int]], items_per_message: int, bytes_per_message: int
) -> None:
    monitors = tuple(Monitor(n + 1, key, "Delta", 1, severity) for n, (key, severity) in enumerate(chosen))
    config = {
        "DeviceDataCtrlr": {
            "ItemsPerMessage[GetReport]": items_per_message,
            "BytesPerMessage[GetReport]": bytes_per_message,
        }
    }
    station = station_with(*monitors, config=config)
    station, decision, _ = monitoring.handle_get_monitoring_report(
        station, Call("m-1", "GetMonitoringReport", {"requestId": 3}), NOW
    )
    assert decision == Reply({"status": "Accepted"})
    payloads = [call.payload for call in station.rpc.queue]
    assert [p["seqNo"] for p in payloads] == list(range(len(payloads)))
    assert [p["tbc"] for p in payloads] == [True] * (len(payloads) - 1) + [False]
    reported = [m["id"] for p in payloads for item in p["monitor"] for m in item["variableMonitoring"]]
    assert sorted(reported) == [m.monitor_id for m in monitors]
    for payload in payloads:
        assert len(payload["monitor"]) <= items_per_message
        frame = json.dumps([2, "x" * 36, "NotifyMonitoringReport", payload], separators=(",", ":"))
        assert len(frame.encode()) <= bytes_per_message
