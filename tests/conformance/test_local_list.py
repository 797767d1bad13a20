"""Part 6 block D (local authorization list) test cases, and the authorization-cache test cases of block C that
need no transaction, for the Charging Station.

The Core & Advanced Security edition of Part 6 (../shared/ocpp-2.0.1) does not print the TC_D texts (Part 5 lists
Local Authorization List Management test cases "in a later version"); the TC_D cases follow the OCTT test
case titles: TC_D_01 Full, TC_D_02 Differential Update, TC_D_03 Differential Remove, TC_D_04 Full with empty
list, TC_D_05 Differential with empty list, TC_D_06 VersionMismatch, TC_D_07 Persistent over reboot, TC_D_08
Get Local List Version - Success, TC_D_09 Get Local List Version - No list available. Each sends the request,
checks the response, then checks the version with GetLocalListVersion and the list itself in the station.
Those ids are not in this edition's Part 6, so the tests are named `test_octt_D_nn_...` and the conformance
report does not count them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import Booted, StationFactory, boot
from sessions import cached

from chargecore.pure.blocks.authorization import token_store
from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import CsmsDouble, wait_until

VALID = {"idToken": "D001001", "type": "ISO14443"}
"""<Configured valid idToken>."""
OTHER = {"idToken": "D001002", "type": "ISO14443"}
ACCEPTED = {"status": "Accepted"}


def entry(id_token: dict[str, str], status: str = "Accepted") -> dict[str, Any]:
    return {"idToken": id_token, "idTokenInfo": {"status": status}}


def send_local_list(csms: CsmsDouble, version: int, update: str, items: list[dict[str, Any]] | None = None) -> Any:
    payload: dict[str, Any] = {"versionNumber": version, "updateType": update}
    if items is not None:
        payload["localAuthorizationList"] = items
    return csms.call("SendLocalList", payload).payload


def list_version(csms: CsmsDouble) -> Any:
    return csms.call("GetLocalListVersion", {}).payload["versionNumber"]


def known(station: ChargingStation, id_token: dict[str, str]) -> str | None:
    """The status the station itself would find for the token (local list first, then cache)."""
    info = token_store.lookup(station.state, id_token, datetime.now(UTC))
    return None if info is None else info["status"]  # type: ignore[no-any-return]


@pytest.mark.requirements("D01.FR.01", "D01.FR.15", "D02.FR.01")
def test_octt_D_01_send_local_list_full(csms: CsmsDouble, booted: Booted) -> None:
    assert send_local_list(csms, 2, "Full", [entry(VALID)]) == ACCEPTED
    assert list_version(csms) == 2
    assert known(booted.station, VALID) == "Accepted"


@pytest.mark.requirements("D01.FR.16")
def test_octt_D_02_send_local_list_differential_update(csms: CsmsDouble, booted: Booted) -> None:
    send_local_list(csms, 2, "Full", [entry(VALID)])
    assert send_local_list(csms, 3, "Differential", [entry(OTHER)]) == ACCEPTED
    assert list_version(csms) == 3
    assert (known(booted.station, VALID), known(booted.station, OTHER)) == ("Accepted", "Accepted")


@pytest.mark.requirements("D01.FR.17")
def test_octt_D_03_send_local_list_differential_remove(csms: CsmsDouble, booted: Booted) -> None:
    send_local_list(csms, 2, "Full", [entry(VALID), entry(OTHER)])
    assert send_local_list(csms, 3, "Differential", [{"idToken": VALID}]) == ACCEPTED
    assert list_version(csms) == 3
    assert (known(booted.station, VALID), known(booted.station, OTHER)) == (None, "Accepted")


@pytest.mark.requirements("D01.FR.04")
def test_octt_D_04_send_local_list_full_with_empty_list(csms: CsmsDouble, booted: Booted) -> None:
    """ "Empty" is the list left out: the schema gives localAuthorizationList minItems 1."""
    send_local_list(csms, 1, "Full", [entry(VALID)])
    assert send_local_list(csms, 2, "Full") == ACCEPTED
    assert list_version(csms) == 2
    assert known(booted.station, VALID) is None


@pytest.mark.requirements("D01.FR.05")
def test_octt_D_05_send_local_list_differential_with_empty_list(csms: CsmsDouble, booted: Booted) -> None:
    send_local_list(csms, 2, "Full", [entry(VALID)])
    assert send_local_list(csms, 3, "Differential") == ACCEPTED
    assert list_version(csms) == 3
    assert known(booted.station, VALID) == "Accepted"


@pytest.mark.requirements("D01.FR.19")
def test_octt_D_06_send_local_list_version_mismatch(csms: CsmsDouble, booted: Booted) -> None:
    send_local_list(csms, 3, "Full", [entry(VALID)])
    assert send_local_list(csms, 2, "Differential", [entry(OTHER)]) == {"status": "VersionMismatch"}
    assert list_version(csms) == 3
    assert known(booted.station, OTHER) is None


def test_octt_D_07_send_local_list_persistent_over_reboot(csms: CsmsDouble, booted: Booted) -> None:
    send_local_list(csms, 2, "Full", [entry(VALID)])
    assert csms.call("Reset", {"type": "OnIdle"}).payload == ACCEPTED
    csms.wait_session(2)
    csms.answer_boot("Accepted")
    csms.expect_call("StatusNotification")
    assert list_version(csms) == 2
    assert known(booted.station, VALID) == "Accepted"


@pytest.mark.requirements("D02.FR.01")
def test_octt_D_08_get_local_list_version_success(csms: CsmsDouble, booted: Booted) -> None:
    send_local_list(csms, 5, "Full", [entry(VALID)])
    assert list_version(csms) == 5


@pytest.mark.requirements("D02.FR.02")
def test_octt_D_09_get_local_list_version_no_list(csms: CsmsDouble, booted: Booted) -> None:
    assert list_version(csms) == 0


# --- authorization cache -------------------------------------------------------------------------------------


@pytest.mark.requirements("C11.FR.02", "C11.FR.04")
def test_TC_C_38_CS_clear_cache_rejected(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path) -> None:
    cached(tmp_path / "cached", VALID)
    booted = boot(station_factory(data_dir=tmp_path / "cached", config={"AuthCacheCtrlr": {"Enabled": False}}), csms)
    reply = csms.call("ClearCache", {})
    assert reply.payload["status"] == "Rejected"
    booted.station.change_variable("AuthCacheCtrlr", "Enabled", "true")
    wait_until(lambda: known(booted.station, VALID), "the cache to be enabled")
    assert known(booted.station, VALID) == "Accepted", "a refused ClearCache keeps the cache"
