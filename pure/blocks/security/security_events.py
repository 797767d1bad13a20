"""A04 security events: every event goes to the security log the application keeps (`SecurityEventLogged`); the
critical ones of Part 2 Appendix 1 (`specs/security_events.json`) also go to the CSMS as
SecurityEventNotification, through the persistent lane, so they survive being offline and a restart like
TransactionEvents do.

The core raises StartupOfTheDevice or ResetOrReboot when it powers up, SettingSystemTime when a Heartbeat answer
moves the clock by more than ClockCtrlr.TimeAdjustmentReportingThreshold (the BootNotification answer's time is not
checked), and ReconfigurationOfSecurityParameters when the security profile changes; the application and the
shell raise the others (`inputs.SecurityEventRaised`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chargecore.pure.device_model.catalogue import load_spec
from chargecore.pure.device_model.model import get_int
from chargecore.pure.effects import Effects, Notify, Persist, SecurityEventLogged
from chargecore.pure.inputs import SecurityEventRaised
from chargecore.pure.ocppj import lane, rpc
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.state import OutboundCall, Station

CRITICAL: frozenset[str] = frozenset(
    event["type"] for event in load_spec("security_events.json")["events"] if event["critical"]
)
"""Security events the CSMS must hear of (Part 2 Appendix 1, column Critical)."""

TYPE_LENGTH = 50
TECH_INFO_LENGTH = 255
"""SecurityEventNotificationRequest: type is string(50), techInfo string(255)."""


def raise_event(station: Station, event_type: str, tech_info: str | None, now: datetime) -> tuple[Station, Effects]:
    """Log the event; queue a SecurityEventNotification for a critical one (A04.FR.01, A04.FR.02)."""
    event_type = event_type[:TYPE_LENGTH]
    tech_info = None if tech_info is None else tech_info[:TECH_INFO_LENGTH]
    timestamp = ocpp_time(station, now)
    critical = event_type in CRITICAL
    logged: Effects = (Notify(SecurityEventLogged(event_type, timestamp, tech_info, critical)),)
    if not critical:
        return station, logged
    payload: dict[str, Any] = {"type": event_type, "timestamp": timestamp}
    if tech_info:
        payload["techInfo"] = tech_info
    session, entries, problems = rpc.enqueue_persistent(station.rpc, "SecurityEventNotification", payload)
    if problems:
        return station, logged + problems
    return replace(station, rpc=session), (Persist(entries), *logged)


def on_raised(station: Station, event: SecurityEventRaised) -> tuple[Station, Effects]:
    return raise_event(station, event.event_type, event.tech_info, event.now)


def on_power_up(station: Station, now: datetime) -> tuple[Station, Effects]:
    """StartupOfTheDevice after a power-up (or a crash), ResetOrReboot after a reset (TC_A_06 step 14)."""
    reason = station.registration.boot_reason
    event_type = "StartupOfTheDevice" if reason == "PowerUp" else "ResetOrReboot"  # a reset, a watchdog...
    return raise_event(station, event_type, f"boot reason {reason}", now)


def on_clock_set(station: Station, before: timedelta, now: datetime) -> tuple[Station, Effects]:
    """SettingSystemTime when the CSMS's time moved the station clock by more than
    ClockCtrlr.TimeAdjustmentReportingThreshold seconds (0 or unset: never reported)."""
    threshold = get_int(station.device_model, "ClockCtrlr", "TimeAdjustmentReportingThreshold")
    moved = abs((station.registration.clock_offset - before).total_seconds())
    if threshold <= 0 or moved <= threshold:
        return station, ()
    return raise_event(station, "SettingSystemTime", f"clock moved by {moved:.0f} s", now)


def on_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    return lane.answered(station, call)


def on_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """Kept across a lost connection, but given up at the first CALLERROR or timeout: a CSMS that does not
    implement SecurityEventNotification must not hold the TransactionEvents queued behind it."""
    return lane.failed(station, call, now, attempts=1)
