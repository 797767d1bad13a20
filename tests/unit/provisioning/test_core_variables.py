"""The device model through `step`: ChangeVariable (the station's own changes) and the CSMS's GetVariables and
SetVariables (B05, B06), and what a change does at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_helpers import Sim, at, booted, calls, of_type, persisted, replies, warnings

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import (
    Connect,
    DataTransferAnswered,
    Disconnect,
    Effects,
    Notify,
    Persist,
    SendFrame,
    VariableChanged,
)


def test_a_valid_value_is_set_and_persisted_under_its_device_model_key() -> None:
    sim = booted()
    effects = sim.change_variable("OCPPCommCtrlr", "OfflineThreshold", "900")
    assert get_value(sim.station.device_model, VariableKey("OCPPCommCtrlr", "OfflineThreshold")) == "900"
    assert of_type(effects, Persist) == [Persist((("device_model/OCPPCommCtrlr/OfflineThreshold/Actual", "900"),))]
    assert not calls(effects)


def test_a_value_of_an_evse_scoped_variable_names_its_evse_in_the_key() -> None:
    sim = booted(evse_connectors=(1, 1))
    effects = sim.change_variable("EVSE", "ISO15118EvseId", "DE*ABC*E2", evse_id=2)
    assert persisted(effects) == {"device_model/EVSE[2]/ISO15118EvseId/Actual": "DE*ABC*E2"}


def test_setting_the_value_it_already_has_persists_nothing() -> None:
    sim = booted()
    assert not of_type(sim.change_variable("OCPPCommCtrlr", "OfflineThreshold", "60"), Persist)


@pytest.mark.parametrize(
    ("component", "variable", "value"),
    [
        ("OCPPCommCtrlr", "OfflineThreshold", "soon"),  # not an integer
        ("OCPPCommCtrlr", "HeartbeatInterval", "0"),  # below minLimit 1
        ("OCPPCommCtrlr", "MessageTimeout", "10"),  # read-only (and needs its instance)
        ("OCPPCommCtrlr", "NoSuchVariable", "1"),
        ("NoSuchComponent", "Enabled", "true"),
    ],
)
def test_an_invalid_change_is_logged_and_changes_nothing(component: str, variable: str, value: str) -> None:
    sim = booted()
    before = sim.station
    effects = sim.change_variable(component, variable, value)
    assert sim.station == before
    (message,) = warnings(effects)
    assert variable in message
    assert len(effects) == 1


# --- GetVariables / SetVariables through `step` -------------------------------------------------------------


def item(component: str, variable: str, attribute: str | None = None, **where: Any) -> dict[str, Any]:
    """A GetVariableData entry; `evse`, `connector`, `instance` (component) and `variable_instance` address it."""
    component_part: dict[str, Any] = {"name": component}
    if "instance" in where:
        component_part["instance"] = where["instance"]
    if "evse" in where:
        component_part["evse"] = {"id": where["evse"]}
        if "connector" in where:
            component_part["evse"]["connectorId"] = where["connector"]
    variable_part: dict[str, Any] = {"name": variable}
    if "variable_instance" in where:
        variable_part["instance"] = where["variable_instance"]
    entry: dict[str, Any] = {"component": component_part, "variable": variable_part}
    if attribute is not None:
        entry["attributeType"] = attribute
    return entry


def setting(value: str, component: str, variable: str, attribute: str | None = None, **where: Any) -> dict[str, Any]:
    return {**item(component, variable, attribute, **where), "attributeValue": value}


def answer(effects: Effects) -> list[Any]:
    (reply,) = replies(effects)
    return reply


def get(sim: Sim, *items: dict[str, Any]) -> list[dict[str, Any]]:
    reply = answer(sim.csms_call("GetVariables", {"getVariableData": list(items)}))
    assert reply[0] == 3, reply
    results: list[dict[str, Any]] = reply[2]["getVariableResult"]
    return results


def set_(sim: Sim, *items: dict[str, Any]) -> tuple[list[dict[str, Any]], Effects]:
    effects = sim.csms_call("SetVariables", {"setVariableData": list(items)})
    reply = answer(effects)
    assert reply[0] == 3, reply
    return reply[2]["setVariableResult"], effects


def statuses(results: list[dict[str, Any]]) -> list[str]:
    return [result["attributeStatus"] for result in results]


def reasons(results: list[dict[str, Any]]) -> list[str | None]:
    return [result.get("attributeStatusInfo", {}).get("reasonCode") for result in results]


OFFLINE_THRESHOLD = VariableKey("OCPPCommCtrlr", "OfflineThreshold")


def test_clock_date_time_reads_the_station_clock_at_the_moment_of_the_request() -> None:
    """ClockCtrlr.DateTime is computed at each GetVariables, on the clock the CSMS set (CSMS_TIME at T0+2 s),
    never a stored value; a Heartbeat answer that moves the clock moves it too."""
    sim = booted()
    date_time = item("ClockCtrlr", "DateTime")
    sim.now = at(12)
    assert [r["attributeValue"] for r in get(sim, date_time)] == ["2030-01-01T00:00:10.000Z"]
    sim.now = at(72.5)
    assert [r["attributeValue"] for r in get(sim, date_time)] == ["2030-01-01T00:01:10.500Z"]
    sim.correct_clock(-30)
    assert [r["attributeValue"] for r in get(sim, date_time)] == ["2030-01-01T00:00:40.500Z"]
    assert get_value(sim.station.device_model, VariableKey("ClockCtrlr", "DateTime")) == "1970-01-01T00:00:00Z", (
        "nothing is stored: the request only read the clock"
    )


@pytest.mark.requirements("B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10", "B06.FR.11")
def test_get_answers_each_item_echoing_component_variable_and_attribute_type() -> None:
    sim = booted(evse_connectors=(1, 1))
    asked = [
        item("OCPPCommCtrlr", "OfflineThreshold"),
        item("OCPPCommCtrlr", "HeartbeatInterval", "Actual"),
        item("EVSE", "AvailabilityState", evse=2),
        item("Connector", "ConnectorType", evse=1, connector=1),
        item("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default"),
    ]
    results = get(sim, *asked)
    assert [(r["component"], r["variable"]) for r in results] == [(a["component"], a["variable"]) for a in asked]
    assert [r["attributeType"] for r in results] == ["Actual"] * 5
    assert [r["attributeValue"] for r in results] == ["60", "300", "Available", "cType2", "30"]
    assert statuses(results) == ["Accepted"] * 5


@pytest.mark.requirements("B06.FR.06", "B06.FR.07", "B06.FR.08", "B06.FR.15")
@pytest.mark.parametrize(
    ("asked", "status"),
    [
        (item("NoSuchCtrlr", "OfflineThreshold"), "UnknownComponent"),
        (item("EVSE", "AvailabilityState"), "UnknownComponent"),  # an EVSE is named by its id
        (item("EVSE", "AvailabilityState", evse=3), "UnknownComponent"),
        (item("Connector", "ConnectorType", evse=1), "UnknownComponent"),  # a connector needs its id
        (item("OCPPCommCtrlr", "OfflineThreshold", evse=1), "UnknownComponent"),
        (item("OCPPCommCtrlr", "OfflineThreshold", instance="Other"), "UnknownComponent"),
        (item("OCPPCommCtrlr", "NoSuchVariable"), "UnknownVariable"),
        (item("OCPPCommCtrlr", "MessageTimeout"), "UnknownVariable"),  # only MessageTimeout[Default] exists
        (item("OCPPCommCtrlr", "OfflineThreshold", variable_instance="X"), "UnknownVariable"),
        (item("OCPPCommCtrlr", "OfflineThreshold", "Target"), "NotSupportedAttributeType"),
    ],
)
def test_get_of_what_the_station_does_not_have(asked: dict[str, Any], status: str) -> None:
    (result,) = get(booted(evse_connectors=(1, 1)), asked)
    assert result["attributeStatus"] == status
    assert "attributeValue" not in result
    assert result["attributeType"] == asked.get("attributeType", "Actual")


@pytest.mark.requirements("B06.FR.01", "B06.FR.02", "B06.FR.06", "B06.FR.07")
def test_get_takes_component_and_variable_names_and_instances_in_any_case() -> None:
    """ComponentType and VariableType say name and instance are case insensitive; the result echoes the
    request's spelling (B06.FR.02), so the CSMS finds its own item."""
    sim = booted(evse_connectors=(1, 1))
    asked = [
        item("ocppcommctrlr", "heartbeatinterval"),
        item("OCPPCOMMCTRLR", "messageTimeout", variable_instance="DEFAULT"),
        item("evse", "AVAILABILITYSTATE", evse=2),
        item("ocppcommctrlr", "NoSuchVariable"),
        item("nosuchctrlr", "heartbeatinterval"),
        item("ocppcommctrlr", "heartbeatinterval", instance="other"),
    ]
    results = get(sim, *asked)
    assert [(r["component"], r["variable"]) for r in results] == [(a["component"], a["variable"]) for a in asked]
    assert statuses(results) == ["Accepted"] * 3 + ["UnknownVariable", "UnknownComponent", "UnknownComponent"]
    assert [r.get("attributeValue") for r in results[:3]] == ["300", "30", "Available"]


@pytest.mark.requirements("B05.FR.01", "B05.FR.02")
def test_set_takes_names_in_any_case_and_changes_the_station_s_own_variable() -> None:
    sim = booted()
    results, effects = set_(sim, setting("120", "ocppcommctrlr", "HEARTBEATINTERVAL"), setting("7", "x", "y"))
    assert statuses(results) == ["Accepted", "UnknownComponent"]
    assert (results[0]["component"], results[0]["variable"]) == (
        {"name": "ocppcommctrlr"},
        {"name": "HEARTBEATINTERVAL"},
    )
    assert get_value(sim.station.device_model, VariableKey("OCPPCommCtrlr", "HeartbeatInterval")) == "120"
    assert persisted(effects) == {"device_model/OCPPCommCtrlr/HeartbeatInterval/Actual": "120"}
    assert [r["attributeValue"] for r in get(sim, item("OCPPCommCtrlr", "HeartbeatInterval"))] == ["120"]


@pytest.mark.requirements("B06.FR.09")
def test_get_of_a_write_only_value_is_rejected_without_the_value() -> None:
    sim = booted(config={"SecurityCtrlr": {"BasicAuthPassword": "0123456789abcdef"}})
    (result,) = get(sim, item("SecurityCtrlr", "BasicAuthPassword"))
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "WriteOnly"
    assert "0123456789abcdef" not in json.dumps(result)


@pytest.mark.requirements("B06.FR.13")
def test_get_of_a_supported_attribute_without_a_value_is_an_empty_string() -> None:
    (result,) = get(booted(), item("ISO15118Ctrlr", "SelftestActive", "Target"))
    assert (result["attributeStatus"], result["attributeValue"]) == ("Accepted", "")


def test_get_cuts_values_to_reporting_value_size() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ReportingValueSize": 5}})
    (result,) = get(sim, item("SecurityCtrlr", "OrganizationName"))
    assert result["attributeValue"] == "charg"


@pytest.mark.requirements("B06.FR.16")
def test_more_get_items_than_items_per_message_is_an_occurrence_constraint_violation() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ItemsPerMessage[GetVariables]": 2}})
    assert get(sim, *[item("OCPPCommCtrlr", "OfflineThreshold")] * 2)
    reply = answer(sim.csms_call("GetVariables", {"getVariableData": [item("OCPPCommCtrlr", "OfflineThreshold")] * 3}))
    assert reply[:3] == [4, "csms-1", "OccurrenceConstraintViolation"]
    assert "ItemsPerMessage[GetVariables] 2" in reply[3]


@pytest.mark.requirements("B06.FR.17")
def test_a_get_request_longer_than_bytes_per_message_is_a_format_violation() -> None:
    payload = {"getVariableData": [item("OCPPCommCtrlr", "OfflineThreshold")]}
    size = len(json.dumps([2, "csms-1", "GetVariables", payload], separators=(",", ":")))
    fits = booted(config={"DeviceDataCtrlr": {"BytesPerMessage[GetVariables]": size}})
    assert answer(fits.csms_call("GetVariables", payload))[0] == 3
    too_small = booted(config={"DeviceDataCtrlr": {"BytesPerMessage[GetVariables]": size - 1}})
    assert answer(too_small.csms_call("GetVariables", payload))[2] == "FormatViolation"


def test_set_limits_are_enforced_like_get_limits() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ItemsPerMessage[SetVariables]": 1, "BytesPerMessage[SetVariables]": 150}})
    before = sim.station
    two = {"setVariableData": [setting("300", "OCPPCommCtrlr", "OfflineThreshold")] * 2}
    assert answer(sim.csms_call("SetVariables", two))[2] == "OccurrenceConstraintViolation"
    long = {"setVariableData": [setting("x" * 100, "SecurityCtrlr", "OrganizationName")]}
    assert answer(sim.csms_call("SetVariables", long))[2] == "FormatViolation"
    assert sim.station == before


@pytest.mark.requirements("B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12")
def test_set_persists_then_replies_then_tells_the_application() -> None:
    sim = booted()
    results, effects = set_(
        sim,
        setting("300", "OCPPCommCtrlr", "OfflineThreshold"),
        setting("false", "AuthCtrlr", "LocalAuthorizeOffline", "Actual"),
    )
    assert statuses(results) == ["Accepted", "Accepted"]
    assert [r["attributeType"] for r in results] == ["Actual", "Actual"]
    assert get_value(sim.station.device_model, OFFLINE_THRESHOLD) == "300"
    assert [type(effect) for effect in effects] == [Persist, SendFrame, Notify, Notify]
    assert persisted(effects) == {
        "device_model/OCPPCommCtrlr/OfflineThreshold/Actual": "300",
        "device_model/AuthCtrlr/LocalAuthorizeOffline/Actual": "false",
    }
    assert [effect.event for effect in of_type(effects, Notify)] == [
        VariableChanged(OFFLINE_THRESHOLD, "Actual", "300", "CSMS"),
        VariableChanged(VariableKey("AuthCtrlr", "LocalAuthorizeOffline"), "Actual", "false", "CSMS"),
    ]


def test_setting_the_value_a_variable_has_is_accepted_and_changes_nothing() -> None:
    sim = booted()
    results, effects = set_(sim, setting("60", "OCPPCommCtrlr", "OfflineThreshold"))
    assert statuses(results) == ["Accepted"]
    assert len(effects) == 1


@pytest.mark.requirements("B05.FR.04", "B05.FR.05", "B05.FR.06", "B05.FR.07", "B05.FR.09")
@pytest.mark.parametrize(
    ("data", "status", "reason"),
    [
        (setting("1", "NoSuchCtrlr", "OfflineThreshold"), "UnknownComponent", "NotFound"),
        (setting("1", "EVSE", "ISO15118EvseId"), "UnknownComponent", "NotFound"),
        (setting("1", "OCPPCommCtrlr", "NoSuchVariable"), "UnknownVariable", "NotFound"),
        (setting("1", "OCPPCommCtrlr", "OfflineThreshold", "Target"), "NotSupportedAttributeType", "UnsupportedParam"),
        (setting("1.1", "OCPPCommCtrlr", "OfflineThreshold"), "Rejected", "InvalidValue"),
        (setting("abc", "OCPPCommCtrlr", "OfflineThreshold"), "Rejected", "InvalidValue"),
        (setting("0", "OCPPCommCtrlr", "HeartbeatInterval"), "Rejected", "ValueTooLow"),
        (setting("101", "SmartChargingCtrlr", "LimitChangeSignificance"), "Rejected", "ValueTooHigh"),
        (setting("yes", "AuthCtrlr", "AuthorizeRemoteStart"), "Rejected", "InvalidValue"),
        (setting("LIFO", "AuthCacheCtrlr", "Policy"), "Rejected", "ValueOutOfRange"),
        (setting("Heartbeat,GPS", "ClockCtrlr", "TimeSource"), "Rejected", "ValueOutOfRange"),
        (setting("true", "ClockCtrlr", "NextTimeOffsetTransitionDateTime"), "Rejected", "InvalidValue"),
        (setting("10", "OCPPCommCtrlr", "MessageTimeout", variable_instance="Default"), "Rejected", "ReadOnly"),
        (setting("pw-secret-1", "SecurityCtrlr", "BasicAuthPassword"), "Rejected", "InvalidValue"),
    ],
)
def test_a_refused_set_item_changes_nothing(data: dict[str, Any], status: str, reason: str) -> None:
    sim = booted()
    before = sim.station
    results, effects = set_(sim, data)
    assert (statuses(results), reasons(results)) == ([status], [reason])
    assert sim.station == before
    assert len(effects) == 1
    assert "pw-secret-1" not in json.dumps(results)  # a refused password is never echoed


def test_a_value_longer_than_configuration_value_size_is_rejected() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ConfigurationValueSize": 8}})
    results, _ = set_(sim, setting("123456789", "SecurityCtrlr", "OrganizationName"))
    assert (statuses(results), reasons(results)) == (["Rejected"], ["TooLargeElement"])
    results, _ = set_(sim, setting("12345678", "SecurityCtrlr", "OrganizationName"))
    assert statuses(results) == ["Accepted"]


def test_accepted_items_are_applied_and_refused_ones_are_not() -> None:
    sim = booted()
    results, effects = set_(
        sim,
        setting("abc", "OCPPCommCtrlr", "OfflineThreshold"),
        setting("120", "OCPPCommCtrlr", "HeartbeatInterval"),
        setting("x", "NoSuchCtrlr", "Y"),
    )
    assert statuses(results) == ["Rejected", "Accepted", "UnknownComponent"]
    assert persisted(effects) == {"device_model/OCPPCommCtrlr/HeartbeatInterval/Actual": "120"}
    assert get_value(sim.station.device_model, OFFLINE_THRESHOLD) == "60"


@pytest.mark.requirements("B05.FR.09")
def test_a_variable_applied_at_boot_answers_reboot_required_and_keeps_the_value() -> None:
    sim = booted()
    results, effects = set_(sim, setting("2,1", "OCPPCommCtrlr", "NetworkConfigurationPriority"))
    assert statuses(results) == ["RebootRequired"]
    assert persisted(effects) == {"device_model/OCPPCommCtrlr/NetworkConfigurationPriority/Actual": "2,1"}


def test_heartbeat_interval_set_by_the_csms_re_arms_the_heartbeat_at_once() -> None:
    sim = booted(interval=300)
    sim.now = at(100)
    set_(sim, setting("20", "OCPPCommCtrlr", "HeartbeatInterval"))
    assert sim.station.registration.heartbeat_at == at(120)
    assert [call.action for call in calls(sim.tick(120))] == ["Heartbeat"]


def test_heartbeat_interval_set_before_the_boot_is_accepted_starts_no_timer() -> None:
    sim = booted(status="Pending")
    set_(sim, setting("20", "OCPPCommCtrlr", "HeartbeatInterval"))
    assert sim.station.registration.heartbeat_at is None


def test_pending_station_answers_set_and_get_variables() -> None:
    """TC_B_02: while Pending the CSMS configures the station."""
    sim = booted(status="Pending")
    results, _ = set_(sim, setting("300", "OCPPCommCtrlr", "OfflineThreshold"))
    assert statuses(results) == ["Accepted"]
    assert get(sim, item("OCPPCommCtrlr", "OfflineThreshold"))[0]["attributeValue"] == "300"


def test_retry_back_off_and_offline_threshold_set_by_the_csms_apply_to_the_next_use() -> None:
    sim = booted(evse_connectors=(1, 1))
    set_(
        sim,
        setting("20", "OCPPCommCtrlr", "RetryBackOffWaitMinimum"),
        setting("0", "OCPPCommCtrlr", "RetryBackOffRandomRange"),
        setting("1000", "OCPPCommCtrlr", "OfflineThreshold"),
    )
    sim.lose(100, jitter=0.9)
    assert sim.station.connection.retry_at == at(120)
    sim.tick_deadline()
    # offline 30 s, below the new OfflineThreshold: only changed statuses are reported (B04.FR.02), none here
    assert not calls(sim.connect(130))


PASSWORD_CONFIG = {"SecurityCtrlr": {"BasicAuthPassword": "0123456789abcdef"}}
NEW_PASSWORD = "fedcba9876543210"


@pytest.mark.requirements("A01.FR.01", "A01.FR.11")
def test_a_new_basic_auth_password_reconnects_with_it_after_the_reply() -> None:
    sim = booted(config=PASSWORD_CONFIG)
    sim.now = at(50)
    sim.send_data_transfer("org.example", "pending")  # a CALL of ours is outstanding when the password changes
    results, effects = set_(sim, setting(NEW_PASSWORD, "SecurityCtrlr", "BasicAuthPassword"))
    assert statuses(results) == ["Accepted"]
    kinds = [type(effect) for effect in effects]
    assert kinds[:4] == [Persist, SendFrame, Notify, Disconnect]
    assert persisted(effects) == {"device_model/SecurityCtrlr/BasicAuthPassword/Actual": NEW_PASSWORD}
    answered = [e.event for e in of_type(effects, Notify) if isinstance(e.event, DataTransferAnswered)]
    assert answered == [DataTransferAnswered("org.example", "pending", None)]  # given up with the connection
    assert sim.station.rpc.phase == "closed"
    (connect,) = of_type(sim.tick_deadline(), Connect)
    assert sim.now == at(50)
    assert connect.basic_auth_password == NEW_PASSWORD
    assert not calls(sim.connect())  # still Accepted: no new boot


@pytest.mark.requirements("A01.FR.12")
def test_a_refused_password_keeps_the_connection() -> None:
    sim = booted(config=PASSWORD_CONFIG)
    results, effects = set_(sim, setting("too-short", "SecurityCtrlr", "BasicAuthPassword"))
    assert statuses(results) == ["Rejected"]
    assert not of_type(effects, Disconnect)
    assert sim.station.connection.phase == "up"


def test_a_station_side_change_notifies_and_takes_effect_like_a_csms_one() -> None:
    sim = booted(config=PASSWORD_CONFIG)
    effects = sim.change_variable("SecurityCtrlr", "BasicAuthPassword", NEW_PASSWORD)
    assert [effect.event for effect in of_type(effects, Notify)] == [
        VariableChanged(VariableKey("SecurityCtrlr", "BasicAuthPassword"), "Actual", NEW_PASSWORD, "station")
    ]
    assert of_type(effects, Disconnect)
    (connect,) = of_type(sim.tick_deadline(), Connect)
    assert connect.basic_auth_password == NEW_PASSWORD


# --- bounds (issue 10: a value the CSMS sets must never make a timer overflow, now or after a restart) ---------

TIMER_VARIABLES = [
    ("OCPPCommCtrlr", "HeartbeatInterval", 86400),
    ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", 3600),
    ("OCPPCommCtrlr", "RetryBackOffRandomRange", 3600),
    ("SampledDataCtrlr", "TxUpdatedInterval", 86400),
    ("SampledDataCtrlr", "TxEndedInterval", 86400),
    ("AlignedDataCtrlr", "TxEndedInterval", 86400),
]
"""The variables whose 999999999999 was once accepted, then fatal, with their maxLimit."""


def run_past_every_timer(sim: Sim) -> None:
    """Start a transaction, lose and regain the connection, and tick at each deadline: every timer the
    variables above drive (heartbeat, reconnect back-off, sampled and clock-aligned meter values) fires."""
    sim.meter(1000.0, 7000.0)
    sim.plug()
    sim.answer_all()
    sim.present_token()
    sim.answer_all()
    sim.power_path(closed=True)
    sim.answer_all()
    sim.lose(jitter=1.0)
    sim.tick_deadline()
    sim.connect()
    sim.answer_all()
    for _ in range(4):
        sim.tick_deadline()
        sim.answer_all()


@pytest.mark.parametrize(("component", "variable", "highest"), TIMER_VARIABLES)
def test_a_value_above_max_limit_is_rejected_and_the_station_runs_on(
    component: str, variable: str, highest: int
) -> None:
    sim = booted()
    results, effects = set_(sim, setting("999999999999", component, variable))
    assert (statuses(results), reasons(results)) == (["Rejected"], ["ValueTooHigh"])
    assert not persisted(effects)
    run_past_every_timer(sim)


@pytest.mark.parametrize(("component", "variable", "highest"), TIMER_VARIABLES)
def test_the_max_limit_itself_is_accepted_and_its_timers_run(component: str, variable: str, highest: int) -> None:
    sim = booted()
    results, _ = set_(sim, setting(str(highest), component, variable))
    assert statuses(results) == ["Accepted"]
    run_past_every_timer(sim)


@pytest.mark.parametrize(("component", "variable", "highest"), TIMER_VARIABLES)
def test_a_persisted_value_above_max_limit_falls_back_to_the_default_at_the_next_start(
    component: str, variable: str, highest: int
) -> None:
    """A value an older version accepted and stored must not kill the station at every start."""
    key = f"device_model/{component}/{variable}/Actual"
    sim = booted(stored={key: "999999999999"})
    assert get_value(sim.station.device_model, VariableKey(component, variable)) != "999999999999"
    run_past_every_timer(sim)
