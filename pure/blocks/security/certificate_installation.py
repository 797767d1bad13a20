"""Block M05 InstallCertificate: the CSMS installs a CA certificate of one of the four InstallCertificateUseEnumType
kinds. The shell measures the PEM (`CheckCertificateQuestion`), `refusal_of` decides, the shell stores it
(`StoreCertificateQuestion`), and the answer goes out once the certificate is durable. Under
AdditionalRootCertificateCheck a new CSMS root must be signed by an installed one, and the unproven root it replaces
is deleted before the answer (root_migration.py, M05.FR.10-12).

Rules (`refusal_of`, the one decision; certroot's AdditionalRootCertificateCheck, M05.FR.10-16, is one more rule
there):
1. Rejected, reasonCode InvalidCertificate (M05.FR.07; Part 2 Appendix 5), with additionalInfo saying why: text
   that is not one PEM certificate, a certificate that is not a CA (basicConstraints cA), one not valid now on
   the station clock (expired, not yet valid), or one whose signature neither its own key nor an installed
   certificate of the same kind verifies. A text longer than the schema's 5500 characters never gets here: it is
   a CALLERROR (FormatViolation) like every schema violation (Part 4).
2. A certificate that is installed already as this kind is Accepted again without a second copy (M05.FR.02).
3. Failed, reasonCode OutOfStorage, when the store holds CertificateEntries' maxLimit entries already.
4. Otherwise Accepted (M05.FR.01/02) once the shell says it is stored; Failed (InternalError) when the write failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargecore.pure.blocks.security import root_migration
from chargecore.pure.blocks.security.certificate_store import CertificateCheck, StoreChanged
from chargecore.pure.blocks.security.certificates import capacity, learn
from chargecore.pure.effects import CheckCertificateQuestion, StoreCertificateQuestion
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import station_time
from chargecore.pure.outcome import Defer, Handled, Reply, refusal
from chargecore.pure.state import Station

INVALID = "InvalidCertificate"


def handle_install_certificate(station: Station, call: Call, now: datetime) -> Handled:
    payload = call.payload
    return station, Defer(CheckCertificateQuestion(payload["certificateType"], payload["certificate"])), ()


def refusal_of(station: Station, use: str, check: CertificateCheck, now: datetime) -> Reply | None:
    """Rules 1 and 3: the answer refusing this certificate, or None when it may be installed."""
    if check.problem is not None or not check.chain:
        return refusal("Rejected", INVALID, check.problem or "no certificate")
    if len(check.chain) != 1:
        return refusal("Rejected", INVALID, f"{len(check.chain)} certificates where one CA certificate is expected")
    certificate, moment = check.chain[0], station_time(station, now)
    if not certificate.is_ca:
        return refusal("Rejected", INVALID, "not a CA certificate (basicConstraints cA is not set)")
    if moment > certificate.not_after:
        return refusal("Rejected", INVALID, f"expired at {certificate.not_after.isoformat()}")
    if moment < certificate.not_before:
        return refusal("Rejected", INVALID, f"not valid before {certificate.not_before.isoformat()}")
    if check.anchor is None:
        return refusal("Rejected", INVALID, f"the signature does not verify (neither self-signed nor by a {use})")
    unsigned = root_migration.install_refusal(station, use, check)
    if unsigned is not None:  # M05.FR.11
        return refusal("Rejected", root_migration.NOT_SIGNED, unsigned)
    if len(station.certificates.installed) >= capacity(station):
        return refusal("Failed", "OutOfStorage", f"the store holds its maximum of {capacity(station)} certificates")
    return None


def resume_install_certificate(station: Station, call: Call, answer: Any, now: datetime) -> Handled:
    """First the measured certificate (decide, then ask to store it), then the store's word (answer)."""
    use = call.payload["certificateType"]
    if isinstance(answer, CertificateCheck):
        refused = refusal_of(station, use, answer, now)
        if refused is not None:
            return station, refused, ()
        fingerprint = answer.chain[0].fingerprint
        if any(e.certificate.fingerprint == fingerprint for e in station.certificates.of_use(use)):
            return station, Reply({"status": "Accepted"}), ()  # rule 2
        station = root_migration.plan_install(station, use, answer)
        return station, Defer(StoreCertificateQuestion(use, call.payload["certificate"])), ()
    if not isinstance(answer, StoreChanged):
        station, _ = root_migration.carry_out(station, stored=False)
        return station, refusal("Failed", "InternalError", "the certificate store did not answer"), ()
    station, effects = learn(station, answer.installed)
    station, migrated = root_migration.carry_out(station, stored=answer.problem is None)  # M05.FR.12
    if answer.problem is not None:
        return station, refusal("Failed", "InternalError", answer.problem), effects
    return station, Reply({"status": "Accepted"}), effects + migrated
