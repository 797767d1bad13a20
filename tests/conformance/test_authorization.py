"""Part 6 block C (authorization) test cases for the Charging Station that need no local list or cache."""

from __future__ import annotations

import pytest
from harness import Booted, StationFactory, boot, settle
from sessions import ID_TOKEN, authorize_locally, energy_transfer_started, id_token, plug, shape, transaction_event

from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import CsmsDouble, wait_until

GROUP = {"idToken": "GROUP1", "type": "Central"}
MASTER = {"idToken": "MASTERGROUP", "type": "Central"}


def _refused_locally(booted: Booted, csms: CsmsDouble, status: str) -> None:
    """EVConnectedPreSession, a token the CSMS refuses, and no TransactionEvent after it (C01.FR.02)."""
    plug(booted, csms)
    authorize_locally(booted, csms, status)
    settle(booted.station, csms)
    assert csms.calls("TransactionEvent") == []
    assert booted.application.energy == {}, "the power path never closed"


@pytest.mark.requirements("C01.FR.02", "C06.FR.02")
def test_TC_C_02_CS_local_start_invalid(csms: CsmsDouble, booted: Booted) -> None:
    _refused_locally(booted, csms, "Invalid")


@pytest.mark.requirements("C01.FR.02")
def test_TC_C_06_CS_local_start_blocked(csms: CsmsDouble, booted: Booted) -> None:
    _refused_locally(booted, csms, "Blocked")


@pytest.mark.requirements("C01.FR.02")
def test_TC_C_07_CS_local_start_expired(csms: CsmsDouble, booted: Booted) -> None:
    _refused_locally(booted, csms, "Expired")


@pytest.mark.requirements("C01.FR.02")
def test_TC_C_56_CS_local_start_unknown(csms: CsmsDouble, booted: Booted) -> None:
    _refused_locally(booted, csms, "Unknown")


def test_TC_C_04_CS_local_stop_with_a_different_token(csms: CsmsDouble, booted: Booted) -> None:
    energy_transfer_started(booted, csms)
    authorize_locally(booted, csms, "Accepted", token="OTHER")
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 1, "a different token does not stop the transaction"
    assert len(csms.calls("Authorize")) == 2


@pytest.mark.requirements("C09.FR.02", "C09.FR.03", "C09.FR.05", "E07.FR.04")
def test_TC_C_39_CS_group_id_success(csms: CsmsDouble, booted: Booted) -> None:
    plug(booted, csms)  # Reusable State EVConnectedPreSession
    group_accepted = {"idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}}
    first = authorize_locally(booted, csms, groupIdToken=GROUP)  # steps 1-2
    assert first.payload["idToken"] == ID_TOKEN
    # steps 3-5: TxStartPoint PowerPathClosed, so no Authorized event before EnergyTransferStarted's Started
    started = transaction_event(csms, group_accepted)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging") and started.payload["idToken"] == ID_TOKEN
    second = authorize_locally(booted, csms, token="OTHER", groupIdToken=GROUP)  # steps 6-7
    assert second.payload["idToken"] == id_token("OTHER")
    stopped = transaction_event(csms, group_accepted)  # steps 8-9
    assert stopped.payload["triggerReason"] == "StopAuthorized"
    assert stopped.payload["idToken"] == id_token("OTHER"), "step 8: the idToken that ended the authorization"
    assert (stopped.payload["eventType"], stopped.payload["transactionInfo"]["stoppedReason"]) == ("Ended", "Local")
    plug(booted, csms, "unplug")  # steps 10-11: EVConnectedPostSession (ended already), EVDisconnected
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 2


@pytest.mark.requirements("C09.FR.11")
def test_TC_C_42_CS_not_stopped_by_group_id(csms: CsmsDouble, booted: Booted) -> None:
    plug(booted, csms)
    authorize_locally(booted, csms, groupIdToken=GROUP)
    transaction_event(csms, {"idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}})
    authorize_locally(booted, csms, "Invalid", token="OTHER", groupIdToken=GROUP)
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 1


@pytest.mark.requirements("C16.FR.03")
def test_TC_C_45_CS_master_pass_cannot_start(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config={"AuthCtrlr": {"MasterPassGroupId": MASTER["idToken"]}}), csms)
    authorize_locally(booted, csms, token="MASTER", groupIdToken=MASTER)
    plug(booted, csms)
    settle(booted.station, csms)
    assert csms.calls("TransactionEvent") == [] and booted.application.energy == {}


@pytest.mark.requirements("C16.FR.02")
def test_TC_C_49_CS_master_pass_without_ui_stops_all(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {"AuthCtrlr": {"MasterPassGroupId": MASTER["idToken"]}}
    booted = boot(station_factory(config=config, evse_connectors=(1, 1)), csms)
    energy_transfer_started(booted, csms)
    booted.station.connector(2, 1, "plug")
    booted.station.present_token("TOKEN2", evse_id=2)
    csms.reply(csms.expect_call("Authorize"), {"idTokenInfo": {"status": "Accepted"}})
    assert transaction_event(csms).payload["evse"]["id"] == 2
    authorize_locally(booted, csms, token="MASTER", groupIdToken=MASTER)
    ended = [transaction_event(csms), transaction_event(csms)]
    assert sorted(call.payload["evse"]["id"] for call in ended) == [1, 2]
    assert {call.payload["transactionInfo"]["stoppedReason"] for call in ended} == {"MasterPass"}


@pytest.mark.requirements("C15.FR.02", "C15.FR.06", "C15.FR.08")
def test_TC_C_26_CS_offline_unknown_id(csms: CsmsDouble, station_factory: StationFactory) -> None:
    config = {
        "AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True, "LocalAuthorizeOffline": True},
        "TxCtrlr": {"StopTxOnInvalidId": False, "MaxEnergyOnInvalidId": 0},
    }
    booted = boot(station_factory(config=config), csms)
    settle(booted.station, csms)
    csms.refuse_connections()  # Reusable State StartOfflineTransaction
    csms.close_connection()
    wait_until(lambda: booted.station.state.connection.phase != "up", "the station to notice")
    booted.station.present_token("TOKEN1")
    booted.station.connector(1, 1, "plug")
    wait_until(lambda: booted.station.state.rpc.lane, "the offline transaction to start")
    csms.accept_connections()
    started = transaction_event(csms, {"idTokenInfo": {"status": "Invalid"}}, timeout=10)
    assert started.payload["offline"] is True and started.payload["idToken"] == ID_TOKEN
    suspended = transaction_event(csms)
    assert shape(suspended) == ("Updated", "ChargingStateChanged", "SuspendedEVSE")
    booted.station.present_token("TOKEN1")
    booted.station.connector(1, 1, "unplug")
    stopped = transaction_event(csms)
    assert stopped.payload["triggerReason"] == "StopAuthorized"
    assert booted.application.energy == {1: False}


def test_the_application_validates_tokens_itself(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """validates_tokens (libocpp's validate_token): the application's verdict decides without an Authorize."""
    application = SimulatedCharger()
    application.token_verdicts = {"BANNED": {"status": "Blocked"}, "APPROVED": {"status": "Accepted"}}
    booted = boot(station_factory(application=application, validates_tokens=True), csms)
    plug(booted, csms)
    booted.station.present_token("BANNED")
    settle(booted.station, csms)
    assert csms.calls("TransactionEvent") == [] and application.energy == {}
    booted.station.present_token("APPROVED")
    started = transaction_event(csms)
    assert started.payload["idToken"] == {"idToken": "APPROVED", "type": "ISO14443"}
    assert csms.calls("Authorize") == [] and application.energy == {1: True}
