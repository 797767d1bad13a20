"""Part 6 block G (availability: connector status) test cases for the Charging Station."""

from __future__ import annotations

import pytest
from csms_double import CsmsDouble, StationCall
from harness import Booted, StationFactory, boot, settle

from chargecore.pure.effects import ConnectorStatusChanged


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
