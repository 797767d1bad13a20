"""Block L measurement: does a firmware file's signature hold under its signing certificate's key (L01.FR.03)?

None when it does, else a short reason for the security event; the reason names what failed and never quotes key
material. (The signing certificate itself is measured by the certificate store, `CheckCertificateQuestion`, and
judged by the core, L01.FR.02.)
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

CHUNK = 1 << 20
"""The file is hashed a mebibyte at a time: a firmware image is never read into memory whole."""


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
