"""M03, M04, M05 through `step`, with the shell's answers written by hand: what the core lists, which deletes and
installs it refuses (and that a refusal leaves the state as it was), and when it asks the shell to change the store."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from core_helpers import CSMS_TIME, Sim, booted, frames, of_type

from chargecore.pure.blocks.security.certificate_store import (
    CertificateCheck,
    CertificateFacts,
    CertificateHashData,
    InstalledCertificate,
    StoreChanged,
)
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import (
    Ask,
    CertificateChanged,
    CheckCertificateQuestion,
    Notify,
    RemoveCertificateQuestion,
    StoreCertificateQuestion,
)
from chargecore.pure.inputs import CertificatesLoaded

ENTRIES = VariableKey("SecurityCtrlr", "CertificateEntries")
DAY = timedelta(days=1)
NOW = datetime.fromisoformat(CSMS_TIME)
"""The station clock after the boot: the CSMS's time. Validity is judged on it."""


def facts(name: str, *, is_ca: bool = True, valid_from: float = -1, valid_days: float = 30) -> CertificateFacts:
    """Facts of a made-up certificate `name` (hash data derived from the name, so each name is one certificate)."""
    hashes = tuple(
        CertificateHashData(algorithm, f"{name}-name".encode().hex(), f"{name}-key".encode().hex(), f"{len(name):x}a")
        for algorithm in ("SHA256", "SHA384", "SHA512")
    )
    start = NOW + valid_from * DAY
    return CertificateFacts(name, hashes, name, None, name, start, start + valid_days * DAY, is_ca, True)


def loaded(sim: Sim, *entries: InstalledCertificate) -> Sim:
    sim.feed(CertificatesLoaded(sim.now, entries))
    return sim


def station(profile: int = 1, *entries: InstalledCertificate) -> Sim:
    return loaded(booted(config={"SecurityCtrlr": {"SecurityProfile": profile}}), *entries)


def response(effects: Any) -> Any:
    (frame,) = [f for f in frames(effects) if f[0] in (3, 4)]
    return frame[2] if frame[0] == 3 else frame


def question(effects: Any) -> tuple[int, Any]:
    (ask,) = of_type(effects, Ask)
    return ask.question_id, ask.question


ROOT = InstalledCertificate("CSMSRootCertificate", facts("root"))
MANUFACTURER = InstalledCertificate("ManufacturerRootCertificate", facts("maker"))
OWN = InstalledCertificate("ChargingStationCertificate", facts("station", is_ca=False), (facts("sub"),))
V2G = InstalledCertificate(
    "V2GCertificateChain", facts("v2g leaf", is_ca=False), (facts("v2g sub1"), facts("v2g sub2"))
)


def test_the_shells_list_becomes_the_state_and_certificate_entries() -> None:
    sim = station(1, ROOT, MANUFACTURER, OWN)
    assert sim.station.certificates.installed == (ROOT, MANUFACTURER, OWN)
    assert sim.station.certificates.loaded
    assert get_value(sim.station.device_model, ENTRIES) == "3"


@pytest.mark.requirements("M03.FR.01", "M03.FR.03", "M03.FR.04", "M03.FR.05")
def test_get_installed_certificate_ids_lists_the_types_asked_for_with_v2g_children() -> None:
    sim = station(1, ROOT, MANUFACTURER, OWN, V2G)
    everything = response(sim.csms_call("GetInstalledCertificateIds", {}))
    assert everything["status"] == "Accepted"
    listed = {item["certificateType"]: item for item in everything["certificateHashDataChain"]}
    assert set(listed) == {"CSMSRootCertificate", "ManufacturerRootCertificate", "V2GCertificateChain"}
    assert listed["CSMSRootCertificate"]["certificateHashData"] == ROOT.certificate.hash_data.payload()
    children = listed["V2GCertificateChain"]["childCertificateHashData"]
    assert children == [V2G.chain[0].hash_data.payload(), V2G.chain[1].hash_data.payload()]
    only = response(sim.csms_call("GetInstalledCertificateIds", {"certificateType": ["ManufacturerRootCertificate"]}))
    assert [item["certificateType"] for item in only["certificateHashDataChain"]] == ["ManufacturerRootCertificate"]


@pytest.mark.requirements("M03.FR.02")
def test_nothing_of_the_type_is_not_found() -> None:
    answer = response(
        station(1, ROOT).csms_call("GetInstalledCertificateIds", {"certificateType": ["MORootCertificate"]})
    )
    assert answer == {"status": "NotFound", "statusInfo": answer["statusInfo"]}
    assert answer["statusInfo"]["reasonCode"] == "NotFound"


def delete(sim: Sim, entry: InstalledCertificate, **changes: str) -> Any:
    hash_data = {**entry.certificate.hash_data.payload(), **changes}
    return sim.csms_call("DeleteCertificate", {"certificateHashData": hash_data})


@pytest.mark.requirements("M04.FR.01", "M04.FR.02")
def test_a_delete_asks_the_shell_and_answers_accepted_once_it_is_gone() -> None:
    sim = station(1, ROOT, MANUFACTURER)
    effects = delete(sim, MANUFACTURER, issuerNameHash=MANUFACTURER.certificate.hash_data.issuer_name_hash.upper())
    assert not frames(effects), "no answer before the store has deleted it"
    question_id, asked = question(effects)
    assert asked == RemoveCertificateQuestion("ManufacturerRootCertificate", "maker")
    answer = response(sim.answer(question_id, StoreChanged((ROOT,))))
    assert answer == {"status": "Accepted"}
    assert sim.station.certificates.installed == (ROOT,)
    assert get_value(sim.station.device_model, ENTRIES) == "1"


def test_a_delete_the_store_could_not_make_fails_and_keeps_the_list() -> None:
    sim = station(1, ROOT, MANUFACTURER)
    question_id, _ = question(delete(sim, MANUFACTURER))
    answer = response(sim.answer(question_id, StoreChanged((ROOT, MANUFACTURER), "cannot delete: OSError")))
    assert answer["status"] == "Failed"
    assert sim.station.certificates.installed == (ROOT, MANUFACTURER)


@pytest.mark.requirements("M04.FR.04")
def test_an_unknown_hash_is_not_found_and_another_algorithm_is_matched() -> None:
    sim = station(1, ROOT)
    assert response(delete(sim, MANUFACTURER))["status"] == "NotFound"
    sha384 = ROOT.certificate.hashes[1].payload()
    _, asked = question(sim.csms_call("DeleteCertificate", {"certificateHashData": sha384}))
    assert asked == RemoveCertificateQuestion("CSMSRootCertificate", "root")


@pytest.mark.requirements("M04.FR.06")
def test_the_charging_station_certificate_is_never_deleted() -> None:
    sim = station(3, ROOT, OWN)
    before = sim.station
    answer = response(delete(sim, OWN))
    assert answer["status"] == "Failed"
    assert sim.station == before and not of_type(tuple(sim.log[-1:]), Ask)


@pytest.mark.parametrize("profile", [2, 3])
def test_the_last_valid_csms_root_of_a_tls_profile_is_not_deleted(profile: int) -> None:
    expired = InstalledCertificate("CSMSRootCertificate", facts("old root", valid_from=-10, valid_days=5))
    sim = station(profile, ROOT, expired, OWN)
    before = sim.station
    assert response(delete(sim, ROOT))["status"] == "Failed", "the expired root left could not verify the CSMS"
    assert sim.station == before
    question(delete(sim, expired))  # the expired one may go


def test_at_profile_1_the_only_csms_root_may_be_deleted() -> None:
    sim = station(1, ROOT)
    question_id, _ = question(delete(sim, ROOT))
    assert response(sim.answer(question_id, StoreChanged(()))) == {"status": "Accepted"}


def install(sim: Sim, use: str = "CSMSRootCertificate", pem: str = "PEM") -> tuple[int, Any]:
    return question(sim.csms_call("InstallCertificate", {"certificateType": use, "certificate": pem}))


def check(*chain: CertificateFacts, anchor: str | None = "self", problem: str | None = None) -> CertificateCheck:
    return CertificateCheck(chain, problem, True, chain[0].fingerprint if anchor == "self" and chain else anchor)


@pytest.mark.requirements("M05.FR.01", "M05.FR.02")
def test_a_valid_root_is_checked_then_stored_then_accepted() -> None:
    sim = station(1, ROOT)
    question_id, asked = install(sim, "MORootCertificate", "the pem")
    assert asked == CheckCertificateQuestion("MORootCertificate", "the pem")
    new = facts("mo root")
    effects = sim.answer(question_id, check(new))
    assert not frames(effects)
    store_id, stored = question(effects)
    assert stored == StoreCertificateQuestion("MORootCertificate", "the pem")
    entry = InstalledCertificate("MORootCertificate", new)
    assert response(sim.answer(store_id, StoreChanged((ROOT, entry)))) == {"status": "Accepted"}
    assert sim.station.certificates.of_use("MORootCertificate") == (entry,)


@pytest.mark.requirements("M05.FR.07")
@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (CertificateCheck((), "unparsable certificate: ValueError"), "unparsable"),
        (check(facts("a"), facts("b")), "2 certificates"),
        (check(facts("leaf", is_ca=False)), "not a CA"),
        (check(facts("old", valid_from=-10, valid_days=5)), "expired"),
        (check(facts("future", valid_from=2)), "not valid before"),
        (check(facts("stranger"), anchor=None), "does not verify"),
    ],
)
def test_an_invalid_certificate_is_rejected_and_the_state_is_unchanged(answer: CertificateCheck, said: str) -> None:
    sim = station(1, ROOT)
    question_id, _ = install(sim)
    before = replace(sim.station, questions=(), next_question_id=sim.station.next_question_id)
    effects = sim.answer(question_id, answer)
    reply = response(effects)
    assert reply["status"] == "Rejected"
    assert reply["statusInfo"]["reasonCode"] == "InvalidCertificate"
    assert said in reply["statusInfo"]["additionalInfo"]
    assert not of_type(effects, Ask), "nothing is stored"
    assert sim.station == before


def test_a_full_store_answers_failed_out_of_storage() -> None:
    many = tuple(InstalledCertificate("MORootCertificate", facts(f"mo {n}")) for n in range(50))
    sim = station(1, *many)
    question_id, _ = install(sim)
    reply = response(sim.answer(question_id, check(facts("one more"))))
    assert reply["status"] == "Failed"
    assert reply["statusInfo"]["reasonCode"] == "OutOfStorage"


def test_a_certificate_installed_already_is_accepted_without_a_second_copy() -> None:
    sim = station(1, ROOT)
    question_id, _ = install(sim)
    effects = sim.answer(question_id, check(ROOT.certificate))
    assert response(effects) == {"status": "Accepted"}
    assert not of_type(effects, Ask)


def test_a_store_that_could_not_write_answers_failed() -> None:
    sim = station(1, ROOT)
    question_id, _ = install(sim)
    store_id, _ = question(sim.answer(question_id, check(facts("new"))))
    reply = response(sim.answer(store_id, StoreChanged((ROOT,), "cannot install: OSError")))
    assert reply["status"] == "Failed"
    assert sim.station.certificates.installed == (ROOT,)


def test_hash_data_match_whatever_the_case_and_leading_zeros() -> None:
    mine = CertificateHashData("SHA256", "ab", "cd", "0a1")
    assert mine.matches(CertificateHashData("SHA256", "AB", "CD", "00A1"))
    assert not mine.matches(CertificateHashData("SHA384", "ab", "cd", "a1"))
    assert not mine.matches(CertificateHashData("SHA256", "ab", "cd", "a2"))


def test_an_expired_root_may_be_deleted_even_when_no_valid_root_is_left() -> None:
    """Shrunk by property_tests/test_certificate_store.py: deleting a root that expired strands nothing."""
    expired = InstalledCertificate("CSMSRootCertificate", facts("old root", valid_from=-10, valid_days=5))
    sim = station(2, expired)
    _, asked = question(delete(sim, expired))
    assert asked == RemoveCertificateQuestion("CSMSRootCertificate", "old root")


def test_the_application_hears_of_each_certificate_installed_or_deleted_but_not_of_the_first_list() -> None:
    sim = booted()
    first = sim.feed(CertificatesLoaded(sim.now, (ROOT, MANUFACTURER)))
    assert not of_type(first, Notify)
    question_id, _ = question(delete(sim, MANUFACTURER))
    deleted = sim.answer(question_id, StoreChanged((ROOT,)))
    assert [n.event for n in of_type(deleted, Notify)] == [
        CertificateChanged(
            "ManufacturerRootCertificate",
            "deleted",
            MANUFACTURER.certificate.hash_data.payload(),
            "maker",
            MANUFACTURER.certificate.not_after.isoformat(),
        )
    ]
    renewed = sim.feed(CertificatesLoaded(sim.now, (ROOT, OWN)))  # e.g. after a renewal the shell made
    assert [(n.event.use, n.event.change) for n in of_type(renewed, Notify)] == [
        ("ChargingStationCertificate", "installed")
    ]
