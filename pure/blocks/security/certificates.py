"""Block M: what is installed (M03 GetInstalledCertificateIds) and deleting it (M04 DeleteCertificate), and how the
core learns what the store holds (certificate_store.py says what the values mean).

Rules:
1. The core's list changes only from the shell's word: `CertificatesLoaded` (power-up, changes the core did not
   ask for) or the `StoreChanged` answer to a store or delete question. SecurityCtrlr.CertificateEntries follows
   it: the number of entries installed; its maxLimit is the store's capacity (M05, `capacity`). Each entry that
   came or went since the previous list is told to the application (`CertificateChanged`).
2. M03: GetInstalledCertificateIds lists the entries of the types asked for (all GetCertificateIdUseEnumType
   when none are), the SHA256 hash data of each, and for a V2GCertificateChain its sub-CAs as
   childCertificateHashData (M03.FR.05); nothing found answers NotFound (M03.FR.02). The
   ChargingStationCertificate is not a GetCertificateIdUseEnumType and is never listed.
3. M04: a hash that identifies no installed certificate answers NotFound (M04.FR.04). Deleting the
   ChargingStationCertificate is refused with Failed (M04.FR.06). A delete that would leave a station at security
   profile 2 or 3 without a CSMS root valid now is refused with Failed too (the next connection could not verify
   the CSMS: `would_strand`), and so is deleting the fallback root of a CSMS root migration (root_migration.py,
   rule 5). Otherwise the core asks the shell to delete it, and answers Accepted once the shell
   says it is gone (Failed when the delete failed).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from returns.result import Failure

from chargecore.pure.blocks.provisioning.network_profiles import security_level
from chargecore.pure.blocks.security import root_migration
from chargecore.pure.blocks.security.certificate_store import (
    CSMS_ROOT,
    REPORTED_USES,
    STATION_CERTIFICATE,
    CertificateHashData,
    Certificates,
    InstalledCertificate,
    StoreChanged,
)
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_definition, set_value
from chargecore.pure.effects import CertificateChanged, Effects, Log, Notify, RemoveCertificateQuestion
from chargecore.pure.inputs import CertificatesLoaded
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import station_time
from chargecore.pure.outcome import Defer, Handled, Reply, refusal
from chargecore.pure.state import Station

ENTRIES = VariableKey("SecurityCtrlr", "CertificateEntries")
DEFAULT_CAPACITY = 50


def learn(station: Station, installed: tuple[InstalledCertificate, ...]) -> tuple[Station, Effects]:
    """Rule 1: take the shell's list, count it in CertificateEntries, and tell the application what came and
    went since the list it had (nothing at the first list of a power-up)."""
    before = station.certificates
    station = replace(station, certificates=Certificates(installed, loaded=True))
    told: Effects = ()
    if before.loaded:
        told = tuple(_changed(e, "deleted") for e in before.installed if e not in installed)
        told += tuple(_changed(e, "installed") for e in installed if e not in before.installed)
    counted = set_value(station.device_model, ENTRIES, str(len(installed)), respect_mutability=False)
    if isinstance(counted, Failure):
        return station, (*told, Log("warning", f"CertificateEntries not updated: {counted.failure()}"))
    return replace(station, device_model=counted.unwrap()), told


def _changed(entry: InstalledCertificate, change: Literal["installed", "deleted"]) -> Notify:
    facts = entry.certificate
    hash_data = facts.hash_data.payload()
    return Notify(
        CertificateChanged(entry.use, change, hash_data, facts.subject_common_name, facts.not_after.isoformat())
    )


def on_loaded(station: Station, event: CertificatesLoaded) -> tuple[Station, Effects]:
    return learn(station, event.installed)


def capacity(station: Station) -> int:
    """How many entries the store takes: CertificateEntries' maxLimit."""
    definition = get_definition(station.device_model, ENTRIES)
    limit = None if definition is None else definition.max_limit
    return DEFAULT_CAPACITY if limit is None else int(limit)


# --- M03 ------------------------------------------------------------------------------------------------


def _listed(entry: InstalledCertificate) -> dict[str, Any]:
    item: dict[str, Any] = {"certificateType": entry.use, "certificateHashData": entry.certificate.hash_data.payload()}
    if entry.chain:
        item["childCertificateHashData"] = [child.hash_data.payload() for child in entry.chain]
    return item


def handle_get_installed_certificate_ids(station: Station, call: Call, now: datetime) -> Handled:
    """Rule 2."""
    wanted = tuple(call.payload.get("certificateType") or REPORTED_USES)
    found = [_listed(entry) for entry in station.certificates.of_use(*wanted) if entry.use in REPORTED_USES]
    if not found:
        return station, refusal("NotFound", "NotFound", f"no certificate of {', '.join(wanted)} installed"), ()
    return station, Reply({"status": "Accepted", "certificateHashDataChain": found}), ()


# --- M04 ------------------------------------------------------------------------------------------------


def would_strand(station: Station, entry: InstalledCertificate, now: datetime) -> bool:
    """Would deleting `entry` leave a station at security profile 2 or 3 without a CSMS root valid now?"""
    if entry.use != CSMS_ROOT or security_level(station.device_model) < 2:
        return False
    usable = station.certificates.usable_csms_roots(station_time(station, now))
    return entry in usable and len(usable) == 1  # an expired root strands nothing: it may always go


def handle_delete_certificate(station: Station, call: Call, now: datetime) -> Handled:
    """Rule 3."""
    wanted = CertificateHashData.from_payload(call.payload["certificateHashData"])
    entry = station.certificates.find(wanted)
    if entry is None:
        return station, refusal("NotFound", "NotFound", "no installed certificate has this hash data"), ()
    if entry.use == STATION_CERTIFICATE:
        return (
            station,
            refusal("Failed", "InvalidValue", "the ChargingStationCertificate is not deleted (M04.FR.06)"),
            (),
        )
    if would_strand(station, entry, now):
        info = "the last valid CSMSRootCertificate of the active security profile is not deleted"
        return station, refusal("Failed", "InvalidValue", info), ()
    if root_migration.strands(station, entry.certificate.fingerprint):
        info = "the fallback CSMSRootCertificate is kept until the new root has verified a connection (M05.FR.13)"
        return station, refusal("Failed", "InvalidValue", info), ()
    return station, Defer(RemoveCertificateQuestion(entry.use, entry.certificate.fingerprint)), ()


def resume_delete_certificate(station: Station, call: Call, answer: Any, now: datetime) -> Handled:
    """The shell deleted it, or says why not (then the store is unchanged)."""
    if not isinstance(answer, StoreChanged):
        return station, refusal("Failed", "InternalError", "the certificate store did not answer"), ()
    station, effects = learn(station, answer.installed)
    if answer.problem is not None:
        return station, refusal("Failed", "InternalError", answer.problem), effects
    return station, Reply({"status": "Accepted"}), effects


def on_removed(station: Station, answer: Any) -> tuple[Station, Effects]:
    """The store's answer to a removal the core asked for on its own (a CSMS root a migration no longer needs,
    root_migration.py)."""
    if not isinstance(answer, StoreChanged):
        return station, (Log("warning", "the certificate store did not answer the removal of a certificate"),)
    station, effects = learn(station, answer.installed)
    if answer.problem is not None:
        effects += (Log("warning", f"certificate not removed: {answer.problem}"),)
    return station, effects
