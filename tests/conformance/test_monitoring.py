"""Block N monitoring (N02-N08) against the real station over loopback.

Part 6 (edition "Core & Advanced Security", 2023-06-30) has no Charging Station test case for N02-N08: they
belong to the Advanced Device Management profile, whose list Part 5 says "will become available in a later
version". These tests follow the use cases' main flows instead and are named by use case; each names the
requirements it checks.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from harness import Booted, StationFactory, boot, sent_in_order, settle

from chargecore.pure.blocks.monitoring.monitors import Monitor
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until

POWER = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
AVAILABILITY = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def monitor(kind: str, value: float, severity: int = 5, target: dict[str, Any] | None = None, **extra: Any) -> dict:
    return {"type": kind, "value": value, "severity": severity, **(target or POWER), **extra}


def set_monitors(csms: CsmsDouble, *items: dict[str, Any]) -> list[dict[str, Any]]:
    reply = csms.call("SetVariableMonitoring", {"setMonitoringData": list(items)})
    assert reply.payload is not None, reply
    results: list[dict[str, Any]] = reply.payload["setMonitoringResult"]
    return results


def event_of(call: StationCall) -> dict[str, Any]:
    (event,) = call.payload["eventData"]
    result: dict[str, Any] = event
    return result


@pytest.fixture
def monitored(csms: CsmsDouble, booted: Booted) -> Booted:
    """Booted, the CSMS answering NotifyEvent and NotifyMonitoringReport by itself (they are still recorded)."""
    csms.answer_automatically("NotifyEvent", {})
    csms.answer_automatically("NotifyMonitoringReport", {})
    return booted


@pytest.mark.requirements(
    "N04.FR.01",
    "N04.FR.02",
    "N04.FR.08",
    "N04.FR.11",
    "N02.FR.01",
    "N02.FR.03",
    "N02.FR.04",
    "N02.FR.09",
    "N06.FR.01",
    "N06.FR.02",
    "N02.FR.10",
)
def test_N04_N02_N06_set_report_and_clear_monitors(csms: CsmsDouble, monitored: Booted) -> None:
    results = set_monitors(csms, monitor("UpperThreshold", 11000, 2), monitor("Delta", 1, 8, target=AVAILABILITY))
    assert [(r["status"], r["component"], r["variable"]) for r in results] == [
        ("Accepted", POWER["component"], POWER["variable"]),
        ("Accepted", AVAILABILITY["component"], AVAILABILITY["variable"]),
    ]
    ids = [r["id"] for r in results]

    mark = csms.inbound_count()
    reply = csms.call("GetMonitoringReport", {"requestId": 42})
    assert reply.payload == {"status": "Accepted"}
    report = csms.expect_call("NotifyMonitoringReport")
    assert sent_in_order(csms, mark, reply.message_id, report.message_id)  # the response comes first
    assert (report.payload["requestId"], report.payload["seqNo"], report.payload.get("tbc", False)) == (42, 0, False)
    reported = {
        m["id"]: (item["variable"]["name"], m["type"], m["value"], m["severity"])
        for item in report.payload["monitor"]
        for m in item["variableMonitoring"]
    }
    assert reported == {ids[0]: ("Power", "UpperThreshold", 11000, 2), ids[1]: ("AvailabilityState", "Delta", 1, 8)}

    reply = csms.call("ClearVariableMonitoring", {"id": [*ids, 9999]})
    assert reply.payload == {
        "clearMonitoringResult": [
            {"id": ids[0], "status": "Accepted"},
            {"id": ids[1], "status": "Accepted"},
            {"id": 9999, "status": "NotFound"},
        ]
    }
    assert csms.call("GetMonitoringReport", {"requestId": 43}).payload == {"status": "EmptyResultSet"}
    settle(monitored.station, csms)
    assert len(csms.calls("NotifyMonitoringReport")) == 1


@pytest.mark.requirements("N04.FR.03", "N04.FR.04", "N04.FR.05", "N04.FR.06", "N04.FR.10", "N04.FR.13")
def test_N04_monitors_the_station_refuses(csms: CsmsDouble, monitored: Booted) -> None:
    results = set_monitors(
        csms,
        monitor("Delta", 1, target={"component": {"name": "NoSuchCtrlr"}, "variable": {"name": "Power"}}),
        monitor("Delta", 1, target={"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Nope"}}),
        monitor("UpperThreshold", 1, target=AVAILABILITY),
        monitor("UpperThreshold", 30000),
        monitor("Delta", 1, id=4242),
        monitor("Periodic", 60, 3),
        monitor("Periodic", 120, 3),
    )
    assert [r["status"] for r in results] == [
        "UnknownComponent",
        "UnknownVariable",
        "UnsupportedMonitorType",
        "Rejected",
        "Rejected",
        "Accepted",
        "Duplicate",
    ]


@pytest.mark.requirements("N04.FR.09")
def test_N04_too_many_monitors_in_one_request(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(config={"MonitoringCtrlr": {"ItemsPerMessage[SetVariableMonitoring]": 1}}), csms)
    reply = csms.call("SetVariableMonitoring", {"setMonitoringData": [monitor("Delta", 1), monitor("Periodic", 60)]})
    assert reply.error_code == "OccurrenceConstraintViolation"


@pytest.mark.requirements("N07.FR.02", "N07.FR.06", "N07.FR.07", "N07.FR.16")
def test_N07_threshold_crossed_and_cleared_by_hardware_readings(csms: CsmsDouble, monitored: Booted) -> None:
    (result,) = set_monitors(csms, monitor("UpperThreshold", 11000, 2))
    station = monitored.station
    station.report_variable("EVSE", "Power", "9000", evse_id=1)
    station.report_variable("EVSE", "Power", "12500.5", evse_id=1)
    tripped = csms.expect_call("NotifyEvent")
    event = event_of(tripped)
    assert tripped.payload["seqNo"] == 0
    assert (event["trigger"], event["cleared"], event["actualValue"]) == ("Alerting", False, "12500.5")
    assert (event["variableMonitoringId"], event["eventNotificationType"]) == (result["id"], "CustomMonitor")
    assert (event["component"], event["variable"]) == (POWER["component"], POWER["variable"])
    station.report_variable("EVSE", "Power", "10000", evse_id=1)
    cleared = event_of(csms.expect_call("NotifyEvent"))
    assert (cleared["cleared"], cleared["actualValue"]) == (True, "10000")
    assert cleared["eventId"] > event["eventId"]
    settle(station, csms)
    assert len(csms.calls("NotifyEvent")) == 2


@pytest.mark.requirements("N07.FR.18", "N07.FR.19")
def test_N07_delta_on_values_the_application_changes(csms: CsmsDouble, monitored: Booted) -> None:
    set_monitors(csms, monitor("Delta", 30, target=HEARTBEAT), monitor("Delta", 1, target=AVAILABILITY))
    station = monitored.station
    station.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "30")  # 20 from the boot's 10: not enough
    station.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "100")
    station.report_variable("EVSE", "AvailabilityState", "Occupied", evse_id=1)
    first, second = (event_of(call) for call in csms.expect_calls("NotifyEvent", 2))
    assert (first["trigger"], first["actualValue"], first["variable"]) == ("Delta", "100", HEARTBEAT["variable"])
    assert (second["trigger"], second["actualValue"]) == ("Delta", "Occupied")
    settle(station, csms)
    assert len(csms.calls("NotifyEvent")) == 2


CONNECTOR_AVAILABILITY = {
    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
    "variable": {"name": "AvailabilityState"},
}
STATION_AVAILABILITY = {"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}}


@pytest.mark.requirements("N07.FR.19")
def test_N07_availability_state_monitors_follow_the_connector(csms: CsmsDouble, monitored: Booted) -> None:
    """AvailabilityState is kept by the station itself: a plug and an unplug each trip the Delta monitors of
    the connector, its EVSE and the station, after the StatusNotification (as TC_E_02 step 1 lists them)."""
    targets = (CONNECTOR_AVAILABILITY, AVAILABILITY, STATION_AVAILABILITY)
    results = set_monitors(csms, *(monitor("Delta", 1, target=target) for target in targets))
    assert [r["status"] for r in results] == ["Accepted"] * 3
    for change, status in (("plug", "Occupied"), ("unplug", "Available")):
        mark = csms.inbound_count()
        monitored.station.connector(1, 1, change)  # type: ignore[arg-type]
        notification = csms.expect_call("StatusNotification")
        assert notification.payload["connectorStatus"] == status
        notify = csms.expect_call("NotifyEvent")
        assert sent_in_order(csms, mark, notification.message_id, notify.message_id)
        events = {event["component"]["name"]: event for event in notify.payload["eventData"]}
        assert sorted(events) == ["ChargingStation", "Connector", "EVSE"]
        assert {(e["trigger"], e["actualValue"], e["variable"]["name"]) for e in events.values()} == {
            ("Delta", status, "AvailabilityState")
        }
        assert events["Connector"]["component"] == CONNECTOR_AVAILABILITY["component"]
        assert [events[name]["variableMonitoringId"] for name in ("Connector", "EVSE", "ChargingStation")] == [
            r["id"] for r in results
        ]
    settle(monitored.station, csms)
    assert len(csms.calls("NotifyEvent")) == 2


@pytest.mark.requirements("N05.FR.01", "N05.FR.02", "N05.FR.03", "N03.FR.01", "N03.FR.04")
def test_N05_N03_level_and_base_limit_what_reports(csms: CsmsDouble, monitored: Booted) -> None:
    set_monitors(csms, monitor("Delta", 1, 7, target=AVAILABILITY))
    assert csms.call("SetMonitoringLevel", {"severity": 12}).payload == {"status": "Rejected"}
    assert csms.call("SetMonitoringLevel", {"severity": 6}).payload == {"status": "Accepted"}
    station = monitored.station
    station.report_variable("EVSE", "AvailabilityState", "Occupied", evse_id=1)
    settle(station, csms)
    assert csms.calls("NotifyEvent") == []
    assert csms.call("SetMonitoringLevel", {"severity": 9}).payload == {"status": "Accepted"}
    station.report_variable("EVSE", "AvailabilityState", "Faulted", evse_id=1)
    assert event_of(csms.expect_call("NotifyEvent"))["actualValue"] == "Faulted"

    assert csms.call("SetMonitoringBase", {"monitoringBase": "FactoryDefault"}).payload == {"status": "Accepted"}
    assert csms.call("GetMonitoringReport", {"requestId": 1}).payload == {"status": "EmptyResultSet"}
    model = station.state.device_model
    assert get_value(model, VariableKey("MonitoringCtrlr", "ActiveMonitoringBase")) == "FactoryDefault"


@pytest.mark.requirements("N08.FR.04", "N08.FR.05", "N08.FR.06")
def test_N08_periodic_event(csms: CsmsDouble, monitored: Booted) -> None:
    monitored.station.report_variable("EVSE", "Power", "7400", evse_id=1)
    (result,) = set_monitors(csms, monitor("Periodic", 1, 4))
    first = csms.expect_call("NotifyEvent")
    second = csms.expect_call("NotifyEvent")
    for call in (first, second):
        event = event_of(call)
        assert (call.payload["seqNo"], event["trigger"], event["actualValue"]) == (0, "Periodic", "7400")
        assert event["variableMonitoringId"] == result["id"]
    assert 0.5 < second.at - first.at < 2.5  # one interval, with room for a busy machine
    csms.call("ClearVariableMonitoring", {"id": [result["id"]]})


@pytest.mark.requirements("N07.FR.04")
def test_N07_events_raised_offline_are_queued_by_severity(csms: CsmsDouble, station_factory: StationFactory) -> None:
    csms.answer_automatically("NotifyEvent", {})
    station = station_factory(config={"MonitoringCtrlr": {"OfflineQueuingSeverity": 3}})
    boot(station, csms)
    low, high = set_monitors(
        csms, monitor("Delta", 1, 2, target=AVAILABILITY), monitor("Delta", 1, 5, target=AVAILABILITY)
    )
    csms.refuse_connections()
    csms.close_connection()
    wait_until(lambda: station.state.connection.phase != "up", "the station to notice the lost connection")
    station.report_variable("EVSE", "AvailabilityState", "Faulted", evse_id=1)
    time.sleep(0.2)  # offline for a moment; the event must wait
    assert csms.calls("NotifyEvent") == []
    csms.accept_connections()
    event = event_of(csms.expect_call("NotifyEvent", timeout=10))
    assert (event["variableMonitoringId"], event["actualValue"]) == (low["id"], "Faulted")
    settle(station, csms)
    assert [event_of(c)["variableMonitoringId"] for c in csms.calls("NotifyEvent")] == [low["id"]]
    assert high["status"] == "Accepted"


@pytest.mark.requirements("N07.FR.13", "N04.FR.18", "N06.FR.03")
def test_N07_monitors_survive_a_restart_and_factory_monitors_stay(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Any
) -> None:
    hard_wired = Monitor(500, VariableKey("EVSE", "Power", 1), "UpperThreshold", 21000, 0, origin="HardWiredMonitor")
    data_dir = tmp_path / "restart"
    first = station_factory(data_dir=data_dir, factory_monitors=(hard_wired,))
    boot(first, csms)
    csms.answer_automatically("NotifyMonitoringReport", {})
    (custom,) = set_monitors(csms, monitor("Delta", 1, 8, target=AVAILABILITY))
    (replaced,) = set_monitors(csms, monitor("UpperThreshold", 20000, 0, id=500))
    assert replaced["status"] == "Rejected"
    assert csms.call("ClearVariableMonitoring", {"id": [500]}).payload == {
        "clearMonitoringResult": [{"id": 500, "status": "Rejected"}]
    }
    assert csms.call("SetMonitoringLevel", {"severity": 8}).payload == {"status": "Accepted"}
    first.stop()
    csms.wait_session_closed(1)

    second = station_factory(data_dir=data_dir, factory_monitors=(hard_wired,))
    boot(second, csms)
    assert csms.call("GetMonitoringReport", {"requestId": 5}).payload == {"status": "Accepted"}
    report = csms.expect_call("NotifyMonitoringReport")
    reported = sorted((m["id"], m["type"]) for item in report.payload["monitor"] for m in item["variableMonitoring"])
    assert reported == [(500, "UpperThreshold"), (custom["id"], "Delta")]
    level = get_value(second.state.device_model, VariableKey("MonitoringCtrlr", "ActiveMonitoringLevel"))
    assert level == "8"
