"""Block A, A02/A03: the station asks the CSMS to sign a new certificate (SignCertificateRequest).

Theory of operation. A request starts on TriggerMessage SignChargingStationCertificate or SignV2GCertificate
(A02, F06), or on the station's own initiative when one of its certificates comes within `RENEW_BEFORE` of its end
(A03). For each send the core asks the shell for a new key pair and a CSR (`CsrQuestion`); the key never leaves
the shell. The CSR's subject (A02.FR.02, A02.FR.06; Part 2 appendix SecurityCtrlr, ISO15118Ctrlr):

- ChargingStationCertificate: commonName the serial number (StationIdentity.serial_number), else
  SecurityCtrlr.Identity, else the station id; organizationName SecurityCtrlr.OrganizationName; countryName
  ISO15118Ctrlr.CountryName when set.
- V2GCertificate: commonName ISO15118Ctrlr.SeccId, organizationName ISO15118Ctrlr.OrganizationName, countryName
  ISO15118Ctrlr.CountryName; without SeccId or OrganizationName no CSR can be made and the trigger is Rejected.

Rules:
1. A SignCertificateResponse Rejected ends the request (TC_A_15).
2. A02.FR.17: an Accepted one (or none at all: timeout, CALLERROR, lost connection) starts the wait for the
   CertificateSigned: CertSigningWaitMinimum seconds (at least 1), then a new key, CSR and SignCertificateRequest.
3. A02.FR.18: the wait doubles with every repeat, CertSigningRepeatTimes times: with RepeatTimes n the station
   repeats after W, 2W, ... 2^n W and then waits for a late CertificateSigned only. TC_A_23 sets RepeatTimes 1
   and expects the repeats after W and after 2W (libocpp stops after the first). Waits saturate at `MAX_WAIT`.
4. A repeat sends a new CSR for the key of the first one (TC_A_23 step 11 signs the CSR of step 3, so a certificate
   for it must still fit); a new request, triggered or of the station's own, makes a new key.
5. Any CertificateSigned of the type ends the request (certificate_signed.py), whatever its verdict.
6. Renewal of its own initiative (A03) starts once per `RENEW_PAUSE` at most while the certificate is not renewed.
7. A trigger while the request's SignCertificateRequest is still unanswered starts nothing new: that one is on its
   way (libocpp sends nothing either); a trigger at any other moment starts over with a new key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from chargecore.pure.blocks.security.certificate_store import CSMS_ROOT, V2G_CHAIN, V2G_ROOT
from chargecore.pure.blocks.security.signing_requests import CertificateSigning, SigningRequest
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_int, get_value
from chargecore.pure.effects import CertificateExpiring, CsrQuestion, Effects, Log, Notify
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.timestamps import station_time
from chargecore.pure.outcome import Handled, Reply, ask
from chargecore.pure.state import OutboundCall, Station

STATION_CERTIFICATE = "ChargingStationCertificate"
V2G_CERTIFICATE = "V2GCertificate"
STORE_USES: Mapping[str, str] = MappingProxyType({STATION_CERTIFICATE: STATION_CERTIFICATE, V2G_CERTIFICATE: V2G_CHAIN})
"""CertificateSigningUseEnumType -> the certificate store's use of the station's own certificate of that type."""
ROOT_USES: Mapping[str, str] = MappingProxyType({STATION_CERTIFICATE: CSMS_ROOT, V2G_CERTIFICATE: V2G_ROOT})
"""CertificateSigningUseEnumType -> the installed roots a signed certificate of that type must chain to."""

MAX_WAIT = timedelta(days=7)
"""The longest wait between two SignCertificateRequests, whatever CertSigningWaitMinimum and RepeatTimes say."""
RENEW_BEFORE = timedelta(days=30)
"""A03: the station asks for a new certificate this long before its certificate ends, or when a fifth of its
lifetime is left if that is shorter (a short-lived certificate is not renewed the moment it is installed)."""
RENEW_PAUSE = timedelta(days=1)
"""A03: after a renewal of its own that brought no certificate, the station waits this long before the next."""


# --- starting a request -----------------------------------------------------------------------------------


def trigger(certificate_type: str) -> Callable[[Station, Any, datetime], Handled]:
    """F06/A02: the TriggerMessage handler for SignChargingStationCertificate or SignV2GCertificate. Accepted and
    a SignCertificateRequest after the response (F06.FR.04); Rejected when no CSR subject can be made."""

    def handle(station: Station, evse: Any, now: datetime) -> Handled:
        if csr_subject(station, certificate_type) is None:
            return station, Reply({"status": "Rejected"}), ()
        pending = find(station, certificate_type)
        if pending is not None and pending.awaiting_answer:  # rule 7: the CSMS gets the one on its way
            return station, Reply({"status": "Accepted"}), ()
        started, effects = start(station, certificate_type, now, triggered=True)
        return started, Reply({"status": "Accepted"}), effects

    return handle


def start(station: Station, certificate_type: str, now: datetime, *, triggered: bool) -> tuple[Station, Effects]:
    """Begin a new request of this type (an earlier one of the type is dropped) and ask for its first CSR."""
    request = SigningRequest(certificate_type, triggered=triggered)
    return _ask_csr(_put(station, request), request)


def csr_subject(station: Station, certificate_type: str) -> CsrQuestion | None:
    """The subject of the CSR for this certificate type, or None when the device model lacks a part of it."""
    model = station.device_model
    country = get_value(model, VariableKey("ISO15118Ctrlr", "CountryName"))
    if certificate_type == V2G_CERTIFICATE:
        secc_id = get_value(model, VariableKey("ISO15118Ctrlr", "SeccId"))
        organization = get_value(model, VariableKey("ISO15118Ctrlr", "OrganizationName"))
        if not secc_id or not organization:
            return None
        return CsrQuestion(certificate_type, secc_id, organization, country or None)
    identity = get_value(model, VariableKey("SecurityCtrlr", "Identity"))
    common_name = station.identity.serial_number or identity or station.identity.station_id
    organization = get_value(model, VariableKey("SecurityCtrlr", "OrganizationName")) or ""
    return CsrQuestion(certificate_type, common_name, organization, country or None)


def _ask_csr(station: Station, request: SigningRequest) -> tuple[Station, Effects]:
    subject = csr_subject(station, request.certificate_type)
    if subject is None:
        return _drop(station, request.certificate_type), (
            Log("warning", f"no CSR subject for a {request.certificate_type}: the signing request ends"),
        )
    asked, question = ask(station, replace(subject, new_key=request.sends == 0))  # rule 4
    return asked, (question,)


# --- the CSR, the SignCertificateRequest and its answer -----------------------------------------------------


def on_csr(station: Station, question: CsrQuestion, csr: Any, now: datetime) -> tuple[Station, Effects]:
    """The shell's CSR for the pending request: send it (A02.FR.02/A03.FR.02); None means no key or CSR could be
    made, which ends the request."""
    request = find(station, question.certificate_type)
    if request is None:
        return station, (Log("debug", f"CSR for a {question.certificate_type} request that ended: dropped"),)
    if not isinstance(csr, str) or not csr:
        return _drop(station, request.certificate_type), (
            Log("warning", f"no key or CSR could be made for a {question.certificate_type}: the request ends"),
        )
    payload = {"csr": csr, "certificateType": request.certificate_type}
    session, effects = rpc.enqueue(station.rpc, "SignCertificate", payload, triggered=request.triggered)
    if effects:  # refused by the schema (a CSR over 5500 characters): the request cannot go on
        return _drop(station, request.certificate_type), effects
    sent = replace(request, sends=request.sends + 1, retry_at=None, csr=csr, awaiting_answer=True)
    return _put(replace(station, rpc=session), sent), ()


def on_sign_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """Rule 1 and 2: Rejected ends the request, Accepted waits for the CertificateSigned."""
    certificate_type = str(call.payload.get("certificateType", STATION_CERTIFICATE))
    if _answered_request(station, call) is None:
        return station, ()
    if payload["status"] != "Accepted":
        return _drop(station, certificate_type), (Log("info", f"the CSMS refused to sign a {certificate_type}"),)
    return _wait(station, certificate_type, now), ()


def on_sign_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """No usable answer: the request waits and repeats as if the CSMS had accepted it and never signed."""
    if _answered_request(station, call) is None:
        return station, ()
    return _wait(station, str(call.payload.get("certificateType", STATION_CERTIFICATE)), now), ()


def _answered_request(station: Station, call: OutboundCall) -> SigningRequest | None:
    """The request the answered SignCertificateRequest belongs to: None for one of a request since ended or
    replaced (its CSR is not the request's last)."""
    request = find(station, str(call.payload.get("certificateType", STATION_CERTIFICATE)))
    return request if request is not None and request.csr == call.payload.get("csr") else None


def _wait(station: Station, certificate_type: str, now: datetime) -> Station:
    request = find(station, certificate_type)
    if request is None:
        return station
    return _put(station, replace(request, retry_at=retry_at(station, request.sends, now), awaiting_answer=False))


def retry_at(station: Station, sends: int, now: datetime) -> datetime | None:
    """Rules 2 and 3: when the next SignCertificateRequest goes after `sends` of them got no certificate."""
    model = station.device_model
    repeats = sends - 1
    if repeats > get_int(model, "SecurityCtrlr", "CertSigningRepeatTimes", default=3):
        return None
    wait_minimum = max(1, get_int(model, "SecurityCtrlr", "CertSigningWaitMinimum", default=60))
    seconds = min(wait_minimum * 2 ** min(repeats, 32), int(MAX_WAIT.total_seconds()))  # saturates
    return now + timedelta(seconds=seconds)


# --- time ---------------------------------------------------------------------------------------------------


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """Repeat the requests whose wait is over (A02.FR.17/18), then start due renewals (A03)."""
    effects: Effects = ()
    for request in station.certificate_signing.requests:
        if request.retry_at is not None and request.retry_at <= now:
            waiting = replace(request, retry_at=None)
            station, asked = _ask_csr(_put(station, waiting), waiting)
            effects += asked
    for certificate_type, renew_at in _own_certificates(station):
        if _renewal_due(station, certificate_type, renew_at, now):
            station, started = _renew(station, certificate_type, now)
            effects += started
    return station, effects


def deadline(station: Station) -> datetime | None:
    """The next repeat or renewal, in the shell's time."""
    signing = station.certificate_signing
    moments = [request.retry_at for request in signing.requests if request.retry_at is not None]
    offset = station.registration.clock_offset
    for certificate_type, renew_at in _own_certificates(station):
        if find(station, certificate_type) is None:
            moment = renew_at - offset
            if signing.renew_not_before is not None:
                moment = max(moment, signing.renew_not_before)
            moments.append(moment)
    return min(moments) if moments else None


def _own_certificates(station: Station) -> list[tuple[str, datetime]]:
    """(certificate type, when to renew it) of the station's own certificates in the store (certificate_store.py)."""
    moments = []
    for certificate_type, use in STORE_USES.items():
        for entry in station.certificates.of_use(use):
            facts = entry.certificate
            ahead = min(RENEW_BEFORE, (facts.not_after - facts.not_before) / 5)
            moments.append((certificate_type, facts.not_after - ahead))
    return moments


def _renewal_due(station: Station, certificate_type: str, renew_at: datetime, now: datetime) -> bool:
    signing = station.certificate_signing
    if find(station, certificate_type) is not None:
        return False
    if signing.renew_not_before is not None and now < signing.renew_not_before:
        return False
    return station_time(station, now) >= renew_at


def _renew(station: Station, certificate_type: str, now: datetime) -> tuple[Station, Effects]:
    signing = replace(station.certificate_signing, renew_not_before=now + RENEW_PAUSE)
    station = replace(station, certificate_signing=signing)
    entry = next(iter(station.certificates.of_use(STORE_USES[certificate_type])))
    expiring = Notify(CertificateExpiring(certificate_type, rfc3339(entry.certificate.not_after)))
    if csr_subject(station, certificate_type) is None:
        return station, (expiring,)
    started, effects = start(station, certificate_type, now, triggered=False)
    return started, (expiring, *effects)


# --- bookkeeping ----------------------------------------------------------------------------------------------


def find(station: Station, certificate_type: str) -> SigningRequest | None:
    return next((r for r in station.certificate_signing.requests if r.certificate_type == certificate_type), None)


def end_request(station: Station, certificate_type: str) -> Station:
    """Rule 4: a CertificateSigned of this type arrived."""
    return _drop(station, certificate_type)


def _put(station: Station, request: SigningRequest) -> Station:
    signing = station.certificate_signing
    others = tuple(r for r in signing.requests if r.certificate_type != request.certificate_type)
    return replace(station, certificate_signing=replace(signing, requests=(*others, request)))


def _drop(station: Station, certificate_type: str) -> Station:
    signing: CertificateSigning = station.certificate_signing
    kept = tuple(r for r in signing.requests if r.certificate_type != certificate_type)
    return replace(station, certificate_signing=replace(signing, requests=kept))


def rfc3339(moment: datetime) -> str:
    """A certificate's end for an event: RFC 3339 UTC, whole seconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
