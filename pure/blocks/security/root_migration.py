"""Block M (M05.FR.10-16), migration to a new CSMS root certificate under SecurityCtrlr.AdditionalRootCertificateCheck,
and which CSMS roots each connection attempt trusts.

Theory of operation. With the check on, a new CSMSRootCertificate is only installed when an installed CSMS root signed
it (M05.FR.11: otherwise Rejected); the roots installed before it are kept as the *fallback* (M05.FR.12), the new one
becomes the *current* root. Nothing else changes until the station reconnects:

1. Every TLS attempt trusts the current roots only (`trusted_roots` on the `Connect`), never the fallback.
2. An attempt refused because the CSMS's certificate did not verify (CERTIFICATE_VERIFY_FAILED) on the slot of the
   last successful connection is re-validated at once with the fallback roots only (M05.FR.14, TC_M_31). That
   second attempt is the same attempt for NetworkProfileConnectionAttempts; only its failure counts.
3. On any other slot (a new CSMS, TC_B_47, M05.FR.15/16) the fallback is never tried: the new CSMS must prove itself
   with the new root; the slot fails and B10.FR.07 brings the station back to its last successful profile, where
   rule 2 applies.
4. A connection made with the current roots proves them: the fallback is deleted (M05.FR.13, TC_M_30). A connection
   made with the fallback keeps it, and the next attempt tries the current roots again.
5. The fallback is never deleted by DeleteCertificate while the migration is under way (`strands`): it is what
   verified the last connection. Deleting the current root instead ends the migration.

So the roots that verified the last connection are never dropped before another root has verified one: the station
never strands itself. The fallback is a set of store fingerprints, persisted (`FALLBACK_KEY`) so that a reset (the
usual trigger of the reconnection) does not lose it, and read against what the store holds (`fallback`): a fallback
root no longer installed is none, and a fallback without a current root beside it is no migration.

Without the check (the default, and TC_B_50 per errata 2023-12), a new CSMS root is simply added and there is no
fallback: every attempt trusts every installed CSMS root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.security.certificate_store import CSMS_ROOT, CertificateCheck
from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import Effects, Persist, RemoveCertificateQuestion
from chargecore.pure.inputs import DialFailure
from chargecore.pure.outcome import ask
from chargecore.pure.state import RootMigration, Station

FALLBACK_KEY = "certificates/csms_root_fallback"
ADDITIONAL_ROOT_CHECK = VariableKey("SecurityCtrlr", "AdditionalRootCertificateCheck")
UNVERIFIED_SERVER = ("tls", "CERTIFICATE_VERIFY_FAILED")
"""How the link describes a CSMS certificate that does not chain to the roots it was given (`inputs.DialFailure`)."""
TLS_PROFILES = (2, 3)
"""Only TLS connections verify the CSMS's certificate against a root."""
NOT_SIGNED = "NotSignedByOldRoot"
"""reasonCode of M05.FR.11 (InstallCertificateResponse statusInfo.reasonCode is string(20))."""


def check_enabled(model: DeviceModel) -> bool:
    return (get_value(model, ADDITIONAL_ROOT_CHECK) or "false").lower() == "true"


def csms_roots(station: Station) -> tuple[str, ...]:
    """The fingerprints of the installed CSMS roots."""
    return tuple(entry.certificate.fingerprint for entry in station.certificates.of_use(CSMS_ROOT))


def fallback(station: Station) -> tuple[str, ...]:
    """The fallback roots still installed, () when no migration is under way (no current root beside them)."""
    installed = csms_roots(station)
    kept = tuple(root for root in station.root_migration.fallback if root in installed)
    return kept if any(root not in kept for root in installed) else ()


# --- installing a CSMS root (M05.FR.10-12) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RootInstall:
    """What installing a new CSMS root does: the fallback after it, and the roots it replaces (deleted from the
    store once the new one is stored)."""

    fallback: tuple[str, ...]
    replaced: tuple[str, ...] = ()


def install_root(
    current_fallback: tuple[str, ...], installed: tuple[str, ...], new: str, signer: str | None
) -> RootInstall | None:
    """With the check on: the decision on the CSMS root `new`, `installed` being the CSMS roots in the store and
    `signer` the installed root that signed `new`, if any (the shell's measurement). None: Rejected (M05.FR.11).

    There is one current root plus the fallback (M05.FR.10). The fallback is the set of roots that verified the last
    connection: during a migration that has not connected with its new root yet, the existing fallback (the
    unproven current root is replaced); otherwise every root installed so far (one, unless the check was switched
    on with several installed: the core cannot tell which one the CSMS chains to, and dropping the wrong one would
    strand the station). The first CSMS root has nothing to be signed by."""
    if installed and signer not in installed:
        return None
    kept = current_fallback or installed
    return RootInstall(kept, tuple(root for root in installed if root not in kept))


def _concerned(station: Station, use: str, check: CertificateCheck) -> bool:
    """The check decides on this install: a CSMS root not installed yet, with the check on."""
    if use != CSMS_ROOT or not check_enabled(station.device_model) or not check.chain:
        return False
    return check.chain[0].fingerprint not in csms_roots(station)


def _decided(station: Station, check: CertificateCheck) -> RootInstall | None:
    new = check.chain[0].fingerprint
    signer = check.anchor if check.anchor != new else None  # a self-signed root names itself
    return install_root(fallback(station), csms_roots(station), new, signer)


def install_refusal(station: Station, use: str, check: CertificateCheck) -> str | None:
    """M05.FR.11: why the check refuses this certificate, or None."""
    if not _concerned(station, use, check) or _decided(station, check) is not None:
        return None
    return "AdditionalRootCertificateCheck: no installed CSMSRootCertificate signed it"


def plan_install(station: Station, use: str, check: CertificateCheck) -> Station:
    """Before the new root is stored: remember the fallback and the replaced roots it will leave (M05.FR.12)."""
    decided = _decided(station, check) if _concerned(station, use, check) else None
    if decided is None:
        return station
    planned = replace(station.root_migration, planned=decided.fallback, replacing=decided.replaced)
    return replace(station, root_migration=planned)


def carry_out(station: Station, stored: bool) -> tuple[Station, Effects]:
    """After the store answered (`stored`: the new root is in it): the planned fallback is taken and persisted, and
    the roots it replaces are deleted (questions to the store after the answer; one that cannot be deleted stays a
    current root, which strands nothing). A store that failed drops the plan."""
    migration = station.root_migration
    if migration.planned is None:
        return station, ()
    if not stored:
        return replace(station, root_migration=replace(migration, planned=None, replacing=())), ()
    done = RootMigration(fallback=migration.planned)
    station = replace(station, root_migration=done)
    effects: Effects = (persisted(done),)
    for root in migration.replacing:
        station, question = ask(station, RemoveCertificateQuestion(CSMS_ROOT, root))
        effects += (question,)
    return station, effects


def strands(station: Station, fingerprint: str) -> bool:
    """Rule 5: DeleteCertificate answers Failed rather than delete a fallback root during a migration."""
    return fingerprint in fallback(station)


# --- connecting (M05.FR.13-16) -------------------------------------------------------------------------------


def trusted_roots(station: Station) -> tuple[str, ...] | None:
    """The CSMS roots the attempt under way trusts: None (every installed one) without a migration, the fallback
    during a re-validation (M05.FR.14), else the current roots only (rule 1)."""
    kept = fallback(station)
    if not kept:
        return None
    if station.root_migration.trying_fallback:
        return kept
    return tuple(root for root in csms_roots(station) if root not in kept)


def revalidates(station: Station, failure: DialFailure | None, security_profile: int) -> bool:
    """Rule 2: a failed attempt with the current roots on the last connected slot is tried again with the
    fallback, at once, instead of counting as failed."""
    return (
        failure is not None
        and (failure.layer, failure.code) == UNVERIFIED_SERVER
        and security_profile in TLS_PROFILES
        and not station.root_migration.trying_fallback
        and bool(fallback(station))
        and station.network.slot == station.network.last_connected
    )


def try_fallback(station: Station, now: datetime) -> Station:
    """Dial again at once, trusting the fallback roots only (M05.FR.14): the same attempt, so the Part 4 back-off
    does not count it (dialling again adds the one it takes back here)."""
    failed = max(0, station.connection.failed_attempts - 1)
    connection = replace(station.connection, retry_at=now, failed_attempts=failed)
    return replace(station, connection=connection, root_migration=replace(station.root_migration, trying_fallback=True))


def attempt_over(station: Station) -> Station:
    """An attempt failed for good, or a connection ended: the next one tries the current roots again (rule 4)."""
    if not station.root_migration.trying_fallback:
        return station
    return replace(station, root_migration=replace(station.root_migration, trying_fallback=False))


def on_connected(station: Station, security_profile: int) -> tuple[Station, Effects]:
    """Rule 4: the current roots verified this TLS connection, so the fallback goes (M05.FR.13), one question to the
    store per root; a connection the fallback verified keeps it."""
    kept = fallback(station)
    if station.root_migration.trying_fallback or not kept or security_profile not in TLS_PROFILES:
        return attempt_over(station), ()
    proven = replace(station, root_migration=replace(station.root_migration, fallback=()))
    effects: Effects = (persisted(proven.root_migration),)
    for root in kept:
        proven, question = ask(proven, RemoveCertificateQuestion(CSMS_ROOT, root))
        effects += (question,)
    return proven, effects


# --- persistence ----------------------------------------------------------------------------------------


def persisted(migration: RootMigration) -> Persist:
    return Persist(((FALLBACK_KEY, list(migration.fallback)),))


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The fallback kept across restarts (read against the store once it has said what it holds, `fallback`)."""
    stored = persisted.get(FALLBACK_KEY)
    kept = tuple(root for root in stored if isinstance(root, str)) if isinstance(stored, list) else ()
    return replace(station, root_migration=RootMigration(fallback=kept))
