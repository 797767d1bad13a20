"""X.509 facts measured with `cryptography`: parse a PEM chain, describe a certificate as the core's
`CertificateFacts`, compute its OCPP CertificateHashData, check who signed what. Decides nothing.

CertificateHashData (Part 2, CertificateHashDataType; libocpp evse_security computes the same):
- issuerNameHash: hash of the DER encoding of the certificate's issuer Name;
- issuerKeyHash: hash of the issuer's public key, the value of the subjectPublicKey BIT STRING without tag,
  length and unused-bits octet (what OpenSSL's X509_pubkey_digest and OCSP's CertID hash);
- serialNumber: the serial in hex, lowercase, without "0x" and without leading zeros.
A self-signed certificate is its own issuer.

`cryptography` is imported by the functions that use it, on first use: a station without certificates (plain
ws://) never needs it, and importing it costs ~60 ms of every start-up (tests/shell/test_startup_imports.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC
from itertools import pairwise
from typing import TYPE_CHECKING

from chargecore.pure.blocks.security.certificate_store import CertificateFacts, CertificateHashData

if TYPE_CHECKING:
    from cryptography import x509

HASH_ALGORITHMS = (("SHA256", hashlib.sha256), ("SHA384", hashlib.sha384), ("SHA512", hashlib.sha512))
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


class NotACertificate(ValueError):
    """The text is not one or more PEM certificates; the message says why, without repeating the text."""


def parse_chain(pem: str) -> list[x509.Certificate]:
    """Every certificate of a PEM text, in order; raises NotACertificate for text that holds none or a damaged
    one."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm

    if PEM_BEGIN not in pem:
        raise NotACertificate("no PEM certificate in the text")
    try:
        return x509.load_pem_x509_certificates(pem.encode("utf-8", "replace"))
    except (ValueError, UnsupportedAlgorithm) as error:
        raise NotACertificate(f"unparsable certificate: {type(error).__name__}") from None


def public_key_bits(certificate: x509.Certificate) -> bytes:
    """The subjectPublicKey BIT STRING value (no tag, length, unused-bits octet) of a certificate."""
    from cryptography.hazmat.primitives import serialization

    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, body, _ = _der_element(spki, 0)
    _, _, algorithm_end = _der_element(spki, body)
    _, start, end = _der_element(spki, algorithm_end)
    return spki[start + 1 : end]


def _der_element(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at `at`."""
    tag, length, start = data[at], data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def hash_data(certificate: x509.Certificate, issuer: x509.Certificate) -> tuple[CertificateHashData, ...]:
    """The CertificateHashData of `certificate` issued by `issuer`, for each of HASH_ALGORITHMS, SHA256 first."""
    name, key = certificate.issuer.public_bytes(), public_key_bits(issuer)
    serial = format(certificate.serial_number, "x")
    return tuple(
        CertificateHashData(label, digest(name).hexdigest(), digest(key).hexdigest(), serial)
        for label, digest in HASH_ALGORITHMS
    )


def signed_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Does `issuer`'s key verify `certificate`'s signature, and is `issuer` named as its issuer?"""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def fingerprint(certificate: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import serialization

    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def is_ca(certificate: x509.Certificate) -> bool:
    from cryptography import x509

    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def describe(certificate: x509.Certificate, issuer: x509.Certificate | None = None) -> CertificateFacts:
    """The core's view of a certificate; `issuer` is needed for the issuerKeyHash of a certificate that is not
    self-signed (without it the certificate's own key stands in, as for a root)."""
    from cryptography.x509.oid import NameOID

    self_signed = signed_by(certificate, certificate)
    return CertificateFacts(
        fingerprint=fingerprint(certificate),
        hashes=hash_data(certificate, issuer or certificate),
        subject_common_name=_attribute(certificate.subject, NameOID.COMMON_NAME),
        subject_organization=_attribute(certificate.subject, NameOID.ORGANIZATION_NAME),
        issuer_common_name=_attribute(certificate.issuer, NameOID.COMMON_NAME),
        not_before=certificate.not_valid_before_utc.astimezone(UTC),
        not_after=certificate.not_valid_after_utc.astimezone(UTC),
        is_ca=is_ca(certificate),
        self_signed=self_signed,
    )


def describe_chain(
    chain: Sequence[x509.Certificate], anchors: Sequence[x509.Certificate] = ()
) -> list[CertificateFacts]:
    """Facts of a leaf-first chain: each certificate's issuer is the next one, the last one's is itself when
    self-signed or the anchor among `anchors` that signed it."""
    described = []
    for index, certificate in enumerate(chain):
        above = chain[index + 1] if index + 1 < len(chain) else find_issuer(certificate, anchors)
        described.append(describe(certificate, above))
    return described


def find_issuer(certificate: x509.Certificate, candidates: Sequence[x509.Certificate]) -> x509.Certificate | None:
    """The certificate among `candidates` (or itself) that signed `certificate`, or None."""
    if signed_by(certificate, certificate):
        return certificate
    return next((candidate for candidate in candidates if signed_by(certificate, candidate)), None)


def chain_verifies(chain: Sequence[x509.Certificate]) -> bool:
    """Each certificate of a leaf-first chain is signed by the next."""
    return all(signed_by(lower, upper) for lower, upper in pairwise(chain))
