"""A02/A03 through `step`: TriggerMessage Sign*Certificate, the CSR question, SignCertificateRequest, its retries
(A02.FR.17/18) and the renewal of the station's own initiative before its certificate ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from core_helpers import Sim, booted, calls, of_type, replies
from own_certificates import own_entry

from chargecore.pure.blocks.security import certificate_signing
from chargecore.pure.blocks.security.certificate_signing import RENEW_BEFORE, RENEW_PAUSE
from chargecore.pure.effects import Ask, CertificateExpiring, CsrQuestion, Effects, Notify
from chargecore.pure.inputs import CertificatesLoaded, Tick
from chargecore.pure.ocppj.timestamps import station_time

CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
SIGNING = {"SecurityCtrlr": {"CertSigningWaitMinimum": 10, "CertSigningRepeatTimes": 1}}


def questions(effects: Effects) -> list[tuple[int, CsrQuestion]]:
    return [(a.question_id, a.question) for a in of_type(effects, Ask) if isinstance(a.question, CsrQuestion)]


def trigger(sim: Sim, message: str = "SignChargingStationCertificate") -> tuple[str, Effects]:
    effects = sim.csms_call("TriggerMessage", {"requestedMessage": message}, "tm-1")
    (reply,) = replies(effects)
    return reply[2]["status"], effects


def answer_csr(sim: Sim, effects: Effects, csr: Any = CSR) -> Effects:
    (question_id, _), *_ = questions(effects)
    return sim.answer(question_id, csr)


def signing(**identity: Any) -> Sim:
    return booted(config=SIGNING, serial_number=identity.pop("serial_number", "SN-42"), **identity)


@pytest.mark.requirements("A02.FR.02", "A02.FR.06", "F06.FR.04")
def test_trigger_asks_for_a_csr_with_the_serial_number_and_organization_then_sends_it() -> None:
    sim = signing()
    status, effects = trigger(sim)
    assert status == "Accepted"
    ((_, question),) = questions(effects)
    assert question == CsrQuestion("ChargingStationCertificate", "SN-42", "chargecore", None, new_key=True)
    sent = calls(answer_csr(sim, effects))
    assert [(c.action, c.payload) for c in sent] == [
        ("SignCertificate", {"csr": CSR, "certificateType": "ChargingStationCertificate"})
    ]


def test_without_a_serial_number_the_common_name_is_the_station_id() -> None:
    sim = booted(config=SIGNING)
    _, effects = trigger(sim)
    ((_, question),) = questions(effects)
    assert question.common_name == "CS001"


def test_v2g_needs_a_secc_id_and_organization() -> None:
    sim = signing()
    status, effects = trigger(sim, "SignV2GCertificate")
    assert status == "Rejected" and not questions(effects)
    sim = booted(config={"ISO15118Ctrlr": {"SeccId": "SECC1", "OrganizationName": "CPO", "CountryName": "DE"}})
    status, effects = trigger(sim, "SignV2GCertificate")
    assert status == "Accepted"
    ((_, question),) = questions(effects)
    assert question == CsrQuestion("V2GCertificate", "SECC1", "CPO", "DE")


def test_no_csr_ends_the_request_with_a_warning() -> None:
    sim = signing()
    _, effects = trigger(sim)
    after = answer_csr(sim, effects, None)
    assert not calls(after) and certificate_signing.find(sim.station, "ChargingStationCertificate") is None


def test_a_rejected_sign_certificate_ends_the_request_TC_A_15() -> None:
    sim = signing()
    _, effects = trigger(sim)
    answer_csr(sim, effects)
    sim.reply({"status": "Rejected"})
    assert certificate_signing.find(sim.station, "ChargingStationCertificate") is None
    assert certificate_signing.deadline(sim.station) is None
    assert not questions(sim.tick(200))


@pytest.mark.requirements("A02.FR.17", "A02.FR.18")
def test_repeats_after_the_wait_minimum_then_twice_that_then_stop_TC_A_23() -> None:
    """RepeatTimes 1 and WaitMinimum 10 s: new CSRs after 10 s and after 20 s more, then no more."""
    sim = signing()
    _, effects = trigger(sim)
    answer_csr(sim, effects)
    sim.reply({"status": "Accepted"})
    for wait in (10, 20):
        accepted_at = sim.now
        assert sim.station.certificate_signing.requests[0].retry_at == accepted_at + timedelta(seconds=wait)
        assert not questions(sim.feed(Tick(accepted_at + timedelta(seconds=wait - 0.1))))
        effects = sim.tick_deadline()
        assert [(q.certificate_type, q.new_key) for _, q in questions(effects)] == [
            ("ChargingStationCertificate", False)
        ], "a repeat signs the key of the first CSR again (TC_A_23 step 11)"
        assert [c.action for c in calls(answer_csr(sim, effects))] == ["SignCertificate"]
        sim.reply({"status": "Accepted"})
    assert sim.station.certificate_signing.requests[0].retry_at is None, "no third repeat"
    assert certificate_signing.deadline(sim.station) is None


@pytest.mark.parametrize(("wait", "repeat_times"), [(0, 0), (86_400, 100)])
def test_waits_are_bounded(wait: int, repeat_times: int) -> None:
    """CertSigningWaitMinimum 0 still waits a second; a huge RepeatTimes saturates at a week."""
    sim = booted(config={"SecurityCtrlr": {"CertSigningWaitMinimum": wait, "CertSigningRepeatTimes": repeat_times}})
    for sends in (1, 2, 60, 101):
        moment = certificate_signing.retry_at(sim.station, sends, sim.now)
        if moment is None:
            assert sends - 1 > repeat_times
            continue
        assert timedelta(seconds=1) <= moment - sim.now <= certificate_signing.MAX_WAIT


def test_a_lost_sign_certificate_is_repeated_like_an_unanswered_one() -> None:
    sim = signing()
    _, effects = trigger(sim)
    answer_csr(sim, effects)
    sim.reply_error()
    assert sim.station.certificate_signing.requests[0].retry_at == sim.now + timedelta(seconds=10)


def test_a_new_trigger_replaces_the_pending_request() -> None:
    sim = signing()
    _, effects = trigger(sim)
    answer_csr(sim, effects)
    sim.reply({"status": "Accepted"})
    trigger(sim)
    (request,) = sim.station.certificate_signing.requests
    assert request.sends == 0 and request.retry_at is None


@pytest.mark.requirements("A03.FR.01")
def test_renewal_starts_before_the_certificate_ends_once_per_pause() -> None:
    sim = signing()
    ends = station_time(sim.station, sim.now) + RENEW_BEFORE + timedelta(hours=1)
    sim.feed(CertificatesLoaded(sim.now, (own_entry(ends),)))
    assert not questions(sim.tick(60))
    due = certificate_signing.deadline(sim.station)
    assert due is not None and station_time(sim.station, due) == ends - RENEW_BEFORE
    effects = sim.feed(Tick(due))
    sim.answer_all()
    (expiring,) = [n.event for n in of_type(effects, Notify) if isinstance(n.event, CertificateExpiring)]
    assert expiring.certificate_type == "ChargingStationCertificate"
    ((_, question),) = questions(effects)
    sent = calls(answer_csr(sim, effects))
    assert [c.action for c in sent] == ["SignCertificate"]
    assert question.common_name == "SN-42"
    sim.reply({"status": "Rejected"})
    due = certificate_signing.deadline(sim.station)
    assert due is not None and due - sim.now == RENEW_PAUSE, "the next try waits a day"


def test_a_short_lived_certificate_is_renewed_when_a_fifth_of_its_life_is_left() -> None:
    sim = signing()
    ends = station_time(sim.station, sim.now) + timedelta(days=2)
    entry = own_entry(ends)
    short = replace(entry, certificate=replace(entry.certificate, not_before=ends - timedelta(days=2)))
    sim.feed(CertificatesLoaded(sim.now, (short,)))
    due = certificate_signing.deadline(sim.station)
    assert due is not None and station_time(sim.station, due) == ends - timedelta(days=2) / 5
