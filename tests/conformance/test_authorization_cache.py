"""Part 6 block C test cases of the Charging Station that authorize through the authorization cache (C10, C12),
GroupId with the cache (C09), the master pass with a user interface (C16), the cable lock case TC_C_05, and
TC_E_45 (an offline stop by a token of the same group).

The Memory State IdTokenCached is the cache entry an earlier run left in the station's data dir; Configuration
States go over the wire with SetVariables. Where a tool validation expects triggerReason Authorized on the first
TransactionEvent, TxStartPoint is set to Authorized (Part 6: "when TxStartPoint contains Authorized").
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from harness import Booted, StationFactory, boot, settle
from sessions import (
    ID_TOKEN,
    TOKEN,
    cached,
    configure,
    energy_transfer_started,
    go_offline,
    id_token,
    plug,
    queued,
    shape,
    transaction_event,
)

from chargecore.pure.effects import MasterPassAccepted
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until

GROUP = {"idToken": "GROUP1", "type": "Central"}
MASTER = {"idToken": "MASTERGROUP", "type": "Central"}
PRE_AUTHORIZE = {"AuthCtrlr": {"LocalPreAuthorize": True}}
START_ON_AUTHORIZED = {"TxCtrlr": {"TxStartPoint": "Authorized"}}


def with_cache(
    csms: CsmsDouble,
    station_factory: StationFactory,
    tmp_path: Path,
    entries: dict[str, dict[str, Any]],
    config: dict[str, dict[str, Any]] | None = None,
) -> Booted:
    """Memory State IdTokenCached for each token (name -> idTokenInfo), Reusable State Booted, then the
    Configuration State set with SetVariables."""
    data_dir = tmp_path / "station"
    for name, info in entries.items():
        cached(data_dir, id_token(name), **info)
    booted = boot(station_factory(data_dir=data_dir), csms)
    if config:
        configure(csms, config)
    return booted


def plugged_with_cached(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, status: str, *, disable_post_authorize: bool
) -> Booted:
    """TOKEN cached with this status, LocalPreAuthorize on, DisablePostAuthorize as given, and the EV plugged in."""
    config = {**PRE_AUTHORIZE, "AuthCacheCtrlr": {"DisablePostAuthorize": disable_post_authorize}}
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {"status": status}}, config)
    plug(booted, csms)
    return booted


def no_transaction_event_after_authorize(booted: Booted, csms: CsmsDouble, token: str, status: str) -> None:
    """The AuthorizeRequest for `token` answered `status`, and no TransactionEvent after it (C01.FR.02)."""
    booted.station.present_token(token)
    call = csms.expect_call("Authorize")
    assert call.payload == {"idToken": id_token(token)}
    csms.reply(call, {"idTokenInfo": {"status": status}})
    settle(booted.station, csms)
    assert csms.calls("TransactionEvent") == []
    assert booted.application.energy == {}


def started_from_cache(booted: Booted, csms: CsmsDouble, answer: dict[str, Any] | None = None) -> StationCall:
    """The valid token presented; the station starts from its cache without an AuthorizeRequest."""
    asked = len(csms.calls("Authorize"))
    booted.station.present_token(TOKEN)
    started = transaction_event(csms, answer)
    assert started.payload["eventType"] == "Started" and started.payload["idToken"] == ID_TOKEN
    assert len(csms.calls("Authorize")) == asked
    return started


@pytest.mark.requirements("C01.FR.02")
def test_TC_C_05_CS_invalid_with_cable_lock(csms: CsmsDouble, booted: Booted) -> None:
    """The cable lock keeps the cable out until a token is accepted: the token comes before any EV, and an
    Invalid one starts nothing (TxStartPoint Authorized would otherwise start a transaction at once)."""
    configure(csms, START_ON_AUTHORIZED)
    no_transaction_event_after_authorize(booted, csms, TOKEN, "Invalid")
    assert booted.application.unlocked == []


@pytest.mark.requirements("C12.FR.02", "C12.FR.04")
def test_TC_C_08_CS_cache_accepted(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path) -> None:
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}}, PRE_AUTHORIZE)
    plug(booted, csms)
    started = started_from_cache(booted, csms)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging")
    assert booted.application.energy == {1: True}


@pytest.mark.parametrize(
    "status",
    [
        pytest.param("Invalid", id="TC_C_09_CS_cache_invalid"),
        pytest.param("Blocked", id="TC_C_10_CS_cache_blocked"),
        pytest.param("Expired", id="TC_C_11_CS_cache_expired"),
    ],
)
@pytest.mark.requirements("C12.FR.05", "C10.FR.03")
def test_cache_not_accepted(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, status: str) -> None:
    booted = plugged_with_cached(csms, station_factory, tmp_path, status, disable_post_authorize=False)
    no_transaction_event_after_authorize(booted, csms, TOKEN, status)


@pytest.mark.requirements("C12.FR.05", "C10.FR.03", "C12.FR.06")
def test_TC_C_12_CS_cache_invalid_csms_accepted(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    booted = plugged_with_cached(csms, station_factory, tmp_path, "Invalid", disable_post_authorize=False)
    booted.station.present_token(TOKEN)
    call = csms.expect_call("Authorize")
    assert call.payload == {"idToken": ID_TOKEN}
    csms.reply(call, {"idTokenInfo": {"status": "Accepted"}})
    assert shape(transaction_event(csms)) == ("Started", "ChargingStateChanged", "Charging")
    assert booted.application.energy == {1: True}


@pytest.mark.requirements("C12.FR.02", "C12.FR.04")
def test_TC_C_13_CS_cache_accepted_cable_not_connected(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}}, {**PRE_AUTHORIZE, **START_ON_AUTHORIZED})
    started = started_from_cache(booted, csms)
    assert started.payload["triggerReason"] == "Authorized"
    assert booted.application.energy == {}, "no energy before the cable"
    plug(booted, csms)
    assert shape(transaction_event(csms)) == ("Updated", "CablePluggedIn", "EVConnected")
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")
    assert booted.application.energy == {1: True}


def offline_start_from_cache(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, tx_ctrlr: dict[str, Any]
) -> Booted:
    """TC_C_15..18 steps 1-2: EVConnectedPreSession, the OCTT goes away, the cached token starts a transaction
    offline, the OCTT accepts the reconnect."""
    config = {
        "AuthCtrlr": {"LocalPreAuthorize": True, "LocalAuthorizeOffline": True, "OfflineTxForUnknownIdEnabled": True},
        "TxCtrlr": tx_ctrlr,
    }
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}}, config)
    plug(booted, csms)
    settle(booted.station, csms)
    go_offline(booted, csms)
    booted.station.present_token(TOKEN)
    queued(booted, 1)
    wait_until(lambda: booted.application.energy == {1: True}, "the energy transfer to start offline")
    csms.accept_connections()
    return booted


def invalid_after_reconnect(csms: CsmsDouble) -> StationCall:
    """Steps 3-4: the queued Started (offline, with the idToken) answered Invalid."""
    started = transaction_event(csms, {"idTokenInfo": {"status": "Invalid"}}, timeout=10)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging")
    assert started.payload["offline"] is True and started.payload["idToken"] == ID_TOKEN
    return started


@pytest.mark.requirements("C12.FR.02", "C12.FR.04", "E05.FR.03")
def test_TC_C_15_CS_cache_max_energy_on_invalid_id(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    tx_ctrlr = {"StopTxOnInvalidId": False, "MaxEnergyOnInvalidId": 500}
    booted = offline_start_from_cache(csms, station_factory, tmp_path, tx_ctrlr)
    invalid_after_reconnect(csms)
    settle(booted.station, csms)
    triggers = [call.payload["triggerReason"] for call in csms.calls("TransactionEvent")]
    assert "Deauthorized" not in triggers and booted.application.energy == {1: True}, "energy up to 500 Wh"
    booted.station.meter(1, 499)
    settle(booted.station, csms)
    assert booted.application.energy == {1: True}
    booted.station.meter(1, 500)
    wait_until(lambda: booted.application.energy == {1: False}, "the energy to stop at MaxEnergyOnInvalidId")


@pytest.mark.parametrize(
    "max_energy",
    [pytest.param(0, id="TC_C_16_CS_stop_tx_on_invalid_id"), pytest.param(500, id="TC_C_18_CS_with_max_energy")],
)
@pytest.mark.requirements("C12.FR.02", "C12.FR.04", "E05.FR.09")
def test_cache_stop_tx_on_invalid_id(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, max_energy: int
) -> None:
    tx_ctrlr = {"StopTxOnInvalidId": True, "MaxEnergyOnInvalidId": max_energy}
    booted = offline_start_from_cache(csms, station_factory, tmp_path, tx_ctrlr)
    invalid_after_reconnect(csms)
    deauthorized = transaction_event(csms)
    assert deauthorized.payload["triggerReason"] == "Deauthorized"
    assert "offline" not in deauthorized.payload, "step 5: offline False"
    assert booted.application.energy == {1: False}


@pytest.mark.requirements("C12.FR.02", "C12.FR.04", "E05.FR.03")
def test_TC_C_17_CS_cache_suspend_on_invalid_id(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    tx_ctrlr = {"StopTxOnInvalidId": False, "MaxEnergyOnInvalidId": 0}
    booted = offline_start_from_cache(csms, station_factory, tmp_path, tx_ctrlr)
    invalid_after_reconnect(csms)
    suspended = transaction_event(csms)
    assert shape(suspended) == ("Updated", "ChargingStateChanged", "SuspendedEVSE")
    assert booted.application.energy == {1: False}


@pytest.mark.requirements("C12.FR.05", "C10.FR.03")
def test_TC_C_57_CS_cache_disable_post_authorize(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    booted = plugged_with_cached(csms, station_factory, tmp_path, "Invalid", disable_post_authorize=True)
    booted.station.present_token(TOKEN)
    settle(booted.station, csms)
    assert csms.calls("Authorize") == [] and csms.calls("TransactionEvent") == []
    assert booted.application.energy == {}, "authorization is refused"


@pytest.mark.requirements("C10.FR.02", "C12.FR.02")
def test_TC_C_32_CS_cache_persistent_over_reboot(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}}, {**PRE_AUTHORIZE, **START_ON_AUTHORIZED})
    assert csms.call("Reset", {"type": "OnIdle"}).payload == {"status": "Accepted"}
    csms.wait_session(2)  # step 1: Reusable State Booted, after the reboot
    csms.answer_boot("Accepted")
    csms.expect_call("StatusNotification")
    started = started_from_cache(booted, csms)
    assert started.payload["triggerReason"] == "Authorized"
    plug(booted, csms)
    assert shape(transaction_event(csms)) == ("Updated", "CablePluggedIn", "EVConnected")
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")


def end_session(booted: Booted, csms: CsmsDouble) -> None:
    """EVConnectedPostSession (the same token stops) and EVDisconnected."""
    booted.station.present_token(TOKEN)
    ended = transaction_event(csms)
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "StopAuthorized")
    plug(booted, csms, "unplug")


@pytest.mark.requirements("C10.FR.04", "C12.FR.06")
def test_TC_C_33_CS_cache_update_on_authorize_response(csms: CsmsDouble, booted: Booted) -> None:
    configure(csms, {**PRE_AUTHORIZE, "LocalAuthListCtrlr": {"Enabled": True}})
    energy_transfer_started(booted, csms)
    end_session(booted, csms)
    plug(booted, csms)
    started = started_from_cache(booted, csms, {"idTokenInfo": {"status": "Invalid"}})
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging")
    assert len(csms.calls("Authorize")) == 1, "the second time from the cache"


@pytest.mark.requirements("C10.FR.05", "C12.FR.06")
def test_TC_C_34_CS_cache_update_on_transaction_event_response(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    config = {**PRE_AUTHORIZE, **START_ON_AUTHORIZED, "LocalAuthListCtrlr": {"Enabled": True}}
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}}, config)
    plug(booted, csms)
    started = started_from_cache(booted, csms, {"idTokenInfo": {"status": "Invalid"}})
    assert started.payload["triggerReason"] == "Authorized"
    while transaction_event(csms).payload["eventType"] != "Ended":  # the deauthorization (E05)
        pass
    plug(booted, csms, "unplug")
    plug(booted, csms)
    no_authorize_mark = len(csms.calls("TransactionEvent"))
    booted.station.present_token(TOKEN)
    call = csms.expect_call("Authorize")
    assert call.payload == {"idToken": ID_TOKEN}
    csms.reply(call, {"idTokenInfo": {"status": "Invalid"}})
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == no_authorize_mark


@pytest.mark.requirements("C10.FR.11")
def test_TC_C_36_CS_cache_without_local_pre_authorize(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}}, {"AuthCtrlr": {"LocalPreAuthorize": False}})
    no_transaction_event_after_authorize(booted, csms, TOKEN, "Invalid")


@pytest.mark.requirements("C11.FR.01", "C11.FR.02", "C11.FR.03")
def test_TC_C_37_CS_clear_cache_accepted(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path) -> None:
    """LocalPreAuthorize is on, so only an emptied cache explains the AuthorizeRequest of step 5."""
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}}, PRE_AUTHORIZE)
    assert csms.call("ClearCache", {}).payload == {"status": "Accepted"}
    energy_transfer_started(booted, csms)


@pytest.mark.requirements("C09.FR.02", "C09.FR.03", "C09.FR.07")
def test_TC_C_41_CS_group_id_with_cache(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path) -> None:
    """TOKEN1's group comes from the TransactionEventResponse, TOKEN2's from the cache."""
    config = {**PRE_AUTHORIZE, **START_ON_AUTHORIZED}
    booted = with_cache(csms, station_factory, tmp_path, {TOKEN: {}, "TOKEN2": {"groupIdToken": GROUP}}, config)
    plug(booted, csms)
    started = started_from_cache(booted, csms, {"idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}})
    assert started.payload["triggerReason"] == "Authorized"
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")
    booted.station.present_token("TOKEN2")
    stopped = transaction_event(csms)
    assert (stopped.payload["eventType"], stopped.payload["triggerReason"]) == ("Ended", "StopAuthorized")
    assert csms.calls("Authorize") == []
    plug(booted, csms, "unplug")


@pytest.mark.requirements("C09.FR.02", "C09.FR.03", "C09.FR.07")
def test_TC_C_44_CS_group_id_invalid_with_cache(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    config = {**PRE_AUTHORIZE, **START_ON_AUTHORIZED, "AuthCacheCtrlr": {"DisablePostAuthorize": False}}
    entries = {TOKEN: {}, "INVALID1": {"status": "Invalid", "groupIdToken": GROUP}}
    booted = with_cache(csms, station_factory, tmp_path, entries, config)
    plug(booted, csms)
    started_from_cache(booted, csms, {"idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}})
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")
    booted.station.present_token("INVALID1")
    call = csms.expect_call("Authorize")
    assert call.payload == {"idToken": id_token("INVALID1")}
    csms.reply(call, {"idTokenInfo": {"status": "Invalid", "groupIdToken": GROUP}})
    settle(booted.station, csms)
    assert len(csms.calls("TransactionEvent")) == 2 and booted.application.energy == {1: True}


@pytest.mark.requirements("C10.FR.08")
def test_TC_C_46_CS_cache_life_time(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path) -> None:
    life_time = 2
    booted = with_cache(
        csms, station_factory, tmp_path, {TOKEN: {}}, {**PRE_AUTHORIZE, "AuthCacheCtrlr": {"LifeTime": life_time}}
    )
    time.sleep(life_time + 0.5)  # step 1: the entry was stored before the boot, so it is unused for longer
    energy_transfer_started(booted, csms)  # EVConnectedPreSession; step 2: Authorized (local) asks the CSMS again


def master_pass_sessions(csms: CsmsDouble, station_factory: StationFactory) -> Booted:
    """A station with a master pass user interface, MasterPassGroupId configured, EnergyTransferStarted for all
    EVSE, and the master pass presented and accepted (steps 1-2)."""
    booted = boot(station_factory(evse_connectors=(1, 1), master_pass_ui=True), csms)
    configure(csms, {"AuthCtrlr": {"MasterPassGroupId": MASTER["idToken"]}})
    energy_transfer_started(booted, csms)
    booted.station.connector(2, 1, "plug")
    booted.station.present_token("TOKEN2", evse_id=2)
    csms.reply(csms.expect_call("Authorize"), {"idTokenInfo": {"status": "Accepted"}})
    assert transaction_event(csms).payload["evse"]["id"] == 2
    booted.station.present_token("MASTER")
    call = csms.expect_call("Authorize")
    assert call.payload == {"idToken": id_token("MASTER")}
    csms.reply(call, {"idTokenInfo": {"status": "Accepted", "groupIdToken": MASTER}})
    wait_until(lambda: shown(booted) == [MasterPassAccepted(id_token("MASTER"), (1, 2))], "the master pass UI")
    return booted


def shown(booted: Booted) -> list[MasterPassAccepted]:
    return [event for event in booted.application.events if isinstance(event, MasterPassAccepted)]


def master_pass_ended(csms: CsmsDouble, count: int) -> list[int]:
    """Step 3-4: the Ended events, answered as the OCTT does; the EVSEs they name."""
    answer = {"idTokenInfo": {"status": "Accepted", "groupIdToken": MASTER}}
    ended = [transaction_event(csms, answer) for _ in range(count)]
    for call in ended:
        assert call.payload["transactionInfo"]["stoppedReason"] == "MasterPass"
        assert call.payload.get("idToken", id_token("MASTER")) == id_token("MASTER")
    return sorted(call.payload["evse"]["id"] for call in ended)


@pytest.mark.requirements("C16.FR.01")
def test_TC_C_47_CS_master_pass_ui_all_transactions(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = master_pass_sessions(csms, station_factory)
    booted.station.master_pass_choice(None)
    assert master_pass_ended(csms, 2) == [1, 2]
    assert booted.application.energy == {1: False, 2: False}


@pytest.mark.requirements("C16.FR.01")
def test_TC_C_48_CS_master_pass_ui_specific_transaction(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = master_pass_sessions(csms, station_factory)
    booted.station.master_pass_choice((1,))
    assert master_pass_ended(csms, 1) == [1]
    settle(booted.station, csms)
    assert booted.application.energy == {1: False, 2: True}, "all other EVSE still transfer energy"
    assert len([c for c in csms.calls("TransactionEvent") if c.payload["eventType"] == "Ended"]) == 1


@pytest.mark.requirements("E08.FR.02", "E08.FR.04", "E08.FR.05", "E08.FR.06", "E08.FR.07", "E08.FR.08")
def test_TC_E_45_CS_offline_stop_by_same_group_id(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    """Memory State: TOKEN2 of the group in the cache and the local list; Authorized with the group, then
    EnergyTransferStarted; offline, TOKEN2 stops the transaction and the EV leaves."""
    booted = with_cache(csms, station_factory, tmp_path, {"TOKEN2": {"groupIdToken": GROUP}})
    item = {"idToken": id_token("TOKEN2"), "idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}}
    reply = csms.call("SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [item]})
    assert reply.payload["status"] == "Accepted"
    plug(booted, csms)
    booted.station.present_token(TOKEN)
    csms.reply(csms.expect_call("Authorize"), {"idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}})
    transaction_event(csms, {"idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}})
    settle(booted.station, csms)
    go_offline(booted, csms)
    booted.station.present_token("TOKEN2")
    booted.station.connector(1, 1, "unplug")
    queued(booted, 1)
    csms.accept_connections()
    ended = transaction_event(csms, timeout=10)
    assert ended.payload["offline"] is True
    assert (ended.payload["eventType"], ended.payload["triggerReason"]) == ("Ended", "StopAuthorized")
    settle(booted.station, csms)
    offline_events = csms.calls("TransactionEvent")[1:]
    assert offline_events == [ended], "every event of the offline period, the Ended one among them"
