"""Block B, provisioning: BootNotification and registration (B01-B03); Reset (B11, B12) is in resets.py.

Until the CSMS accepts the boot, the station sends nothing but BootNotification (and, while Pending, what a
TriggerMessage asked for); while Rejected it answers every CSMS request with SecurityError (B03.FR.08).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import get_definition, get_value, persist_key, set_value
from chargecore.pure.effects import Effects, Log, Notify, PerformReset, Persist, RegistrationChanged
from chargecore.pure.lifecycle import REGISTRATION_LIFECYCLE
from chargecore.pure.ocppj import connection, rpc
from chargecore.pure.ocppj.timestamps import later, offset_from, refused_clock, seconds
from chargecore.pure.state import OutboundCall, Station

BOOT_RETRY_WITHOUT_INTERVAL = timedelta(seconds=30)
"""Wait before re-sending a boot the CSMS did not answer, or answered with interval 0 (B02.FR.01, B03.FR.01)."""

HEARTBEAT_INTERVAL = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
BOOT_REASON_KEY = "provisioning/boot_reason"


def is_accepted(station: Station) -> bool:
    return station.registration.status == "Accepted"


def may_send(station: Station, call: OutboundCall) -> bool:
    """B02.FR.02 / B03.FR.02: before Accepted only BootNotification, or while Pending a triggered message."""
    status = station.registration.status
    if status == "Accepted" or call.action == "BootNotification":
        return True
    return status == "Pending" and call.triggered


def refuses_csms_calls(station: Station) -> bool:
    """B03.FR.08: while Rejected (or before any answer) a CSMS request is answered with SecurityError."""
    return station.registration.status in ("Rejected", "Unknown")


def boot_payload(station: Station, reason: str) -> dict[str, Any]:
    model = station.device_model
    charging_station: dict[str, Any] = {
        "model": get_value(model, VariableKey("ChargingStation", "Model")) or "chargecore",
        "vendorName": get_value(model, VariableKey("ChargingStation", "VendorName")) or "chargecore",
        "firmwareVersion": station.identity.firmware_version,
    }
    if station.identity.serial_number:
        charging_station["serialNumber"] = station.identity.serial_number
    return {"reason": reason, "chargingStation": charging_station}


def _boot_outstanding(station: Station) -> bool:
    session = station.rpc
    in_flight = session.in_flight is not None and session.in_flight.call.action == "BootNotification"
    return in_flight or any(call.action == "BootNotification" for call in session.queue)


def send_boot(station: Station, reason: str, *, triggered: bool = False) -> tuple[Station, Effects]:
    """Queue one BootNotification (never two at once) and stop the retry timer."""
    if _boot_outstanding(station):
        return station, ()
    session, effects = rpc.enqueue(station.rpc, "BootNotification", boot_payload(station, reason), triggered=triggered)
    registration = replace(station.registration, retry_at=None)
    return replace(station, rpc=session, registration=registration), effects


def on_connected(station: Station, now: datetime) -> tuple[Station, Effects]:
    """B01.FR.01: a station that is not yet Accepted boots on every connection, but once the CSMS has answered
    Pending or Rejected not before its interval has passed (B03.FR.02); `on_tick` sends that boot."""
    retry_at = station.registration.retry_at
    told_to_wait = station.registration.status != "Unknown" and retry_at is not None and now < retry_at
    if is_accepted(station) or told_to_wait:
        return station, ()
    return send_boot(station, station.registration.boot_reason)


def _bounded_interval(model: DeviceModel, interval: int) -> tuple[int, Effects]:
    """The response's interval, at most HeartbeatInterval's maxLimit: a CSMS that asks for 2^40 seconds gets
    the longest interval the station allows (and the station says so), not a timer beyond the calendar."""
    definition = get_definition(model, HEARTBEAT_INTERVAL)
    longest = None if definition is None or definition.max_limit is None else int(definition.max_limit)
    if longest is None or interval <= longest:
        return interval, ()
    return longest, (Log("warning", f"BootNotification interval {interval} s taken as {longest} s (maxLimit)"),)


def on_boot_response(station: Station, response: dict[str, Any], now: datetime) -> tuple[Station, Effects]:
    status = response["status"]
    target = REGISTRATION_LIFECYCLE.move(station.registration.status, status)  # no boot leaves an accepted station
    model = station.device_model
    interval, clamped = _bounded_interval(model, int(response["interval"]))
    offset = offset_from(response["currentTime"], now, station.registration.clock_offset)
    registration = replace(station.registration, status=target, clock_offset=offset)
    effects: list[Any] = [*clamped, *refused_clock("BootNotification", response["currentTime"])]
    if target == "Accepted":
        registration = replace(registration, retry_at=None, boot_reason="PowerUp")
        if interval > 0:  # B01.FR.04: the interval from the response becomes the heartbeat interval
            updated = set_value(model, HEARTBEAT_INTERVAL, str(interval), respect_mutability=False)
            model = updated.value_or(model)
        effects.append(
            Persist(
                (
                    (BOOT_REASON_KEY, None),
                    (persist_key(HEARTBEAT_INTERVAL, "Actual"), get_value(model, HEARTBEAT_INTERVAL)),
                )
            )
        )
    else:
        wait = seconds(interval) if interval > 0 else BOOT_RETRY_WITHOUT_INTERVAL
        registration = replace(registration, retry_at=later(now, wait))
    if target != station.registration.status:
        effects.append(Notify(RegistrationChanged(target)))
    return replace(station, registration=registration, device_model=model), tuple(effects)


def on_boot_failed(station: Station, now: datetime) -> Station:
    """No answer or a CALLERROR: try again later (the reason stays the same)."""
    retry_at = later(now, BOOT_RETRY_WITHOUT_INTERVAL)
    return replace(station, registration=replace(station.registration, retry_at=retry_at))


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    retry_at = station.registration.retry_at
    if retry_at is None or now < retry_at:
        return station, ()
    if not connection.is_up(station):  # the timer is done: `on_connected` boots on the next connection
        return replace(station, registration=replace(station.registration, retry_at=None)), ()
    return send_boot(station, station.registration.boot_reason)


def adopt_boot_reason(station: Station, persisted: dict[str, Any]) -> Station:
    reason = persisted.get(BOOT_REASON_KEY) or "PowerUp"
    return replace(station, registration=replace(station.registration, boot_reason=reason))


def local_reset(station: Station) -> tuple[Station, Effects]:
    """The operator reset the station: reboot now and tell the CSMS why on the next boot."""
    return station, (Persist(((BOOT_REASON_KEY, "LocalReset"),)), PerformReset("Immediate", None))
