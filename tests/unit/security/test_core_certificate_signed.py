"""CertificateSigned through `step` (A02.FR.07-09, A03.FR.07): the core's verdict on the shell's `ChainFacts`,
the Rejected answer with its reasonCode and security event, and the switch at the next profile-3 connection."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from core_helpers import Sim, booted, calls, of_type, replies
from own_certificates import own_entry

from chargecore.pure.blocks.security import certificate_signed as chain_rules
from chargecore.pure.blocks.security import certificate_signing
from chargecore.pure.blocks.security.certificate_store import StoreChanged
from chargecore.pure.effects import (
    Ask,
    CertificateRenewed,
    ChainFacts,
    ChainQuestion,
    CommitCertificate,
    CsrQuestion,
    Effects,
    InstallOwnQuestion,
    Notify,
    RevertCertificate,
)
from chargecore.pure.inputs import ConnectionLost, DialFailure, Tick
from chargecore.pure.ocppj.timestamps import station_time

CHAIN = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def pending(**identity: Any) -> Sim:
    """A booted station whose SignCertificateRequest the CSMS accepted."""
    sim = booted(serial_number="SN-42", **identity)
    effects = sim.csms_call("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}, "tm-1")
    (ask,) = [a for a in of_type(effects, Ask) if isinstance(a.question, CsrQuestion)]
    sim.answer(ask.question_id, "CSR")
    sim.reply({"status": "Accepted"})
    return sim


def good_facts(sim: Sim) -> ChainFacts:
    moment = station_time(sim.station, sim.now)
    return ChainFacts(True, True, True, "SN-42", moment - timedelta(hours=1), moment + timedelta(days=365))


def certificate_signed(
    sim: Sim, facts: ChainFacts | None, chain: str = CHAIN, stored: StoreChanged | None = None
) -> tuple[dict[str, Any], Effects]:
    """Send CertificateSigned, answer the chain question with `facts` and, when the core asks to install the chain,
    the store with `stored` (default: installed, valid for a year); the response and every effect."""
    effects = sim.csms_call("CertificateSigned", {"certificateChain": chain}, "cs-1")
    asked = [a for a in of_type(effects, Ask) if isinstance(a.question, ChainQuestion)]
    if asked:
        assert asked[0].question == ChainQuestion("ChargingStationCertificate", chain, "CSMSRootCertificate")
        effects += sim.answer(asked[0].question_id, facts)
    install = [a for a in of_type(effects, Ask) if isinstance(a.question, InstallOwnQuestion)]
    if install:
        assert install[0].question == InstallOwnQuestion("ChargingStationCertificate", chain)
        ends = station_time(sim.station, sim.now) + timedelta(days=365)
        effects += sim.answer(install[0].question_id, stored or StoreChanged((own_entry(ends),)))
    (reply,) = [r for r in replies(effects) if r[1] == "cs-1"]
    return reply[2], effects + sim.answer_all()


def installs(effects: Effects) -> list[Ask]:
    return [a for a in of_type(effects, Ask) if isinstance(a.question, InstallOwnQuestion)]


def security_events(effects: Effects) -> list[dict[str, Any]]:
    return [c.payload for c in calls(effects) if c.action == "SecurityEventNotification"]


@pytest.mark.requirements("A02.FR.08", "A02.FR.09")
def test_a_good_chain_is_accepted_installed_and_ends_the_request() -> None:
    sim = pending()
    response, effects = certificate_signed(sim, good_facts(sim))
    assert response == {"status": "Accepted"}
    assert len(installs(effects)) == 1
    (renewed,) = [n.event for n in of_type(effects, Notify) if isinstance(n.event, CertificateRenewed)]
    assert renewed.certificate_type == "ChargingStationCertificate"
    assert sim.station.certificates.station_certificate is not None, "the core learnt the store's new list"
    assert certificate_signing.find(sim.station, "ChargingStationCertificate") is None
    assert certificate_signing.deadline(sim.station) is not None, "renewal of the new certificate is planned"
    assert not security_events(effects)


def _bad(sim: Sim, name: str) -> ChainFacts:
    facts = good_facts(sim)
    moment = station_time(sim.station, sim.now)
    return {
        "unparsable": ChainFacts(parsed=False, problem="no PEM certificate"),
        "unknown root": replace(facts, trusted=False),
        "wrong key": replace(facts, key_matches=False),
        "not yet valid": replace(facts, not_before=moment + timedelta(days=1)),
        "expired": replace(facts, not_before=moment - timedelta(days=30), not_after=moment - timedelta(days=1)),
        "wrong CN": replace(facts, common_name="SOMEONE-ELSE"),
    }[name]


@pytest.mark.requirements("A02.FR.07", "A03.FR.07")
@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("unparsable", "InvalidFormat"),
        ("unknown root", "InvalidChain"),
        ("wrong key", "WrongKey"),
        ("not yet valid", "NotYetValid"),
        ("expired", "Expired"),
        ("wrong CN", "WrongCommonName"),
    ],
)
def test_a_bad_chain_is_rejected_with_a_security_event_and_nothing_installed(bad: str, reason: str) -> None:
    sim = pending()
    response, effects = certificate_signed(sim, _bad(sim, bad))
    assert response["status"] == "Rejected" and response["statusInfo"]["reasonCode"] == reason
    assert not installs(effects)
    (event,) = security_events(effects)
    assert event["type"] == "InvalidChargingStationCertificate" and event["techInfo"].startswith(reason)
    assert certificate_signing.find(sim.station, "ChargingStationCertificate") is None


def test_no_facts_from_the_shell_count_as_an_unreadable_chain() -> None:
    sim = pending()
    response, _ = certificate_signed(sim, None)
    assert response["statusInfo"]["reasonCode"] == "InvalidFormat"


def test_a_chain_over_max_certificate_chain_size_is_rejected_without_asking_the_shell() -> None:
    sim = pending(config={"SecurityCtrlr": {"MaxCertificateChainSize": 100}})
    response, effects = certificate_signed(sim, None, CHAIN * 5)
    assert response["statusInfo"]["reasonCode"] == "TooLarge"
    assert not [a for a in of_type(effects, Ask) if isinstance(a.question, ChainQuestion)]
    assert [e["type"] for e in security_events(effects)] == ["InvalidChargingStationCertificate"]


def test_a_chain_over_the_schema_limit_is_a_callerror() -> None:
    sim = pending()
    effects = sim.csms_call("CertificateSigned", {"certificateChain": "A" * 100_000}, "cs-1")
    (reply,) = replies(effects)
    assert reply[0] == 4 and reply[2] in ("FormatViolation", "FormationViolation", "PropertyConstraintViolation")
    assert not installs(effects)


def test_a_store_that_cannot_write_answers_rejected_and_keeps_the_old_list() -> None:
    sim = pending()
    response, effects = certificate_signed(sim, good_facts(sim), stored=StoreChanged((), "cannot install: OSError"))
    assert response["status"] == "Rejected" and response["statusInfo"]["reasonCode"] == "StoreFailed"
    assert not [n for n in of_type(effects, Notify) if isinstance(n.event, CertificateRenewed)]


def test_without_a_pending_request_the_chain_is_rejected() -> None:
    sim = booted(serial_number="SN-42")
    response, effects = certificate_signed(sim, None)
    assert response["statusInfo"]["reasonCode"] == "NoRequest"
    assert not of_type(effects, Ask)


def _profile_3(sim: Sim) -> Sim:
    model = sim.station.device_model
    key = next(k for k, _ in model.values if k.component == "SecurityCtrlr" and k.variable == "SecurityProfile")
    values = {**model.values, (key, "Actual"): "3"}
    return replace(sim, station=replace(sim.station, device_model=replace(model, values=values)))


def reconnect(sim: Sim) -> Effects:
    """The connection drops; the station dials again when its back-off ends, and gets through."""
    sim.lose()
    retry_at = sim.station.connection.retry_at
    assert retry_at is not None
    sim.feed(Tick(retry_at))
    return sim.connect()


def test_the_renewed_certificate_is_committed_after_its_first_profile_3_connection() -> None:
    sim = pending()
    certificate_signed(sim, good_facts(sim))
    sim = _profile_3(sim)
    assert not of_type(sim.log, CommitCertificate)
    assert of_type(reconnect(sim), CommitCertificate) == [CommitCertificate("ChargingStationCertificate")]
    assert not of_type(reconnect(sim), CommitCertificate), "once only"


def test_at_profile_1_nothing_is_committed() -> None:
    sim = pending()
    certificate_signed(sim, good_facts(sim))
    assert not of_type(reconnect(sim), CommitCertificate)


def test_verdict_reports_the_first_failed_check_in_rule_order() -> None:
    moment = datetime(2030, 1, 1)
    facts = ChainFacts(True, False, False, "X", moment, moment)
    assert [verdict(facts, moment), verdict(replace(facts, trusted=True), moment)] == ["InvalidChain", "WrongKey"]
    assert verdict(replace(facts, trusted=True, key_matches=True), moment) == "Expired", "not_after is exclusive"


def verdict(facts: ChainFacts, moment: datetime) -> str | None:
    problem = chain_rules.verdict(facts, "SN-42", moment)
    return None if problem is None else problem[0]


def _refused_attempt(sim: Sim, code: str) -> Effects:
    """The connection drops; the next attempt fails in the TLS handshake with OpenSSL's `code`."""
    sim.lose()
    retry_at = sim.station.connection.retry_at
    assert retry_at is not None
    sim.feed(Tick(retry_at))
    return sim.feed(ConnectionLost(sim.now, 0.0, DialFailure("tls", code, f"[SSL: {code}]")))


def test_a_renewed_certificate_refused_in_the_handshake_is_reverted_once() -> None:
    sim = pending()
    certificate_signed(sim, good_facts(sim))
    sim = _profile_3(sim)
    effects = _refused_attempt(sim, "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE")
    assert of_type(effects, RevertCertificate) == [RevertCertificate("ChargingStationCertificate")]
    retry_at = sim.station.connection.retry_at
    assert retry_at is not None
    sim.feed(Tick(retry_at))
    again = sim.feed(ConnectionLost(sim.now, 0.0, DialFailure("tls", "TLSV1_ALERT_UNKNOWN_CA", "refused")))
    assert not of_type(again, RevertCertificate), "only the renewed certificate is taken back, once"


def test_other_failures_do_not_revert() -> None:
    sim = pending()
    certificate_signed(sim, good_facts(sim))
    sim = _profile_3(sim)
    assert not of_type(_refused_attempt(sim, "CERTIFICATE_VERIFY_FAILED"), RevertCertificate), "the CSMS's fault"
