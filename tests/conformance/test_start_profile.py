"""RequestStartTransaction with a chargingProfile over loopback: TC_K_38_CS (a station without smart charging
ignores it, F01.FR.12) and K05 (a station with smart charging charges by it, and drops it with the transaction).

TC_K_38_CS's prerequisite is a station that does not support smart charging: chargecore runs it with
SmartChargingCtrlr.Available false (the capability switched off in the station's configuration) and with
SmartChargingCtrlr.Enabled false (smart charging switched off)."""

from __future__ import annotations

from typing import Any

import pytest
from csms_double import CsmsDouble, wait_until
from harness import StationFactory, boot, settle
from sessions import ID_TOKEN, plug, shape, transaction_event

LIMIT_A = 6.0


def _tx_profile() -> dict[str, Any]:
    """Step 1's chargingProfile: TxProfile, no transactionId, Relative, one period from 0 s at 6 A."""
    period = {"startPeriod": 0, "limit": LIMIT_A, "numberPhases": 3}
    return {
        "id": 38,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [period]}],
    }


def _remote_start_with_profile(csms: CsmsDouble) -> dict[str, Any]:
    request = {"idToken": ID_TOKEN, "remoteStartId": 38, "evseId": 1, "chargingProfile": _tx_profile()}
    reply = csms.call("RequestStartTransaction", request)
    assert reply.payload is not None, reply
    return reply.payload


@pytest.mark.requirements("F01.FR.12")
@pytest.mark.parametrize("variable", ["Available", "Enabled"])
def test_TC_K_38_CS_remote_start_ignores_charging_profile(
    csms: CsmsDouble, station_factory: StationFactory, variable: str
) -> None:
    booted = boot(station_factory(config={"SmartChargingCtrlr": {variable: False}}), csms)
    plug(booted, csms)  # EVConnectedPreSession
    assert _remote_start_with_profile(csms) == {"status": "Accepted"}  # TxStartPoint PowerPathClosed: not started
    started = transaction_event(csms)  # AuthorizeRemoteStart false: no Authorize (step 3)
    assert started.payload["triggerReason"] == "RemoteStart"
    assert started.payload["transactionInfo"]["remoteStartId"] == 38
    assert shape(started) == ("Started", "RemoteStart", "Charging")  # EnergyTransferStarted
    settle(booted.station, csms)
    assert booted.station.state.smart_charging.profiles == (), "the chargingProfile was ignored"
    assert csms.calls("Authorize") == []


@pytest.mark.requirements("K05.FR.01", "F01.FR.08", "K02.FR.05")
def test_K05_remote_start_profile_limits_the_transaction_and_ends_with_it(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    booted = boot(station_factory(), csms)
    plug(booted, csms)
    assert _remote_start_with_profile(csms) == {"status": "Accepted"}
    started = transaction_event(csms)
    assert started.payload["triggerReason"] == "RemoteStart"
    wait_until(lambda: booted.application.limits.get(1, (None,))[0] == LIMIT_A, "the EVSE to obey the TxProfile")
    (profile,) = booted.station.state.smart_charging.profiles
    assert profile.transaction_id == started.payload["transactionInfo"]["transactionId"]
    booted.station.connector(1, 1, "unplug")  # TxStopPoint EVConnected: the transaction ends
    assert transaction_event(csms).payload["eventType"] == "Ended"
    wait_until(lambda: booted.station.state.smart_charging.profiles == (), "the TxProfile to end with it")
