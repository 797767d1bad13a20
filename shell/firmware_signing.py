"""Block L measurements: is a firmware signing certificate issued by a ManufacturerRootCertificate and valid now
(L01.FR.02), and does a firmware file's signature hold under its key (L01.FR.03)?

Each answers None when all is well, else a short reason for the status notification's security event. The reason
never quotes key material; it names what failed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

CHUNK = 1 << 20
"""The file is hashed a mebibyte at a time: a firmware image is never read into memory whole."""


def certificate_problem(certificate_pem: str, roots_pem: Iterable[str], now: datetime) -> str | None:
    """None when the certificate parses, is valid at `now` and was issued (signed) by one of the roots."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError:
        return "the signing certificate is not a PEM X.509 certificate"
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        return "the signing certificate is not valid now"
    for root_pem in roots_pem:
        try:
            root = x509.load_pem_x509_certificate(root_pem.encode())
            certificate.verify_directly_issued_by(root)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return None
    return "the signing certificate is not issued by a ManufacturerRootCertificate"


def signature_problem(path: Path, certificate_pem: str, signature_b64: str) -> str | None:
    """None when `signature_b64` is the signature of the file's SHA-256 digest by the certificate's key (RSA PKCS#1
    v1.5 or ECDSA)."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return "the signature is not base64"
    try:
        key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    except ValueError:
        return "the signing certificate is not a PEM X.509 certificate"
    digest = _sha256(path)
    prehashed = utils.Prehashed(hashes.SHA256())
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, digest, padding.PKCS1v15(), prehashed)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, digest, ec.ECDSA(prehashed))
        else:
            return f"unsupported signing key type {type(key).__name__}"
    except InvalidSignature:
        return "the signature does not match the firmware file"
    return None


def _sha256(path: Path) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.finalize()
