"""Part 6 reusable states of a charging session (Authorized, EVConnectedPreSession, EnergyTransferStarted,
StopAuthorized...) as steps against the CSMS double, shared by the transaction, authorization and remote-control
test cases."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import Booted, hardware

from chargecore.pure.blocks.authorization import auth_cache
from chargecore.pure.blocks.authorization.tokens import CacheEntry, token_key
from chargecore.pure.inputs import ConnectorChange
from chargecore.shell.storage import StationStore
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until

TOKEN = "TOKEN1"
ID_TOKEN = {"idToken": TOKEN, "type": "ISO14443"}


def id_token(token: str = TOKEN) -> dict[str, str]:
    return {"idToken": token, "type": "ISO14443"}


def authorize_locally(
    booted: Booted, csms: CsmsDouble, status: str = "Accepted", token: str = TOKEN, **info: Any
) -> StationCall:
    """Manual action "present idToken", then the AuthorizeRequest answered with `status`."""
    booted.station.present_token(token)
    call = csms.expect_call("Authorize")
    assert call.payload == {"idToken": id_token(token)}, call.payload
    csms.reply(call, {"idTokenInfo": {"status": status, **info}})
    return call


def plug(booted: Booted, csms: CsmsDouble, change: ConnectorChange = "plug") -> StationCall:
    """Manual action "connect (disconnect) the EV and EVSE" and the StatusNotification it causes."""
    hardware(booted, 1, 1, change)
    status = csms.expect_call("StatusNotification")
    expected = "Occupied" if change == "plug" else "Available"
    assert (status.payload["evseId"], status.payload["connectorId"], status.payload["connectorStatus"]) == (
        1,
        1,
        expected,
    ), status.payload
    return status


def transaction_event(csms: CsmsDouble, answer: dict[str, Any] | None = None, timeout: float = 5.0) -> StationCall:
    """The next TransactionEventRequest, answered as the OCTT does (idTokenInfo Accepted when an idToken came)."""
    call = csms.expect_call("TransactionEvent", timeout)
    if answer is None:
        answer = {"idTokenInfo": {"status": "Accepted"}} if "idToken" in call.payload else {}
    csms.reply(call, answer)
    return call


def shape(call: StationCall) -> tuple[str, str, str | None]:
    """(eventType, triggerReason, chargingState) of a TransactionEventRequest."""
    payload = call.payload
    return payload["eventType"], payload["triggerReason"], payload["transactionInfo"].get("chargingState")


def expect_ended(csms: CsmsDouble, expected: tuple[str, str, str], stopped_reason: str) -> StationCall:
    """The next TransactionEvent is this Ended event (eventType, triggerReason, chargingState) with this reason."""
    ended = transaction_event(csms)
    assert shape(ended) == expected
    assert ended.payload["transactionInfo"]["stoppedReason"] == stopped_reason
    return ended


def energy_transfer_started(booted: Booted, csms: CsmsDouble) -> StationCall:
    """Reusable states EVConnectedPreSession, Authorized (local) and EnergyTransferStarted for the default
    TxStartPoint PowerPathClosed: the transaction starts when the power path closes, charging."""
    plug(booted, csms)
    authorize_locally(booted, csms)
    started = transaction_event(csms)
    assert shape(started) == ("Started", "ChargingStateChanged", "Charging")
    assert started.payload["idToken"] == ID_TOKEN and started.payload["seqNo"] == 0
    return started


def transaction_id(call: StationCall) -> str:
    value: str = call.payload["transactionInfo"]["transactionId"]
    return value


def go_offline(booted: Booted, csms: CsmsDouble) -> None:
    """The OCTT closes the WebSocket connection and does not accept a reconnect."""
    csms.refuse_connections()
    csms.close_connection()
    wait_until(lambda: booted.station.state.connection.phase != "up", "the station to notice it is offline")


def queued(booted: Booted, count: int) -> None:
    """Wait until `count` TransactionEvents wait in the station's persistent lane."""
    wait_until(lambda: len(booted.station.state.rpc.lane) >= count, f"{count} queued TransactionEvents")


def configure(csms: CsmsDouble, settings: Mapping[str, Mapping[str, Any]]) -> None:
    """Configuration State, as the OCTT sets it: one SetVariablesRequest, every variable Accepted."""
    data = [
        {"component": {"name": component}, "variable": {"name": variable}, "attributeValue": _text(value)}
        for component, values in settings.items()
        for variable, value in values.items()
    ]
    results = csms.call("SetVariables", {"setVariableData": data}).payload["setVariableResult"]
    assert [result["attributeStatus"] for result in results] == ["Accepted"] * len(data), results


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def cached(data_dir: Path, token: dict[str, Any], status: str = "Accepted", **info: Any) -> Path:
    """Memory State IdTokenCached: the cache entry an earlier run of the station left in its data dir."""
    store = StationStore(data_dir)
    record = CacheEntry(token, {"status": status, **info}, datetime.now(UTC)).record()
    store.put([(auth_cache.persist_key(token_key(token)), record)])
    store.close()
    return data_dir
