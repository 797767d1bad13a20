"""The operator's `availability` command: settings and effective state per connector."""

from __future__ import annotations

from dataclasses import replace

from core_helpers import T0, make_station

from chargecore.pure.state import Availability, Transaction
from chargecore.shell.cli import OPERATOR_HELP, describe_availability


def test_availability_shows_settings_and_effective_state() -> None:
    station = make_station((1, 2))
    held = (Transaction("tx", 1, 1, T0, phase="started"),)  # keeps connector 1/1 Operative until it ends
    station = replace(station, availability=Availability(frozenset({(2, 0), (1, 1)})), transactions=held)
    assert describe_availability(station).splitlines() == [
        "station: Operative",
        "  EVSE 1: Operative",
        "    connector 1: Inoperative, effectively Operative, status Available",
        "  EVSE 2: Inoperative",
        "    connector 1: Operative, effectively Inoperative, status Unavailable",
        "    connector 2: Operative, effectively Inoperative, status Unavailable",
    ]
    assert "availability" in OPERATOR_HELP
