"""Part 6 block B Get/SetVariables test cases (B05, B06), TC_B_02 (configuration while Pending) and the A01
password change, against the real station over the wire; plus what a restart keeps of values the CSMS set."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from harness import StationFactory, boot, connector_count, receive_report

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.effects import VariableChanged
from chargecore.testing.csms_double import CsmsDouble, ocpp_now, wait_until

Item = dict[str, Any]

OLD_PASSWORD = "0123456789abcdef"
NEW_PASSWORD = "NewPassword-0123456789"


def variable(component: str, name: str, attribute: str | None = None, instance: str | None = None) -> Item:
    data: Item = {"component": {"name": component}, "variable": {"name": name}}
    if instance is not None:
        data["variable"]["instance"] = instance
    if attribute is not None:
        data["attributeType"] = attribute
    return data


def value(text: str, component: str, name: str, attribute: str | None = None, instance: str | None = None) -> Item:
    return {**variable(component, name, attribute, instance), "attributeValue": text}


def get_variables(csms: CsmsDouble, *items: Item) -> list[Item]:
    reply = csms.call("GetVariables", {"getVariableData": list(items)})
    assert reply.payload is not None, f"CALLERROR {reply.error_code}: {reply.error_description}"
    results: list[Item] = reply.payload["getVariableResult"]
    return results


def set_variables(csms: CsmsDouble, *items: Item) -> list[Item]:
    reply = csms.call("SetVariables", {"setVariableData": list(items)})
    assert reply.payload is not None, f"CALLERROR {reply.error_code}: {reply.error_description}"
    results: list[Item] = reply.payload["setVariableResult"]
    return results


def no_error_info(result: Item) -> bool:
    """Part 6: "attributeStatusInfo is absent or attributeStatusInfo.reasonCode = NoError"."""
    return result.get("attributeStatusInfo", {"reasonCode": "NoError"})["reasonCode"] == "NoError"


def named(result: Item, component: str, name: str) -> bool:
    return result["component"]["name"] == component and result["variable"]["name"] == name


OFFLINE_THRESHOLD_300 = {"OCPPCommCtrlr": {"OfflineThreshold": 300}}
"""Configuration State of TC_B_06/07: OCPPCommCtrlr.OfflineThreshold is 300."""


# --- GetVariables (B06) -------------------------------------------------------------------------------------


@pytest.mark.requirements("B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10", "B06.FR.11")
def test_TC_B_06_CS_get_variables_single_value(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(config=OFFLINE_THRESHOLD_300), csms)
    (result,) = get_variables(csms, variable("OCPPCommCtrlr", "OfflineThreshold", "Actual"))
    assert result["attributeStatus"] == "Accepted"
    assert result["attributeType"] == "Actual"
    assert result["attributeValue"] == "300"
    assert named(result, "OCPPCommCtrlr", "OfflineThreshold")
    assert no_error_info(result)


@pytest.mark.requirements("B06.FR.01", "B06.FR.02", "B06.FR.03", "B06.FR.04", "B06.FR.10")
def test_TC_B_07_CS_get_variables_multiple_values(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {**OFFLINE_THRESHOLD_300, "AuthCtrlr": {"LocalAuthorizeOffline": True}}
    boot(station_factory(config=config), csms)
    results = get_variables(
        csms,
        variable("OCPPCommCtrlr", "OfflineThreshold", "Actual"),
        variable("AuthCtrlr", "LocalAuthorizeOffline", "Actual"),
    )
    assert len(results) == 2
    by_name = {result["variable"]["name"]: result for result in results}
    assert named(by_name["OfflineThreshold"], "OCPPCommCtrlr", "OfflineThreshold")
    assert named(by_name["LocalAuthorizeOffline"], "AuthCtrlr", "LocalAuthorizeOffline")
    assert by_name["OfflineThreshold"]["attributeValue"] == "300"
    assert by_name["LocalAuthorizeOffline"]["attributeValue"] == "true"
    for result in results:
        assert (result["attributeStatus"], result["attributeType"]) == ("Accepted", "Actual")
        assert no_error_info(result)


@pytest.mark.requirements("B06.FR.06")
def test_TC_B_32_CS_get_variables_unknown_component(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(), csms)
    (result,) = get_variables(csms, variable("UnknownComponent", "OfflineThreshold"))
    assert result["attributeStatus"] == "UnknownComponent"
    assert named(result, "UnknownComponent", "OfflineThreshold")
    assert "attributeValue" not in result


@pytest.mark.requirements("B06.FR.07")
def test_TC_B_33_CS_get_variables_unknown_variable(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(), csms)
    (result,) = get_variables(csms, variable("OCPPCommCtrlr", "UnknownVariable"))
    assert result["attributeStatus"] == "UnknownVariable"
    assert named(result, "OCPPCommCtrlr", "UnknownVariable")
    assert "attributeValue" not in result


@pytest.mark.requirements("B06.FR.08")
def test_TC_B_34_CS_get_variables_not_supported_attribute_type(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    boot(station_factory(), csms)
    (result,) = get_variables(csms, variable("OCPPCommCtrlr", "OfflineThreshold", "Target"))
    assert result["attributeStatus"] == "NotSupportedAttributeType"
    assert named(result, "OCPPCommCtrlr", "OfflineThreshold")
    assert result["attributeType"] == "Target"


@pytest.mark.requirements("B06.FR.16")
def test_more_get_variables_items_than_items_per_message(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """Not TC_B_08_CS: errata 2023-12 removed it (B06.FR.05 binds the CSMS) and its per-item Rejected answer
    is not what B06.FR.16 gives a station, a CALLERROR OccurrenceConstraintViolation (libocpp does the same)."""
    boot(station_factory(), csms)
    (limit,) = get_variables(csms, variable("DeviceDataCtrlr", "ItemsPerMessage", instance="GetVariables"))
    items = int(limit["attributeValue"])
    assert len(get_variables(csms, *[variable("OCPPCommCtrlr", "OfflineThreshold")] * items)) == items
    reply = csms.call(
        "GetVariables", {"getVariableData": [variable("OCPPCommCtrlr", "OfflineThreshold")] * (items + 1)}
    )
    assert reply.error_code == "OccurrenceConstraintViolation"


@pytest.mark.requirements("B06.FR.17")
def test_a_get_variables_request_longer_than_bytes_per_message(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    boot(station_factory(config={"DeviceDataCtrlr": {"BytesPerMessage[GetVariables]": 200}}), csms)
    reply = csms.call("GetVariables", {"getVariableData": [variable("OCPPCommCtrlr", "OfflineThreshold")] * 3})
    assert reply.error_code == "FormatViolation"
    assert len(get_variables(csms, variable("OCPPCommCtrlr", "OfflineThreshold"))) == 1


# --- SetVariables (B05) ------------------------------------------------------------------------------------


@pytest.mark.requirements("B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12")
def test_TC_B_09_CS_set_variables_single_value(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(), csms)
    (result,) = set_variables(csms, value("300", "OCPPCommCtrlr", "OfflineThreshold", "Actual"))
    assert (result["attributeStatus"], result["attributeType"]) == ("Accepted", "Actual")
    assert named(result, "OCPPCommCtrlr", "OfflineThreshold")
    assert no_error_info(result)
    changed = VariableChanged(VariableKey("OCPPCommCtrlr", "OfflineThreshold"), "Actual", "300", "CSMS")
    wait_until(lambda: changed in booted.application.events, "the application to hear of the change")


@pytest.mark.requirements("B05.FR.01", "B05.FR.02", "B05.FR.03", "B05.FR.10", "B05.FR.12")
def test_TC_B_10_CS_set_variables_multiple_values(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(config={"AuthCtrlr": {"LocalAuthorizeOffline": False}}), csms)
    results = set_variables(
        csms,
        value("300", "OCPPCommCtrlr", "OfflineThreshold", "Actual"),
        value("true", "AuthCtrlr", "LocalAuthorizeOffline", "Actual"),
    )
    assert len(results) == 2
    by_name = {result["variable"]["name"]: result for result in results}
    assert named(by_name["OfflineThreshold"], "OCPPCommCtrlr", "OfflineThreshold")
    assert named(by_name["LocalAuthorizeOffline"], "AuthCtrlr", "LocalAuthorizeOffline")
    for result in results:
        assert (result["attributeStatus"], result["attributeType"]) == ("Accepted", "Actual")
        assert no_error_info(result)
    values = get_variables(
        csms, variable("OCPPCommCtrlr", "OfflineThreshold"), variable("AuthCtrlr", "LocalAuthorizeOffline")
    )
    assert [result["attributeValue"] for result in values] == ["300", "true"]


@pytest.mark.requirements("B05.FR.01", "B05.FR.02", "B06.FR.01", "B06.FR.02", "N04.FR.01")
def test_component_and_variable_names_in_any_case(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """ComponentType and VariableType names are case insensitive: Get, Set and SetVariableMonitoring take them
    as GetReport does, and each result echoes the request's spelling."""
    boot(station_factory(), csms)
    lower = value("45", "ocppcommctrlr", "heartbeatinterval")
    (result,) = set_variables(csms, lower)
    assert result["attributeStatus"] == "Accepted" and named(result, "ocppcommctrlr", "heartbeatinterval")
    (read,) = get_variables(csms, variable("OCPPCOMMCTRLR", "HeartBeatInterval"))
    assert (read["attributeStatus"], read["attributeValue"]) == ("Accepted", "45")
    assert named(read, "OCPPCOMMCTRLR", "HeartBeatInterval")
    (timeout,) = get_variables(csms, variable("ocppcommctrlr", "messagetimeout", instance="default"))
    assert timeout["attributeStatus"] == "Accepted" and timeout["variable"] == {
        "name": "messagetimeout",
        "instance": "default",
    }
    monitor = {"type": "Delta", "value": 10, "severity": 5, **variable("ocppcommctrlr", "heartbeatinterval")}
    reply = csms.call("SetVariableMonitoring", {"setMonitoringData": [monitor]})
    assert reply.payload is not None, reply
    (monitored,) = reply.payload["setMonitoringResult"]
    assert monitored["status"] == "Accepted" and monitored["component"] == {"name": "ocppcommctrlr"}


@pytest.mark.requirements("B05.FR.04")
def test_TC_B_35_CS_set_variables_unknown_component(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(), csms)
    (result,) = set_variables(csms, value("300", "UnknownComponent", "OfflineThreshold"))
    assert result["attributeStatus"] == "UnknownComponent"
    assert named(result, "UnknownComponent", "OfflineThreshold")


@pytest.mark.requirements("B05.FR.05")
def test_TC_B_36_CS_set_variables_unknown_variable(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(), csms)
    (result,) = set_variables(csms, value("300", "OCPPCommCtrlr", "UnknownVariable"))
    assert result["attributeStatus"] == "UnknownVariable"
    assert named(result, "OCPPCommCtrlr", "UnknownVariable")


@pytest.mark.requirements("B05.FR.06")
def test_TC_B_37_CS_set_variables_not_supported_attribute_type(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    boot(station_factory(), csms)
    (result,) = set_variables(csms, value("300", "OCPPCommCtrlr", "OfflineThreshold", "Target"))
    assert result["attributeStatus"] == "NotSupportedAttributeType"
    assert named(result, "OCPPCommCtrlr", "OfflineThreshold")
    assert result["attributeType"] == "Target"


TC_B_11_VARIABLES = (
    ("OCPPCommCtrlr", "OfflineThreshold", {"1"}),  # integer
    ("SmartChargingCtrlr", "LimitChangeSignificance", {"1", "1.1"}),  # decimal
    ("AuthCtrlr", "AuthorizeRemoteStart", {"true"}),  # boolean, ReadWrite here
    ("ClockCtrlr", "NextTimeOffsetTransitionDateTime", {"currentTime"}),  # dateTime
)
"""Steps 1-8: each variable and the values of the five that are well formed for its type."""


@pytest.mark.requirements("B05.FR.07")
def test_TC_B_11_CS_set_variables_invalidly_formatted_values(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(), csms)
    current_time = ocpp_now()
    for raw in ("1", "1.1", "true", "currentTime", "abc"):  # "Steps 1 to 8 are repeated 5 times"
        text = current_time if raw == "currentTime" else raw
        for component, name, well_formed in TC_B_11_VARIABLES:
            (result,) = set_variables(csms, value(text, component, name))
            assert named(result, component, name)
            assert result["attributeType"] == "Actual"
            if raw in well_formed:
                assert result["attributeStatus"] == "Accepted", (component, name, text, result)
            else:
                assert result["attributeStatus"] == "Rejected", (component, name, text, result)
                assert result["attributeStatusInfo"]["reasonCode"] == "InvalidValue"


@pytest.mark.requirements("B05.FR.09")
def test_TC_B_39_CS_set_variables_read_only(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(), csms)
    (result,) = set_variables(csms, value("10", "OCPPCommCtrlr", "MessageTimeout", instance="Default"))
    assert result["attributeStatus"] == "Rejected"
    assert named(result, "OCPPCommCtrlr", "MessageTimeout")
    assert result["variable"]["instance"] == "Default"
    (unchanged,) = get_variables(csms, variable("OCPPCommCtrlr", "MessageTimeout", instance="Default"))
    assert unchanged["attributeValue"] == "5"  # the test station's configured value


# --- TC_B_02: configuration while Pending --------------------------------------------------------------------


@pytest.mark.requirements("B02.FR.02", "B02.FR.06", "F06.FR.17")
def test_TC_B_02_CS_cold_boot_pending(csms: CsmsDouble, station_factory: StationFactory) -> None:
    station = station_factory(evse_connectors=(1, 1))
    pending = csms.answer_boot("Pending", interval=60)  # steps 1-2

    (set_result,) = set_variables(csms, value("300", "OCPPCommCtrlr", "OfflineThreshold"))  # steps 3-4
    assert (set_result["attributeStatus"], set_result["attributeType"]) == ("Accepted", "Actual")
    (get_result,) = get_variables(csms, variable("OCPPCommCtrlr", "OfflineThreshold"))  # steps 5-6
    assert (get_result["attributeStatus"], get_result["attributeValue"]) == ("Accepted", "300")

    report = csms.call("GetBaseReport", {"requestId": 202, "reportBase": "FullInventory"})  # steps 7-8
    assert report.payload is not None and report.payload["status"] == "Accepted", report
    assert receive_report(csms, 202)[-1].payload["tbc"] is False  # steps 9-10

    token = {"idToken": "PENDING01", "type": "ISO14443"}
    start = csms.call("RequestStartTransaction", {"idToken": token, "remoteStartId": 7, "evseId": 1})  # 11-12
    assert start.payload is not None and start.payload["status"] == "Rejected", start
    assert not csms.calls("TransactionEvent") and not csms.calls("StatusNotification"), "nothing else while Pending"

    trigger = csms.call("TriggerMessage", {"requestedMessage": "BootNotification"})  # steps 13-14
    assert trigger.payload is not None and trigger.payload["status"] == "Accepted", trigger
    rebooted = csms.answer_boot("Accepted", interval=60)  # steps 15-16
    assert rebooted.payload["reason"] == "Triggered" and rebooted.message_id != pending.message_id
    statuses = csms.expect_calls("StatusNotification", connector_count(station))  # steps 17-18
    assert {call.payload["connectorStatus"] for call in statuses} == {"Available"}
    assert csms.session_count == 1, "the connection stayed open throughout"


# --- A01: a new BasicAuthPassword -----------------------------------------------------------------------------


def basic_auth(password: str) -> str:
    return "Basic " + base64.b64encode(f"CS001:{password}".encode()).decode("ascii")


@pytest.mark.requirements("A01.FR.01", "A01.FR.11", "A01.FR.12", "B01.FR.01")
def test_TC_A_09_CS_update_basic_auth_password_accepted(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(password=OLD_PASSWORD), csms)
    assert csms.wait_session(1).attempt.headers["Authorization"] == basic_auth(OLD_PASSWORD)

    (result,) = set_variables(csms, value(NEW_PASSWORD, "SecurityCtrlr", "BasicAuthPassword"))  # steps 1-2
    assert result["attributeStatus"] == "Accepted"
    closed = csms.wait_session_closed(1)
    assert closed.close_code == 1000
    again = csms.wait_session(2)  # steps 3-4
    assert again.attempt.headers["Authorization"] == basic_auth(NEW_PASSWORD)
    wait_until(lambda: booted.station.state.connection.phase == "up", "the station to be connected again")
    assert not csms.calls("BootNotification")[1:], "Accepted, not RebootRequired: steps 5-8 do not apply"
    (hidden,) = get_variables(csms, variable("SecurityCtrlr", "BasicAuthPassword"))
    assert hidden["attributeStatus"] == "Rejected" and "attributeValue" not in hidden


@pytest.mark.requirements("A01.FR.01", "A01.FR.11", "A01.FR.12")
def test_TC_A_10_CS_update_basic_auth_password_rejected(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(password=OLD_PASSWORD), csms)
    (result,) = set_variables(csms, value("TooShort-15char", "SecurityCtrlr", "BasicAuthPassword"))  # steps 1-2
    assert result["attributeStatus"] == "Rejected"

    csms.close_connection()  # the OCTT checks which password the next connection carries
    again = csms.wait_session(2, timeout=10)  # steps 3-4
    assert again.attempt.headers["Authorization"] == basic_auth(OLD_PASSWORD)
    wait_until(lambda: booted.station.state.connection.phase == "up", "the station to be connected again")


# --- persistence across restarts -------------------------------------------------------------------------------


def test_values_the_csms_set_survive_a_restart_even_with_a_changed_config_file(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"
    first = boot(station_factory(data_dir=data_dir, config={"OCPPCommCtrlr": {"OfflineThreshold": 100}}), csms)
    results = set_variables(
        csms,
        value("300", "OCPPCommCtrlr", "OfflineThreshold"),
        value("false", "AuthCtrlr", "AuthorizeRemoteStart"),
    )
    assert [result["attributeStatus"] for result in results] == ["Accepted", "Accepted"]
    first.station.stop()

    changed_config = {"OCPPCommCtrlr": {"OfflineThreshold": 500}, "TxCtrlr": {"EVConnectionTimeOut": 30}}
    boot(station_factory(data_dir=data_dir, config=changed_config), csms)
    values = get_variables(
        csms,
        variable("OCPPCommCtrlr", "OfflineThreshold"),
        variable("AuthCtrlr", "AuthorizeRemoteStart"),
        variable("TxCtrlr", "EVConnectionTimeOut"),
    )
    assert [result["attributeValue"] for result in values] == ["300", "false", "30"], "set values win over config"


def test_values_the_csms_set_survive_a_reset(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(), csms)
    set_variables(csms, value("300", "OCPPCommCtrlr", "OfflineThreshold"))
    assert csms.call("Reset", {"type": "Immediate"}).payload == {"status": "Accepted"}
    boot(booted.station, csms)
    (result,) = get_variables(csms, variable("OCPPCommCtrlr", "OfflineThreshold"))
    assert result["attributeValue"] == "300"


def test_clock_date_time_is_the_station_clock_the_csms_set(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """A CSMS whose clock is a day ahead of the host's: ClockCtrlr.DateTime reads that clock, now, each time."""
    station = station_factory()
    ahead = timedelta(days=1)
    boot_call = csms.expect_call("BootNotification")
    csms_time = (datetime.now(UTC) + ahead).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    csms.reply(boot_call, csms.boot_response(currentTime=csms_time))
    csms.expect_calls("StatusNotification", connector_count(station))
    readings = []
    for _ in range(2):
        (result,) = get_variables(csms, variable("ClockCtrlr", "DateTime"))
        assert result["attributeStatus"] == "Accepted"
        read = datetime.fromisoformat(result["attributeValue"].replace("Z", "+00:00"))
        assert abs(read - (datetime.now(UTC) + ahead)) < timedelta(seconds=1), result["attributeValue"]
        readings.append(read)
        time.sleep(0.3)
    assert readings[1] - readings[0] >= timedelta(seconds=0.3), "read live, not stored"
