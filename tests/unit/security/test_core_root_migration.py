"""A CSMS root migration under AdditionalRootCertificateCheck (M05.FR.10-16) through `step`: which roots an install
keeps as fallback, which roots each connection attempt trusts, when the fallback goes, and that neither a delete nor
a restart strands the station. Certificates are plain `CertificateFacts` here; the X.509 side is the shell's."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from core_helpers import Sim, answer_boot, connection_data, make_station, of_type, persisted, replies

from chargecore.pure.blocks.provisioning.network_profiles import LAST_CONNECTED_KEY, PROFILES_KEY
from chargecore.pure.blocks.security.certificate_store import (
    CSMS_ROOT,
    CertificateCheck,
    CertificateFacts,
    CertificateHashData,
    InstalledCertificate,
    StoreChanged,
)
from chargecore.pure.blocks.security.root_migration import FALLBACK_KEY, RootInstall, install_root
from chargecore.pure.effects import (
    Ask,
    CheckCertificateQuestion,
    Connect,
    Effects,
    RemoveCertificateQuestion,
    StoreCertificateQuestion,
)
from chargecore.pure.inputs import CertificatesLoaded, ConnectionLost, DialFailure

UNVERIFIED = DialFailure("tls", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed: unable to get local issuer")
REFUSED = DialFailure("other", "", "connection refused")
SLOT_1 = connection_data("wss://csms.example/ocpp", 2)
SLOT_2 = connection_data("wss://new-csms.example/ocpp", 2)


VALID_SPAN = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
"""Around the CSMS time the test station keeps (2030)."""


def root(name: str) -> InstalledCertificate:
    """A CSMS root whose fingerprint is `name`, valid at the station's time."""
    hash_data = CertificateHashData("SHA256", f"{name}-names", f"{name}-keys", "1")
    facts = CertificateFacts(name, (hash_data,), name, None, name, *VALID_SPAN, is_ca=True, self_signed=False)
    return InstalledCertificate(CSMS_ROOT, facts)


def migrating_station(*roots: str, stored: dict[str, Any] | None = None, check: bool = True) -> Sim:
    """A station at security profile 2 connected through slot 1, with these CSMS roots installed, booted. With a
    fallback `stored`, the CSMS still presents a certificate of the old root: the station connected with the
    fallback."""
    config = {"SecurityCtrlr": {"SecurityProfile": 2, "AdditionalRootCertificateCheck": check}}
    profiles = [{"configurationSlot": 1, "connectionData": SLOT_1}, {"configurationSlot": 2, "connectionData": SLOT_2}]
    sim = Sim(make_station(config=config, stored={PROFILES_KEY: profiles, LAST_CONNECTED_KEY: 1, **(stored or {})}))
    sim.feed(CertificatesLoaded(sim.now, tuple(root(name) for name in roots)))
    [connect] = of_type(sim.power_up(0), Connect)
    if connect.csms_roots is not None:
        assert next_attempt(sim, UNVERIFIED).csms_roots == sim.station.root_migration.fallback
    sim.connect(1)
    answer_boot(sim)
    sim.answer_all()
    return sim


def status(effects: Effects) -> dict[str, Any]:
    [reply] = replies(effects)
    payload: dict[str, Any] = reply[2]
    return payload


def install(sim: Sim, new: str, anchor: str | None, store_answer: StoreChanged | None = None) -> Effects:
    """InstallCertificate of the CSMS root `new`, which `anchor` signed, answered by a shell that stores it."""
    [check] = of_type(sim.csms_call("InstallCertificate", {"certificateType": CSMS_ROOT, "certificate": "PEM"}), Ask)
    assert isinstance(check.question, CheckCertificateQuestion)
    measured = CertificateCheck((root(new).certificate,), chain_verified=True, anchor=anchor)
    effects = sim.answer(check.question_id, measured)
    stores = [ask for ask in of_type(effects, Ask) if isinstance(ask.question, StoreCertificateQuestion)]
    if not stores:
        return effects
    installed = (*sim.station.certificates.installed, root(new))
    return sim.answer(stores[0].question_id, store_answer or StoreChanged(installed))


def removals(effects: Effects) -> list[Ask]:
    return [ask for ask in of_type(effects, Ask) if isinstance(ask.question, RemoveCertificateQuestion)]


def remove_as_asked(sim: Sim, effects: Effects) -> Effects:
    """The shell deletes every root the core asked it to remove."""
    answered: Effects = ()
    for ask in removals(effects):
        assert isinstance(ask.question, RemoveCertificateQuestion)
        gone = ask.question.fingerprint
        left = tuple(entry for entry in sim.station.certificates.installed if entry.certificate.fingerprint != gone)
        answered += sim.answer(ask.question_id, StoreChanged(left))
    return answered


def installed(sim: Sim) -> list[str]:
    return [entry.certificate.fingerprint for entry in sim.station.certificates.installed]


def next_attempt(sim: Sim, failure: DialFailure | None) -> Connect:
    """The attempt under way fails (`failure`), or the connection that is up is lost (None); the next Connect."""
    sim.feed(ConnectionLost(sim.now, 0.0, failure))
    [connect] = of_type(sim.tick_deadline(), Connect)
    return connect


# --- the decision on plain ids --------------------------------------------------------------------------------


@pytest.mark.requirements("M05.FR.10", "M05.FR.11", "M05.FR.12")
def test_install_root_decisions() -> None:
    assert install_root((), ("old",), "stranger", None) is None, "M05.FR.11"
    assert install_root((), ("old",), "new", "old") == RootInstall(("old",)), "M05.FR.12"
    assert install_root((), (), "first", None) == RootInstall(()), "the first root has nothing to be signed by"
    assert install_root(("old",), ("old", "new"), "newer", "new") == RootInstall(("old",), ("new",))
    assert install_root((), ("a", "b"), "new", "a") == RootInstall(("a", "b")), "several roots: all are the fallback"


# --- installing -------------------------------------------------------------------------------------------


@pytest.mark.requirements("M05.FR.11")
def test_TC_M_09_a_root_the_installed_one_did_not_sign_is_rejected_and_nothing_is_stored() -> None:
    sim = migrating_station("old")
    effects = install(sim, "stranger", anchor="stranger")  # self-signed
    assert status(effects)["status"] == "Rejected"
    assert status(effects)["statusInfo"]["reasonCode"] == "NotSignedByOldRoot"
    assert installed(sim) == ["old"]
    assert not of_type(effects, Ask)


def test_without_the_check_any_valid_root_is_added_and_there_is_no_fallback() -> None:
    sim = migrating_station("old", check=False)
    effects = install(sim, "stranger", anchor="stranger")
    assert status(effects) == {"status": "Accepted"}
    assert next_attempt(sim, None).csms_roots is None, "every installed root is trusted"


@pytest.mark.requirements("M05.FR.12")
def test_a_root_the_installed_one_signed_is_accepted_and_the_old_one_kept_as_fallback() -> None:
    sim = migrating_station("old")
    effects = install(sim, "new", anchor="old")
    assert status(effects) == {"status": "Accepted"}
    assert persisted(effects)[FALLBACK_KEY] == ["old"]
    assert installed(sim) == ["old", "new"]
    assert next_attempt(sim, None).csms_roots == ("new",), "the next connection tries the new root"


@pytest.mark.requirements("M05.FR.10")
def test_a_second_new_root_replaces_the_unproven_one_and_the_fallback_stays() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    effects = install(sim, "newer", anchor="new")
    assert status(effects) == {"status": "Accepted"}
    [removal] = removals(effects)
    assert removal.question == RemoveCertificateQuestion(CSMS_ROOT, "new")
    remove_as_asked(sim, effects)
    assert installed(sim) == ["old", "newer"]
    assert next_attempt(sim, None).csms_roots == ("newer",)


def test_during_a_migration_a_root_the_fallback_signed_is_accepted_too() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    effects = install(sim, "reissued", anchor="old")
    assert status(effects) == {"status": "Accepted"}
    remove_as_asked(sim, effects)
    assert installed(sim) == ["old", "reissued"]


def test_the_check_concerns_csms_roots_only() -> None:
    sim = migrating_station("old")
    request = {"certificateType": "V2GRootCertificate", "certificate": "PEM"}
    [check] = of_type(sim.csms_call("InstallCertificate", request), Ask)
    v2g = replace(root("v2g").certificate, self_signed=True)
    effects = sim.answer(check.question_id, CertificateCheck((v2g,), chain_verified=True, anchor="v2g"))
    assert [type(ask.question) for ask in of_type(effects, Ask)] == [StoreCertificateQuestion]


def test_a_store_that_fails_leaves_no_migration() -> None:
    sim = migrating_station("old")
    effects = install(sim, "new", anchor="old", store_answer=StoreChanged((root("old"),), "disk full"))
    assert status(effects)["status"] == "Failed"
    assert next_attempt(sim, None).csms_roots is None


# --- reconnecting -----------------------------------------------------------------------------------------


@pytest.mark.requirements("M05.FR.13")
def test_TC_M_30_connected_with_the_new_root_the_fallback_is_deleted() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    assert next_attempt(sim, None).csms_roots == ("new",)
    effects = sim.connect()
    assert persisted(effects)[FALLBACK_KEY] == []
    [removal] = removals(effects)
    assert removal.question == RemoveCertificateQuestion(CSMS_ROOT, "old")
    remove_as_asked(sim, effects)
    assert installed(sim) == ["new"]
    assert next_attempt(sim, None).csms_roots is None


@pytest.mark.requirements("M05.FR.14")
def test_TC_M_31_refused_with_the_new_root_the_same_attempt_is_revalidated_with_the_fallback_at_once() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    failed_before = sim.station.network.failed_attempts
    assert next_attempt(sim, None).csms_roots == ("new",)
    lost_at, waits_before = sim.now, sim.station.connection.failed_attempts
    retry = next_attempt(sim, UNVERIFIED)
    assert retry.csms_roots == ("old",)
    assert sim.now == lost_at, "at once, not after the back-off"
    assert sim.station.network.failed_attempts == failed_before, "not a failed attempt of the slot"
    assert sim.station.connection.failed_attempts == waits_before, "nor one that lengthens the Part 4 back-off"
    effects = sim.connect()
    assert not removals(effects), "connected with the fallback: it is kept"
    assert installed(sim) == ["old", "new"]
    assert next_attempt(sim, None).csms_roots == ("new",), "the next connection tries the new root again"


def test_a_fallback_that_fails_too_counts_as_a_failed_attempt_and_the_next_one_tries_the_new_root() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    next_attempt(sim, None)
    assert next_attempt(sim, UNVERIFIED).csms_roots == ("old",)
    assert next_attempt(sim, UNVERIFIED).csms_roots == ("new",)


def test_an_ordinary_failure_is_not_revalidated() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    next_attempt(sim, None)
    assert next_attempt(sim, REFUSED).csms_roots == ("new",)


@pytest.mark.requirements("M05.FR.15", "M05.FR.16", "B10.FR.07")
def test_TC_B_47_a_new_csms_must_verify_with_the_new_root_and_the_last_profile_gets_the_fallback() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    sim.change_variable("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "1")
    sim.change_variable("OCPPCommCtrlr", "NetworkConfigurationPriority", "2")
    to_new = next_attempt(sim, None)
    assert (to_new.url, to_new.csms_roots) == (SLOT_2["ocppCsmsUrl"], ("new",))
    back = next_attempt(sim, UNVERIFIED)
    assert (back.url, back.csms_roots) == (SLOT_1["ocppCsmsUrl"], ("new",)), "no fallback root for a new CSMS"
    revalidated = next_attempt(sim, UNVERIFIED)
    assert (revalidated.url, revalidated.csms_roots) == (SLOT_1["ocppCsmsUrl"], ("old",))
    sim.connect()
    assert installed(sim) == ["old", "new"]


# --- deleting, restarting ---------------------------------------------------------------------------------


def delete(sim: Sim, name: str) -> Effects:
    hash_data = root(name).certificate.hash_data.payload()
    return sim.csms_call("DeleteCertificate", {"certificateHashData": hash_data})


def test_the_fallback_cannot_be_deleted_during_a_migration_the_new_root_can() -> None:
    sim = migrating_station("old", "new", stored={FALLBACK_KEY: ["old"]})
    assert status(delete(sim, "old"))["status"] == "Failed"
    [remove] = of_type(delete(sim, "new"), Ask)
    sim.answer(remove.question_id, StoreChanged((root("old"),)))
    assert next_attempt(sim, None).csms_roots is None, "the fallback is all that is left: no migration"
    assert status(delete(sim, "old"))["status"] == "Failed", "the last root of profile 2 stays (certificates.py)"


@pytest.mark.parametrize(
    ("stored", "roots", "trusted"),
    [
        (["old"], ("old", "new"), ("new",)),
        (["old"], ("old",), None),
        (["gone"], ("new",), None),
        ("garbage", ("old", "new"), None),
    ],
)
def test_the_fallback_survives_a_restart_as_far_as_the_store_still_holds_it(
    stored: object, roots: tuple[str, ...], trusted: tuple[str, ...] | None
) -> None:
    sim = migrating_station(*roots, stored={FALLBACK_KEY: stored})
    assert next_attempt(sim, None).csms_roots == trusted
