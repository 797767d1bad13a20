"""Block M (M05.FR.10-16), migration to a new CSMS root certificate under SecurityCtrlr.AdditionalRootCertificateCheck,
and which CSMS roots each connection attempt trusts.

Theory of operation. With the check on, a new CSMSRootCertificate is only installed when an installed CSMS root signed
it (M05.FR.11: otherwise Rejected); the roots installed before it are kept as the *fallback* (M05.FR.12), the new one
becomes the *current* root. Nothing else changes until the station reconnects:

1. Every TLS attempt trusts the current roots only (`trusted_roots`), never the fallback.
2. An attempt refused because the CSMS's certificate did not verify (CERTIFICATE_VERIFY_FAILED) on the slot of the
   last successful connection is re-validated at once with the fallback roots only (M05.FR.14, TC_M_31). That
   second attempt is the same attempt for NetworkProfileConnectionAttempts; only its failure counts.
3. On any other slot (a new CSMS, TC_B_47, M05.FR.15/16) the fallback is never tried: the new CSMS must prove itself
   with the new root; the slot fails and B10.FR.07 brings the station back to its last successful profile, where
   rule 2 applies.
4. A connection made with the current roots proves them: the fallback is deleted (M05.FR.13, TC_M_30). A connection
   made with the fallback keeps it, and the next attempt tries the current roots again.

So the roots that verified the last connection are never dropped before another root has verified one: the station
never strands itself. Which roots are the fallback is persisted (`FALLBACK_KEY`), so a reset (the usual trigger)
does not lose the migration. The X.509 facts (does an installed root sign the new one) are measured by the shell;
this module decides on the ids the store gives certificates.

Without the check (the default, and TC_B_50 per errata 2023-12), a new CSMS root is simply added and there is no
fallback: every attempt trusts every installed CSMS root.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import Effects, Persist
from chargecore.pure.inputs import DialFailure
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


# --- installing a CSMS root (M05.FR.10-12) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RootInstall:
    """What installing a new CSMS root does: the roots to delete from the store, and the migration after it."""

    migration: RootMigration
    remove: tuple[str, ...] = ()


def install_root(
    migration: RootMigration, check: bool, installed: tuple[str, ...], new: str, signers: tuple[str, ...]
) -> RootInstall | None:
    """The decision on InstallCertificate(CSMSRootCertificate) of the root `new`, `installed` being the CSMS roots in
    the store and `signers` those of them that signed `new` (the shell's measurement). None: Rejected (M05.FR.11).

    With the check on there is one current root plus the fallback (M05.FR.10). The fallback is the set of roots that
    verified the last connection: during a migration that has not connected with its new root yet, that is the
    existing fallback (the unproven current root is replaced); otherwise every root installed so far (one, unless
    the check was switched on with several installed: the core cannot tell which one the CSMS chains to, and
    dropping the wrong one would strand the station). Installing the same root again changes nothing."""
    if not check or new in installed:
        return RootInstall(migration)
    if installed and not signers:
        return None
    fallback = migration.fallback or installed
    replaced = tuple(root for root in installed if root not in fallback)
    return RootInstall(replace(migration, fallback=fallback, trying_fallback=False), replaced)


def on_root_deleted(migration: RootMigration, deleted: str, installed: tuple[str, ...]) -> RootMigration:
    """The CSMS deleted a CSMS root (`installed`: the CSMS roots left). Deleting the current root ends the migration:
    the fallback roots are all that is left, so they become the current ones."""
    fallback = tuple(root for root in migration.fallback if root != deleted and root in installed)
    if not [root for root in installed if root not in fallback]:
        fallback = ()
    return replace(migration, fallback=fallback, trying_fallback=migration.trying_fallback and bool(fallback))


def strands(migration: RootMigration, deleted: str) -> bool:
    """Deleting `deleted` would drop a fallback root, one that verified the last connection, while the new root has
    not verified one yet: DeleteCertificate answers Failed rather than strand the station."""
    return deleted in migration.fallback


# --- connecting (M05.FR.13-16) -------------------------------------------------------------------------------


def trusted_roots(migration: RootMigration, installed: tuple[str, ...]) -> tuple[str, ...] | None:
    """The CSMS roots the attempt under way trusts: None (every installed one) without a migration, the fallback
    during a re-validation (M05.FR.14), else the current roots only."""
    if not migration.fallback:
        return None
    if migration.trying_fallback:
        return migration.fallback
    return tuple(root for root in installed if root not in migration.fallback)


def revalidates(station: Station, failure: DialFailure | None, security_profile: int) -> bool:
    """Rule 2: the failed attempt is re-validated with the fallback at once, instead of counting as failed."""
    migration = station.root_migration
    return (
        failure is not None
        and (failure.layer, failure.code) == UNVERIFIED_SERVER
        and bool(migration.fallback)
        and not migration.trying_fallback
        and security_profile in TLS_PROFILES
        and station.network.slot == station.network.last_connected
    )


def try_fallback(station: Station, now: datetime) -> Station:
    """Dial again at once, trusting the fallback roots only (M05.FR.14)."""
    connection = replace(station.connection, retry_at=now)
    return replace(station, connection=connection, root_migration=replace(station.root_migration, trying_fallback=True))


def attempt_over(station: Station) -> Station:
    """An attempt failed for good (or a connection ended): the next one tries the current roots again (rule 4)."""
    if not station.root_migration.trying_fallback:
        return station
    return replace(station, root_migration=replace(station.root_migration, trying_fallback=False))


@dataclass(frozen=True, slots=True)
class Proven:
    """A connection verified with the new root: the fallback roots to delete from the store (M05.FR.13)."""

    station: Station
    remove: tuple[str, ...]
    effects: Effects


def on_connected(station: Station, security_profile: int) -> Proven:
    """Rule 4: the current roots verified this TLS connection, so the fallback goes; a connection the fallback
    verified keeps it for the next attempt, which tries the current roots again."""
    migration = station.root_migration
    if migration.trying_fallback or not migration.fallback or security_profile not in TLS_PROFILES:
        return Proven(attempt_over(station), (), ())
    proven = replace(station, root_migration=RootMigration())
    return Proven(proven, migration.fallback, (Persist(((FALLBACK_KEY, []),)),))


# --- persistence ----------------------------------------------------------------------------------------


def persisted(migration: RootMigration) -> Persist:
    return Persist(((FALLBACK_KEY, list(migration.fallback)),))


def restore(persisted: Mapping[str, Any], installed: tuple[str, ...]) -> RootMigration:
    """The fallback kept across restarts; roots no longer in the store are left out, and a fallback that is all
    that is left is no fallback."""
    stored = persisted.get(FALLBACK_KEY)
    fallback = tuple(root for root in stored if root in installed) if isinstance(stored, list) else ()
    current = [root for root in installed if root not in fallback]
    return RootMigration(fallback=fallback if current else ())
