"""The core's single entry point: `step(station, input) -> (station, effects)`, and `next_deadline`.

`step` routes an input to the functional blocks, answers CSMS CALLs (validation, boot-state gating,
dispatch, reply), routes replies to our own CALLs back to the block that sent them, and finally lets the
RPC session send the next queued CALL, so a reply always goes out before any CALL it caused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from returns.result import Failure, Success

from chargecore.pure.blocks import data_transfer, remote_control
from chargecore.pure.blocks.authorization import auth_cache, local_list, master_pass, token_routing
from chargecore.pure.blocks.availability import availability, change_availability
from chargecore.pure.blocks.diagnostics import customer_information, logs
from chargecore.pure.blocks.display import display_messages
from chargecore.pure.blocks.firmware import progress as firmware
from chargecore.pure.blocks.firmware import publish as firmware_publish
from chargecore.pure.blocks.firmware import requests as firmware_requests
from chargecore.pure.blocks.meter_values import meter_values
from chargecore.pure.blocks.monitoring import monitor_events, monitoring
from chargecore.pure.blocks.provisioning import dialling, network_profiles, provisioning, reports, resets, variables
from chargecore.pure.blocks.reservation import reservations
from chargecore.pure.blocks.security import (
    certificate_installation,
    certificate_signed,
    certificate_signing,
    certificates,
    iso15118_certificates,
    root_migration,
    security_events,
)
from chargecore.pure.blocks.smart_charging import external_limits, iso15118_charging, profile_requests, smart_charging
from chargecore.pure.blocks.tariff_cost import cost_triggers, tariff_cost
from chargecore.pure.blocks.transactions import events, hardware_hooks, recovery, sessions, start_stop
from chargecore.pure.device_model.catalogue import DeviceModel
from chargecore.pure.effects import (
    CsrQuestion,
    Effect,
    Effects,
    HookFailed,
    InternalError,
    Log,
    Notify,
    OcspValidityQuestion,
    Persist,
    RemoveCertificateQuestion,
    SendFrame,
    TokenQuestion,
)
from chargecore.pure.inputs import (
    Answer,
    CertificatesLoaded,
    CertificateStatusRequested,
    ChangeVariable,
    ChargingStateChanged,
    Connected,
    ConnectionLost,
    ConnectorChanged,
    EVCertificateRequested,
    EVChargingNeeds,
    EVChargingSchedule,
    ExternalLimit,
    FilePublished,
    FirmwareDownloaded,
    FirmwareInstalled,
    FirmwareVerified,
    FrameReceived,
    HookRaised,
    Input,
    LocalReset,
    LogUploadEnded,
    MasterPassChoice,
    MeterReading,
    OversizedFrameReceived,
    ParkingBayChanged,
    PowerPathChanged,
    PowerUp,
    PublishDownloaded,
    SecurityEventRaised,
    SendDataTransfer,
    Shutdown,
    Tick,
    TokenPresented,
    TransactionFinished,
    VariableReported,
)
from chargecore.pure.lifecycle import CONNECTION_LIFECYCLE
from chargecore.pure.ocppj import connection, lane, rpc
from chargecore.pure.ocppj.frames import Call, CallError, CallResult, FrameError, encode_frame, oversized, parse_frame
from chargecore.pure.ocppj.schemas import ACTIONS, validate
from chargecore.pure.ocppj.timestamps import refused_clock
from chargecore.pure.outcome import Decision, Defer, Handled, Reply, ask
from chargecore.pure.state import InFlight, OutboundCall, Settled, Station

EPOCH_KEY = "rpc/epoch"

CallHandler = Callable[[Station, Call, datetime], Handled]
Resume = Callable[[Station, Call, Any, datetime], Handled]

CSMS_CALLS: Mapping[str, CallHandler] = MappingProxyType(
    {
        "Reset": resets.handle_reset,
        "TriggerMessage": remote_control.handle_trigger_message,
        "DataTransfer": data_transfer.handle_data_transfer,
        "GetBaseReport": reports.handle_get_base_report,
        "GetReport": reports.handle_get_report,
        "SetNetworkProfile": network_profiles.handle_set_network_profile,
        "ClearCache": auth_cache.handle_clear_cache,
        "SendLocalList": local_list.handle_send_local_list,
        "GetLocalListVersion": local_list.handle_get_local_list_version,
        "GetVariables": variables.handle_get_variables,
        "SetVariables": variables.handle_set_variables,
        "ChangeAvailability": change_availability.handle_change_availability,
        "SetChargingProfile": smart_charging.handle_set_charging_profile,
        "GetCompositeSchedule": profile_requests.handle_get_composite_schedule,
        "GetChargingProfiles": profile_requests.handle_get_charging_profiles,
        "ClearChargingProfile": profile_requests.handle_clear_charging_profile,
        "SetVariableMonitoring": monitoring.handle_set_variable_monitoring,
        "ClearVariableMonitoring": monitoring.handle_clear_variable_monitoring,
        "SetMonitoringBase": monitoring.handle_set_monitoring_base,
        "SetMonitoringLevel": monitoring.handle_set_monitoring_level,
        "GetMonitoringReport": monitoring.handle_get_monitoring_report,
        "RequestStartTransaction": remote_control.handle_request_start,
        "RequestStopTransaction": remote_control.handle_request_stop,
        "UnlockConnector": remote_control.handle_unlock_connector,
        "GetTransactionStatus": events.handle_get_transaction_status,
        "UpdateFirmware": firmware_requests.handle_update_firmware,
        "PublishFirmware": firmware_publish.handle_publish_firmware,
        "UnpublishFirmware": firmware_publish.handle_unpublish_firmware,
        "ReserveNow": reservations.handle_reserve_now,
        "CancelReservation": reservations.handle_cancel_reservation,
        "GetInstalledCertificateIds": certificates.handle_get_installed_certificate_ids,
        "DeleteCertificate": certificates.handle_delete_certificate,
        "InstallCertificate": certificate_installation.handle_install_certificate,
        "CustomerInformation": customer_information.handle_customer_information,
        "GetLog": logs.handle_get_log,
        "CertificateSigned": certificate_signed.handle_certificate_signed,
        "SetDisplayMessage": display_messages.handle_set_display_message,
        "GetDisplayMessages": display_messages.handle_get_display_messages,
        "ClearDisplayMessage": display_messages.handle_clear_display_message,
        "CostUpdated": tariff_cost.handle_cost_updated,
    }
)
"""The CSMS requests this station supports; any other OCPP action is answered NotSupported."""

RESUMES: Mapping[str, Resume] = MappingProxyType(
    {
        "Reset": resets.resume_reset,
        "DataTransfer": data_transfer.resume_data_transfer,
        "SetNetworkProfile": network_profiles.resume_set_network_profile,
        "UnlockConnector": remote_control.resume_unlock_connector,
        "UpdateFirmware": firmware_requests.resume_update_firmware,
        "DeleteCertificate": certificates.resume_delete_certificate,
        "InstallCertificate": certificate_installation.resume_install_certificate,
        "CustomerInformation": customer_information.resume_customer_information,
        "CertificateSigned": certificate_signed.resume_certificate_signed,
    }
)
"""How a deferred CSMS request is answered once the application has replied."""


Timer = Callable[[Station, datetime], tuple[Station, Effects]]
TIMERS: tuple[Timer, ...] = (
    dialling.on_tick,
    provisioning.on_tick,
    availability.on_tick,
    monitor_events.on_tick,
    lane.on_tick,
    hardware_hooks.on_tick,
    meter_values.on_tick,
    reservations.on_tick,
    logs.on_tick,
    certificate_signing.on_tick,
)
"""Every block's reaction to time passing, run in this order on each `Tick`."""

DEADLINES: tuple[Callable[[Station], datetime | None], ...] = (
    lambda station: rpc.deadline(station.rpc),
    lambda station: station.connection.retry_at,
    lambda station: station.registration.retry_at,
    lambda station: station.registration.heartbeat_at,
    smart_charging.deadline,
    monitor_events.deadline,
    lane.deadline,
    sessions.deadline,
    meter_values.deadline,
    firmware.deadline,
    firmware_publish.deadline,
    reservations.deadline,
    logs.deadline,
    certificate_signing.deadline,
    display_messages.deadline,
    cost_triggers.deadline,
    tariff_cost.deadline,
)
"""Every block's next timer; `next_deadline` is the earliest."""


def next_deadline(station: Station) -> datetime | None:
    """When the shell must feed a `Tick`, or None when no timer runs."""
    if station.settled is not None:  # the shell asks after every input; most change nothing
        return station.settled.until
    pending = [moment for moment in (deadline(station) for deadline in DEADLINES) if moment is not None]
    return min(pending) if pending else None


def step(station: Station, event: Input) -> tuple[Station, Effects]:
    handler = _INPUTS[type(event)]
    model_before = station.device_model
    station, effects = handler(station, event)
    if _still_settled(station, event.now):  # most CSMS requests and answers: only a reply or a question
        return station, effects
    return settle_after(station, model_before, event.now, effects)


def settle_after(
    handled: Station, model_before: DeviceModel, now: datetime, effects: Effects
) -> tuple[Station, Effects]:
    """What follows every input's own handling: settle the blocks (`_settle`) and perform the resets nothing
    holds any more; when that changes nothing, remember so (`Settled`), so that the next inputs may skip it."""
    station, settled = _settle(handled, model_before, now)
    station, reset = resets.settle(station, now)  # last: a station reset drops what would follow it
    if station is handled and not settled and not reset:
        station = station.with_changes(settled=Settled(now, next_deadline(station)))
    return station, effects + settled + reset


def _still_settled(station: Station, now: datetime) -> bool:
    """Settling this station now would change nothing: it changed nothing last time, no field it reads has changed
    since (a change drops the memo) and no deadline has come (property_tests/support.py checks each step against
    settling always)."""
    memo = station.settled
    return memo is not None and memo.since <= now and (memo.until is None or now < memo.until)


def _settle(station: Station, model_before: DeviceModel, now: datetime) -> tuple[Station, Effects]:
    """After every input: end the RPC session of a connection a block dropped (A01 reconnect), tell the
    application of status changes, apply charging limits that changed, tell the CSMS of status changes it has not
    heard of, let the monitors judge every value the step changed, then send what may go next."""
    effects: Effects = ()
    if station.rpc.phase != "closed" and not connection.is_up(station):
        station, effects = _session_ended(station, now)
    station, removed = reservations.settle(station)  # H04: before refresh, so Removed frees the EVSE at once
    shown = station.availability.shown
    station, refreshed = availability.refresh(station)
    station = availability.note_status_changes(station, shown, now)
    station, limited = smart_charging.settle(station, now)  # after refresh: the model it watches is final
    effects += removed + refreshed + limited
    if connection.is_up(station) and provisioning.is_accepted(station):
        station, reported = availability.report_statuses(station, now)
        effects += reported
    station, costs = tariff_cost.settle(station, now)
    own = tariff_cost.own_messages(station)
    spoken = tariff_cost.display_languages(station) if station.display.messages else {}  # only CSMS messages care
    station, displayed = display_messages.settle(station, now, own, spoken)
    station, monitored = monitor_events.on_model_changed(station, model_before, now)  # N07, whoever changed it
    station, progressed = firmware.settle(station, now)  # after the statuses: Unavailable goes before Downloading
    station, publishing = firmware_publish.settle(station, now)
    effects += costs + displayed + monitored + progressed + publishing
    if not station.rpc.queue and not station.rpc.lane:  # nothing to send: skip the MessageTimeout lookup
        return station, effects
    timeout = rpc.message_timeout(station.device_model)
    session, sent = rpc.pump(station.rpc, now, timeout, lambda call: provisioning.may_send(station, call))
    return (station.with_changes(rpc=session) if sent else station), effects + sent


# --- inputs -----------------------------------------------------------------------------------------


def _power_up(station: Station, event: PowerUp) -> tuple[Station, Effects]:
    if CONNECTION_LIFECYCLE.lookup(station.connection.phase, "power_up") is None:  # already running
        return station, (connection.refusal(station, "power_up"),)
    session = rpc.carry_lane(rpc.new_session(event.nonce, station.epoch), station.rpc)
    station, found = availability.found_at_power_up(station.with_changes(rpc=session), event.connectors)
    started, effects = dialling.power_up(station)
    started, ended = recovery.on_power_up(started, event.now)
    started, logged = security_events.on_power_up(started, event.now)
    persisted = Persist(((EPOCH_KEY, station.epoch),))
    return started, (persisted, *found, *availability.announce(started), *effects, *ended, *logged)


def _connected(station: Station, event: Connected) -> tuple[Station, Effects]:
    moved = connection.on_connected(station)
    if moved is None:
        return station, (connection.refusal(station, "connected"),)
    moved, noted = network_profiles.on_connected(moved)
    moved, proven = root_migration.on_connected(moved, network_profiles.current_profile(moved).security_profile)
    moved, logged = _security_profile_changed(station, moved, event.now)
    moved, committed = certificate_signed.on_connected(moved)
    station = moved.with_changes(rpc=rpc.open_session(moved.rpc))
    station, effects = provisioning.on_connected(station, event.now)
    effects = noted + proven + logged + committed + effects
    if provisioning.is_accepted(station):
        station, reported = availability.on_reconnected(station, event.now)
        station, monitored = monitor_events.on_reconnected(station, event.now)
        effects += reported + monitored
    return station.with_changes(connection=replace(station.connection, offline_since=None)), effects


def _security_profile_changed(before: Station, after: Station, now: datetime) -> tuple[Station, Effects]:
    """A connection at a higher security profile raised SecurityCtrlr.SecurityProfile: a security event."""
    was, became = (network_profiles.security_level(s.device_model) for s in (before, after))
    if was == became:
        return after, ()
    return security_events.raise_event(
        after, "ReconfigurationOfSecurityParameters", f"security profile {was} -> {became}", now
    )


def _connection_lost(station: Station, event: ConnectionLost) -> tuple[Station, Effects]:
    """A failed attempt may be a security event (A04), raised before the loss is handled."""
    moved = dialling.on_lost(station, event.now, event.jitter, event.failure)
    if moved is None:
        return station, (connection.refusal(station, "lost"),)
    refused: Effects = ()
    if event.failure is not None and station.connection.phase == "connecting":
        moved, refused = security_events.on_attempt_failed(moved, event.failure, event.now)
        moved, reverted = certificate_signed.on_attempt_failed(moved, event.failure)
        refused += reverted
    moved, ended = _session_ended(moved, event.now)
    return moved, refused + ended


def _session_ended(station: Station, now: datetime) -> tuple[Station, Effects]:
    """The connection is gone: close the RPC session and give up the CALLs it carried."""
    session, lost = rpc.close_session(station.rpc)
    station = availability.forget_reported(station.with_changes(rpc=session), lost)
    effects: Effects = ()
    for call in lost:
        station, more = _call_failed(station, call, now)
        effects += more
    return station, effects


def _frame_received(station: Station, event: FrameReceived) -> tuple[Station, Effects]:
    parsed = parse_frame(event.text)
    if isinstance(parsed, Failure):
        return station, _refused(parsed.failure())
    frame = parsed.unwrap()
    if isinstance(frame, Call):
        return _csms_call(station, frame, event.now)
    session, in_flight = rpc.take_reply(station.rpc, frame.message_id)
    if in_flight is None:
        return station, (Log("warning", f"dropped reply with unknown message id {frame.message_id!r}"),)
    station = station.with_changes(rpc=session)
    if isinstance(frame, CallError):
        failed, effects = _call_failed(station, in_flight.call, event.now)
        return failed, (
            Log("warning", f"{in_flight.call.action} answered {frame.code}: {frame.description}"),
            *effects,
        )
    return _call_answered(station, in_flight, frame, event.now)


def _oversized_frame_received(station: Station, event: OversizedFrameReceived) -> tuple[Station, Effects]:
    return station, _refused(oversized(event.size, event.limit))


def _refused(problem: FrameError) -> Effects:
    if problem.reply is None:
        return (Log("warning", f"dropped inbound frame: {problem.reason}"),)
    return (SendFrame(encode_frame(problem.reply)),)


def _tick(station: Station, event: Tick) -> tuple[Station, Effects]:
    now = event.now
    session, expired = rpc.expire(station.rpc, now)
    effects: Effects = ()
    if expired is not None:
        station, effects = _call_failed(station.with_changes(rpc=session), expired.call, now)
        effects = (Log("warning", f"{expired.call.action} {expired.message_id} timed out"), *effects)
    for timer in TIMERS:
        station, more = timer(station, now)
        effects += more
    return station, effects


def _connector_changed(station: Station, event: ConnectorChanged) -> tuple[Station, Effects]:
    moved, effects = availability.on_connector_changed(station, event.evse_id, event.connector_id, event.change)
    moved, more = hardware_hooks.after_connector_changed(station, moved, event.evse_id, event.now)
    return moved, effects + more


def _answer(station: Station, event: Answer) -> tuple[Station, Effects]:
    pending = next((q for q in station.questions if q.question_id == event.question_id), None)
    if pending is None:
        return station, (Log("warning", f"answer to unknown question {event.question_id} ignored"),)
    remaining = tuple(q for q in station.questions if q.question_id != event.question_id)
    station = station.with_changes(questions=remaining)
    if pending.call is None:  # raised by an input or a timer: the block that asked takes the answer
        if isinstance(pending.question, CsrQuestion):
            return certificate_signing.on_csr(station, pending.question, event.value, event.now)
        if isinstance(pending.question, OcspValidityQuestion):
            return iso15118_certificates.on_validity(station, pending.question, event.value, event.now)
        if isinstance(pending.question, RemoveCertificateQuestion):  # a CSMS root a migration no longer needs
            return certificates.on_removed(station, event.value)
        assert isinstance(pending.question, TokenQuestion)
        station, effects = token_routing.on_token_answer(station, pending.question, event.value, event.now)
        station, shown = tariff_cost.on_local_verdict(station, pending.question.id_token, event.now)  # I04, local
        return station, effects + shown
    resumed, decision, after = RESUMES[pending.call.action](station, pending.call, event.value, event.now)
    return _decide(resumed, pending.call, decision, after)


def _token_presented(station: Station, event: TokenPresented) -> tuple[Station, Effects]:
    """C01/E07 route the token; a verdict reached without the CSMS shows the fallback tariff (I04)."""
    station, effects = token_routing.present_token(station, event.id_token, event.evse_id, event.now)
    station, shown = tariff_cost.on_local_verdict(station, event.id_token, event.now)
    return station, effects + shown


def _send_data_transfer(station: Station, event: SendDataTransfer) -> tuple[Station, Effects]:
    return data_transfer.send_data_transfer(station, event.vendor_id, event.message_id, event.data)


def _shutdown(station: Station, event: Shutdown) -> tuple[Station, Effects]:
    stopped, effects = connection.stop(station)
    session, _ = rpc.close_session(stopped.rpc)
    return stopped.with_changes(rpc=session), effects


def _local_reset(station: Station, event: LocalReset) -> tuple[Station, Effects]:
    return provisioning.local_reset(station)


def _hook_raised(station: Station, event: HookRaised) -> tuple[Station, Effects]:
    """The application hears that one of its hooks failed; the state stays as it is, since what the hook should
    have done did not happen."""
    return station, (Notify(HookFailed(event.hook, event.error)),)


_INPUTS: Mapping[type, Callable[[Station, Any], tuple[Station, Effects]]] = MappingProxyType(
    {
        TokenPresented: _token_presented,
        MasterPassChoice: lambda station, event: master_pass.on_master_pass_choice(station, event.evse_ids, event.now),
        ChargingStateChanged: lambda station, event: hardware_hooks.on_charging_state(
            station, event.evse_id, event.state, event.now
        ),
        TransactionFinished: lambda station, event: start_stop.on_transaction_finished(
            station, event.evse_id, event.reason, event.now
        ),
        PowerPathChanged: lambda station, event: hardware_hooks.on_power_path(
            station, event.evse_id, event.closed, event.now
        ),
        MeterReading: meter_values.on_meter_reading,
        ParkingBayChanged: lambda station, event: hardware_hooks.on_parking_bay(
            station, event.evse_id, event.occupied, event.now
        ),
        PowerUp: _power_up,
        Connected: _connected,
        ConnectionLost: _connection_lost,
        FrameReceived: _frame_received,
        OversizedFrameReceived: _oversized_frame_received,
        Tick: _tick,
        ConnectorChanged: _connector_changed,
        Answer: _answer,
        SendDataTransfer: _send_data_transfer,
        Shutdown: _shutdown,
        ChangeVariable: variables.change_variable,
        LocalReset: _local_reset,
        ExternalLimit: external_limits.on_external_limit,
        EVChargingNeeds: iso15118_charging.on_charging_needs,
        EVChargingSchedule: iso15118_charging.on_charging_schedule,
        VariableReported: variables.report_variable,
        SecurityEventRaised: security_events.on_raised,
        EVCertificateRequested: iso15118_certificates.on_ev_certificate_requested,
        CertificateStatusRequested: iso15118_certificates.on_status_requested,
        HookRaised: _hook_raised,
        FirmwareDownloaded: firmware.on_downloaded,
        FirmwareVerified: firmware.on_verified,
        FirmwareInstalled: firmware.on_installed,
        PublishDownloaded: firmware_publish.on_downloaded,
        FilePublished: firmware_publish.on_published,
        CertificatesLoaded: certificates.on_loaded,
        LogUploadEnded: logs.on_upload_ended,
    }
)


# --- CSMS CALLs ---------------------------------------------------------------------------------------


def _csms_call(station: Station, call: Call, now: datetime) -> tuple[Station, Effects]:
    if call.action not in ACTIONS:
        return station, _error(call, "NotImplemented", f"unknown action {call.action}")
    if provisioning.refuses_csms_calls(station):
        return station, _error(call, "SecurityError", f"not accepted by the CSMS ({station.registration.status})")
    handler = CSMS_CALLS.get(call.action)
    if handler is None:
        return station, _error(call, "NotSupported", f"{call.action} is not supported")
    checked = validate(call.action, "Request", call.payload)
    if isinstance(checked, Failure):
        violation = checked.failure()
        return station, _error(call, violation.code, violation.description)
    handled, decision, after = handler(station, call, now)
    return _decide(handled, call, decision, after)


def _decide(station: Station, call: Call, decision: Decision, after: Effects) -> tuple[Station, Effects]:
    if isinstance(decision, CallError):
        return station, (SendFrame(encode_frame(decision)), *after)
    if isinstance(decision, Defer):
        asked, question = ask(station, decision.question, call)
        return asked, (question, *after)
    if not after:  # most replies: nothing to order around them
        return station, _reply(call, decision)
    durable = tuple(effect for effect in after if isinstance(effect, Persist))
    rest = tuple(effect for effect in after if not isinstance(effect, Persist))
    return station, (*durable, *_reply(call, decision), *rest)  # never tell the CSMS of a change a crash can undo


def _reply(call: Call, decision: Reply) -> tuple[Effect, ...]:
    checked = validate(call.action, "Response", decision.payload)
    if isinstance(checked, Success):
        return (SendFrame(encode_frame(CallResult(call.message_id, decision.payload))),)
    problem = f"{call.action} response refused: {checked.failure().description}"
    return InternalError(problem), SendFrame(encode_frame(CallError(call.message_id, "InternalError", problem)))


def _error(call: Call, code: str, description: str) -> Effects:
    return (SendFrame(encode_frame(CallError(call.message_id, code, description))),)


# --- replies to our CALLs -------------------------------------------------------------------------------


def _call_answered(station: Station, in_flight: InFlight, result: CallResult, now: datetime) -> tuple[Station, Effects]:
    action = in_flight.call.action
    checked = validate(action, "Response", result.payload)
    if isinstance(checked, Failure):
        failed, effects = _call_failed(station, in_flight.call, now)
        return failed, (
            Log("warning", f"invalid {action} response: {checked.failure().description}"),
            *effects,
        )
    answered = ANSWERED.get(action)
    return (station, ()) if answered is None else answered(station, in_flight.call, result.payload, now)


def _call_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """Our CALL got no usable answer (timeout, CALLERROR, invalid response or lost connection)."""
    failed = FAILED.get(call.action)
    return (station, ()) if failed is None else failed(station, call, now)


def _boot_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    was_accepted = provisioning.is_accepted(station)
    station, effects = provisioning.on_boot_response(station, payload, now)
    if provisioning.is_accepted(station) and not was_accepted:
        station = availability.arm_heartbeat(station, now)
        station, reported = availability.report_statuses(station, now, everything=True)
        station, installed = firmware.on_boot_accepted(station, now)
        effects += reported + installed
    return station, effects


def _heartbeat_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """G02.FR.02: the clock follows the CSMS's currentTime, unless that time is implausible (then a warning)."""
    adjusted = availability.on_heartbeat_response(station, payload, now)
    station, effects = security_events.on_clock_set(adjusted, station.registration.clock_offset, now)
    return station, (*refused_clock("Heartbeat", payload["currentTime"]), *effects)


def _authorize_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """C01 decides the session; the IdTokenInfo's personal message or tariff goes to its EVSE's display (I01)."""
    evse_id = tariff_cost.authorizing_evse(station, call.payload["idToken"])  # before the verdict moves the session
    station, effects = token_routing.on_authorize_answered(station, call, payload, now)
    station, shown = tariff_cost.on_token_info(station, evse_id, call.payload["idToken"], payload["idTokenInfo"], now)
    return station, effects + shown


def _authorize_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """C15 decides offline; an accepted token shows OfflineTariffFallbackMessage (I04)."""
    evse_id = tariff_cost.authorizing_evse(station, call.payload["idToken"])
    station, effects = token_routing.on_authorize_failed(station, call, now)
    tx = None if evse_id is None else sessions.find(station, evse_id)
    status = "Accepted" if tx is not None and tx.authorization == "accepted" else "Invalid"
    info = {"status": status}
    station, shown = tariff_cost.on_token_info(station, evse_id, call.payload["idToken"], info, now, offline=True)
    return station, effects + shown


def _transaction_event_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """E: the lane and the authorization; I: the tariff and cost the response carries."""
    station, effects = start_stop.on_event_answered(station, call, payload, now)
    station, costs = tariff_cost.on_event_answered(station, call, payload, now)
    return station, effects + costs


Answered = Callable[[Station, OutboundCall, dict[str, Any], datetime], tuple[Station, Effects]]
Failed = Callable[[Station, OutboundCall, datetime], tuple[Station, Effects]]

ANSWERED: Mapping[str, Answered] = MappingProxyType(
    {
        "BootNotification": _boot_answered,
        "Heartbeat": _heartbeat_answered,
        "DataTransfer": lambda station, call, payload, now: (
            station,
            data_transfer.on_response(call.payload, payload),
        ),
        "NotifyEVChargingNeeds": iso15118_charging.needs_answered,
        "NotifyEVChargingSchedule": iso15118_charging.schedule_answered,
        "Authorize": _authorize_answered,
        "TransactionEvent": _transaction_event_answered,
        "SecurityEventNotification": security_events.on_answered,
        "FirmwareStatusNotification": lambda station, call, payload, now: firmware.on_status_answered(
            station, call, now
        ),
        "SignCertificate": certificate_signing.on_sign_answered,
        "Get15118EVCertificate": iso15118_certificates.ev_certificate_answered,
        "GetCertificateStatus": iso15118_certificates.status_answered,
    }
)
"""What each block does with a valid CALLRESULT to one of our CALLs; other actions need nothing."""

FAILED: Mapping[str, Failed] = MappingProxyType(
    {
        "BootNotification": lambda station, call, now: (provisioning.on_boot_failed(station, now), ()),
        "DataTransfer": lambda station, call, now: (station, data_transfer.on_response(call.payload, None)),
        "NotifyEVChargingNeeds": lambda station, call, now: iso15118_charging.needs_answered(station, call, None, now),
        "NotifyEVChargingSchedule": lambda station, call, now: iso15118_charging.schedule_answered(
            station, call, None, now
        ),
        "Authorize": _authorize_failed,
        "TransactionEvent": start_stop.on_event_failed,
        "SecurityEventNotification": security_events.on_failed,
        "FirmwareStatusNotification": firmware.on_status_answered,
        "SignCertificate": certificate_signing.on_sign_failed,
        "Get15118EVCertificate": lambda station, call, now: iso15118_certificates.ev_certificate_answered(
            station, call, None, now
        ),
        "GetCertificateStatus": lambda station, call, now: iso15118_certificates.status_answered(
            station, call, None, now
        ),
    }
)
"""What each block does when one of its CALLs got no usable answer."""
