"""Block M (M06): the OCSP answers the CSMS gave through GetCertificateStatus, kept until the end of the validity
the answer itself states (its nextUpdate, measured by the shell), so that an EV's contract certificate is not asked
about again while the answer holds. Values only; iso15118_certificates.py uses them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class OcspEntry:
    key: tuple[str, str, str]
    """(hashAlgorithm, issuerKeyHash, serialNumber) of the certificate asked about."""
    ocsp_result: str
    """The CSMS's OCSPResponse, DER and base64, as it came."""
    valid_until: datetime
    """In the station's clock (CSMS time)."""


@dataclass(frozen=True, slots=True)
class OcspCache:
    entries: tuple[OcspEntry, ...] = ()


MAX_ENTRIES = 64
"""The cache keeps the newest entries only: an EV queue cannot grow it without bound."""


def cache_key(ocsp_request_data: dict[str, Any]) -> tuple[str, str, str]:
    data = ocsp_request_data
    return str(data["hashAlgorithm"]), str(data["issuerKeyHash"]), str(data["serialNumber"])
