"""Part 6 block G (availability: connector status, ChangeAvailability) test cases for the Charging Station."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from harness import Booted, StationFactory, boot, settle, status_by_connector
from sessions import energy_transfer_started, go_offline, transaction_event

from chargecore.pure.effects import ConnectorStatusChanged, OperativeChanged
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until


def _status(call: StationCall) -> tuple[int, int, str]:
    return call.payload["evseId"], call.payload["connectorId"], call.payload["connectorStatus"]


@pytest.fixture
def two_evses(csms: CsmsDouble, station_factory: StationFactory) -> Booted:
    """Booted with a second EVSE, so a status sent for the wrong connector would show."""
    return boot(station_factory(evse_connectors=(1, 1)), csms)


@pytest.mark.requirements("G01.FR.01", "N07.FR.19")
def test_TC_G_01_CS_available_to_occupied(csms: CsmsDouble, two_evses: Booted) -> None:
    two_evses.station.connector(1, 1, "plug")  # Reusable State EVConnectedPreSession
    occupied = csms.expect_call("StatusNotification")
    assert _status(occupied) == (1, 1, "Occupied")
    settle(two_evses.station, csms)
    assert csms.calls("StatusNotification")[len(two_evses.statuses) :] == [occupied]
    assert ConnectorStatusChanged(1, 1, "Occupied") in two_evses.application.events


@pytest.mark.requirements("G01.FR.01", "N07.FR.19")
def test_TC_G_02_CS_occupied_to_available(csms: CsmsDouble, two_evses: Booted) -> None:
    two_evses.station.connector(2, 1, "plug")
    assert _status(csms.expect_call("StatusNotification")) == (2, 1, "Occupied")

    two_evses.station.connector(2, 1, "unplug")
    available = csms.expect_call("StatusNotification")
    assert _status(available) == (2, 1, "Available")
    settle(two_evses.station, csms)
    assert len(csms.calls("StatusNotification")) == len(two_evses.statuses) + 2


# --- G03/G04 ChangeAvailability ------------------------------------------------------------------------------

EVSE_2 = {"id": 2}
CONNECTOR_2_2 = {"id": 2, "connectorId": 2}


@pytest.fixture
def two_connectors_on_evse_2(csms: CsmsDouble, station_factory: StationFactory) -> Booted:
    """EVSE 1 with one connector and EVSE 2 with two, so statuses of a neighbour or the whole EVSE would show."""
    return boot(station_factory(evse_connectors=(1, 2)), csms)


def _change(csms: CsmsDouble, status: str, evse: dict[str, int] | None = None) -> str:
    payload: dict[str, object] = {"operationalStatus": status}
    if evse is not None:
        payload["evse"] = evse
    reply = csms.call("ChangeAvailability", payload)
    assert reply.payload is not None, reply
    answer: str = reply.payload["status"]
    return answer


def _statuses_after(csms: CsmsDouble, booted: Booted, before: int) -> dict[tuple[int, int], str]:
    """The StatusNotifications the station sent after the first `before` ones, once it has nothing queued."""
    settle(booted.station, csms)
    return status_by_connector(csms.calls("StatusNotification")[before:])


def _unavailable(csms: CsmsDouble, booted: Booted, evse: dict[str, int] | None) -> dict[tuple[int, int], str]:
    """Part 6 Reusable State Unavailable for the station (evse None), an EVSE or a connector."""
    before = len(csms.calls("StatusNotification"))
    assert _change(csms, "Inoperative", evse) == "Accepted"
    return _statuses_after(csms, booted, before)


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.06")
def test_TC_G_03_CS_evse_operative_to_inoperative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    assert _unavailable(csms, two_connectors_on_evse_2, EVSE_2) == {(2, 1): "Unavailable", (2, 2): "Unavailable"}
    events = two_connectors_on_evse_2.application.events
    assert OperativeChanged(2, 1, False) in events and OperativeChanged(2, 2, False) in events
    assert OperativeChanged(1, 1, False) not in events


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.07")
def test_TC_G_04_CS_evse_inoperative_to_operative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    _unavailable(csms, two_connectors_on_evse_2, EVSE_2)  # Memory State: Unavailable for the configured EVSE
    before = len(csms.calls("StatusNotification"))
    assert _change(csms, "Operative", EVSE_2) == "Accepted"
    assert _statuses_after(csms, two_connectors_on_evse_2, before) == {(2, 1): "Available", (2, 2): "Available"}
    assert OperativeChanged(2, 2, True) in two_connectors_on_evse_2.application.events


@pytest.mark.requirements("G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.05", "G04.FR.07")
def test_TC_G_05_CS_station_operative_to_inoperative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    assert _unavailable(csms, two_connectors_on_evse_2, None) == {
        (1, 1): "Unavailable",
        (2, 1): "Unavailable",
        (2, 2): "Unavailable",
    }


@pytest.mark.requirements("G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.05", "G04.FR.08")
def test_TC_G_06_CS_station_inoperative_to_operative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    _unavailable(csms, two_connectors_on_evse_2, None)
    before = len(csms.calls("StatusNotification"))
    assert _change(csms, "Operative") == "Accepted"
    assert _statuses_after(csms, two_connectors_on_evse_2, before) == {
        (1, 1): "Available",
        (2, 1): "Available",
        (2, 2): "Available",
    }


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.06")
def test_TC_G_07_CS_connector_operative_to_inoperative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    assert _unavailable(csms, two_connectors_on_evse_2, CONNECTOR_2_2) == {(2, 2): "Unavailable"}


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.07")
def test_TC_G_08_CS_connector_inoperative_to_operative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    _unavailable(csms, two_connectors_on_evse_2, CONNECTOR_2_2)
    before = len(csms.calls("StatusNotification"))
    assert _change(csms, "Operative", CONNECTOR_2_2) == "Accepted"
    assert _statuses_after(csms, two_connectors_on_evse_2, before) == {(2, 2): "Available"}


def _scheduled_until_stop_authorized(
    csms: CsmsDouble, booted: Booted, evse: dict[str, int] | None
) -> tuple[dict[tuple[int, int], str], dict[tuple[int, int], str]]:
    """Charging State EnergyTransferStarted on EVSE 1, Inoperative asked for (Scheduled), then Reusable State
    StopAuthorized, which ends the transaction with the default TxStopPoint (EVConnected,Authorized). Returns the
    statuses sent while the transaction ran and those sent once it had ended."""
    energy_transfer_started(booted, csms)
    before = len(csms.calls("StatusNotification"))
    assert _change(csms, "Inoperative", evse) == "Scheduled"
    while_running = _statuses_after(csms, booted, before)
    before = len(csms.calls("StatusNotification"))
    booted.station.present_token("TOKEN1")  # StopAuthorized
    ended = transaction_event(csms)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "StopAuthorized")
    return while_running, _statuses_after(csms, booted, before)


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.05")
def test_TC_G_11_CS_evse_inoperative_with_ongoing_transaction(csms: CsmsDouble, two_evses: Booted) -> None:
    while_running, after = _scheduled_until_stop_authorized(csms, two_evses, {"id": 1})
    assert while_running == {}, "the EVSE stays Operative while its transaction runs"
    assert after == {(1, 1): "Unavailable"}
    assert OperativeChanged(1, 1, False) in two_evses.application.events
    assert OperativeChanged(2, 1, False) not in two_evses.application.events


@pytest.mark.requirements("G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.05", "G04.FR.06")
def test_TC_G_14_CS_station_inoperative_with_ongoing_transaction(csms: CsmsDouble, two_evses: Booted) -> None:
    while_running, after = _scheduled_until_stop_authorized(csms, two_evses, None)
    assert while_running == {(2, 1): "Unavailable"}, "step 3: the EVSE without a transaction at once"
    assert after == {(1, 1): "Unavailable"}


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.04", "G03.FR.05")
def test_TC_G_17_CS_connector_inoperative_with_ongoing_transaction(csms: CsmsDouble, two_evses: Booted) -> None:
    while_running, after = _scheduled_until_stop_authorized(csms, two_evses, {"id": 1, "connectorId": 1})
    assert while_running == {}
    assert after == {(1, 1): "Unavailable"}


def _same_again(csms: CsmsDouble, booted: Booted, status: str, evse: dict[str, int] | None) -> None:
    """Operative (or, once Unavailable, Inoperative) again: Accepted, and no status changes, so none is sent."""
    if status == "Inoperative":
        _unavailable(csms, booted, evse)  # Charging State: Unavailable
    before = len(csms.calls("StatusNotification"))
    assert _change(csms, status, evse) == "Accepted"
    assert _statuses_after(csms, booted, before) == {}


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04")
def test_TC_G_09_CS_evse_operative_to_operative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    _same_again(csms, two_connectors_on_evse_2, "Operative", EVSE_2)


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04")
def test_TC_G_10_CS_evse_inoperative_to_inoperative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    """Post scenario validation "a message to report the state of a connector has been received for all
    connectors": from the Charging State on, each connector of the configured EVSE was reported Unavailable and
    nothing since said otherwise; over the whole run (boot included) every connector of the station was reported,
    with its current status. The repeated request changes nothing, so it sends nothing (G03.FR.04, as libocpp)."""
    booted = two_connectors_on_evse_2
    prepared = _unavailable(csms, booted, EVSE_2)  # Charging State: Unavailable for <Configured evseId>
    before = len(csms.calls("StatusNotification"))
    assert _change(csms, "Inoperative", EVSE_2) == "Accepted"  # steps 1 and 2
    after = _statuses_after(csms, booted, before)
    assert {**prepared, **after} == {(2, 1): "Unavailable", (2, 2): "Unavailable"}
    latest = {_status(call)[:2]: _status(call)[2] for call in csms.calls("StatusNotification")}
    assert latest == {(1, 1): "Available", (2, 1): "Unavailable", (2, 2): "Unavailable"}


@pytest.mark.requirements("G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.04", "G04.FR.05")
def test_TC_G_12_CS_station_operative_to_operative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    _same_again(csms, two_connectors_on_evse_2, "Operative", None)


@pytest.mark.requirements("G04.FR.01", "G04.FR.02", "G04.FR.03", "G04.FR.04", "G04.FR.05")
def test_TC_G_13_CS_station_inoperative_to_inoperative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    """Step 3's StatusNotifications (Unavailable) are the ones sent when the station became Unavailable: nothing
    changes with the second request, so the station reports nothing new (a status is sent when it changes)."""
    _same_again(csms, two_connectors_on_evse_2, "Inoperative", None)
    assert {_status(c)[2] for c in csms.calls("StatusNotification")[-3:]} == {"Unavailable"}


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04")
def test_TC_G_15_CS_connector_operative_to_operative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    _same_again(csms, two_connectors_on_evse_2, "Operative", CONNECTOR_2_2)


@pytest.mark.requirements("G03.FR.01", "G03.FR.02", "G03.FR.03", "G03.FR.04")
def test_TC_G_16_CS_connector_inoperative_to_inoperative(csms: CsmsDouble, two_connectors_on_evse_2: Booted) -> None:
    _same_again(csms, two_connectors_on_evse_2, "Inoperative", CONNECTOR_2_2)


def test_change_availability_of_an_unknown_evse_is_rejected(csms: CsmsDouble, two_evses: Booted) -> None:
    assert _change(csms, "Inoperative", {"id": 3}) == "Rejected"
    assert _change(csms, "Inoperative", {"id": 1, "connectorId": 2}) == "Rejected"
    assert _statuses_after(csms, two_evses, len(two_evses.statuses)) == {}


def _power_cycle(csms: CsmsDouble, station_factory: StationFactory, booted: Booted) -> Booted:
    """Power loss and Reusable State Booted again: a new station process on the same storage."""
    options = booted.station.options
    booted.station.stop(timeout=5)
    csms.wait_session_closed(csms.session_count)
    restarted = station_factory(evse_connectors=options.evse_connectors, data_dir=options.data_dir)
    return boot(restarted, csms)


def _unavailable_after_reboot(
    csms: CsmsDouble, station_factory: StationFactory, booted: Booted, evse: dict[str, int] | None
) -> dict[tuple[int, int], str]:
    """Set `evse` (None: the station) Inoperative, then power-cycle: the statuses the rebooted station reports,
    after checking step 6, the SecurityEventNotification of the start (A04.FR.01)."""
    _unavailable(csms, booted, evse)
    rebooted = _power_cycle(csms, station_factory, booted)
    settle(rebooted.station, csms)
    started = [call for call in csms.calls("SecurityEventNotification") if call.session == csms.session_count]
    assert [call.payload["type"] for call in started] == ["StartupOfTheDevice"], started
    return status_by_connector(rebooted.statuses)


@pytest.mark.requirements("G03.FR.08", "G01.FR.01")
def test_TC_G_18_CS_evse_unavailable_persists_across_reboot(
    csms: CsmsDouble, station_factory: StationFactory, two_connectors_on_evse_2: Booted
) -> None:
    assert _unavailable(csms, two_connectors_on_evse_2, EVSE_2) == {(2, 1): "Unavailable", (2, 2): "Unavailable"}
    rebooted = _power_cycle(csms, station_factory, two_connectors_on_evse_2)
    assert status_by_connector(rebooted.statuses) == {
        (1, 1): "Available",
        (2, 1): "Unavailable",
        (2, 2): "Unavailable",
    }
    assert OperativeChanged(2, 1, False) in rebooted.application.events, "the hardware is told at power-up"
    assert OperativeChanged(1, 1, False) not in rebooted.application.events


@pytest.mark.requirements("G03.FR.08", "A04.FR.01")
def test_TC_G_19_CS_connector_unavailable_persists_across_reboot(
    csms: CsmsDouble, station_factory: StationFactory, two_connectors_on_evse_2: Booted
) -> None:
    assert _unavailable_after_reboot(csms, station_factory, two_connectors_on_evse_2, CONNECTOR_2_2) == {
        (1, 1): "Available",
        (2, 1): "Available",
        (2, 2): "Unavailable",
    }


@pytest.mark.requirements("G04.FR.09", "A04.FR.01")
def test_TC_G_21_CS_station_unavailable_persists_across_reboot(
    csms: CsmsDouble, station_factory: StationFactory, two_connectors_on_evse_2: Booted
) -> None:
    assert _unavailable_after_reboot(csms, station_factory, two_connectors_on_evse_2, None) == {
        (1, 1): "Unavailable",
        (2, 1): "Unavailable",
        (2, 2): "Unavailable",
    }


@pytest.mark.requirements("B04.FR.02")
def test_a_status_changed_offline_is_reported_with_the_time_it_changed(csms: CsmsDouble, booted: Booted) -> None:
    """The EV plugs in while the CSMS is unreachable; the StatusNotification sent after the reconnect says when
    the connector became Occupied, not when the station got back online."""
    go_offline(booted, csms)
    plugged_at = datetime.now(UTC)
    booted.station.connector(1, 1, "plug")
    wait_until(lambda: booted.station.state.connectors[0].phase == "plugged", "the plug to be taken in")
    time.sleep(1.5)
    csms.accept_connections()
    occupied = csms.expect_call("StatusNotification", timeout=10)
    received_at = datetime.now(UTC)
    assert _status(occupied) == (1, 1, "Occupied")
    stamp = datetime.fromisoformat(occupied.payload["timestamp"].replace("Z", "+00:00"))
    assert abs(stamp - plugged_at) < timedelta(seconds=0.5), (stamp, plugged_at)
    assert received_at - stamp > timedelta(seconds=1.4), (stamp, received_at)
