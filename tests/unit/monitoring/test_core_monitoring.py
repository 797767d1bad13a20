"""Variable monitoring (block N) through `step`: the CSMS requests N02-N06 and the NotifyEvents of N07-N08."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from core_helpers import (
    T0,
    Sim,
    answer_boot,
    at,
    booted,
    calls,
    make_station,
    persisted,
    replies,
    started,
    warnings,
)
from test_device_model import catalogue_variable, raw_catalogue

from chargecore.pure.blocks.monitoring.monitors import Monitor
from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import build_device_model, get_value
from chargecore.pure.effects import Effects
from chargecore.pure.state import StationIdentity, Transaction

POWER = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}}
AVAILABILITY = {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}
HEARTBEAT = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
POWER_KEY = VariableKey("EVSE", "Power", 1)
HARD_WIRED = Monitor(900, POWER_KEY, "UpperThreshold", 21000, 0, origin="HardWiredMonitor")
PRECONFIGURED = Monitor(901, POWER_KEY, "LowerThreshold", 10, 8, origin="PreconfiguredMonitor")


def monitor(kind: str, value: float, severity: int = 5, target: dict[str, Any] | None = None, **extra: Any) -> dict:
    return {"type": kind, "value": value, "severity": severity, **(target or POWER), **extra}


def answer(sim: Sim, action: str, payload: dict[str, Any], message_id: str = "csms-1") -> tuple[Any, Effects]:
    """Send a CSMS CALL; return its reply payload (or the CALLERROR frame) and what the station sent after it,
    the CSMS answering every CALL of the station."""
    effects = sim.csms_call(action, payload, message_id)
    (reply,) = replies(effects)
    return (reply[2] if reply[0] == 3 else reply), effects + sim.answer_all()


def set_monitors(sim: Sim, *items: dict[str, Any]) -> list[dict[str, Any]]:
    reply, _ = answer(sim, "SetVariableMonitoring", {"setMonitoringData": list(items)})
    results: list[dict[str, Any]] = reply["setMonitoringResult"]
    return results


def events(sim: Sim, effects: Effects) -> list[dict[str, Any]]:
    """eventData of every NotifyEvent sent, the CSMS answering each."""
    sent = calls(effects + sim.answer_all())
    return [event for call in sent if call.action == "NotifyEvent" for event in call.payload["eventData"]]


def reading(sim: Sim, value: str, variable: str = "Power") -> list[dict[str, Any]]:
    return events(sim, sim.report_variable("EVSE", variable, value, evse_id=1))


# --- SetVariableMonitoring (N04) ----------------------------------------------------------------------------


@pytest.mark.requirements("N04.FR.01", "N04.FR.02", "N04.FR.08", "N04.FR.11")
def test_every_item_gets_a_result_naming_its_variable_and_accepted_ones_a_new_id() -> None:
    sim = booted()
    results = set_monitors(sim, monitor("UpperThreshold", 500), monitor("Delta", 10, 6), monitor("Periodic", 60))
    assert [r["status"] for r in results] == ["Accepted"] * 3
    assert all(r["component"] == POWER["component"] and r["variable"] == POWER["variable"] for r in results)
    assert len({r["id"] for r in results}) == 3


@pytest.mark.requirements("N04.FR.03", "N04.FR.04", "N04.FR.05", "N04.FR.06", "N04.FR.13", "N04.FR.14")
@pytest.mark.parametrize(
    ("item", "status"),
    [
        (
            monitor("Delta", 1, target={"component": {"name": "Nope"}, "variable": {"name": "Power"}}),
            "UnknownComponent",
        ),
        (
            monitor(
                "Delta", 1, target={"component": {"name": "EVSE", "evse": {"id": 9}}, "variable": {"name": "Power"}}
            ),
            "UnknownComponent",
        ),
        (
            monitor(
                "Delta", 1, target={"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Nope"}}
            ),
            "UnknownVariable",
        ),
        (monitor("UpperThreshold", 1, target=AVAILABILITY), "UnsupportedMonitorType"),  # not a number
        (
            monitor(
                "Delta", 1, target={"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
            ),
            "UnsupportedMonitorType",
        ),  # supportsMonitoring false
        (monitor("UpperThreshold", 22001), "Rejected"),  # above maxLimit
        (monitor("LowerThreshold", -1), "Rejected"),  # below minLimit
        (monitor("Delta", -1), "Rejected"),
        (monitor("Periodic", 0), "Rejected"),
        (monitor("Delta", 1, severity=10), "Rejected"),
        (monitor("Delta", 1, id=77), "Rejected"),  # no monitor with that id
    ],
)
def test_a_monitor_the_station_cannot_set_gets_the_status_that_says_why(item: dict[str, Any], status: str) -> None:
    sim = booted()
    (result,) = set_monitors(sim, item)
    assert result["status"] == status
    assert sim.station.monitoring.monitors == ()


@pytest.mark.requirements("N04.FR.10", "N04.FR.17")
def test_a_second_monitor_of_the_same_type_and_severity_on_a_variable_is_a_duplicate() -> None:
    sim = booted()
    results = set_monitors(sim, monitor("UpperThreshold", 500, 4), monitor("UpperThreshold", 700, 4))
    assert [r["status"] for r in results] == ["Accepted", "Duplicate"]
    assert set_monitors(sim, monitor("UpperThreshold", 700, 3))[0]["status"] == "Accepted"
    assert set_monitors(sim, monitor("Delta", 1, target=AVAILABILITY))[0]["status"] == "Accepted"


@pytest.mark.requirements("N04.FR.12", "N04.FR.16")
def test_an_id_replaces_its_monitor_but_cannot_move_it_to_another_variable() -> None:
    sim = booted()
    (first,) = set_monitors(sim, monitor("UpperThreshold", 500))
    (replaced,) = set_monitors(sim, monitor("UpperThreshold", 800, id=first["id"]))
    assert (replaced["status"], replaced["id"]) == ("Accepted", first["id"])
    (moved,) = set_monitors(sim, monitor("Delta", 1, target=HEARTBEAT, id=first["id"]))
    assert moved["status"] == "Rejected"
    (only,) = sim.station.monitoring.monitors
    assert (only.monitor_id, only.value, only.key) == (first["id"], 800, POWER_KEY)


@pytest.mark.requirements("N04.FR.15", "N04.FR.18")
def test_a_hard_wired_monitor_cannot_be_replaced_and_a_preconfigured_one_becomes_custom() -> None:
    sim = booted(factory_monitors=(HARD_WIRED, PRECONFIGURED))
    (hard,) = set_monitors(sim, monitor("UpperThreshold", 20000, 0, id=900))
    (pre,) = set_monitors(sim, monitor("LowerThreshold", 20, 8, id=901))
    assert (hard["status"], pre["status"]) == ("Rejected", "Accepted")
    origins = {m.monitor_id: m.origin for m in sim.station.monitoring.monitors}
    assert origins == {900: "HardWiredMonitor", 901: "CustomMonitor"}
    (new,) = set_monitors(sim, monitor("Delta", 5))
    assert new["id"] > 901  # station ids never collide with the factory ones


@pytest.mark.requirements("N04.FR.01", "N04.FR.03", "N04.FR.04", "N02.FR.11")
def test_monitors_take_component_and_variable_names_in_any_case() -> None:
    """ComponentType and VariableType names are case insensitive: the monitor watches the station's own
    variable (so its changes trip it, and reports name it as the station spells it), the result echoes the
    request."""
    sim = booted()
    lower = {"component": {"name": "ocppcommctrlr"}, "variable": {"name": "heartbeatinterval"}}
    unknown = {"component": {"name": "ocppcommctrlr"}, "variable": {"name": "nosuchvariable"}}
    results = set_monitors(sim, monitor("Delta", 30, target=lower), monitor("Delta", 1, target=unknown))
    assert [(r["status"], r["component"], r["variable"]) for r in results] == [
        ("Accepted", lower["component"], lower["variable"]),
        ("UnknownVariable", unknown["component"], unknown["variable"]),
    ]
    (event,) = events(sim, sim.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "100"))
    assert (event["component"], event["variable"]) == (HEARTBEAT["component"], HEARTBEAT["variable"])
    reply, effects = answer(sim, "GetMonitoringReport", {"requestId": 7, "componentVariable": [lower]})
    assert reply == {"status": "Accepted"}
    (report,) = [call.payload for call in calls(effects) if call.action == "NotifyMonitoringReport"]
    assert [(m["component"], m["variable"]) for m in report["monitor"]] == [
        (HEARTBEAT["component"], HEARTBEAT["variable"])
    ]


@pytest.mark.requirements("N04.FR.09")
def test_a_request_over_the_declared_items_or_bytes_is_refused_with_a_call_error() -> None:
    sim = booted(
        config={
            "MonitoringCtrlr": {
                "ItemsPerMessage[SetVariableMonitoring]": 2,
                "BytesPerMessage[SetVariableMonitoring]": 300,
            }
        }
    )
    items = [monitor("Delta", 1), monitor("Periodic", 60), monitor("UpperThreshold", 9)]
    reply, _ = answer(sim, "SetVariableMonitoring", {"setMonitoringData": items})
    assert reply[2] == "OccurrenceConstraintViolation"
    big = monitor(
        "Delta",
        1,
        target={
            "component": {"name": "EVSE", "evse": {"id": 1}, "instance": "x" * 50},
            "variable": {"name": "Power", "instance": "y" * 50},
        },
    )
    reply, _ = answer(sim, "SetVariableMonitoring", {"setMonitoringData": [big, big]})
    assert reply[2] == "FormatViolation"
    assert sim.station.monitoring.monitors == ()


# --- ClearVariableMonitoring (N06) --------------------------------------------------------------------------


@pytest.mark.requirements("N06.FR.01", "N06.FR.02", "N06.FR.03", "N06.FR.05")
def test_clear_answers_every_id_and_keeps_the_factory_monitors() -> None:
    sim = booted(factory_monitors=(HARD_WIRED, PRECONFIGURED))
    (custom,) = set_monitors(sim, monitor("Delta", 5))
    reply, _ = answer(sim, "ClearVariableMonitoring", {"id": [custom["id"], 123, 900, 901, custom["id"]]})
    statuses = [(r["id"], r["status"]) for r in reply["clearMonitoringResult"]]
    assert statuses == [
        (custom["id"], "Accepted"),
        (123, "NotFound"),
        (900, "Rejected"),
        (901, "Rejected"),
        (custom["id"], "NotFound"),
    ]
    assert [m.monitor_id for m in sim.station.monitoring.monitors] == [900, 901]


def test_clearing_a_replaced_preconfigured_monitor_brings_the_factory_one_back() -> None:
    sim = booted(factory_monitors=(PRECONFIGURED,))
    set_monitors(sim, monitor("LowerThreshold", 20, 8, id=901))
    reply, _ = answer(sim, "ClearVariableMonitoring", {"id": [901]})
    assert reply["clearMonitoringResult"] == [{"id": 901, "status": "Accepted"}]
    assert sim.station.monitoring.monitors == (PRECONFIGURED,)


@pytest.mark.requirements("N06.FR.06", "N06.FR.07")
def test_clear_over_the_declared_items_or_bytes_is_refused() -> None:
    sim = booted(
        config={
            "MonitoringCtrlr": {
                "ItemsPerMessage[ClearVariableMonitoring]": 3,
                "BytesPerMessage[ClearVariableMonitoring]": 70,
            }
        }
    )
    reply, _ = answer(sim, "ClearVariableMonitoring", {"id": [1, 2, 3, 4]})
    assert reply[2] == "OccurrenceConstraintViolation"
    reply, _ = answer(sim, "ClearVariableMonitoring", {"id": [1_000_000_001, 1_000_000_002, 1_000_000_003]})
    assert reply[2] == "FormatViolation"
    reply, _ = answer(sim, "ClearVariableMonitoring", {"id": [1]})
    assert reply == {"clearMonitoringResult": [{"id": 1, "status": "NotFound"}]}


# --- SetMonitoringBase (N03) and SetMonitoringLevel (N05) ---------------------------------------------------


@pytest.mark.requirements("N03.FR.01", "N03.FR.03", "N03.FR.04", "N03.FR.05")
def test_the_base_decides_which_monitors_exist_and_report() -> None:
    sim = booted(factory_monitors=(HARD_WIRED, PRECONFIGURED))
    set_monitors(sim, monitor("Delta", 5), monitor("LowerThreshold", 20, 8, id=901))
    assert answer(sim, "SetMonitoringBase", {"monitoringBase": "All"})[0] == {"status": "Accepted"}
    assert len(sim.station.monitoring.monitors) == 3
    reply, effects = answer(sim, "SetMonitoringBase", {"monitoringBase": "HardWiredOnly"})
    assert reply == {"status": "Accepted"}
    assert sim.station.monitoring.monitors == (HARD_WIRED, PRECONFIGURED)  # customs gone, factory 901 back
    assert persisted(effects)["device_model/MonitoringCtrlr/ActiveMonitoringBase/Actual"] == "HardWiredOnly"
    assert reading(sim, "5") == []  # PRECONFIGURED (below 10) is switched off
    assert [e["variableMonitoringId"] for e in reading(sim, "21500")] == [900]
    answer(sim, "SetMonitoringBase", {"monitoringBase": "FactoryDefault"})
    assert [e["variableMonitoringId"] for e in reading(sim, "5")] == [900, 901]  # cleared and tripped
    assert (
        get_value(sim.station.device_model, VariableKey("MonitoringCtrlr", "ActiveMonitoringBase")) == "FactoryDefault"
    )


@pytest.mark.requirements("N05.FR.01", "N05.FR.02", "N05.FR.03", "N07.FR.15")
def test_monitors_above_the_level_do_not_report() -> None:
    sim = booted()
    set_monitors(sim, monitor("UpperThreshold", 500, 3), monitor("UpperThreshold", 500, 4))
    assert answer(sim, "SetMonitoringLevel", {"severity": 10})[0] == {"status": "Rejected"}
    reply, effects = answer(sim, "SetMonitoringLevel", {"severity": 3})
    assert reply == {"status": "Accepted"}
    assert persisted(effects)["device_model/MonitoringCtrlr/ActiveMonitoringLevel/Actual"] == "3"
    (event,) = reading(sim, "600")
    assert event["variableMonitoringId"] == sim.station.monitoring.monitors[0].monitor_id
    # raising the level lets the other monitor report the situation it finds
    _, effects = answer(sim, "SetMonitoringLevel", {"severity": 9})
    assert [(e["variableMonitoringId"], e["cleared"]) for e in events(sim, effects)] == [
        (sim.station.monitoring.monitors[1].monitor_id, False)
    ]


# --- NotifyEvent (N07) --------------------------------------------------------------------------------------


@pytest.mark.requirements("N07.FR.02", "N07.FR.06", "N07.FR.07", "N07.FR.16")
def test_an_upper_threshold_reports_crossing_it_and_coming_back_once_each() -> None:
    sim = booted()
    (result,) = set_monitors(sim, monitor("UpperThreshold", 500, 4))
    assert reading(sim, "500") == []  # at the threshold is not beyond it
    sent = calls(sim.report_variable("EVSE", "Power", "800", evse_id=1))
    (call,) = sent
    assert (call.action, call.payload["seqNo"], call.payload["tbc"]) == ("NotifyEvent", 0, False)
    (event,) = call.payload["eventData"]
    assert event["trigger"] == "Alerting"
    assert event["cleared"] is False
    assert event["actualValue"] == "800"
    assert event["eventNotificationType"] == "CustomMonitor"
    assert event["variableMonitoringId"] == result["id"]
    assert (event["component"], event["variable"]) == (POWER["component"], POWER["variable"])
    sim.answer_all()
    assert reading(sim, "900") == []  # still beyond: nothing new to tell
    (back,) = reading(sim, "450")
    assert (back["cleared"], back["actualValue"], back["eventId"] > event["eventId"]) == (True, "450", True)


@pytest.mark.requirements("N07.FR.17")
def test_a_lower_threshold_reports_falling_below_it() -> None:
    sim = booted()
    sim.report_variable("EVSE", "Power", "1000", evse_id=1)
    set_monitors(sim, monitor("LowerThreshold", 100))
    assert reading(sim, "100") == []
    (event,) = reading(sim, "99.5")
    assert (event["trigger"], event["cleared"]) == ("Alerting", False)


@pytest.mark.requirements("N07.FR.18")
def test_a_numeric_delta_measures_from_the_value_of_its_last_event() -> None:
    sim = booted()
    set_monitors(sim, monitor("Delta", 100))  # Power is 0 when set
    assert reading(sim, "100") == []
    assert [e["actualValue"] for e in reading(sim, "150")] == ["150"]
    assert reading(sim, "60") == []  # 90 from 150
    (event,) = reading(sim, "40")
    assert (event["trigger"], "cleared" in event) == ("Delta", False)


@pytest.mark.requirements("N07.FR.19")
def test_a_delta_on_a_non_numeric_variable_reports_every_change() -> None:
    sim = booted()
    set_monitors(sim, monitor("Delta", 1, target=AVAILABILITY))
    assert [e["actualValue"] for e in reading(sim, "Occupied", "AvailabilityState")] == ["Occupied"]
    assert reading(sim, "Occupied", "AvailabilityState") == []
    assert [e["actualValue"] for e in reading(sim, "Faulted", "AvailabilityState")] == ["Faulted"]


CONNECTOR_AVAILABILITY = {
    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
    "variable": {"name": "AvailabilityState"},
}
STATION_AVAILABILITY = {"component": {"name": "ChargingStation"}, "variable": {"name": "AvailabilityState"}}


@pytest.mark.requirements("N07.FR.19")
def test_availability_state_monitors_report_the_status_the_station_derives() -> None:
    """The availability block keeps AvailabilityState itself (ReadOnly): its changes trip monitors like any other
    change of an Actual value (TC_E_02, TC_B_20: Delta events with actualValue Occupied, then Available)."""
    sim = booted()
    targets = (CONNECTOR_AVAILABILITY, AVAILABILITY, STATION_AVAILABILITY)
    assert [r["status"] for r in set_monitors(sim, *(monitor("Delta", 1, target=t) for t in targets))] == [
        "Accepted"
    ] * 3

    def changed(effects: Effects) -> list[tuple[str, str, str]]:
        return sorted((e["component"]["name"], e["trigger"], e["actualValue"]) for e in events(sim, effects))

    names = ("ChargingStation", "Connector", "EVSE")
    assert changed(sim.plug()) == [(name, "Delta", "Occupied") for name in names]
    assert changed(sim.plug(change="plug")) == [], "a plug the connector refuses changes nothing"
    assert changed(sim.plug(change="unplug")) == [(name, "Delta", "Available") for name in names]


def test_an_availability_monitor_above_the_active_level_stays_silent() -> None:
    sim = booted()
    set_monitors(sim, monitor("Delta", 1, severity=8, target=CONNECTOR_AVAILABILITY))
    answer(sim, "SetMonitoringLevel", {"severity": 5})
    assert events(sim, sim.plug()) == []


def test_a_value_the_boot_answer_sets_is_monitored_too() -> None:
    """B01.FR.04 sets HeartbeatInterval from the boot answer, outside SetVariables: monitors see it all the same."""
    delta = Monitor(902, VariableKey("OCPPCommCtrlr", "HeartbeatInterval"), "Delta", 30, 0, origin="HardWiredMonitor")
    sim = started(factory_monitors=(delta,))
    (event,) = events(sim, answer_boot(sim, interval=900))
    assert (event["variable"]["name"], event["actualValue"]) == ("HeartbeatInterval", "900")


def test_a_value_the_application_changes_is_monitored_too() -> None:
    sim = booted()
    set_monitors(sim, monitor("Delta", 30, target=HEARTBEAT))
    (event,) = events(sim, sim.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "100"))
    assert event["actualValue"] == "100"


@pytest.mark.requirements("N07.FR.11")
def test_replacing_a_threshold_judges_the_current_value_against_the_new_one() -> None:
    sim = booted()
    sim.report_variable("EVSE", "Power", "600", evse_id=1)
    (result,) = set_monitors(sim, monitor("UpperThreshold", 800))
    assert sim.station.rpc.queue == ()  # 600 is below 800
    _, effects = answer(
        sim, "SetVariableMonitoring", {"setMonitoringData": [monitor("UpperThreshold", 500, id=result["id"])]}
    )
    assert [(e["cleared"], e["actualValue"]) for e in events(sim, effects)] == [(False, "600")]
    _, effects = answer(
        sim, "SetVariableMonitoring", {"setMonitoringData": [monitor("UpperThreshold", 700, id=result["id"])]}
    )
    assert [e["cleared"] for e in events(sim, effects)] == [True]


@pytest.mark.requirements("N07.FR.12")
def test_clearing_a_tripped_threshold_sends_no_cleared_event() -> None:
    sim = booted()
    (result,) = set_monitors(sim, monitor("UpperThreshold", 500))
    reading(sim, "800")
    _, effects = answer(sim, "ClearVariableMonitoring", {"id": [result["id"]]})
    assert events(sim, effects) == []
    assert reading(sim, "100") == []


@pytest.mark.requirements("N07.FR.10")
def test_an_event_on_a_write_only_variable_carries_no_value() -> None:
    catalogue = raw_catalogue()
    catalogue_variable(catalogue, "SecurityCtrlr", "BasicAuthPassword")["characteristics"]["supportsMonitoring"] = True
    model = build_device_model((1,), catalogue=catalogue).unwrap()
    sim = Sim(initial_station(StationIdentity("CS001", "ws://csms.example", (1,)), model, {}))
    sim.power_up(0)
    sim.connect(1)
    answer_boot(sim)
    sim.answer_all()
    target = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    set_monitors(sim, monitor("Delta", 1, severity=0, target=target))  # severity 0: queued while offline
    changed = sim.change_variable("SecurityCtrlr", "BasicAuthPassword", "0123456789abcdef")
    assert events(sim, changed) == [], "the new password closes the connection (A01) before the event can go"
    retry = sim.station.connection.retry_at
    assert retry is not None
    sim.tick((retry - T0).total_seconds())
    (event,) = events(sim, sim.connect((retry - T0).total_seconds()))
    assert event["actualValue"] == ""


def test_a_reading_of_an_unknown_variable_changes_nothing() -> None:
    sim = booted()
    before = sim.station
    (warning,) = warnings(sim.report_variable("EVSE", "NoSuchReading", "1", evse_id=1))
    assert "NoSuchReading" in warning
    assert sim.station == before


def test_events_of_one_change_share_a_notify_event_split_by_the_report_limits() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 2}})
    set_monitors(sim, *(monitor("UpperThreshold", 100 * severity, severity) for severity in range(5)))
    sent = [c for c in calls(sim.report_variable("EVSE", "Power", "1000", evse_id=1) + sim.answer_all())]
    assert [(c.payload["seqNo"], c.payload["tbc"], len(c.payload["eventData"])) for c in sent] == [
        (0, True, 2),
        (1, True, 2),
        (2, False, 1),
    ]
    ids = [e["eventId"] for c in sent for e in c.payload["eventData"]]
    assert ids == sorted(set(ids))


def test_the_actual_value_is_cut_to_the_reporting_value_size() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ReportingValueSize": 3}})
    set_monitors(sim, monitor("Delta", 1, target=AVAILABILITY))
    assert [e["actualValue"] for e in reading(sim, "Occupied", "AvailabilityState")] == ["Occ"]


def test_a_transaction_monitor_reports_only_during_a_transaction_on_its_evse() -> None:
    sim = booted(evse_connectors=(1, 1))
    set_monitors(sim, monitor("Delta", 10, transaction=True))
    assert reading(sim, "100") == []
    sim.station = replace(sim.station, transactions=(Transaction("tx-2", 2, 1, at(3), phase="started"),))
    assert reading(sim, "200") == []  # another EVSE's transaction
    sim.station = replace(sim.station, transactions=(Transaction("tx-1", 1, 1, at(3), phase="started"),))
    (event,) = reading(sim, "300")
    assert (event["transactionId"], event["actualValue"]) == ("tx-1", "300")


@pytest.mark.requirements("N07.FR.04", "N08.FR.03")
def test_offline_only_events_up_to_the_offline_queuing_severity_are_kept_and_sent_on_reconnect() -> None:
    sim = booted(config={"MonitoringCtrlr": {"OfflineQueuingSeverity": 4}})
    set_monitors(sim, monitor("UpperThreshold", 500, 4), monitor("UpperThreshold", 500, 5))
    sim.lose(10)
    assert calls(sim.report_variable("EVSE", "Power", "800", evse_id=1)) == []
    sim.tick_deadline()  # the reconnection attempt
    low, high = sim.station.monitoring.monitors
    notified = events(sim, sim.connect(20))
    # the queued event of the trip, then the dropped one, which reports the situation it finds on reconnecting
    assert [(e["variableMonitoringId"], e["timestamp"]) for e in notified] == [
        (low.monitor_id, "2030-01-01T00:00:08.000Z"),
        (high.monitor_id, "2030-01-01T00:00:18.000Z"),
    ]


# --- periodic events (N08) ----------------------------------------------------------------------------------


@pytest.mark.requirements("N08.FR.04", "N08.FR.05", "N08.FR.06")
def test_a_periodic_monitor_reports_every_interval_from_when_it_was_set() -> None:
    sim = booted()
    sim.report_variable("EVSE", "Power", "42", evse_id=1)
    sim.now = at(10)
    set_monitors(sim, monitor("Periodic", 60))
    effects = sim.tick_deadline()
    assert sim.now == at(70)
    (call,) = calls(effects)
    (event,) = call.payload["eventData"]
    assert (call.payload["seqNo"], event["trigger"], event["actualValue"]) == (0, "Periodic", "42")
    sim.answer_all()
    sim.tick_deadline()
    assert sim.now == at(130)


@pytest.mark.requirements("N08.FR.06")
def test_a_periodic_monitor_on_the_clock_reports_the_station_clock_at_that_moment() -> None:
    sim = booted()  # the CSMS set the clock to 2030-01-01T00:00:00 at T0+2 s
    sim.now = at(2)
    clock = {"component": {"name": "ClockCtrlr"}, "variable": {"name": "DateTime"}}
    set_monitors(sim, monitor("Periodic", 60, target=clock))
    (event,) = events(sim, sim.tick_deadline())
    assert event["actualValue"] == "2030-01-01T00:01:00.000Z"


@pytest.mark.requirements("N08.FR.07")
def test_a_clock_aligned_monitor_reports_on_multiples_of_its_interval_of_the_station_clock() -> None:
    sim = booted()  # the CSMS set the clock to 2030-01-01T00:00:00 at T0+2 s
    sim.now = at(100)
    set_monitors(sim, monitor("PeriodicClockAligned", 900))
    assert sim.station.monitoring.monitors[0].due_at == at(902)
    (event,) = events(sim, sim.tick(902))
    assert event["timestamp"] == "2030-01-01T00:15:00.000Z"
    assert sim.station.monitoring.monitors[0].due_at == at(1802)


def test_a_periodic_report_missed_while_the_station_was_off_is_skipped() -> None:
    sim = booted()
    set_monitors(sim, monitor("Periodic", 60))
    store = persisted(sim.log)
    later = Sim(make_station(stored=store), now=at(1000))
    assert events(later, later.tick(1000)) == []  # due at 62, long past
    assert later.station.monitoring.monitors[0].due_at == at(1022)


# --- GetMonitoringReport (N02) ------------------------------------------------------------------------------


def report(sim: Sim, **request: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The GetMonitoringReport reply and the NotifyMonitoringReport payloads that follow it."""
    effects = sim.csms_call("GetMonitoringReport", {"requestId": 7, **request})
    (reply,) = replies(effects)
    if reply[0] == 4:
        return {"error": reply[2]}, []
    sent = [c for c in calls(effects + sim.answer_all()) if c.action == "NotifyMonitoringReport"]
    return reply[2], [c.payload for c in sent]


@pytest.mark.requirements("N02.FR.01", "N02.FR.03", "N02.FR.04", "N02.FR.09", "N02.FR.11")
def test_a_report_of_all_monitors_follows_the_response() -> None:
    sim = booted(evse_connectors=(1, 1))
    set_monitors(sim, monitor("UpperThreshold", 500), monitor("Delta", 1, target=HEARTBEAT))
    reply, payloads = report(sim)
    assert reply == {"status": "Accepted"}
    (payload,) = payloads
    assert (payload["requestId"], payload["seqNo"], payload["tbc"]) == (7, 0, False)
    assert payload["monitor"] == [
        {
            **POWER,
            "variableMonitoring": [
                {"id": 1, "transaction": False, "value": 500, "type": "UpperThreshold", "severity": 5}
            ],
        },
        {
            **HEARTBEAT,
            "variableMonitoring": [{"id": 2, "transaction": False, "value": 1, "type": "Delta", "severity": 5}],
        },
    ]


@pytest.mark.requirements(
    "N02.FR.05",
    "N02.FR.06",
    "N02.FR.08",
    "N02.FR.10",
    "N02.FR.12",
    "N02.FR.13",
    "N02.FR.14",
    "N02.FR.15",
    "N02.FR.16",
    "N02.FR.17",
)
@pytest.mark.parametrize(
    ("request_", "ids"),
    [
        ({"monitoringCriteria": ["ThresholdMonitoring"]}, [1, 2]),
        ({"monitoringCriteria": ["DeltaMonitoring"]}, [3]),
        ({"monitoringCriteria": ["PeriodicMonitoring"]}, [4]),
        ({"monitoringCriteria": ["DeltaMonitoring", "PeriodicMonitoring"]}, [3, 4]),
        ({"componentVariable": [{"component": {"name": "EVSE"}}]}, [1, 2, 4]),  # every EVSE, every variable
        ({"componentVariable": [{"component": {"name": "EVSE", "evse": {"id": 2}}}]}, [2]),
        ({"componentVariable": [{"component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}}]}, [4]),
        ({"componentVariable": [HEARTBEAT], "monitoringCriteria": ["DeltaMonitoring"]}, [3]),
        ({"componentVariable": [HEARTBEAT], "monitoringCriteria": ["ThresholdMonitoring"]}, []),
        ({"componentVariable": [{"component": {"name": "Nope"}}]}, []),
    ],
)
def test_criteria_and_component_variables_limit_the_report(request_: dict[str, Any], ids: list[int]) -> None:
    sim = booted(evse_connectors=(1, 1))
    evse2 = {"component": {"name": "EVSE", "evse": {"id": 2}}, "variable": {"name": "Power"}}
    set_monitors(
        sim,
        monitor("UpperThreshold", 500),
        monitor("LowerThreshold", 5, target=evse2),
        monitor("Delta", 1, target=HEARTBEAT),
        monitor("Periodic", 60, target=AVAILABILITY),
    )
    reply, payloads = report(sim, **request_)
    reported = [m["id"] for p in payloads for item in p["monitor"] for m in item["variableMonitoring"]]
    assert reply == {"status": "Accepted" if ids else "EmptyResultSet"}
    assert reported == ids


@pytest.mark.requirements("N02.FR.07", "N02.FR.09")
def test_a_long_report_is_split_and_too_many_component_variables_are_refused() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 2}})
    set_monitors(
        sim, monitor("Delta", 1), monitor("Delta", 1, target=HEARTBEAT), monitor("Delta", 1, target=AVAILABILITY)
    )
    _, payloads = report(sim)
    assert [(p["seqNo"], p["tbc"], len(p["monitor"])) for p in payloads] == [(0, True, 2), (1, False, 1)]
    reply, payloads = report(sim, componentVariable=[POWER, HEARTBEAT, AVAILABILITY])
    assert (reply, payloads) == ({"error": "OccurrenceConstraintViolation"}, [])


# --- restarts ------------------------------------------------------------------------------------------------


@pytest.mark.requirements("N07.FR.13", "N07.FR.14")
def test_monitors_level_and_trip_state_survive_a_restart() -> None:
    sim = booted(factory_monitors=(PRECONFIGURED,))
    set_monitors(sim, monitor("UpperThreshold", 500), monitor("LowerThreshold", 20, 8, id=901))
    answer(sim, "SetMonitoringLevel", {"severity": 6})
    (tripped,) = reading(sim, "800")
    restarted = booted(stored=persisted(sim.log), factory_monitors=(PRECONFIGURED,))
    assert restarted.station.monitoring.monitors == tuple(
        replace(m, due_at=None) for m in sim.station.monitoring.monitors
    )
    assert get_value(restarted.station.device_model, VariableKey("MonitoringCtrlr", "ActiveMonitoringLevel")) == "6"
    (cleared,) = reading(restarted, "100")  # Power restarts at 0; the reading is back below the threshold
    assert cleared["cleared"] is True
    assert cleared["eventId"] > tripped["eventId"]
    (new,) = set_monitors(restarted, monitor("Delta", 3))
    assert new["id"] not in {m.monitor_id for m in sim.station.monitoring.monitors}


def test_a_factory_monitor_keeps_its_trip_state_but_takes_its_definition_from_the_firmware() -> None:
    sim = booted(factory_monitors=(HARD_WIRED, PRECONFIGURED))
    reading(sim, "21500")
    stored = persisted(sim.log)
    assert "monitoring/monitor/900" in stored
    newer = replace(HARD_WIRED, severity=1)
    (hard,) = make_station(stored=stored, factory_monitors=(newer,)).monitoring.monitors
    assert hard == replace(newer, tripped=True)


def test_a_monitor_on_a_variable_the_station_no_longer_has_is_dropped_on_restart() -> None:
    sim = booted(evse_connectors=(1, 1))
    evse2 = {"component": {"name": "EVSE", "evse": {"id": 2}}, "variable": {"name": "Power"}}
    set_monitors(sim, monitor("Delta", 1, target=evse2), monitor("Delta", 1))
    restarted = make_station((1,), stored=persisted(sim.log))
    assert [m.key for m in restarted.monitoring.monitors] == [POWER_KEY]


def test_restored_periodic_monitors_are_scheduled_and_delta_references_kept() -> None:
    sim = booted()
    set_monitors(sim, monitor("Delta", 100))
    reading(sim, "150")
    restarted = make_station(stored=persisted(sim.log))
    (delta,) = restarted.monitoring.monitors
    assert delta.reference == "150"


@pytest.mark.requirements("N07.FR.02", "B05.FR.01")
def test_a_value_the_csms_sets_trips_the_monitor_on_it() -> None:
    """SetVariables goes through the same change path as the station's own changes, so monitors see it."""
    sim = booted()
    target = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    set_monitors(sim, monitor("UpperThreshold", 1000, severity=0, target=target))
    item = {**target, "attributeValue": "3000"}
    response, effects = answer(sim, "SetVariables", {"setVariableData": [item]})
    assert response["setVariableResult"][0]["attributeStatus"] == "Accepted"
    (event,) = [e for call in calls(effects) if call.action == "NotifyEvent" for e in call.payload["eventData"]]
    assert (event["trigger"], event["actualValue"], event["variableMonitoringId"]) == ("Alerting", "3000", 1)
