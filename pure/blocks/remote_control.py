"""Block F, remote control: RequestStartTransaction (F01, F02), RequestStopTransaction (F03), UnlockConnector
(F05) and TriggerMessage (F06) for BootNotification, Heartbeat, StatusNotification, TransactionEvent, MeterValues,
LogStatusNotification and FirmwareStatusNotification.

The triggered message is queued behind the TriggerMessageResponse (F06.FR.04); messages the station cannot
produce yet are answered NotImplemented (F06.FR.08).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.availability import availability
from chargecore.pure.blocks.provisioning import provisioning
from chargecore.pure.blocks.transactions import transactions
from chargecore.pure.effects import Effects, UnlockQuestion
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.outcome import Defer, Handled, Reply, refusal
from chargecore.pure.state import Station

Trigger = Callable[[Station, Any, datetime], Handled]


def _boot(station: Station, evse: Any, now: datetime) -> Handled:
    if provisioning.is_accepted(station):  # F06.FR.17
        return station, Reply({"status": "Rejected"}), ()
    booted, effects = provisioning.send_boot(station, "Triggered", triggered=True)
    return booted, Reply({"status": "Accepted"}), effects


def _heartbeat(station: Station, evse: Any, now: datetime) -> Handled:
    beaten, effects = availability.send_heartbeat(station, now, triggered=True)
    return beaten, Reply({"status": "Accepted"}), effects


def _status(station: Station, evse: Any, now: datetime) -> Handled:
    """F06.FR.12: the status of the given connector, of every connector of the given EVSE, or of all."""
    if evse is None:
        chosen = station.connectors
    else:
        chosen = availability.find_connectors(station, evse["id"], evse.get("connectorId"))
        if not chosen:
            return station, Reply({"status": "Rejected"}), ()
    reported, effects = availability.report_statuses(station, now, everything=True, only=chosen, triggered=True)
    return reported, Reply({"status": "Accepted"}), effects


def _evse_asked(station: Station, evse: Any) -> tuple[bool, int | None]:
    """(known, evse id): the EVSE a trigger names, None for all; unknown EVSEs are Rejected."""
    if evse is None:
        return True, None
    return transactions.evse_exists(station, evse["id"]), evse["id"]


def _transaction_event(station: Station, evse: Any, now: datetime) -> Handled:
    known, evse_id = _evse_asked(station, evse)
    if not known:
        return station, Reply({"status": "Rejected"}), ()
    triggered, effects = transactions.trigger_updated(station, evse_id, now)
    return triggered, Reply({"status": "Accepted"}), effects


def _meter_values(station: Station, evse: Any, now: datetime) -> Handled:
    """F06.FR.06: the latest Energy.Active.Import.Register of the EVSE asked for, or of every EVSE."""
    known, evse_id = _evse_asked(station, evse)
    if not known:
        return station, Reply({"status": "Rejected"}), ()
    session = station.rpc
    effects: Effects = ()
    for evse_number in range(1, len(station.identity.evse_connectors) + 1):
        if evse_id not in (None, evse_number):
            continue
        energy = transactions.hardware(station, evse_number).energy_wh or 0.0
        sample = {"value": energy, "context": "Trigger", "measurand": "Energy.Active.Import.Register"}
        meter_value = {"timestamp": ocpp_time(station, now), "sampledValue": [sample]}
        payload = {"evseId": evse_number, "meterValue": [meter_value]}
        session, more = rpc.enqueue(session, "MeterValues", payload, triggered=True)
        effects += more
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects


def _idle_status(action: str) -> Trigger:
    """LogStatusNotification and FirmwareStatusNotification say Idle (TC_F_15, TC_F_18): this station never uploads
    a log nor downloads firmware. An EVSE named with them is not relevant to them and ignored (TC_F_17)."""

    def trigger(station: Station, evse: Any, now: datetime) -> Handled:
        session, effects = rpc.enqueue(station.rpc, action, {"status": "Idle"}, triggered=True)
        return replace(station, rpc=session), Reply({"status": "Accepted"}), effects

    return trigger


_TRIGGERS: dict[str, Trigger] = {
    "BootNotification": _boot,
    "Heartbeat": _heartbeat,
    "StatusNotification": _status,
    "TransactionEvent": _transaction_event,
    "MeterValues": _meter_values,
    "LogStatusNotification": _idle_status("LogStatusNotification"),
    "FirmwareStatusNotification": _idle_status("FirmwareStatusNotification"),
}


def handle_trigger_message(station: Station, call: Call, now: datetime) -> Handled:
    trigger = _TRIGGERS.get(call.payload["requestedMessage"])
    if trigger is None:
        return station, Reply({"status": "NotImplemented"}), ()
    return trigger(station, call.payload.get("evse"), now)


def handle_request_start(station: Station, call: Call, now: datetime) -> Handled:
    if not provisioning.is_accepted(station):  # no transaction while the boot is Pending (TC_B_02_CS step 12)
        return station, refusal("Rejected", "NotAccepted", "the CSMS has not accepted the boot yet"), ()
    started, response, effects = transactions.remote_start(station, call.payload, now)
    return started, Reply(response), effects


def handle_request_stop(station: Station, call: Call, now: datetime) -> Handled:
    stopped, status, effects = transactions.remote_stop(station, call.payload["transactionId"], now)
    return stopped, Reply({"status": status}), effects


def handle_unlock_connector(station: Station, call: Call, now: datetime) -> Handled:
    """F05: UnknownConnector (F05.FR.03), OngoingAuthorizedTransaction (F05.FR.02), else the hardware tries."""
    evse_id, connector_id = call.payload["evseId"], call.payload["connectorId"]
    if not availability.find_connectors(station, evse_id, connector_id):
        return station, Reply({"status": "UnknownConnector"}), ()
    tx = transactions.find(station, evse_id)
    if tx is not None and tx.authorization == "accepted" and tx.connector_id == connector_id:
        return station, Reply({"status": "OngoingAuthorizedTransaction"}), ()
    return station, Defer(UnlockQuestion(evse_id, connector_id)), ()


def resume_unlock_connector(station: Station, call: Call, unlocked: Any, now: datetime) -> Handled:
    return station, Reply({"status": "Unlocked" if unlocked is True else "UnlockFailed"}), ()
