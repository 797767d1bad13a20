"""Private keys: the integrator hook `KeyStore` and its default `FileKeyStore` (files in the certificate store).

A key is named by a slot: "ChargingStationCertificate" or "V2GCertificateChain" for the key of the installed
certificate, and any other name (e.g. "ChargingStationCertificate.pending") for a key generated for a CSR whose
certificate has not come back yet. The station never reads a key's bytes itself: it asks the key store to create
one, to sign a CSR with it, to adopt a pending one, and for something TLS can load. A TPM or secure element
implements the same Protocol (as libocpp's EvseSecurity allows) and never hands out key material; then
`tls_key_file` names whatever its OpenSSL provider loads.

Keys never appear in a log, a report or an error text: errors say which slot failed, never what it held.

`cryptography` is imported where a key is made or read (x509_facts.py says why).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from chargecore.shell.certificates.record_files import Damaged, read_record_file, write_record_file

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KEY_LABEL = "private key"


class KeyStoreError(Exception):
    """A key operation failed; the message names the slot, never the key."""


class KeyStore(Protocol):
    """Where the station's private keys live (the integrator may replace it)."""

    def create(self, slot: str) -> PublicKey:
        """Generate a new key pair in `slot` (replacing one there) with a secure source of randomness."""
        ...

    def sign_request(self, slot: str, subject: x509.Name) -> x509.CertificateSigningRequest:
        """A CSR for `subject`, for the public key of `slot`, signed with its private key."""
        ...

    def public_key(self, slot: str) -> PublicKey | None: ...

    def import_key(self, slot: str, pem: bytes) -> None:
        """Adopt an existing unencrypted PEM key (seeding from --client-key)."""
        ...

    def adopt(self, pending: str, slot: str) -> None:
        """The key of `pending` becomes the key of `slot` (its certificate has been installed)."""
        ...

    def delete(self, slot: str) -> None: ...

    def tls_key_file(self, slot: str) -> str | None:
        """A file name `ssl.SSLContext.load_cert_chain` can load as the key of `slot`, or None when there is none."""
        ...


def csr_subject(common_name: str, organization: str | None, country: str | None = None) -> x509.Name:
    """Part 2 A02.FR.07/08: commonName = the station's identity (serial number), organizationName = the CSO
    (SecurityCtrlr.OrganizationName); countryName when known (ISO15118Ctrlr.CountryName, a V2G certificate)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    parts = [x509.NameAttribute(NameOID.COUNTRY_NAME, country)] if country else []
    parts += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    return x509.Name([*parts, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def csr_pem(request: x509.CertificateSigningRequest) -> str:
    from cryptography.hazmat.primitives import serialization

    return request.public_bytes(serialization.Encoding.PEM).decode("ascii")


class FileKeyStore:
    """Keys as checksummed record files `<folder>/<slot>.key` (mode 0600, written atomically); P-256 keys."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def _path(self, slot: str) -> Path:
        if not slot or "/" in slot or slot.startswith("."):
            raise KeyStoreError(f"no such key slot {slot!r}")
        return self._folder / f"{slot}.key"

    def _load(self, slot: str) -> PrivateKey | None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        try:
            text = read_record_file(self._path(slot), KEY_LABEL)
        except Damaged:
            raise KeyStoreError(f"the key file of {slot} is damaged") from None
        if text is None:
            return None
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError):
            raise KeyStoreError(f"the key of {slot} is not an unencrypted PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyStoreError(f"the key of {slot} is neither EC nor RSA")
        return key

    def _write(self, slot: str, key: PrivateKey) -> None:
        from cryptography.hazmat.primitives import serialization

        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        write_record_file(self._path(slot), KEY_LABEL, pem)

    def create(self, slot: str) -> PublicKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())  # os.urandom underneath (OpenSSL's CSPRNG)
        self._write(slot, key)
        return key.public_key()

    def sign_request(self, slot: str, subject: x509.Name) -> x509.CertificateSigningRequest:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        key = self._load(slot)
        if key is None:
            raise KeyStoreError(f"no key in {slot}")
        return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())

    def public_key(self, slot: str) -> PublicKey | None:
        key = self._load(slot)
        return None if key is None else key.public_key()

    def import_key(self, slot: str, pem: bytes) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            raise KeyStoreError(f"the key for {slot} is not an unencrypted PEM private key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyStoreError(f"the key for {slot} is neither EC nor RSA")
        self._write(slot, key)

    def adopt(self, pending: str, slot: str) -> None:
        source = self._path(pending)
        if not source.exists():
            raise KeyStoreError(f"no key in {pending}")
        os.replace(source, self._path(slot))

    def delete(self, slot: str) -> None:
        self._path(slot).unlink(missing_ok=True)

    def tls_key_file(self, slot: str) -> str | None:
        path = self._path(slot)
        return str(path) if path.exists() else None
