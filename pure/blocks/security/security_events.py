"""A04 security events: every event goes to the security log the application keeps (`SecurityEventLogged`); the
critical ones of Part 2 Appendix 1 (`specs/security_events.json`) also go to the CSMS as
SecurityEventNotification, through the persistent lane, so they survive being offline and a restart like
TransactionEvents do.

The core raises StartupOfTheDevice or ResetOrReboot when it powers up, SettingSystemTime when a Heartbeat answer
moves the clock by more than ClockCtrlr.TimeAdjustmentReportingThreshold (the BootNotification answer's time is not
checked), and ReconfigurationOfSecurityParameters when the security profile changes. A connection attempt the
CSMS refused for a security reason is one too: the shell reports why the attempt failed (`inputs.DialFailure`),
and `refusal_to_report` decides whether that is an event. The application raises the others
(`inputs.SecurityEventRaised`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from chargecore.pure.device_model.catalogue import load_spec
from chargecore.pure.device_model.model import get_int
from chargecore.pure.effects import Effects, Notify, Persist, SecurityEventLogged
from chargecore.pure.inputs import DialFailure, SecurityEventRaised
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

TLS_REFUSALS: Mapping[str, str] = MappingProxyType(
    {
        "CERTIFICATE_VERIFY_FAILED": "InvalidCsmsCertificate",
        "UNSUPPORTED_PROTOCOL": "InvalidTLSVersion",
        "TLSV1_ALERT_PROTOCOL_VERSION": "InvalidTLSVersion",
        "SSLV3_ALERT_HANDSHAKE_FAILURE": "InvalidTLSCipherSuite",
        "WRONG_CIPHER_RETURNED": "InvalidTLSCipherSuite",
        "TLSV1_ALERT_UNKNOWN_CA": "FailedToAuthenticateAtCsms",
        "SSLV3_ALERT_BAD_CERTIFICATE": "FailedToAuthenticateAtCsms",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED": "FailedToAuthenticateAtCsms",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN": "FailedToAuthenticateAtCsms",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": "FailedToAuthenticateAtCsms",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED": "FailedToAuthenticateAtCsms",
    }
)
"""OpenSSL reasons of a refused TLS handshake, by security event. CERTIFICATE_VERIFY_FAILED: the CSMS's
certificate does not chain to our CAs, has expired or names another host. UNSUPPORTED_PROTOCOL: the CSMS answered
below TLS 1.2; a protocol_version alert: the CSMS knows none of our versions. A handshake_failure alert says the
CSMS found no acceptable set of parameters among ours, which for a client without a certificate (profiles 1 and 2)
means no cipher suite in common. The certificate alerts (unknown_ca, bad_certificate, ...) are the CSMS refusing
our client certificate (profile 3): our credentials, rejected (unsupported_certificate: not usable for a TLS client,
e.g. its keyUsage)."""

HTTP_REFUSALS: Mapping[str, str] = MappingProxyType({"401": "FailedToAuthenticateAtCsms"})
"""HTTP statuses of a refused websocket upgrade, by security event: 401 is our Basic auth password, rejected."""

_REFUSALS: Mapping[str, Mapping[str, str]] = MappingProxyType({"tls": TLS_REFUSALS, "http": HTTP_REFUSALS})


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


def refusal_event(failure: DialFailure) -> str | None:
    """The security event a failed connection attempt is (A00, A04), or None for an ordinary failure."""
    return _REFUSALS.get(failure.layer, MappingProxyType({})).get(failure.code)


def refusal_to_report(reported: frozenset[str], failure: DialFailure) -> str | None:
    """The security event to raise for a failed attempt: none for an ordinary failure, nor for one of a type
    already raised since the connection was last up (`reported`): the event "only needs to be sent once for
    repeated failed connection attempts" (A00.FR.316 and A00.FR.419, errata 2023-12)."""
    event_type = refusal_event(failure)
    if event_type is None or event_type in reported:
        return None
    return event_type


def on_attempt_failed(station: Station, failure: DialFailure, now: datetime) -> tuple[Station, Effects]:
    """A connection attempt failed: raise the security event it is, once per type until the next connection."""
    reported = station.connection.refusals_reported
    event_type = refusal_to_report(reported, failure)
    if event_type is None:
        return station, ()
    connection = replace(station.connection, refusals_reported=reported | {event_type})
    return raise_event(replace(station, connection=connection), event_type, failure.text, now)


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
