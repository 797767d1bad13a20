"""Block A (A02, A03): the state of the station's certificate signing requests, as plain values.

One `SigningRequest` per certificate type at most (ChargingStationCertificate, V2GCertificate): a request lives from
the moment the station decides to ask for a certificate (TriggerMessage, a retry, or its own renewal before expiry)
until a CertificateSigned for that type arrives, the CSMS refuses the SignCertificateRequest, or the retries run out.
Kept apart from the logic so that `state.py` can hold it without importing the block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SigningRequest:
    certificate_type: str
    """CertificateSigningUseEnumType: ChargingStationCertificate or V2GCertificate."""
    sends: int = 0
    """SignCertificateRequests sent for this request so far (each with a new key and CSR)."""
    csr: str | None = None
    """The CSR of the last SignCertificateRequest: an answer to an older one (of a request since replaced) is not
    this request's."""
    awaiting_answer: bool = False
    """Its SignCertificateRequest is queued or on the wire and the CSMS has not answered it yet."""
    triggered: bool = False
    """Started by TriggerMessage: its SignCertificateRequests may go while the boot is Pending (F06)."""
    retry_at: datetime | None = None
    """A02.FR.17/18: when to send a new SignCertificateRequest if no CertificateSigned came; None while the CSMS
    has not accepted the last one, or when no retry is left (the request then waits for a late CertificateSigned)."""


@dataclass(frozen=True, slots=True)
class CertificateSigning:
    requests: tuple[SigningRequest, ...] = ()
    fresh: frozenset[str] = frozenset()
    """Store uses (ChargingStationCertificate) renewed since the last connection that used them: the previous
    certificate is kept until the renewed one has carried a connection."""
    renew_not_before: datetime | None = None
    """After a renewal of its own initiative ended without a certificate, the station waits until then before it
    tries again (so that a CSMS that never signs is not asked on every tick)."""
