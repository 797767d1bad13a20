"""Part 6 network connection profile test cases (B09, B10, A05) for the Charging Station, against the real station
over the wire, with two loopback CSMS endpoints: the one the station was configured with and a second one that a
profile points to (plain or TLS with a test CA, for security profile 2).

TC_B_47, TC_B_50 (a new CSMS root), TC_A_20 and TC_A_21 (the credentials of an upgrade) are in test_root_migration.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from core_helpers import connection_data
from harness import StationFactory, boot
from pki import Pki

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.station import CSMS_CALLS
from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import CsmsDouble, StationReply, wait_until

SLACK = 0.1
"""Scheduling slack (s) between the station's clock and the doubles' when comparing waits."""
SWITCH_TIMEOUT = 15.0
"""Enough for a reboot and a few back-off waits of the fast test configuration."""


@pytest.fixture
def other_csms() -> Iterator[CsmsDouble]:
    """The CSMS endpoint a new profile points to."""
    with CsmsDouble() as double:
        yield double


@pytest.fixture
def tls_csms(pki: Pki) -> Iterator[CsmsDouble]:
    """A CSMS endpoint for security profile 2: wss:// with a server certificate signed by the test CA."""
    with CsmsDouble(tls=pki.server_context()) as double:
        yield double


def set_network_profile(csms: CsmsDouble, slot: int, data: dict[str, Any]) -> StationReply:
    return csms.call("SetNetworkProfile", {"configurationSlot": slot, "connectionData": data})


def accepted_profile(csms: CsmsDouble, slot: int, data: dict[str, Any]) -> None:
    """Steps 1-2 of the migration test cases: SetNetworkProfileResponse Accepted."""
    reply = set_network_profile(csms, slot, data)
    assert reply.payload == {"status": "Accepted"}, reply


def set_priority(station: ChargingStation, csms: CsmsDouble, value: str) -> None:
    """Steps 3-4: SetVariablesRequest for OCPPCommCtrlr.NetworkConfigurationPriority, Accepted or RebootRequired.
    Until this station answers SetVariables (the device-model branch builds it), the value is set the way an
    operator does, which takes the same path into the device model."""
    if "SetVariables" in CSMS_CALLS:
        variable = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NetworkConfigurationPriority"}}
        reply = csms.call("SetVariables", {"setVariableData": [{**variable, "attributeValue": value}]})
        assert reply.payload is not None, reply
        assert reply.payload["setVariableResult"][0]["attributeStatus"] in ("Accepted", "RebootRequired")
    else:
        station.change_variable("OCPPCommCtrlr", "NetworkConfigurationPriority", value)
    wait_until(lambda: variable_of(station, "OCPPCommCtrlr", "NetworkConfigurationPriority") == value, "the priority")


def variable_of(station: ChargingStation, component: str, variable: str) -> str | None:
    return get_value(station.state.device_model, VariableKey(component, variable))


def reset_on_idle(csms: CsmsDouble) -> None:
    """Steps 5-6: ResetRequest OnIdle, Accepted (the new priority applies from the reboot, B10.FR.04)."""
    assert csms.call("Reset", {"type": "OnIdle"}).payload == {"status": "Accepted"}


@pytest.mark.requirements("B09.FR.02", "B09.FR.05")
def test_TC_B_43_CS_set_network_profile_rejected(csms: CsmsDouble, station_factory: StationFactory) -> None:
    boot(station_factory(), csms)
    reply = set_network_profile(csms, 999, connection_data(csms.url))
    assert reply.payload is not None, reply
    assert reply.payload["status"] == "Rejected"


@pytest.mark.requirements("B09.FR.01", "B10.FR.01", "B10.FR.04", "B10.FR.06")
def test_TC_B_45_CS_migrate_to_new_profile_same_root(
    csms: CsmsDouble, other_csms: CsmsDouble, station_factory: StationFactory
) -> None:
    station = station_factory()
    boot(station, csms)
    assert variable_of(station, "OCPPCommCtrlr", "ActiveNetworkProfile") == "1", "the configured URL is slot 1"

    accepted_profile(csms, 2, connection_data(other_csms.url))
    set_priority(station, csms, "2,1")
    reset_on_idle(csms)

    booted = boot(station, other_csms)  # 7. Reusable State Booted, at the new CSMS
    assert booted.boot.payload["reason"] == "RemoteReset"
    assert other_csms.wait_session(1).attempt.path == "/CS001"
    assert csms.session_count == 1, "the old CSMS saw no connection after the reset"
    assert variable_of(station, "OCPPCommCtrlr", "ActiveNetworkProfile") == "2"


@pytest.mark.requirements("B10.FR.03", "B10.FR.04")
def test_TC_B_46_CS_fallback_mechanism_same_root(
    csms: CsmsDouble, other_csms: CsmsDouble, station_factory: StationFactory
) -> None:
    station = station_factory(config={"OCPPCommCtrlr": {"NetworkProfileConnectionAttempts": 2}})
    boot(station, csms)
    other_csms.refuse_connections()  # the new profile's CSMS does not answer

    accepted_profile(csms, 2, connection_data(other_csms.url))
    set_priority(station, csms, "2,1")
    reset_on_idle(csms)

    reconnected = csms.wait_session(2, SWITCH_TIMEOUT)  # 8. the second slot's connection is accepted
    refused = other_csms.attempts
    assert len(refused) == 2, "7. two attempts (NetworkProfileConnectionAttempts) on the first slot"
    assert all(attempt.at < reconnected.attempt.at for attempt in refused)
    boot(station, csms)  # 9. Reusable State Booted
    assert len(other_csms.attempts) == 2, "no attempt on the first slot once connected"
    assert variable_of(station, "OCPPCommCtrlr", "ActiveNetworkProfile") == "1"


@pytest.mark.requirements("B10.FR.07")
def test_TC_B_49_CS_fallback_to_last_successful_profile_same_root(
    csms: CsmsDouble, other_csms: CsmsDouble, station_factory: StationFactory
) -> None:
    wait_minimum = 1
    config = {
        "OCPPCommCtrlr": {
            "NetworkProfileConnectionAttempts": 1,
            "RetryBackOffRepeatTimes": 0,
            "RetryBackOffRandomRange": 0,
            "RetryBackOffWaitMinimum": wait_minimum,
        }
    }
    station = station_factory(config=config)
    boot(station, csms)
    other_csms.refuse_connections()

    accepted_profile(csms, 2, connection_data(other_csms.url))
    set_priority(station, csms, "2")  # only the new slot: the old one is no longer in the list
    csms.refuse_connections()  # the open connection stays; the next handshakes are refused
    reset_on_idle(csms)

    [to_new] = other_csms.wait_attempts(1, SWITCH_TIMEOUT)  # 7-8. the alternative endpoint refuses
    refused = csms.wait_attempts(2, SWITCH_TIMEOUT)[1]  # 9-10. back to the previous profile: refused
    csms.accept_connections()
    accepted = csms.wait_session(2, SWITCH_TIMEOUT).attempt  # 11-12. after RetryBackOffWaitMinimum: accepted
    assert to_new.at < refused.at < accepted.at
    assert not refused.accepted
    assert accepted.at - refused.at >= wait_minimum - SLACK
    boot(station, csms)  # 13. Reusable State Booted
    assert len(other_csms.attempts) == 1, "the station kept to the last successful profile"


@pytest.mark.requirements("B10.FR.03", "B10.FR.10")
def test_a_csms_that_stops_answering_is_left_for_the_next_profile_in_priority_order(
    csms: CsmsDouble, other_csms: CsmsDouble, station_factory: StationFactory
) -> None:
    """Issue 3 item 6: two endpoints, one stops answering; after NetworkProfileConnectionAttempts attempts on it
    the station connects through the next profile of NetworkConfigurationPriority, without a reboot, and
    registers there."""
    config = {"OCPPCommCtrlr": {"NetworkProfileConnectionAttempts": 3, "RetryBackOffRepeatTimes": 0}}
    station = station_factory(config=config)
    boot(station, csms)
    accepted_profile(csms, 2, connection_data(other_csms.url))
    set_priority(station, csms, "1,2")

    csms.refuse_connections()
    csms.close_connection(1001, "going away")
    moved = other_csms.wait_session(1, SWITCH_TIMEOUT)

    refused = [attempt for attempt in csms.attempts if not attempt.accepted]
    assert len(refused) == 3
    assert all(attempt.at < moved.attempt.at for attempt in refused)
    booted = boot(station, other_csms)
    assert booted.boot.payload["reason"] == "PowerUp", "the reason of the station's last start"
    assert variable_of(station, "OCPPCommCtrlr", "ActiveNetworkProfile") == "2"


@pytest.mark.requirements("A05.FR.04", "A05.FR.05", "A05.FR.06")
def test_TC_A_19_CS_upgrade_security_profile_accepted(
    csms: CsmsDouble, tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, tmp_path: Path
) -> None:
    station = station_factory(ca_file=str(pki.ca), password="0123456789abcdef")
    boot(station, csms)
    assert variable_of(station, "SecurityCtrlr", "SecurityProfile") == "1"

    accepted_profile(csms, 2, connection_data(tls_csms.url, security_profile=2))
    set_priority(station, csms, "2,1")
    reset_on_idle(csms)

    boot(station, tls_csms)  # 7-9. reconnects with security profile 2 and boots
    headers = tls_csms.wait_session(1).attempt.headers
    assert headers["Authorization"].startswith("Basic "), "profile 2 keeps HTTP Basic authentication"
    # 10-13. SecurityProfile is the new level; NetworkConfigurationPriority no longer holds the old slot.
    wait_until(lambda: variable_of(station, "SecurityCtrlr", "SecurityProfile") == "2", "SecurityProfile 2")
    assert variable_of(station, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "2"


@pytest.mark.requirements("B09.FR.04", "A00.FR.005")
def test_TC_A_22_CS_downgrade_security_profile_rejected(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, other_csms: CsmsDouble
) -> None:
    station = station_factory(
        csms_url=tls_csms.url, ca_file=str(pki.ca), config={"SecurityCtrlr": {"SecurityProfile": 2}}
    )
    boot(station, tls_csms)
    reply = set_network_profile(tls_csms, 2, connection_data(other_csms.url, security_profile=1))
    assert reply.payload is not None, reply
    assert reply.payload["status"] == "Rejected"
