"""The TransactionEvents of block E: why one is sent (Cause, its triggerReason and stoppedReason), and how it is
built (seqNo, chargingState, idToken once, meter values) and sent through the persistent lane together with the
transaction's own record, in one Persist, so after a crash both or neither are on disk; E14 GetTransactionStatus
reads that lane."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.authorization import authorization
from chargecore.pure.blocks.availability import availability
from chargecore.pure.blocks.meter_values import meter_readings
from chargecore.pure.blocks.transactions.sessions import STATION, charging_state, find_by_id
from chargecore.pure.effects import Effects, Notify, Persist, TransactionChanged
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.outcome import Handled, Reply
from chargecore.pure.state import Station, Transaction

RECORD_NAMESPACE = "transactions/"
"""Persist key prefix of a started transaction's record (what a restart needs to end it)."""


@dataclass(frozen=True, slots=True)
class Cause:
    """Why the core looks at an EVSE again: the triggerReason of the event it causes and, when it ends the
    transaction, the stoppedReason (None: the reason decided earlier or the default for the stop point left)."""

    trigger: str
    stopped_reason: str | None = None


PLUG = Cause("CablePluggedIn")


UNPLUG = Cause("EVCommunicationLost", "EVDisconnected")


LOCAL_STOP = Cause("StopAuthorized", "Local")


REMOTE_STOP = Cause("RemoteStop", "Remote")


DEAUTHORIZED = Cause("Deauthorized", "DeAuthorized")


MASTER_PASS = Cause("StopAuthorized", "MasterPass")


POWER_LOSS = Cause("AbnormalCondition", "PowerLoss")


PLUG_TIMEOUT = Cause("EVConnectTimeout", "Timeout")


CHARGING_STATE = Cause("ChargingStateChanged")


SIGNED_DATA = Cause("SignedDataReceived")


RESET = Cause("ResetCommand", "ImmediateReset")


def _record(tx: Transaction) -> dict[str, Any]:
    return {
        "transaction_id": tx.transaction_id,
        "evse_id": tx.evse_id,
        "connector_id": tx.connector_id,
        "started_at": tx.started_at.isoformat(),
        "seq_no": tx.seq_no,
        "id_token": tx.id_token,
        "charging_state": tx.charging_state,
        "public_key_sent": tx.public_key_sent,
    }


def emit(
    station: Station,
    tx: Transaction,
    event_type: str,
    trigger: str,
    now: datetime,
    *,
    stopped_reason: str | None = None,
    state: str | None = None,
    meter: list[dict[str, Any]] | None = None,
) -> tuple[Station, Transaction, Effects]:
    """Queue one TransactionEvent in the persistent lane, with the transaction's record in the same Persist (an
    Ended event deletes the record and the meter values kept for it). Connector statuses that changed with it are
    queued first (Part 6: StatusNotification, then TransactionEvent). The chargingState goes in Started, when it
    changed, and in a triggered event, which reports the current state. The first event after a started
    station-level transaction moved to its EVSE carries the Transaction.Begin values (begin_values_due, E01.FR.17)."""
    reported: Effects = ()
    if authorization.is_online(station):
        station, reported = availability.report_statuses(station, now)
    state = state or charging_state(station, tx.evse_id)
    info: dict[str, Any] = {"transactionId": tx.transaction_id}
    if event_type == "Started" or trigger == "Trigger" or state != tx.charging_state:
        info["chargingState"] = state  # required when changed; a CSMS that triggers asks for it (TC_F_13, F_14)
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": ocpp_time(station, now),
        "triggerReason": trigger,
        "seqNo": tx.seq_no,
        "transactionInfo": info,
    }
    if tx.evse_id != STATION:
        payload["evse"] = {"id": tx.evse_id, "connectorId": tx.connector_id}
    with_token = tx.id_token is not None and tx.authorization == "accepted" and not tx.token_reported
    if with_token:
        payload["idToken"] = tx.id_token
        if tx.remote_start_id is not None:
            info["remoteStartId"] = tx.remote_start_id
        if tx.reservation_id is not None:  # H03: the reservation this transaction used
            payload["reservationId"] = tx.reservation_id
    if tx.stopped_by is not None:  # TC_C_39 step 8
        payload["idToken"] = tx.stopped_by
    if not authorization.is_online(station):
        payload["offline"] = True
    cleared = meter_readings.kept_keys(station, tx.transaction_id) if event_type == "Ended" else ()
    if meter is None:
        station, meter = meter_readings.for_event(station, tx, event_type, trigger, now)
    if tx.begin_values_due:
        meter = [*meter_readings.transaction_begin(station, tx.evse_id, now), *meter]
    meter, key_sent = meter_readings.key_once(station, meter, tx.public_key_sent)
    if meter:
        payload["meterValue"] = meter
    session, entries, problems = rpc.enqueue_persistent(station.rpc, "TransactionEvent", payload)
    if problems:
        return station, tx, reported + problems
    tx = replace(
        tx,
        seq_no=tx.seq_no + 1,
        charging_state=state,
        token_reported=tx.token_reported or with_token,
        stopped_by=None,
        begin_values_due=False,
        public_key_sent=key_sent,
    )
    record = None if event_type == "Ended" else _record(tx)
    effects: Effects = (
        *reported,
        Persist((*entries, (RECORD_NAMESPACE + tx.transaction_id, record), *((key, None) for key in cleared))),
        Notify(TransactionChanged(tx.evse_id, tx.transaction_id, event_type, trigger)),
    )
    return replace(station, rpc=session), tx, effects


def messages_in_queue(station: Station, transaction_id: str | None) -> bool:
    return any(
        message.action == "TransactionEvent"
        and (transaction_id is None or message.payload["transactionInfo"]["transactionId"] == transaction_id)
        for message in station.rpc.lane
    )


def handle_get_transaction_status(station: Station, call: Call, now: datetime) -> Handled:
    """E14: whether TransactionEvents wait in the lane (for this transaction, or any), and whether it runs."""
    transaction_id = call.payload.get("transactionId")
    queued = messages_in_queue(station, transaction_id)
    if transaction_id is None:
        return station, Reply({"messagesInQueue": queued}), ()
    tx = find_by_id(station, transaction_id)
    ongoing = tx is not None and tx.phase == "started"
    return station, Reply({"ongoingIndicator": ongoing, "messagesInQueue": queued}), ()
