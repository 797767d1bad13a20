"""Part 6 block P (DataTransfer, CustomData) test cases for the Charging Station."""

from __future__ import annotations

from typing import Any

import pytest
from csms_double import CsmsDouble
from harness import StationFactory, boot

from chargecore.shell.application import SimulatedCharger

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
    """customData (any vendorId plus free properties) in CSMS requests and responses is accepted.

    Part 6 carries it on SetVariables/GetVariables, which this station does not support yet; the same
    property is checked on messages it does support.
    """
    csms.answer_automatically("StatusNotification", {"customData": CUSTOM})
    station = station_factory(evse_connectors=(1, 1))
    csms.answer_boot("Accepted", customData=CUSTOM)
    statuses = csms.expect_calls("StatusNotification", 2)  # only sent once the boot response was taken
    assert {call.payload["evseId"] for call in statuses} == {1, 2}

    reply = csms.call(
        "TriggerMessage",
        {"requestedMessage": "StatusNotification", "evse": {"id": 1, "customData": CUSTOM}, "customData": CUSTOM},
    )
    assert reply.payload == {"status": "Accepted"}
    assert csms.expect_call("StatusNotification").payload["evseId"] == 1
    reply = csms.call("DataTransfer", {"vendorId": OCTT_VENDOR, "customData": CUSTOM})
    assert reply.payload == {"status": "UnknownVendorId"}
    assert station.fatal_error is None
