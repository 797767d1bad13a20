"""Part 6 block P (DataTransfer, CustomData) test cases for the Charging Station."""

from __future__ import annotations

from typing import Any

import pytest
from harness import StationFactory, boot

from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import CsmsDouble

OCTT_VENDOR = "org.openchargealliance.octt"
CUSTOM = {"vendorId": "org.example.custom", "colour": "blue", "nested": {"n": 1}}


@pytest.mark.requirements("P01.FR.05", "P01.FR.06")
@pytest.mark.parametrize(
    ("vendors", "expected"),
    [
        ({}, "UnknownVendorId"),
        ({OCTT_VENDOR: {"status": "UnknownMessageId"}}, "UnknownMessageId"),
        ({OCTT_VENDOR: {"status": "Rejected"}}, "Rejected"),
    ],
    ids=["no-vendor", "unknown-message", "rejected"],
)
def test_TC_P_01_CS_data_transfer_unsupported(
    csms: CsmsDouble, station_factory: StationFactory, vendors: dict[str, dict[str, Any]], expected: str
) -> None:
    boot(station_factory(application=SimulatedCharger(vendors=vendors)), csms)
    reply = csms.call("DataTransfer", {"vendorId": OCTT_VENDOR, "messageId": "TestMessageId", "data": "x"})
    assert reply.payload == {"status": expected}


def test_TC_P_03_CS_receive_custom_data(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """customData (any vendorId plus free properties) in CSMS requests and responses is accepted: the Part 6
    steps on SetVariables/GetVariables, and the same property on the other messages the station handles."""
    csms.answer_automatically("StatusNotification", {"customData": CUSTOM})
    station = station_factory(evse_connectors=(1, 1))
    csms.answer_boot("Accepted", customData=CUSTOM)
    statuses = csms.expect_calls("StatusNotification", 2)  # only sent once the boot response was taken
    assert {call.payload["evseId"] for call in statuses} == {1, 2}

    offline_threshold = {
        "component": {"name": "OCPPCommCtrlr", "customData": CUSTOM},
        "variable": {"name": "OfflineThreshold", "customData": CUSTOM},
        "attributeType": "Actual",
        "customData": CUSTOM,
    }
    reply = csms.call(  # steps 1-2
        "SetVariables", {"setVariableData": [{**offline_threshold, "attributeValue": "200"}], "customData": CUSTOM}
    )
    assert reply.payload is not None
    assert reply.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
    reply = csms.call("GetVariables", {"getVariableData": [offline_threshold], "customData": CUSTOM})  # steps 3-4
    assert reply.payload is not None
    (result,) = reply.payload["getVariableResult"]
    assert result["attributeStatus"] == "Accepted"
    assert result.get("attributeType", "Actual") == "Actual"
    assert result["attributeValue"] == "200"

    reply = csms.call(
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 1, "customData": CUSTOM}, "customData": CUSTOM},
    )
    assert reply.payload == {"status": "Accepted"}
    assert csms.expect_call("StatusNotification").payload["evseId"] == 1
    reply = csms.call("DataTransfer", {"vendorId": OCTT_VENDOR, "customData": CUSTOM})
    assert reply.payload == {"status": "UnknownVendorId"}
    assert station.fatal_error is None
