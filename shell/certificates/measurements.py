"""Measurements of certificates for the core's A02/A03 and M06 decisions, made with `cryptography`.

The shell measures, the core decides: `measure_chain` says what a CertificateSigned chain is (does it parse, does it
verify up to one of the given roots, does its leaf certify the pending key, its commonName and validity) and
leaves the verdict to `pure/blocks/security/certificate_signed.py`. Nothing here raises on bad input: a chain
that cannot be read is a fact like any other. `cryptography` is imported on first use (x509_facts.py says why).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from chargecore.pure.effects import ChainFacts
from chargecore.shell.certificates.x509_facts import NotACertificate, is_ca, parse_chain, signed_by

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

MAX_CHAIN_LENGTH = 5
"""Certificates read from one chain at most (leaf, sub-CAs); a longer one is refused as unreadable."""


def measure_chain(chain_pem: str, roots: Sequence[x509.Certificate], pending_key: PublicKeyTypes | None) -> ChainFacts:
    try:
        chain = parse_chain(chain_pem)
    except NotACertificate as error:
        return ChainFacts(parsed=False, problem=str(error))
    if len(chain) > MAX_CHAIN_LENGTH:
        return ChainFacts(parsed=False, problem=f"{len(chain)} certificates, at most {MAX_CHAIN_LENGTH} are read")
    from cryptography.x509.oid import NameOID

    leaf = chain[0]
    names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    trusted, problem = _verifies(chain, roots)
    return ChainFacts(
        parsed=True,
        trusted=trusted,
        key_matches=pending_key is not None and leaf.public_key() == pending_key,
        common_name=str(names[0].value) if names else None,
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
        problem=problem,
    )


def _verifies(chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]) -> tuple[bool, str | None]:
    """Each certificate is signed by the next one (which must be a CA), and the last one by a root, or is one.
    Validity periods are left to the core, which judges the leaf on the station's clock."""
    for child, parent in pairwise(chain):
        if not is_ca(parent) or not signed_by(child, parent):
            return False, f"{child.subject.rfc4514_string()} is not signed by the next certificate of the chain"
    top = chain[-1]
    if any(top == root or (top.issuer == root.subject and signed_by(top, root)) for root in roots):
        return True, None
    return False, f"no installed root issued {top.issuer.rfc4514_string()}"


# --- M06: OCSP ---------------------------------------------------------------------------------------------


def ocsp_request_data(certificate: x509.Certificate, issuer: x509.Certificate) -> dict[str, Any]:
    """OCSPRequestDataType of a certificate (SHA256 hashes of the issuer's name and key, as RFC 6960's CertID; the
    serial number in hexadecimal; the responder URL of its Authority Information Access, when it has one)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509 import ocsp

    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA256()).build()
    data: dict[str, Any] = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": request.issuer_name_hash.hex(),
        "issuerKeyHash": request.issuer_key_hash.hex(),
        "serialNumber": format(request.serial_number, "x"),
        "responderURL": _responder_url(certificate),
    }
    return data


def _responder_url(certificate: x509.Certificate) -> str:
    from cryptography import x509
    from cryptography.x509.oid import AuthorityInformationAccessOID

    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return ""
    for description in access:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            return str(description.access_location.value)[:512]
    return ""


def ocsp_next_update(ocsp_result: str) -> datetime | None:
    """The nextUpdate an OCSPResponse (DER, base64) states for its certificate, or None."""
    from cryptography.x509 import ocsp

    try:
        response = ocsp.load_der_ocsp_response(base64.b64decode(ocsp_result, validate=True))
        if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return None
        return response.next_update_utc
    except (ValueError, binascii.Error):
        return None
