"""Security events (A04, Part 2 Appendix 1) through `step`: every event goes to the application's security log, the
critical ones to the CSMS as SecurityEventNotification through the persistent lane (offline, restarts, retries); a
connection attempt the CSMS refused for a security reason is one, once per type until the next connection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from core_helpers import Sim, answer_boot, at, booted, calls, connection_data, make_station, of_type, persisted, started

from chargecore.pure.blocks.provisioning.provisioning import BOOT_REASON_KEY
from chargecore.pure.blocks.security.security_events import CRITICAL, refusal_event, refusal_to_report
from chargecore.pure.effects import Connect, Effects, Notify, SecurityEventLogged
from chargecore.pure.inputs import ConnectionLost, DialFailure, DialLayer, SecurityEventRaised
from chargecore.pure.ocppj.rpc import LANE_NAMESPACE
from chargecore.pure.ocppj.timestamps import ocpp_time

TAMPER = "TamperDetectionActivated"


def logged(effects: Effects) -> list[SecurityEventLogged]:
    return [n.event for n in of_type(effects, Notify) if isinstance(n.event, SecurityEventLogged)]


def notifications(sim: Sim) -> list[dict[str, Any]]:
    return [call.payload for call in calls(tuple(sim.log)) if call.action == "SecurityEventNotification"]


def raise_event(sim: Sim, event_type: str, tech_info: str | None = None) -> Effects:
    return sim.feed(SecurityEventRaised(sim.now, event_type, tech_info))


def stored(sim: Sim) -> dict[str, Any]:
    return {key: value for key, value in persisted(tuple(sim.log)).items() if value is not None}


def test_the_critical_events_are_those_of_the_appendix() -> None:
    assert {"StartupOfTheDevice", "ResetOrReboot", "SettingSystemTime", TAMPER, "InvalidCsmsCertificate"} <= CRITICAL
    assert not {"FailedToAuthenticateAtCsms", "InvalidMessages", "ReconfigurationOfSecurityParameters"} & CRITICAL


@pytest.mark.requirements("A04.FR.01", "A04.FR.02")
def test_a_power_up_logs_startup_of_the_device_and_sends_it_once_accepted() -> None:
    sim = started()
    [event] = logged(tuple(sim.log))
    assert (event.event_type, event.critical) == ("StartupOfTheDevice", True)
    assert notifications(sim) == [], "nothing but BootNotification before the boot is accepted (B02)"
    answer_boot(sim)
    sim.answer_all()
    [sent] = notifications(sim)
    assert sent["type"] == "StartupOfTheDevice" and sent["timestamp"] == event.timestamp
    assert sim.station.rpc.lane == () and not any(key.startswith(LANE_NAMESPACE) for key in stored(sim))


def test_a_power_up_after_a_reset_is_reset_or_reboot() -> None:
    sim = Sim(make_station(stored={BOOT_REASON_KEY: "RemoteReset"}))
    [event] = logged(sim.power_up(0))
    assert event.event_type == "ResetOrReboot" and event.tech_info == "boot reason RemoteReset"


@pytest.mark.requirements("A04.FR.01", "A04.FR.02")
def test_an_application_event_is_logged_and_a_critical_one_sent() -> None:
    sim = booted()
    effects = raise_event(sim, TAMPER, "door opened")
    assert [(e.event_type, e.tech_info, e.critical) for e in logged(effects)] == [(TAMPER, "door opened", True)]
    [call] = calls(effects)
    assert (call.action, call.payload["type"], call.payload["techInfo"]) == (
        "SecurityEventNotification",
        TAMPER,
        "door opened",
    )


def test_a_non_critical_event_is_only_logged() -> None:
    sim = booted()
    effects = raise_event(sim, "InvalidMessages")
    assert [(e.event_type, e.critical) for e in logged(effects)] == [("InvalidMessages", False)]
    assert calls(effects) == [] and sim.station.rpc.lane == ()


def test_type_and_tech_info_are_cut_to_the_schema_lengths() -> None:
    sim = booted()
    [call] = calls(raise_event(sim, TAMPER, "y" * 400))
    assert len(call.payload["techInfo"]) == 255
    [event] = logged(raise_event(sim, "Proprietary" + "X" * 60))
    assert len(event.event_type) == 50


@pytest.mark.requirements("A04.FR.02")
def test_an_event_raised_offline_survives_a_restart_and_is_sent_after_the_boot() -> None:
    sim = booted()
    sim.lose()
    raise_event(sim, TAMPER)
    assert [m.payload["type"] for m in sim.station.rpc.lane] == [TAMPER], "queued while offline"
    restarted = Sim(make_station(stored=stored(sim)))
    restarted.power_up(0)
    restarted.connect(1)
    answer_boot(restarted)
    restarted.answer_all()
    assert [p["type"] for p in notifications(restarted)] == [TAMPER, "StartupOfTheDevice"], "oldest first"


def test_a_refused_notification_is_given_up_at_once_and_holds_back_no_transaction_event() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    raise_event(sim, TAMPER)
    key = sim.station.rpc.lane[0].key
    sim.plug()  # StatusNotification and TransactionEvent Started, queued behind the security event
    effects = sim.reply_error("NotImplemented")
    assert persisted(effects) == {key: None}, "given up and deleted from disk"
    sim.answer_all()
    assert [call.payload["eventType"] for call in calls(tuple(sim.log)) if call.action == "TransactionEvent"] == [
        "Started"
    ], "sent at once, no MessageAttemptInterval wait"
    assert sim.station.rpc.lane == ()


def test_a_notification_lost_with_the_connection_goes_again_after_the_reconnect() -> None:
    sim = booted()
    raise_event(sim, TAMPER)
    sim.lose()
    assert [m.action for m in sim.station.rpc.lane] == ["SecurityEventNotification"]
    sim.tick_deadline()
    sim.connect()
    sim.answer_all()
    assert [p["type"] for p in notifications(sim) if p["type"] == TAMPER] == [TAMPER, TAMPER], "sent again"
    assert sim.station.rpc.lane == ()


def csms_clock(sim: Sim, at_s: float, drift_s: float) -> str:
    """The CSMS's currentTime at `at_s`: the station's clock then, plus `drift_s` seconds."""
    return ocpp_time(sim.station, at(at_s) + timedelta(seconds=drift_s))


@pytest.mark.requirements("A04.FR.01")
def test_a_heartbeat_moving_the_clock_beyond_the_threshold_is_setting_system_time() -> None:
    sim = booted(interval=100, config={"ClockCtrlr": {"TimeAdjustmentReportingThreshold": 20}})
    sim.tick(102)
    assert logged(sim.reply({"currentTime": csms_clock(sim, 102, 15)}, at_s=102)) == [], "within the threshold"
    sim.tick_deadline()
    [event] = logged(sim.reply({"currentTime": csms_clock(sim, 202, -45)}, at_s=202))
    assert (event.event_type, event.tech_info) == ("SettingSystemTime", "clock moved by 45 s")
    assert sim.outstanding().payload["type"] == "SettingSystemTime"


def test_a_threshold_of_zero_never_reports_the_clock() -> None:
    sim = booted(interval=100, config={"ClockCtrlr": {"TimeAdjustmentReportingThreshold": 0}})
    sim.tick(102)
    assert logged(sim.reply({"currentTime": "2040-01-01T00:00:00Z"}, at_s=102)) == []


@pytest.mark.requirements("A05.FR.06")
def test_a_higher_security_profile_is_a_reconfiguration_of_security_parameters() -> None:
    secure = connection_data("wss://secure.example/ocpp", 2)
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "2,1"}}
    profiles = [{"configurationSlot": 2, "connectionData": secure}]
    sim = Sim(make_station(config=config, stored={"network/profiles": profiles}))
    sim.power_up(0)
    [event] = logged(sim.connect(1))
    assert (event.event_type, event.tech_info, event.critical) == (
        "ReconfigurationOfSecurityParameters",
        "security profile 1 -> 2",
        False,
    )


# --- refused connection attempts (A00, A04): the link reports why, the core decides -----------------------------

REFUSALS = [
    ("tls", "CERTIFICATE_VERIFY_FAILED", "InvalidCsmsCertificate"),
    ("tls", "UNSUPPORTED_PROTOCOL", "InvalidTLSVersion"),
    ("tls", "TLSV1_ALERT_PROTOCOL_VERSION", "InvalidTLSVersion"),
    ("tls", "SSLV3_ALERT_HANDSHAKE_FAILURE", "InvalidTLSCipherSuite"),
    ("tls", "WRONG_CIPHER_RETURNED", "InvalidTLSCipherSuite"),
    ("tls", "TLSV1_ALERT_UNKNOWN_CA", "FailedToAuthenticateAtCsms"),
    ("tls", "SSLV3_ALERT_BAD_CERTIFICATE", "FailedToAuthenticateAtCsms"),
    ("tls", "SSLV3_ALERT_CERTIFICATE_EXPIRED", "FailedToAuthenticateAtCsms"),
    ("tls", "SSLV3_ALERT_CERTIFICATE_UNKNOWN", "FailedToAuthenticateAtCsms"),
    ("tls", "TLSV13_ALERT_CERTIFICATE_REQUIRED", "FailedToAuthenticateAtCsms"),
    ("http", "401", "FailedToAuthenticateAtCsms"),
]
"""Every failure the station takes for a security event, and the event (docs/security.md)."""

ORDINARY = [
    DialFailure("tls", "", "EOF occurred in violation of protocol"),
    DialFailure("tls", "SOMETHING_ELSE", "something else"),
    DialFailure("http", "403", "HTTP 403 Forbidden"),
    DialFailure("http", "503", "HTTP 503 Service Unavailable"),
    DialFailure("other", "", "[Errno 111] Connection refused"),
    DialFailure("other", "401", "a code outside TLS and HTTP means nothing"),
    DialFailure("http", "CERTIFICATE_VERIFY_FAILED", "an OpenSSL reason outside TLS means nothing"),
]


def refused(sim: Sim, failure: DialFailure, at_s: float | None = None) -> Effects:
    """The attempt under way fails for `failure`."""
    return sim.feed(ConnectionLost(sim.when(at_s), 0.0, failure))


def retry(sim: Sim) -> None:
    assert of_type(sim.tick_deadline(), Connect), "the back-off ends in a new attempt"


@pytest.mark.parametrize(("layer", "code", "event_type"), REFUSALS)
def test_a_refused_attempt_is_the_security_event_of_its_reason(layer: DialLayer, code: str, event_type: str) -> None:
    failure = DialFailure(layer, code, f"what the link saw of {code}")
    assert refusal_event(failure) == event_type
    sim = Sim(make_station())
    sim.power_up(0)
    effects = refused(sim, failure, 1)
    [event] = logged(effects)
    assert (event.event_type, event.tech_info) == (event_type, f"what the link saw of {code}")
    assert event.critical == (event_type in CRITICAL)
    assert bool(persisted(effects)) == event.critical, "a critical one waits in the persistent lane"
    assert sim.station.connection.phase == "waiting", "and the attempt is lost as any other"


@pytest.mark.parametrize("failure", ORDINARY, ids=lambda failure: failure.text)
def test_an_ordinary_failure_is_no_security_event(failure: DialFailure) -> None:
    assert refusal_event(failure) is None
    sim = Sim(make_station())
    sim.power_up(0)
    assert logged(refused(sim, failure, 1)) == []
    assert sim.station.connection.phase == "waiting"


@pytest.mark.requirements("A00.FR.316", "A00.FR.419")
def test_each_type_of_refusal_is_raised_once_until_the_next_connection() -> None:
    sim = Sim(make_station())
    sim.power_up(0)
    bad_certificate = DialFailure("tls", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed")
    assert [e.event_type for e in logged(refused(sim, bad_certificate, 1))] == ["InvalidCsmsCertificate"]
    retry(sim)
    assert logged(refused(sim, bad_certificate)) == [], "the same type again: not raised again"
    retry(sim)
    old_tls = DialFailure("tls", "UNSUPPORTED_PROTOCOL", "unsupported protocol")
    assert [e.event_type for e in logged(refused(sim, old_tls))] == ["InvalidTLSVersion"], "another type is"
    retry(sim)
    sim.connect()
    sim.lose()
    retry(sim)
    assert [e.event_type for e in logged(refused(sim, bad_certificate))] == ["InvalidCsmsCertificate"], (
        "a connection in between: raised again"
    )


def test_the_once_rule_is_a_function_of_the_types_raised() -> None:
    failure = DialFailure("http", "401", "HTTP 401 Unauthorized")
    assert refusal_to_report(frozenset(), failure) == "FailedToAuthenticateAtCsms"
    assert refusal_to_report(frozenset({"FailedToAuthenticateAtCsms"}), failure) is None
    assert refusal_to_report(frozenset({"InvalidCsmsCertificate"}), failure) == "FailedToAuthenticateAtCsms"


def test_a_failure_only_counts_for_an_attempt_under_way() -> None:
    """The link describes failed attempts only; on a connection that was up, or when nothing was under way (the
    input is refused), the core raises nothing."""
    failure = DialFailure("tls", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed")
    idle = Sim(make_station())
    assert logged(refused(idle, failure, 0)) == [] and idle.station.connection.phase == "off"
    sim = started()
    assert logged(refused(sim, failure)) == []
    assert sim.station.connection.refusals_reported == frozenset()
