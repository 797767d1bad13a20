"""Part 6 block B device-model report test cases (B07 GetBaseReport, B08 GetReport) for the Charging Station.

The double answers every NotifyReport itself only when a test says so; here each test answers them one by one,
as the OCTT does in step 4, and checks the requestId, seqNo, tbc and generatedAt of every message.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import StationFactory, boot, receive_report, sent_in_order, settle

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import CsmsDouble, StationCall

LIST_TYPES = frozenset({"OptionList", "SequenceList", "MemberList"})
Key = tuple[str, int | None, int | None, str, str | None]
"""(component, evse id, connector id, variable, variable instance) of a ReportData or a definition."""


def report_items(notifies: list[StationCall]) -> list[dict[str, Any]]:
    return [item for notify in notifies for item in notify.payload["reportData"]]


def key_of(item: dict[str, Any]) -> Key:
    evse = item["component"].get("evse", {})
    variable = item["variable"]
    return (
        item["component"]["name"],
        evse.get("id"),
        evse.get("connectorId"),
        variable["name"],
        variable.get("instance"),
    )


def definition_key(key: VariableKey) -> Key:
    return key.component, key.evse_id, key.connector_id, key.variable, key.variable_instance


def check_characteristics(items: list[dict[str, Any]]) -> None:
    """Tool validation of step 3 / post-scenario: characteristics everywhere, valuesList for the list types."""
    for item in items:
        characteristics = item["variableCharacteristics"]
        if characteristics["dataType"] in LIST_TYPES:
            assert characteristics.get("valuesList"), f"{key_of(item)} has no valuesList"


def get_base_report(csms: CsmsDouble, request_id: int, report_base: str) -> tuple[list[StationCall], int]:
    """Steps 1-4 of an accepted GetBaseReport; the NotifyReports and the inbound mark taken before step 1."""
    mark = csms.inbound_count()
    reply = csms.call("GetBaseReport", {"requestId": request_id, "reportBase": report_base})
    assert reply.payload is not None and reply.payload["status"] == "Accepted", reply
    assert reply.payload.get("statusInfo", {"reasonCode": "NoError"})["reasonCode"] == "NoError"
    notifies = receive_report(csms, request_id)
    assert sent_in_order(csms, mark, reply.message_id, notifies[0].message_id), "the response goes first"
    return notifies, mark


def required_keys(station: ChargingStation, *, writable_only: bool = False) -> set[Key]:
    """Every required variable of the catalogue, per EVSE/connector instance of this station."""
    return {
        definition_key(key)
        for key, definition in station.state.device_model.definitions.items()
        if definition.required
        and (not writable_only or any(spec.mutability != "ReadOnly" for spec in definition.attributes.values()))
    }


@pytest.mark.requirements("B07.FR.01", "B07.FR.03", "B07.FR.04", "B07.FR.07", "B07.FR.10", "B07.FR.12")
def test_TC_B_12_CS_get_base_report_configuration_inventory(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """ItemsPerMessage[GetReport] is set to 10 so that steps 3 and 4 repeat several times."""
    station = station_factory(
        evse_connectors=(1, 2),
        config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 10}},
        password="0123456789abcdef",
    )
    boot(station, csms)
    notifies, _ = get_base_report(csms, 1201, "ConfigurationInventory")
    assert len(notifies) > 1 and all(len(notify.payload["reportData"]) <= 10 for notify in notifies)

    items = report_items(notifies)
    check_characteristics(items)
    for item in items:
        for attribute in item["variableAttribute"]:
            assert attribute["mutability"] in ("ReadWrite", "WriteOnly"), key_of(item)
            if attribute["mutability"] == "WriteOnly":
                assert "value" not in attribute, f"{key_of(item)} reports a WriteOnly value"
    reported = [key_of(item) for item in items]
    assert len(reported) == len(set(reported)), "every variable once"
    assert required_keys(station, writable_only=True) <= set(reported)
    assert ("SecurityCtrlr", None, None, "BasicAuthPassword", None) in reported


@pytest.mark.requirements("B07.FR.01", "B07.FR.03", "B07.FR.04", "B07.FR.08", "B07.FR.10", "B07.FR.12")
def test_TC_B_13_CS_get_base_report_full_inventory(csms: CsmsDouble, station_factory: StationFactory) -> None:
    station = station_factory(evse_connectors=(2, 1))
    boot(station, csms)
    notifies, _ = get_base_report(csms, 1301, "FullInventory")

    items = report_items(notifies)
    check_characteristics(items)
    reported = [key_of(item) for item in items]
    assert len(reported) == len(set(reported)), "every variable once"
    assert set(reported) == {definition_key(key) for key in station.state.device_model.definitions}
    assert required_keys(station) <= set(reported)
    mutabilities = {attribute["mutability"] for item in items for attribute in item["variableAttribute"]}
    assert "ReadOnly" in mutabilities, "FullInventory also holds what cannot be set"


@pytest.mark.requirements("B07.FR.09")
def test_B07_summary_inventory_of_a_station_that_has_it(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """The station as it starts by default has the optional SummaryInventory: the AvailabilityState of the
    station, of every EVSE and of every connector (no condition variable is true)."""
    station = station_factory(evse_connectors=(1, 2))
    assert station.options.supports_summary_inventory
    boot(station, csms)
    notifies, _ = get_base_report(csms, 1401, "SummaryInventory")
    items = report_items(notifies)
    assert sorted(key_of(item) for item in items) == sorted(
        [
            ("ChargingStation", None, None, "AvailabilityState", None),
            ("EVSE", 1, None, "AvailabilityState", None),
            ("EVSE", 2, None, "AvailabilityState", None),
            ("Connector", 1, 1, "AvailabilityState", None),
            ("Connector", 2, 1, "AvailabilityState", None),
            ("Connector", 2, 2, "AvailabilityState", None),
        ]
    )
    assert {item["variableAttribute"][0]["value"] for item in items} == {"Available"}


@pytest.mark.requirements("B07.FR.02")
def test_TC_B_15_CS_get_base_report_not_supported(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """Prerequisite: the station does not support the optional SummaryInventory report. The station as it starts
    by default does (test_B07_summary_inventory_of_a_station_that_has_it), so the case runs on a station started
    without it (`--without-summary-inventory`, StationOptions.supports_summary_inventory False)."""
    station = station_factory(supports_summary_inventory=False)
    assert not station.options.supports_summary_inventory  # the prerequisite holds
    boot(station, csms)
    reply = csms.call("GetBaseReport", {"requestId": 1501, "reportBase": "SummaryInventory"})  # step 1
    assert reply.payload is not None and reply.payload["status"] == "NotSupported"  # step 2
    assert reply.payload.get("statusInfo", {"reasonCode": "UnsupportedParam"})["reasonCode"] == "UnsupportedParam"
    settle(station, csms)
    assert not csms.calls("NotifyReport"), "the OCTT waits: no NotifyReport for an unsupported report base"


TC_B_53_VARIABLES: tuple[tuple[str, str, str | None, frozenset[str] | None, str, dict[str, Any]], ...] = (
    # (component, variable, instance, mutabilities allowed (None: any), dataType, other checks) from Part 6.
    ("AlignedDataCtrlr", "Interval", None, frozenset({"ReadWrite"}), "integer", {"unit": "s"}),
    ("AlignedDataCtrlr", "Measurands", None, frozenset({"ReadWrite"}), "MemberList", {"maxLimit>0": True}),
    ("AlignedDataCtrlr", "TxEndedInterval", None, frozenset({"ReadWrite"}), "integer", {"unit": "s"}),
    ("AlignedDataCtrlr", "TxEndedMeasurands", None, frozenset({"ReadWrite"}), "MemberList", {"maxLimit>0": True}),
    ("AuthCtrlr", "AuthorizeRemoteStart", None, frozenset({"ReadOnly", "ReadWrite"}), "boolean", {}),
    ("AuthCtrlr", "LocalAuthorizeOffline", None, frozenset({"ReadWrite"}), "boolean", {}),
    ("AuthCtrlr", "LocalPreAuthorize", None, frozenset({"ReadWrite"}), "boolean", {}),
    ("ChargingStation", "AvailabilityState", None, frozenset({"ReadOnly"}), "OptionList", {"availability": True}),
    ("ChargingStation", "Available", None, frozenset({"ReadOnly"}), "boolean", {}),
    ("ChargingStation", "SupplyPhases", None, frozenset({"ReadOnly"}), "integer", {}),
    ("ClockCtrlr", "DateTime", None, frozenset({"ReadOnly"}), "dateTime", {}),
    (
        "ClockCtrlr",
        "TimeSource",
        None,
        frozenset({"ReadWrite"}),
        "SequenceList",
        {"valuesList⊆": {"Heartbeat", "NTP", "GPS", "RealTimeClock", "MobileNetwork", "RadioTimeTransmitter"}},
    ),
    ("Connector", "AvailabilityState", None, frozenset({"ReadOnly"}), "OptionList", {"availability": True}),
    ("Connector", "Available", None, frozenset({"ReadOnly"}), "boolean", {}),
    ("Connector", "ConnectorType", None, frozenset({"ReadOnly"}), "string", {}),
    ("Connector", "SupplyPhases", None, frozenset({"ReadOnly"}), "integer", {}),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetReport", frozenset({"ReadOnly"}), "integer", {}),
    ("DeviceDataCtrlr", "BytesPerMessage", "GetVariables", frozenset({"ReadOnly"}), "integer", {}),
    ("DeviceDataCtrlr", "BytesPerMessage", "SetVariables", frozenset({"ReadOnly"}), "integer", {}),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport", frozenset({"ReadOnly"}), "integer", {}),
    ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables", frozenset({"ReadOnly"}), "integer", {}),
    ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables", frozenset({"ReadOnly"}), "integer", {}),
    ("EVSE", "AvailabilityState", None, frozenset({"ReadOnly"}), "OptionList", {"availability": True}),
    ("EVSE", "Available", None, frozenset({"ReadOnly"}), "boolean", {}),
    ("EVSE", "Power", None, frozenset({"ReadOnly"}), "decimal", {"unit∈": {"W", "kW"}, "maxLimit>0": True}),
    ("EVSE", "SupplyPhases", None, frozenset({"ReadOnly"}), "integer", {}),
    (
        "OCPPCommCtrlr",
        "FileTransferProtocols",
        None,
        frozenset({"ReadOnly"}),
        "MemberList",
        {"valuesList⊆": {"FTP", "FTPS", "HTTP", "HTTPS", "SFTP"}},
    ),
    ("OCPPCommCtrlr", "MessageTimeout", "Default", frozenset({"ReadOnly"}), "integer", {"unit": "s"}),
    ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent", frozenset({"ReadWrite"}), "integer", {"unit": "s"}),
    ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent", frozenset({"ReadWrite"}), "integer", {}),
    # its valuesList (subset of 1-5) is checked by test_TC_B_53_CS_network_configuration_slots
    ("OCPPCommCtrlr", "NetworkConfigurationPriority", None, frozenset({"ReadWrite"}), "SequenceList", {}),
    ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", None, frozenset({"ReadWrite"}), "integer", {}),
    ("OCPPCommCtrlr", "OfflineThreshold", None, frozenset({"ReadWrite"}), "integer", {"unit": "s"}),
    ("OCPPCommCtrlr", "ResetRetries", None, frozenset({"ReadWrite"}), "integer", {}),
    ("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", None, frozenset({"ReadWrite", "ReadOnly"}), "boolean", {}),
    ("SampledDataCtrlr", "TxEndedInterval", None, frozenset({"ReadWrite"}), "integer", {"unit": "s"}),
    ("SampledDataCtrlr", "TxEndedMeasurands", None, frozenset({"ReadWrite"}), "MemberList", {"maxLimit>0": True}),
    ("SampledDataCtrlr", "TxStartedMeasurands", None, frozenset({"ReadWrite"}), "MemberList", {"maxLimit>0": True}),
    ("SampledDataCtrlr", "TxUpdatedInterval", None, frozenset({"ReadWrite"}), "integer", {"unit": "s"}),
    ("SampledDataCtrlr", "TxUpdatedMeasurands", None, frozenset({"ReadWrite"}), "MemberList", {"maxLimit>0": True}),
    ("SecurityCtrlr", "CertificateEntries", None, frozenset({"ReadOnly"}), "integer", {"maxLimit>0": True}),
    ("SecurityCtrlr", "OrganizationName", None, frozenset({"ReadWrite"}), "string", {}),
    ("SecurityCtrlr", "SecurityProfile", None, frozenset({"ReadOnly"}), "integer", {}),
    ("TxCtrlr", "EVConnectionTimeOut", None, frozenset({"ReadWrite"}), "integer", {"unit": "s"}),
    ("TxCtrlr", "StopTxOnEVSideDisconnect", None, frozenset({"ReadWrite", "ReadOnly"}), "boolean", {}),
    ("TxCtrlr", "StopTxOnInvalidId", None, frozenset({"ReadWrite"}), "boolean", {}),
    ("TxCtrlr", "TxStartPoint", None, frozenset({"ReadWrite", "ReadOnly"}), "MemberList", {"tx_points": True}),
    ("TxCtrlr", "TxStopPoint", None, frozenset({"ReadWrite", "ReadOnly"}), "MemberList", {"tx_points": True}),
    # "Required <functional block> variables": the catalogue has these components, so they are checked too.
    ("DisplayMessageCtrlr", "DisplayMessages", None, frozenset({"ReadOnly"}), "integer", {}),
    (
        "DisplayMessageCtrlr",
        "SupportedFormats",
        None,
        frozenset({"ReadOnly"}),
        "MemberList",
        {"valuesList⊆": {"ASCII", "HTML", "URI", "UTF8"}},
    ),
    (
        "DisplayMessageCtrlr",
        "SupportedPriorities",
        None,
        frozenset({"ReadOnly"}),
        "MemberList",
        {"valuesList⊆": {"AlwaysFront", "InFront", "NormalCycle"}},
    ),
    ("ISO15118Ctrlr", "ContractValidationOffline", None, frozenset({"ReadWrite"}), "boolean", {}),
    ("LocalAuthListCtrlr", "BytesPerMessage", None, frozenset({"ReadOnly"}), "integer", {}),
    ("LocalAuthListCtrlr", "Entries", None, frozenset({"ReadOnly"}), "integer", {"maxLimit>0": True}),
    ("LocalAuthListCtrlr", "ItemsPerMessage", None, frozenset({"ReadOnly"}), "integer", {}),
    ("MonitoringCtrlr", "BytesPerMessage", "SetVariableMonitoring", frozenset({"ReadOnly"}), "integer", {}),
    ("SmartChargingCtrlr", "Entries", "ChargingProfiles", frozenset({"ReadOnly"}), "integer", {"maxLimit>0": True}),
    ("SmartChargingCtrlr", "LimitChangeSignificance", None, frozenset({"ReadWrite"}), "decimal", {"unit": "Percent"}),
    ("SmartChargingCtrlr", "PeriodsPerSchedule", None, frozenset({"ReadOnly"}), "integer", {}),
    ("SmartChargingCtrlr", "ProfileStackLevel", None, frozenset({"ReadOnly"}), "integer", {}),
    ("SmartChargingCtrlr", "RateUnit", None, frozenset({"ReadOnly"}), "MemberList", {"valuesList⊆": {"A", "W"}}),
    ("TariffCostCtrlr", "Currency", None, None, "string", {}),
    ("TariffCostCtrlr", "TariffFallbackMessage", None, frozenset({"ReadWrite"}), "string", {"maxLimit": 255}),
    ("TariffCostCtrlr", "TotalCostFallbackMessage", None, frozenset({"ReadWrite"}), "string", {"maxLimit": 255}),
)
"""The post-scenario table of TC_B_53_CS, one row per variable."""

AVAILABILITY_STATES = {"Available", "Occupied", "Reserved", "Unavailable", "Faulted"}
TX_POINTS = {"ParkingBayOccupancy", "EVConnected", "Authorized", "PowerPathClosed", "EnergyTransfer", "DataSigned"}


def check_other(item: dict[str, Any], other: dict[str, Any]) -> None:
    """The "Other" column of the TC_B_53_CS table."""
    characteristics = item["variableCharacteristics"]
    values = set(characteristics.get("valuesList", "").split(","))
    if "unit" in other:
        assert characteristics.get("unit") == other["unit"]
    if "unit∈" in other:
        assert characteristics.get("unit") in other["unit∈"]
    if "maxLimit>0" in other:
        assert characteristics.get("maxLimit", 0) > 0
    if "maxLimit" in other:
        assert characteristics.get("maxLimit") == other["maxLimit"]
    if "valuesList⊆" in other:
        assert values <= other["valuesList⊆"]
    if "availability" in other:
        assert values == AVAILABILITY_STATES
    if "tx_points" in other:
        assert values <= TX_POINTS


def test_TC_B_53_CS_full_inventory_holds_every_mandatory_variable(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    """Requirement(s): chapter "Referenced Components and Variables" (no FR ids in Part 6)."""
    station = station_factory(evse_connectors=(1, 2))
    boot(station, csms)
    notifies, _ = get_base_report(csms, 5301, "FullInventory")
    items = report_items(notifies)

    by_key: dict[Key, dict[str, Any]] = {key_of(item): item for item in items}
    for component, variable, instance, mutabilities, data_type, other in TC_B_53_VARIABLES:
        found = [item for key, item in by_key.items() if key[0] == component and key[3:] == (variable, instance)]
        assert found, f"{component}.{variable}[{instance}] is not reported"
        for item in found:
            where = key_of(item)
            assert item["variableCharacteristics"]["dataType"] == data_type, where
            for attribute in item["variableAttribute"]:
                assert mutabilities is None or attribute["mutability"] in mutabilities, where
            check_other(item, other)
    evse_ids = {key[1] for key in by_key if key[0] == "EVSE"}
    connectors = {key[1:3] for key in by_key if key[0] == "Connector"}
    assert evse_ids == {1, 2} and connectors == {(1, 1), (2, 1), (2, 2)}, "every EVSE and connector instance"
    assert required_keys(station) <= set(by_key), "every required variable of the catalogue"


def test_TC_B_53_CS_network_configuration_slots(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """The valuesList row of TC_B_53_CS for OCPPCommCtrlr.NetworkConfigurationPriority: a subset of 1-5."""
    boot(station_factory(), csms)
    wanted = [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NetworkConfigurationPriority"}}]
    (item,) = get_report(csms, 5302, {"componentVariable": wanted})
    check_other(item, {"valuesList⊆": {"1", "2", "3", "4", "5"}})


# --- GetReport over the wire (B08; this edition of Part 6 has no Charging Station test case for it) -------------


def get_report(csms: CsmsDouble, request_id: int, payload: dict[str, Any]) -> list[dict[str, Any]]:
    mark = csms.inbound_count()
    reply = csms.call("GetReport", {"requestId": request_id, **payload})
    assert reply.payload == {"status": "Accepted"}, reply
    notifies = receive_report(csms, request_id)
    assert sent_in_order(csms, mark, reply.message_id, notifies[0].message_id), "the response goes first"
    return report_items(notifies)


@pytest.mark.requirements("B08.FR.01", "B08.FR.03", "B08.FR.07", "B08.FR.10", "B08.FR.22", "B08.FR.23")
def test_get_report_with_component_variables_and_criteria(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(evse_connectors=(1, 1)), csms)
    evse = [{"component": {"name": "EVSE"}, "variable": {"name": "AvailabilityState"}}]
    assert [key_of(item) for item in get_report(csms, 1, {"componentVariable": evse})] == [
        ("EVSE", 1, None, "AvailabilityState", None),
        ("EVSE", 2, None, "AvailabilityState", None),
    ]
    items_per_message = [{"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": "ItemsPerMessage"}}]
    reported = get_report(csms, 2, {"componentVariable": items_per_message})
    assert {item["variable"]["instance"] for item in reported} == {"GetReport", "GetVariables", "SetVariables"}

    evse_1 = [{"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}}]
    reply = csms.call("GetReport", {"requestId": 3, "componentVariable": evse_1, "componentCriteria": ["Problem"]})
    assert reply.payload == {"status": "EmptyResultSet"}
    reported = get_report(csms, 4, {"componentVariable": evse_1, "componentCriteria": ["Available"]})
    assert [key_of(item) for item in reported] == [("EVSE", 1, None, "AvailabilityState", None)]
    settle(booted.station, csms)
    assert {call.payload["requestId"] for call in csms.calls("NotifyReport")} == {1, 2, 4}


@pytest.mark.requirements("B08.FR.17")
def test_get_report_with_too_many_component_variables(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 2}}), csms)
    wanted = [{"component": {"name": name}} for name in ("TxCtrlr", "AuthCtrlr", "ClockCtrlr")]
    reply = csms.call("GetReport", {"requestId": 1, "componentVariable": wanted})
    assert reply.error_code == "OccurrenceConstraintViolation"


@pytest.mark.requirements("B02.FR.02")
def test_report_while_pending(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """B02.FR.02: while Pending the station answers GetBaseReport and sends the report it asked for (the
    GetBaseReport steps 7-10 of TC_B_02)."""
    station_factory()
    csms.answer_boot("Pending", interval=60)
    reply = csms.call("GetBaseReport", {"requestId": 201, "reportBase": "FullInventory"})
    assert reply.payload == {"status": "Accepted"}
    assert report_items(receive_report(csms, 201))
