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
Otherwise Accepted (A02.FR.08): `InstallSignedCertificate`, the application hears `CertificateRenewed`, and a
ChargingStationCertificate is used from the next connection on; the old one is kept until the new one has carried
a connection (`on_connected` then emits `CommitCertificate`). Any CertificateSigned ends the signing request of its
type, whatever the verdict (certificate_signing.py rule 4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargecore.pure.blocks.provisioning import network_profiles
from chargecore.pure.blocks.security import certificate_signing, security_events
from chargecore.pure.blocks.security.certificate_signing import STATION_CERTIFICATE
from chargecore.pure.device_model.model import get_int
from chargecore.pure.effects import (
    CertificateRenewed,
    ChainFacts,
    ChainQuestion,
    CommitCertificate,
    Effects,
    InstallSignedCertificate,
    Notify,
)
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
    return station, Defer(ChainQuestion(certificate_type, chain)), ()


def resume_certificate_signed(station: Station, call: Call, facts: Any, now: datetime) -> Handled:
    certificate_type = _type(call)
    if not isinstance(facts, ChainFacts):
        facts = ChainFacts(parsed=False, problem="the chain could not be measured")
    expected = certificate_signing.csr_subject(station, certificate_type)
    problem = verdict(facts, None if expected is None else expected.common_name, station_time(station, now))
    if problem is not None:
        return _reject(station, certificate_type, problem[0], problem[1], now)
    assert facts.not_after is not None  # verdict checked it
    station = certificate_signing.end_request(station, certificate_type)
    connected = certificate_type != STATION_CERTIFICATE
    station = certificate_signing.note_installed(station, certificate_type, facts.not_after, connected=connected)
    chain = str(call.payload["certificateChain"])
    renewed = CertificateRenewed(certificate_type, facts.not_after.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return station, Reply({"status": "Accepted"}), (InstallSignedCertificate(certificate_type, chain), Notify(renewed))


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
    fresh = next((leaf for leaf in signing.leaves if not leaf.connected), None)
    if fresh is None or network_profiles.security_level(station.device_model) < 3:
        return station, ()
    station = certificate_signing.note_installed(station, fresh.certificate_type, fresh.not_after, connected=True)
    return station, (CommitCertificate(fresh.certificate_type),)


def _reject(station: Station, certificate_type: str, reason: str, why: str, now: datetime) -> Handled:
    station = certificate_signing.end_request(station, certificate_type)
    station, logged = security_events.raise_event(station, SECURITY_EVENT, f"{reason}: {why}", now)
    return station, refusal("Rejected", reason, why), logged


def _type(call: Call) -> str:
    return str(call.payload.get("certificateType", STATION_CERTIFICATE))
