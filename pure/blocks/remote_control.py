"""Block F, remote control: RequestStartTransaction (F01, F02), RequestStopTransaction (F03), UnlockConnector
(F05) and TriggerMessage (F06) for BootNotification, Heartbeat, StatusNotification, TransactionEvent, MeterValues,
LogStatusNotification (diagnostics/logs.py), FirmwareStatusNotification, SignChargingStationCertificate and
SignV2GCertificate (A02).

The triggered message is queued behind the TriggerMessageResponse (F06.FR.04); messages the station cannot
produce yet are answered NotImplemented (F06.FR.08).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.authorization.token_routing import ask_or_decide, chosen_evse, start_verdict
from chargecore.pure.blocks.availability import availability
from chargecore.pure.blocks.diagnostics import logs
from chargecore.pure.blocks.firmware import publish as firmware_publish
from chargecore.pure.blocks.firmware import requests as firmware_requests
from chargecore.pure.blocks.provisioning import provisioning
from chargecore.pure.blocks.reservation import reservations
from chargecore.pure.blocks.security import certificate_signing
from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.blocks.transactions.events import REMOTE_STOP
from chargecore.pure.blocks.transactions.sessions import evse_exists, find, find_by_id, hardware, new_session, put
from chargecore.pure.blocks.transactions.start_stop import adopt_profile, stop_transaction, trigger_updated
from chargecore.pure.device_model.model import get_bool
from chargecore.pure.effects import Effects, Notify, RemoteStartAccepted, UnlockQuestion
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.outcome import Defer, Handled, Reply, refusal, status_info
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
    return evse_exists(station, evse["id"]), evse["id"]


def _transaction_event(station: Station, evse: Any, now: datetime) -> Handled:
    known, evse_id = _evse_asked(station, evse)
    if not known:
        return station, Reply({"status": "Rejected"}), ()
    triggered, effects = trigger_updated(station, evse_id, now)
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
        energy = hardware(station, evse_number).energy_wh or 0.0
        sample = {"value": energy, "context": "Trigger", "measurand": "Energy.Active.Import.Register"}
        meter_value = {"timestamp": ocpp_time(station, now), "sampledValue": [sample]}
        payload = {"evseId": evse_number, "meterValue": [meter_value]}
        session, more = rpc.enqueue(session, "MeterValues", payload, triggered=True)
        effects += more
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects


def _idle_status(action: str) -> Trigger:
    """A status notification that says Idle. An EVSE named with it is not relevant to it and ignored (TC_F_17)."""

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
    "LogStatusNotification": logs.trigger_status,
    "FirmwareStatusNotification": firmware_requests.trigger_status,
    "PublishFirmwareStatusNotification": firmware_publish.trigger_status,
    "SignChargingStationCertificate": certificate_signing.trigger(certificate_signing.STATION_CERTIFICATE),
    "SignV2GCertificate": certificate_signing.trigger(certificate_signing.V2G_CERTIFICATE),
}


def _start_profile(station: Station, request: dict[str, Any]) -> dict[str, Any] | None:
    """F01.FR.12: a station without smart charging (SmartChargingCtrlr Available or Enabled false) ignores the
    chargingProfile of a RequestStartTransaction."""
    model = station.device_model
    in_use = get_bool(model, "SmartChargingCtrlr", "Available", default=True) and get_bool(
        model, "SmartChargingCtrlr", "Enabled", default=True
    )
    profile: dict[str, Any] | None = request.get("chargingProfile")
    return profile if in_use else None


def remote_start(station: Station, request: dict[str, Any], now: datetime) -> tuple[Station, dict[str, Any], Effects]:
    """F01/F02: returns the response payload and what follows it. AuthorizeRemoteStart decides whether the token
    is authorized first (like a local one) or accepted as it is. A chargingProfile must be a TxProfile without
    transactionId that SetChargingProfile would accept for the transaction (F01.FR.08, F01.FR.11, K05)."""
    evse_id = chosen_evse(station, request.get("evseId"))
    tx = None if evse_id is None else find(station, evse_id)
    if evse_id is None or (tx is not None and tx.authorization in ("authorizing", "accepted")):
        return station, {"status": "Rejected"}, ()
    if not get_bool(station.device_model, "AuthCtrlr", "AuthorizeRemoteStart") and not reservations.admits(
        station, evse_id, request["idToken"], request.get("groupIdToken")
    ):  # H03: the CSMS knows the reservation; an authorization first may still find the token's group
        return station, {"status": "Rejected", "statusInfo": status_info("Reserved", "EVSE reserved for another")}, ()
    profile = _start_profile(station, request)
    refused = None if profile is None else smart_charging.start_profile_rejection(station, evse_id, profile)
    if refused is not None:
        info = status_info(refused.reason_code, f"{refused.info} ({refused.requirement})")
        return station, {"status": "Rejected", "statusInfo": info}, ()
    if tx is None:
        station, tx = new_session(station, evse_id, now)
    tx = replace(
        tx,
        id_token=request["idToken"],
        remote_start_id=request["remoteStartId"],
        charging_profile=profile,
        token_reported=False,
    )
    response: dict[str, Any] = {"status": "Accepted"}
    limited: Effects = ()
    if tx.phase == "started":
        response["transactionId"] = tx.transaction_id
        station, limited = adopt_profile(station, tx)
    station = put(station, tx)
    notice = Notify(RemoteStartAccepted(evse_id, request["idToken"], request["remoteStartId"], profile))
    if get_bool(station.device_model, "AuthCtrlr", "AuthorizeRemoteStart"):
        station, effects = ask_or_decide(station, tx, now)
    else:
        verdict = {"status": "Accepted"}
        if "groupIdToken" in request:
            verdict["groupIdToken"] = request["groupIdToken"]
        station, effects = start_verdict(station, evse_id, request["idToken"], verdict, now)
    return station, response, (notice, *limited, *effects)


def remote_stop(station: Station, transaction_id: str, now: datetime) -> tuple[Station, str, Effects]:
    """F03: Accepted for a running transaction (F03.FR.09), Rejected otherwise (F03.FR.08)."""
    tx = find_by_id(station, transaction_id)
    if tx is None or tx.phase != "started":
        return station, "Rejected", ()
    station, effects = stop_transaction(station, tx, REMOTE_STOP, now)
    return station, "Accepted", effects


def handle_trigger_message(station: Station, call: Call, now: datetime) -> Handled:
    trigger = _TRIGGERS.get(call.payload["requestedMessage"])
    if trigger is None:
        return station, Reply({"status": "NotImplemented"}), ()
    return trigger(station, call.payload.get("evse"), now)


def handle_request_start(station: Station, call: Call, now: datetime) -> Handled:
    if not provisioning.is_accepted(station):  # no transaction while the boot is Pending (TC_B_02_CS step 12)
        return station, refusal("Rejected", "NotAccepted", "the CSMS has not accepted the boot yet"), ()
    started, response, effects = remote_start(station, call.payload, now)
    return started, Reply(response), effects


def handle_request_stop(station: Station, call: Call, now: datetime) -> Handled:
    stopped, status, effects = remote_stop(station, call.payload["transactionId"], now)
    return stopped, Reply({"status": status}), effects


def handle_unlock_connector(station: Station, call: Call, now: datetime) -> Handled:
    """F05: UnknownConnector (F05.FR.03), OngoingAuthorizedTransaction (F05.FR.02), else the hardware tries."""
    evse_id, connector_id = call.payload["evseId"], call.payload["connectorId"]
    if not availability.find_connectors(station, evse_id, connector_id):
        return station, Reply({"status": "UnknownConnector"}), ()
    tx = find(station, evse_id)
    if tx is not None and tx.authorization == "accepted" and tx.connector_id == connector_id:
        return station, Reply({"status": "OngoingAuthorizedTransaction"}), ()
    return station, Defer(UnlockQuestion(evse_id, connector_id)), ()


def resume_unlock_connector(station: Station, call: Call, unlocked: Any, now: datetime) -> Handled:
    return station, Reply({"status": "Unlocked" if unlocked is True else "UnlockFailed"}), ()
