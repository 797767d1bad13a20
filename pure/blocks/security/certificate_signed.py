"""Block A, A02/A03: CertificateSignedRequest, the CSMS's signed certificate for the station's pending CSR.

The shell measures the chain (`ChainQuestion` -> `ChainFacts`: does it parse, does it verify up to an installed
root, does the leaf certify the key of the pending CSR, its commonName and validity); this module decides.

Rules, in the order they are checked; the first that fails is the reasonCode of a Rejected answer
(A02.FR.07, A03.FR.07), a security event InvalidChargingStationCertificate (tech info: the reason) is raised, and
nothing is installed: the station keeps its current certificate.
1. `TooLarge`: the chain is longer than SecurityCtrlr.MaxCertificateChainSize (the schema already refuses more
   than 10000 characters with a CALLERROR).
2. `NoRequest`: no SignCertificateRequest of this type is pending (none sent, or the station restarted since).
3. `InvalidFormat`: no PEM X.509 certificate could be read.
4. `InvalidChain`: the chain does not verify up to an installed root (CSMSRootCertificate for the station
   certificate, V2GRootCertificate for the V2G one).
5. `WrongKey`: the leaf does not certify the public key of the pending CSR.
6. `NotYetValid`, `Expired`: the station's clock (CSMS time) is outside the leaf's validity.
7. `WrongCommonName`: the leaf's commonName is not the one of the CSR.
Otherwise the shell installs the chain with the pending key (`InstallOwnQuestion` -> `StoreChanged`) and the
CSMS hears Accepted once that is durable (A02.FR.08; `StoreFailed` Rejected when it is not); the application hears
`CertificateRenewed`. A ChargingStationCertificate is used from the next connection on; the one it replaced is kept
until the new one has carried a connection at profile 3 (`on_connected` then emits `CommitCertificate`). Any
CertificateSigned ends the signing request of its type, whatever the verdict (certificate_signing.py rule 4).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.provisioning import network_profiles
from chargecore.pure.blocks.security import certificate_signing, certificates, security_events
from chargecore.pure.blocks.security.certificate_signing import ROOT_USES, STATION_CERTIFICATE, STORE_USES
from chargecore.pure.blocks.security.certificate_store import StoreChanged
from chargecore.pure.device_model.model import get_int
from chargecore.pure.effects import (
    CertificateRenewed,
    ChainFacts,
    ChainQuestion,
    CommitCertificate,
    Effects,
    InstallOwnQuestion,
    Log,
    Notify,
    RevertCertificate,
)
from chargecore.pure.inputs import DialFailure
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import station_time
from chargecore.pure.outcome import Defer, Handled, Reply, refusal
from chargecore.pure.state import Station

SECURITY_EVENT = "InvalidChargingStationCertificate"
CHAIN_LIMIT = 10000
"""CertificateSignedRequest.certificateChain is string(10000); MaxCertificateChainSize may lower it."""


def handle_certificate_signed(station: Station, call: Call, now: datetime) -> Handled:
    """Rules 1-2 need no measurement; the rest wait for the shell's `ChainFacts`."""
    certificate_type = _type(call)
    chain = str(call.payload["certificateChain"])
    limit = get_int(station.device_model, "SecurityCtrlr", "MaxCertificateChainSize", default=CHAIN_LIMIT)
    if len(chain) > limit:
        return _reject(station, certificate_type, "TooLarge", f"chain of {len(chain)} characters over {limit}", now)
    request = certificate_signing.find(station, certificate_type)
    if request is None or request.sends == 0:
        return _reject(station, certificate_type, "NoRequest", f"no CSR pending for a {certificate_type}", now)
    return station, Defer(ChainQuestion(certificate_type, chain, ROOT_USES[certificate_type])), ()


def resume_certificate_signed(station: Station, call: Call, answer: Any, now: datetime) -> Handled:
    """First the shell's `ChainFacts` (rules 3-7), then its `StoreChanged` once the chain is installed."""
    certificate_type = _type(call)
    if isinstance(answer, StoreChanged):
        return _installed(station, certificate_type, answer, now)
    facts = answer if isinstance(answer, ChainFacts) else ChainFacts(parsed=False, problem="no measurement")
    expected = certificate_signing.csr_subject(station, certificate_type)
    problem = verdict(facts, None if expected is None else expected.common_name, station_time(station, now))
    if problem is not None:
        return _reject(station, certificate_type, problem[0], problem[1], now)
    use = STORE_USES[certificate_type]
    return station, Defer(InstallOwnQuestion(use, str(call.payload["certificateChain"]))), ()


def _installed(station: Station, certificate_type: str, changed: StoreChanged, now: datetime) -> Handled:
    station = certificate_signing.end_request(station, certificate_type)
    station, learnt = certificates.learn(station, changed.installed)
    if changed.problem is not None:
        why = f"the certificate could not be stored: {changed.problem}"
        return station, refusal("Rejected", "StoreFailed", why), (*learnt, Log("error", why))
    use = STORE_USES[certificate_type]
    entry = next(iter(station.certificates.of_use(use)), None)
    not_after = "" if entry is None else certificate_signing.rfc3339(entry.certificate.not_after)
    signing = station.certificate_signing
    fresh = signing.fresh | {use} if use == STATION_CERTIFICATE else signing.fresh
    station = replace(station, certificate_signing=replace(signing, fresh=fresh, renew_not_before=None))
    return station, Reply({"status": "Accepted"}), (*learnt, Notify(CertificateRenewed(certificate_type, not_after)))


def verdict(facts: ChainFacts, common_name: str | None, moment: datetime) -> tuple[str, str] | None:
    """Rules 3-7: (reasonCode, why) of the first failed check, or None when the chain is acceptable."""
    why = f": {facts.problem}" if facts.problem else ""
    if not facts.parsed:
        return "InvalidFormat", f"not a PEM X.509 certificate chain{why}"
    if not facts.trusted:
        return "InvalidChain", f"the chain does not verify up to an installed root{why}"
    if not facts.key_matches:
        return "WrongKey", "the certificate is not for the key of the pending CSR"
    if facts.not_before is None or facts.not_after is None:
        return "InvalidFormat", "the certificate has no validity period"
    if moment < facts.not_before:
        return "NotYetValid", f"valid from {facts.not_before.isoformat()}"
    if moment >= facts.not_after:
        return "Expired", f"expired at {facts.not_after.isoformat()}"
    if common_name is not None and facts.common_name != common_name:
        return "WrongCommonName", f"commonName {facts.common_name!r}, expected {common_name!r}"
    return None


def on_connected(station: Station) -> tuple[Station, Effects]:
    """A connection at security profile 3 carried the renewed ChargingStationCertificate: the old one may go."""
    signing = station.certificate_signing
    if STATION_CERTIFICATE not in signing.fresh or network_profiles.security_level(station.device_model) < 3:
        return station, ()
    station = replace(station, certificate_signing=replace(signing, fresh=signing.fresh - {STATION_CERTIFICATE}))
    return station, (CommitCertificate(STATION_CERTIFICATE),)


def on_attempt_failed(station: Station, failure: DialFailure) -> tuple[Station, Effects]:
    """The CSMS refused our renewed ChargingStationCertificate in the handshake (FailedToAuthenticateAtCsms) before
    it ever carried a connection: the previous one, kept for this, comes back for the next attempt."""
    signing = station.certificate_signing
    if STATION_CERTIFICATE not in signing.fresh or network_profiles.security_level(station.device_model) < 3:
        return station, ()
    if security_events.refusal_event(failure) != "FailedToAuthenticateAtCsms":
        return station, ()
    station = replace(station, certificate_signing=replace(signing, fresh=signing.fresh - {STATION_CERTIFICATE}))
    warning = Log("warning", "the CSMS refused the renewed station certificate: the previous one is used again")
    return station, (warning, RevertCertificate(STATION_CERTIFICATE))


def _reject(station: Station, certificate_type: str, reason: str, why: str, now: datetime) -> Handled:
    station = certificate_signing.end_request(station, certificate_type)
    station, logged = security_events.raise_event(station, SECURITY_EVENT, f"{reason}: {why}", now)
    return station, refusal("Rejected", reason, why), logged


def _type(call: Call) -> str:
    return str(call.payload.get("certificateType", STATION_CERTIFICATE))
