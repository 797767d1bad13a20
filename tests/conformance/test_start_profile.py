"""RequestStartTransaction with a chargingProfile over loopback: TC_K_38_CS (a station without smart charging
ignores it, F01.FR.12) and K05 (a station with smart charging charges by it, and drops it with the transaction).

TC_K_38_CS's prerequisite is a station that does NOT support smart charging: the integrator declares that with
SmartChargingCtrlr.Available false (ReadOnly, set in the station's configuration), and the station then answers
every charging-profile message NotSupported. A station that has smart charging but switched off
(SmartChargingCtrlr.Enabled false) ignores the profile too, but it is not the station TC_K_38 is about."""

from __future__ import annotations

from typing import Any

import pytest
from harness import StationFactory, boot, settle
from sessions import ID_TOKEN, plug, shape, transaction_event

from chargecore.testing.csms_double import CsmsDouble, wait_until

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


def _authorized_if_asked(csms: CsmsDouble, authorize_remote_start: bool) -> None:
    """Steps 3-4: with AuthCtrlr.AuthorizeRemoteStart true the station asks the CSMS first; else it does not."""
    if authorize_remote_start:
        authorize = csms.expect_call("Authorize")
        assert authorize.payload["idToken"] == ID_TOKEN
        csms.reply(authorize, {"idTokenInfo": {"status": "Accepted"}})


@pytest.mark.requirements("F01.FR.12", "K01.FR.29")
@pytest.mark.parametrize("authorize_remote_start", [False, True], ids=["no_authorize", "authorize_remote_start"])
def test_TC_K_38_CS_remote_start_ignores_charging_profile(
    csms: CsmsDouble, station_factory: StationFactory, authorize_remote_start: bool
) -> None:
    config = {"SmartChargingCtrlr": {"Available": False}, "AuthCtrlr": {"AuthorizeRemoteStart": authorize_remote_start}}
    booted = boot(station_factory(config=config), csms)
    available = csms.call(
        "GetVariables",
        {"getVariableData": [{"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "Available"}}]},
    )
    assert available.payload["getVariableResult"][0]["attributeValue"] == "false", "prerequisite: no smart charging"
    refused = csms.call("SetChargingProfile", {"evseId": 1, "chargingProfile": _tx_profile()})
    assert refused.error_code == "NotSupported", "a station without smart charging takes no profile"
    plug(booted, csms)  # Reusable State EVConnectedPreSession
    assert _remote_start_with_profile(csms) == {"status": "Accepted"}  # steps 1-2 (TxStartPoint PowerPathClosed)
    _authorized_if_asked(csms, authorize_remote_start)
    started = transaction_event(csms)  # steps 5-7: not started before EnergyTransferStarted
    assert shape(started) == ("Started", "RemoteStart", "Charging")
    assert started.payload["transactionInfo"]["remoteStartId"] == 38
    settle(booted.station, csms)
    assert booted.station.state.smart_charging.profiles == (), "the chargingProfile was ignored"
    assert 1 not in booted.application.limits, "no 6 A limit reached the EVSE"
    assert len(csms.calls("Authorize")) == int(authorize_remote_start)


@pytest.mark.requirements("F01.FR.12")
def test_F01_a_station_with_smart_charging_switched_off_ignores_the_start_profile(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    booted = boot(station_factory(config={"SmartChargingCtrlr": {"Enabled": False}}), csms)
    plug(booted, csms)
    assert _remote_start_with_profile(csms) == {"status": "Accepted"}
    started = transaction_event(csms)
    assert shape(started) == ("Started", "RemoteStart", "Charging")
    settle(booted.station, csms)
    assert booted.station.state.smart_charging.profiles == ()
    assert 1 not in booted.application.limits


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
