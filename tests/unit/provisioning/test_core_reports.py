"""GetBaseReport (B07) and GetReport (B08) through `step`: the response, then the NotifyReport messages."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, at, booted, calls, frames, replies
from returns.result import Success

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.ocppj.schemas import validate

Key = tuple[str, str | None, int | None, int | None, str, str | None]
"""(component, component instance, evse id, connector id, variable, variable instance)"""


def request(sim: Sim, action: str, payload: dict[str, Any], message_id: str = "rep-1") -> dict[str, Any]:
    """Send a report request; its response payload (a CALLRESULT is expected)."""
    (reply,) = replies(sim.csms_call(action, payload, message_id))
    assert reply[:2] == [3, message_id], reply
    return reply[2]


def collect(sim: Sim) -> list[dict[str, Any]]:
    """Answer every NotifyReport the station sends until it has none left; their payloads in order."""
    payloads = []
    while sim.station.rpc.in_flight is not None:
        call = sim.outstanding()
        assert call.action == "NotifyReport", call
        payloads.append(call.payload)
        sim.reply()
    return payloads


def items(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for payload in payloads for item in payload["reportData"]]


def key_of(item: dict[str, Any]) -> Key:
    component, variable = item["component"], item["variable"]
    evse = component.get("evse", {})
    return (
        component["name"],
        component.get("instance"),
        evse.get("id"),
        evse.get("connectorId"),
        variable["name"],
        variable.get("instance"),
    )


def model_keys(sim: Sim) -> list[Key]:
    return [
        (k.component, k.component_instance, k.evse_id, k.connector_id, k.variable, k.variable_instance)
        for k in sim.station.device_model.definitions
    ]


def report(sim: Sim, action: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Request a report that must be Accepted; every ReportData it sent."""
    assert request(sim, action, payload) == {"status": "Accepted"}
    return items(collect(sim))


# --- GetBaseReport ---------------------------------------------------------------------------------------------


@pytest.mark.requirements("B07.FR.01", "B07.FR.03", "B07.FR.04")
def test_the_response_goes_before_the_first_notify_report() -> None:
    sim = booted()
    sent = frames(sim.csms_call("GetBaseReport", {"requestId": 17, "reportBase": "FullInventory"}, "rep-1"))
    assert [frame[0] for frame in sent] == [3, 2]
    assert sent[0][2] == {"status": "Accepted"}
    assert sent[1][2] == "NotifyReport" and sent[1][3]["requestId"] == 17


def test_generated_at_is_the_station_clock_set_by_the_csms() -> None:
    sim = booted()  # the CSMS said 2030-01-01T00:00:00Z at T0+2 s
    sim.now = at(10)
    request(sim, "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    assert {payload["generatedAt"] for payload in collect(sim)} == {"2030-01-01T00:00:08.000Z"}


def test_clock_date_time_is_reported_as_the_station_clock_when_the_report_is_made() -> None:
    sim = booted()  # the CSMS said 2030-01-01T00:00:00Z at T0+2 s
    for seconds, expected in ((10, "2030-01-01T00:00:08.000Z"), (100.25, "2030-01-01T00:01:38.250Z")):
        sim.now = at(seconds)
        reported = report(sim, "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
        (date_time,) = [item for item in reported if key_of(item)[0::4] == ("ClockCtrlr", "DateTime")]
        assert date_time["variableAttribute"][0]["value"] == expected


@pytest.mark.requirements("B07.FR.08", "B07.FR.10")
def test_full_inventory_reports_every_variable_once_with_every_attribute() -> None:
    sim = booted(evse_connectors=(2, 1))
    request(sim, "GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"})
    payloads = collect(sim)
    assert [payload["seqNo"] for payload in payloads] == list(range(len(payloads)))
    assert [payload["tbc"] for payload in payloads] == [True] * (len(payloads) - 1) + [False]
    reported = items(payloads)
    assert [key_of(item) for item in reported] == model_keys(sim)
    definitions = sim.station.device_model.definitions
    for item, definition in zip(reported, definitions.values(), strict=True):
        assert [attribute["type"] for attribute in item["variableAttribute"]] == list(definition.attributes)
        assert item["variableCharacteristics"]["dataType"] == definition.data_type


@pytest.mark.requirements("B07.FR.07")
def test_configuration_inventory_holds_the_settable_attributes_only() -> None:
    sim = booted()
    reported = report(sim, "GetBaseReport", {"requestId": 2, "reportBase": "ConfigurationInventory"})
    mutabilities = {attribute["mutability"] for item in reported for attribute in item["variableAttribute"]}
    assert mutabilities == {"ReadWrite", "WriteOnly"}
    keys = {key_of(item)[::4] for item in reported}
    assert ("OCPPCommCtrlr", "HeartbeatInterval") in keys
    assert ("SecurityCtrlr", "SecurityProfile") not in keys
    settable = [
        key
        for key, definition in sim.station.device_model.definitions.items()
        if any(spec.mutability != "ReadOnly" for spec in definition.attributes.values())
    ]
    assert len(reported) == len(settable)


@pytest.mark.requirements("B07.FR.03", "B08.FR.03")
def test_a_write_only_value_is_never_reported() -> None:
    sim = booted(config={"SecurityCtrlr": {"BasicAuthPassword": "0123456789abcdef"}})
    for action, payload in (
        ("GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"}),
        ("GetReport", {"requestId": 2, "componentVariable": [{"component": {"name": "SecurityCtrlr"}}]}),
    ):
        (password,) = [item for item in report(sim, action, payload) if item["variable"]["name"] == "BasicAuthPassword"]
        assert password["variableAttribute"] == [{"type": "Actual", "mutability": "WriteOnly", "persistent": True}]


@pytest.mark.requirements("B07.FR.09")
def test_summary_inventory_holds_availability_and_the_conditions_that_are_true() -> None:
    sim = booted(evse_connectors=(1, 2), config={"EVSE[2]": {"Problem": True}})
    reported = report(sim, "GetBaseReport", {"requestId": 3, "reportBase": "SummaryInventory"})
    assert sorted(key_of(item)[:5] for item in reported) == sorted(
        [
            ("ChargingStation", None, None, None, "AvailabilityState"),
            ("EVSE", None, 1, None, "AvailabilityState"),
            ("EVSE", None, 2, None, "Problem"),
            ("EVSE", None, 2, None, "AvailabilityState"),
            ("Connector", None, 1, 1, "AvailabilityState"),
            ("Connector", None, 2, 1, "AvailabilityState"),
            ("Connector", None, 2, 2, "AvailabilityState"),
        ]
    )


@pytest.mark.requirements("B07.FR.02")
def test_a_station_without_summary_inventory_answers_not_supported_and_sends_nothing() -> None:
    sim = booted(supports_summary_inventory=False)
    response = request(sim, "GetBaseReport", {"requestId": 3, "reportBase": "SummaryInventory"})
    assert response["status"] == "NotSupported"
    assert response["statusInfo"]["reasonCode"] == "UnsupportedParam"
    assert not sim.station.rpc.queue and sim.station.rpc.in_flight is None


def test_items_per_message_splits_the_report() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 7}})
    request(sim, "GetBaseReport", {"requestId": 9, "reportBase": "FullInventory"})
    payloads = collect(sim)
    sizes = [len(payload["reportData"]) for payload in payloads]
    total = len(sim.station.device_model.definitions)
    assert sizes == [7] * (total // 7) + ([total % 7] if total % 7 else [])


@pytest.mark.parametrize(("value_size", "reporting_value_size"), [(5, 100), (100, 5)])
def test_value_size_and_reporting_value_size_cut_values(value_size: int, reporting_value_size: int) -> None:
    """Part 2 Appendix 3.1.7: both limit VariableAttribute.value; the smaller one wins."""
    sizes = {"ValueSize": value_size, "ReportingValueSize": reporting_value_size}
    sim = booted(config={"DeviceDataCtrlr": sizes})
    payload = {"requestId": 1, "componentVariable": [{"component": {"name": "OCPPCommCtrlr"}}]}
    by_variable = {item["variable"]["name"]: item for item in report(sim, "GetReport", payload)}
    assert by_variable["FileTransferProtocols"]["variableAttribute"][0]["value"] == "FTP,F"


def test_an_item_larger_than_bytes_per_message_is_rejected_and_nothing_is_sent() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"BytesPerMessage[GetReport]": 300}})
    response = request(sim, "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"})
    assert response["status"] == "Rejected" and response["statusInfo"]["reasonCode"] == "TooLargeElement"
    assert not sim.station.rpc.queue and sim.station.rpc.in_flight is None


@pytest.mark.requirements("B02.FR.02")
def test_the_report_goes_out_while_the_registration_is_pending() -> None:
    sim = booted(status="Pending")
    effects = sim.csms_call("GetBaseReport", {"requestId": 4, "reportBase": "FullInventory"}, "rep-1")
    assert [call.action for call in calls(effects)] == ["NotifyReport"]


# --- GetReport -------------------------------------------------------------------------------------------------


def names(reported: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [key_of(item)[2:] for item in reported]


@pytest.mark.requirements("B08.FR.23")
def test_a_component_without_evse_means_every_evse() -> None:
    sim = booted(evse_connectors=(1, 1))
    wanted = [{"component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}}]
    reported = report(sim, "GetReport", {"requestId": 1, "componentVariable": wanted})
    assert names(reported) == [(1, None, "AvailabilityState", None), (2, None, "AvailabilityState", None)]


@pytest.mark.requirements("B08.FR.22")
def test_an_evse_without_connector_means_every_connector_of_it() -> None:
    sim = booted(evse_connectors=(2, 1))
    wanted = [{"component": {"name": "Connector", "evse": {"id": 1}}, "variable": {"name": "ConnectorType"}}]
    reported = report(sim, "GetReport", {"requestId": 1, "componentVariable": wanted})
    assert names(reported) == [(1, 1, "ConnectorType", None), (1, 2, "ConnectorType", None)]
    wanted[0]["component"]["evse"] = {"id": 1, "connectorId": 2}
    assert names(report(sim, "GetReport", {"requestId": 2, "componentVariable": wanted})) == [
        (1, 2, "ConnectorType", None)
    ]


def test_a_variable_without_instance_means_every_instance_and_names_ignore_case() -> None:
    sim = booted()
    wanted: list[dict[str, Any]] = [{"component": {"name": "devicedatactrlr"}, "variable": {"name": "ITEMSPERMESSAGE"}}]
    reported = report(sim, "GetReport", {"requestId": 1, "componentVariable": wanted})
    assert [item["variable"] for item in reported] == [
        {"name": "ItemsPerMessage", "instance": instance} for instance in ("GetReport", "GetVariables", "SetVariables")
    ]
    wanted[0]["variable"]["instance"] = "getreport"
    reported = report(sim, "GetReport", {"requestId": 2, "componentVariable": wanted})
    assert [item["variable"] for item in reported] == [{"name": "ItemsPerMessage", "instance": "GetReport"}]


def test_a_component_without_variable_means_all_its_variables() -> None:
    sim = booted()
    reported = report(sim, "GetReport", {"requestId": 1, "componentVariable": [{"component": {"name": "TxCtrlr"}}]})
    assert len(reported) == sum(1 for key in sim.station.device_model.definitions if key.component == "TxCtrlr")
    assert {item["component"]["name"] for item in reported} == {"TxCtrlr"}


def test_nothing_matching_is_an_empty_result_set_and_sends_nothing() -> None:
    sim = booted()
    for wanted in (
        [{"component": {"name": "NoSuchCtrlr"}}],
        [{"component": {"name": "TxCtrlr", "instance": "other"}}],
        [{"component": {"name": "EVSE", "evse": {"id": 9}}}],
        [{"component": {"name": "TxCtrlr"}, "variable": {"name": "NoSuchVariable"}}],
    ):
        assert request(sim, "GetReport", {"requestId": 1, "componentVariable": wanted}) == {"status": "EmptyResultSet"}
    assert not sim.station.rpc.queue and sim.station.rpc.in_flight is None


@pytest.mark.requirements("B08.FR.09")
def test_enabled_criterion_keeps_components_that_are_enabled_or_have_no_enabled_variable() -> None:
    tariff_off = {"TariffCostCtrlr": {"Enabled[Tariff]": False, "Enabled[Cost]": False}}
    sim = booted(config=tariff_off)  # ISO15118Ctrlr.Enabled is false by default, both TariffCostCtrlr.Enabled here
    reported = report(sim, "GetReport", {"requestId": 1, "componentCriteria": ["Enabled"]})
    components = {item["component"]["name"] for item in reported}
    assert {"TxCtrlr", "OCPPCommCtrlr", "AuthCtrlr", "EVSE", "Connector"} <= components
    assert not components & {"ISO15118Ctrlr", "TariffCostCtrlr"}


@pytest.mark.requirements("B08.FR.10")
def test_problem_criterion_keeps_only_components_with_a_problem() -> None:
    sim = booted(evse_connectors=(1, 1), config={"EVSE[2]": {"Problem": True}})
    reported = report(sim, "GetReport", {"requestId": 1, "componentCriteria": ["Problem"]})
    assert {(item["component"]["name"], item["component"].get("evse", {}).get("id")) for item in reported} == {
        ("EVSE", 2)
    }
    assert len(reported) == sum(
        1 for key in sim.station.device_model.definitions if key.evse_id == 2 and key.connector_id is None
    )


@pytest.mark.requirements("B08.FR.07", "B08.FR.08")
def test_criteria_are_alternatives_and_combine_with_component_variables() -> None:
    sim = booted()
    wanted = [{"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}]
    assert request(
        sim, "GetReport", {"requestId": 1, "componentVariable": wanted, "componentCriteria": ["Problem"]}
    ) == {"status": "EmptyResultSet"}
    reported = report(
        sim, "GetReport", {"requestId": 2, "componentVariable": wanted, "componentCriteria": ["Problem", "Available"]}
    )
    assert names(reported) == [(1, None, "AvailabilityState", None)]
    iso = [{"component": {"name": "ISO15118Ctrlr"}, "variable": {"name": "Enabled"}}]
    assert request(sim, "GetReport", {"requestId": 3, "componentVariable": iso, "componentCriteria": ["Active"]}) == {
        "status": "EmptyResultSet"
    }


def test_every_notify_report_passes_its_schema() -> None:
    sim = booted(evse_connectors=(2, 2), config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 13}})
    request(sim, "GetReport", {"requestId": 1})
    payloads = collect(sim)
    assert len(items(payloads)) == len(sim.station.device_model.definitions)
    for payload in payloads:
        assert isinstance(validate("NotifyReport", "Request", payload), Success), payload["seqNo"]


@pytest.mark.requirements("B08.FR.17")
def test_more_component_variables_than_items_per_message_is_an_occurrence_error() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 2}})
    wanted = [{"component": {"name": name}} for name in ("TxCtrlr", "AuthCtrlr", "ClockCtrlr")]
    (reply,) = replies(sim.csms_call("GetReport", {"requestId": 1, "componentVariable": wanted}, "rep-1"))
    assert reply[:3] == [4, "rep-1", "OccurrenceConstraintViolation"]
    assert not sim.station.rpc.queue and sim.station.rpc.in_flight is None


@pytest.mark.requirements("B08.FR.18")
def test_a_request_longer_than_bytes_per_message_is_a_format_error() -> None:
    sim = booted(config={"DeviceDataCtrlr": {"BytesPerMessage[GetReport]": 120}})
    wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "MessageAttemptInterval"}}] * 2
    (reply,) = replies(sim.csms_call("GetReport", {"requestId": 1, "componentVariable": wanted}, "rep-1"))
    assert reply[:3] == [4, "rep-1", "FormatViolation"]


def test_values_reported_are_the_current_ones() -> None:
    sim = booted()
    sim.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "77")
    wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]
    (item,) = report(sim, "GetReport", {"requestId": 1, "componentVariable": wanted})
    assert item["variableAttribute"][0]["value"] == "77"
    assert sim.station.device_model.values[(VariableKey("OCPPCommCtrlr", "HeartbeatInterval"), "Actual")] == "77"
