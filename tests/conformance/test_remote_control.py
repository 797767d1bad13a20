"""Part 6 block F (remote control: TriggerMessage) test cases for the Charging Station."""

from __future__ import annotations

import pytest
from harness import Booted, StationFactory, boot, sent_in_order, settle

from chargecore.testing.csms_double import CsmsDouble


@pytest.mark.requirements("F06.FR.04", "F06.FR.05", "F06.FR.10")
def test_TC_F_20_CS_trigger_heartbeat(csms: CsmsDouble, booted: Booted) -> None:
    mark = csms.inbound_count()
    reply = csms.trigger("Heartbeat")
    assert reply.payload == {"status": "Accepted"}
    heartbeat = csms.expect_call("Heartbeat")
    assert heartbeat.payload == {}
    assert sent_in_order(csms, mark, reply.message_id, heartbeat.message_id), "response before the triggered CALL"


@pytest.mark.requirements("F06.FR.02", "F06.FR.04", "F06.FR.05", "F06.FR.10")
def test_TC_F_23_CS_trigger_status_of_specific_evse(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(evse_connectors=(1, 1)), csms)
    mark = csms.inbound_count()

    reply = csms.trigger("StatusNotification", evse={"id": 2, "connectorId": 1})
    assert reply.payload == {"status": "Accepted"}
    status = csms.expect_call("StatusNotification")
    assert {k: status.payload[k] for k in ("evseId", "connectorId", "connectorStatus")} == {
        "evseId": 2,
        "connectorId": 1,
        "connectorStatus": "Available",
    }
    assert sent_in_order(csms, mark, reply.message_id, status.message_id), "response before the triggered CALL"
    settle(booted.station, csms)
    assert csms.calls("StatusNotification")[len(booted.statuses) :] == [status], "only the requested connector"


@pytest.mark.requirements("F06.FR.04", "F06.FR.05", "F06.FR.17")
def test_TC_F_26_CS_trigger_boot_when_accepted(csms: CsmsDouble, booted: Booted) -> None:
    reply = csms.trigger("BootNotification")
    assert reply.payload == {"status": "Rejected"}
    settle(booted.station, csms)
    assert csms.calls("BootNotification") == [booted.boot], "no BootNotification after a rejected trigger"


@pytest.mark.requirements("F06.FR.08")
def test_TC_F_27_CS_trigger_not_implemented(csms: CsmsDouble, booted: Booted) -> None:
    reply = csms.trigger("SignCombinedCertificate")
    assert reply.payload == {"status": "NotImplemented"}
