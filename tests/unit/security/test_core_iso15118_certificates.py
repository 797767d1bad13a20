"""M01/M02 (Get15118EVCertificate) and M06 (GetCertificateStatus with its cache) through `step`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from core_helpers import Sim, booted, calls, of_type

from chargecore.pure.blocks.security.iso15118_certificates import MAX_KEEP
from chargecore.pure.effects import (
    Ask,
    CertificateStatusAnswered,
    Effects,
    EVCertificateAnswered,
    Log,
    Notify,
    OcspValidityQuestion,
)
from chargecore.pure.inputs import CertificateStatusRequested, EVCertificateRequested
from chargecore.pure.ocppj.timestamps import station_time

ENABLED = {"ISO15118Ctrlr": {"ContractCertificateInstallationEnabled": True}}
OCSP_DATA = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "ab" * 32,
    "issuerKeyHash": "cd" * 32,
    "serialNumber": "1a2b",
    "responderURL": "http://ocsp.example",
}


def events(effects: Effects, kind: type) -> list[Any]:
    return [n.event for n in of_type(effects, Notify) if isinstance(n.event, kind)]


@pytest.mark.requirements("M01.FR.01", "M02.FR.01")
def test_the_ev_request_goes_to_the_csms_unchanged_and_its_answer_back() -> None:
    sim = booted(config=ENABLED)
    effects = sim.feed(EVCertificateRequested(sim.now, "urn:iso:15118:2:2013:MsgDef", "Install", "RVhJ"))
    (call,) = calls(effects)
    assert (call.action, call.payload) == (
        "Get15118EVCertificate",
        {"iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef", "action": "Install", "exiRequest": "RVhJ"},
    )
    (answered,) = events(sim.reply({"status": "Accepted", "exiResponse": "UkVT"}), EVCertificateAnswered)
    assert answered == EVCertificateAnswered("RVhJ", "Accepted", "UkVT")


def test_no_answer_from_the_csms_is_a_none_status() -> None:
    sim = booted(config=ENABLED)
    sim.feed(EVCertificateRequested(sim.now, "v", "Update", "RVhJ"))
    (answered,) = events(sim.reply_error(), EVCertificateAnswered)
    assert answered.status is None


def test_with_installation_disabled_the_ev_hears_failed_and_nothing_is_sent() -> None:
    sim = booted()
    effects = sim.feed(EVCertificateRequested(sim.now, "v", "Install", "RVhJ"))
    assert not calls(effects)
    assert [a.status for a in events(effects, EVCertificateAnswered)] == ["Failed"]


def test_an_ev_request_over_the_schema_length_fails_without_a_frame() -> None:
    sim = booted(config=ENABLED)
    effects = sim.feed(EVCertificateRequested(sim.now, "v", "Install", "A" * 6000))
    assert not calls(effects) and [a.status for a in events(effects, EVCertificateAnswered)] == ["Failed"]
    assert [log.level for log in of_type(effects, Log)] == ["warning"]


def _status(sim: Sim) -> Effects:
    return sim.feed(CertificateStatusRequested(sim.now, OCSP_DATA))


@pytest.mark.requirements("M06.FR.01")
def test_status_is_asked_then_cached_until_the_next_update_it_states() -> None:
    sim = booted()
    (call,) = calls(_status(sim))
    assert (call.action, call.payload) == ("GetCertificateStatus", {"ocspRequestData": OCSP_DATA})
    effects = sim.reply({"status": "Accepted", "ocspResult": "T0NTUA=="})
    (ask,) = of_type(effects, Ask)
    assert ask.question == OcspValidityQuestion(OCSP_DATA, "T0NTUA==")
    next_update = station_time(sim.station, sim.now) + timedelta(hours=2)
    (answered,) = events(sim.answer(ask.question_id, next_update), CertificateStatusAnswered)
    assert (answered.status, answered.ocsp_result, answered.cached) == ("Accepted", "T0NTUA==", False)
    effects = _status(sim)
    assert not calls(effects), "a valid cached answer is not asked again"
    assert [(a.ocsp_result, a.cached) for a in events(effects, CertificateStatusAnswered)] == [("T0NTUA==", True)]
    sim.now += timedelta(hours=2)
    assert [c.action for c in calls(_status(sim))] == ["GetCertificateStatus"], "expired: asked again"


def test_an_answer_without_next_update_or_failed_is_not_cached() -> None:
    sim = booted()
    _status(sim)
    (ask,) = of_type(sim.reply({"status": "Accepted", "ocspResult": "T0NTUA=="}), Ask)
    sim.answer(ask.question_id, None)
    sim.answer_all()
    assert [c.action for c in calls(_status(sim))] == ["GetCertificateStatus"]
    (answered,) = events(sim.reply({"status": "Failed"}), CertificateStatusAnswered)
    assert answered.status == "Failed" and not sim.station.ocsp.entries


def test_a_far_next_update_is_kept_a_week_at_most() -> None:
    sim = booted()
    _status(sim)
    (ask,) = of_type(sim.reply({"status": "Accepted", "ocspResult": "T0NTUA=="}), Ask)
    sim.answer(ask.question_id, station_time(sim.station, sim.now) + timedelta(days=3650))
    (entry,) = sim.station.ocsp.entries
    assert entry.valid_until == station_time(sim.station, sim.now) + MAX_KEEP
