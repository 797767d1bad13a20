"""A small certificate authority for tests, made with `cryptography`: root CAs, intermediates and leaves with a
chosen commonName, organisation, validity, key and extensions, as objects and as PEM. Every certificate test
builds the certificates it needs from here (valid, expired, not yet valid, wrong key, unknown root ...).

    root = make_root("test root")
    sub = issue(root, "test sub-CA", ca=True)
    leaf = issue(sub, "CC-SN-000042", organization="chargecore", usage="client")
    leaf.pem, leaf.key_pem, leaf.chain_pem(sub)
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
Usage = Literal["server", "client", "none"]


@dataclass(frozen=True)
class Issued:
    """A certificate with its private key."""

    certificate: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> str:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")

    def chain_pem(self, *issuers: Issued) -> str:
        """This certificate followed by `issuers` (leaf first), as one PEM text."""
        return "".join(part.pem for part in (self, *issuers))


def new_key(kind: Literal["ec", "rsa"] = "ec") -> PrivateKey:
    """A P-256 key (fast), or a 2048-bit RSA key."""
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str, organization: str | None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    return x509.Name([*parts, x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(days: float, starts_in: float) -> tuple[datetime, datetime]:
    """(notBefore, notAfter): starting `starts_in` days from now (negative: in the past), `days` long."""
    start = datetime.now(UTC) + timedelta(days=starts_in)
    return start, start + timedelta(days=days)


def make_root(
    common_name: str,
    *,
    organization: str | None = None,
    days: float = 2,
    starts_in: float = -1 / 24,
    key: PrivateKey | None = None,
) -> Issued:
    """A self-signed CA certificate."""
    key = key or new_key()
    name = _name(common_name, organization)
    not_before, not_after = _validity(days, starts_in)
    builder = _ca_extensions(
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after),
        key,
    )
    return Issued(builder.sign(key, hashes.SHA256()), key)


def issue(
    issuer: Issued,
    common_name: str,
    *,
    organization: str | None = None,
    ca: bool = False,
    usage: Usage = "none",
    days: float = 2,
    starts_in: float = -1 / 24,
    key: PrivateKey | None = None,
    ip: str | None = None,
    dns: str | None = None,
    serial: int | None = None,
) -> Issued:
    """A certificate for `common_name` signed by `issuer`: a CA (`ca`), or a leaf for TLS `usage`, valid for
    `days` from `starts_in` days from now: starts_in=-3, days=1 is expired; starts_in=1 is not yet valid."""
    key = key or new_key()
    not_before, not_after = _validity(days, starts_in)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organization))
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    builder = _ca_extensions(builder, key) if ca else _leaf_extensions(builder, key, usage, ip, dns)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def _ca_extensions(builder: x509.CertificateBuilder, key: PrivateKey) -> x509.CertificateBuilder:
    usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    return (
        builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )


def _leaf_extensions(
    builder: x509.CertificateBuilder, key: PrivateKey, usage: Usage, ip: str | None, dns: str | None
) -> x509.CertificateBuilder:
    key_usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    builder = (
        builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if usage != "none":
        purpose = ExtendedKeyUsageOID.SERVER_AUTH if usage == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
    names: list[x509.GeneralName] = []
    if ip:
        names.append(x509.IPAddress(IPv4Address(ip)))
    if dns:
        names.append(x509.DNSName(dns))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder


# --- CertificateHashData computed independently of the station (for assertions) ------------------------------


def _der_value(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of the value, end of the value) of the DER element at offset `at`."""
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    return tag, start, start + length


def expected_hash_data(certificate: Issued | x509.Certificate, issuer: Issued | None = None) -> dict[str, str]:
    """The OCPP CertificateHashData of `certificate` (SHA256), computed from the DER by hand, the way Part 2 words
    it: issuerNameHash over the DER issuer Name, issuerKeyHash over the issuer's subjectPublicKey BIT STRING value
    (without tag, length and the unused-bits octet), serialNumber in hex without leading zeros."""
    if isinstance(certificate, x509.Certificate):
        assert issuer is not None, "a bare certificate needs its issuer"
        certificate = Issued(certificate, issuer.key)
    issuer = issuer or certificate
    spki = issuer.key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, body, _ = _der_value(spki, 0)  # SubjectPublicKeyInfo SEQUENCE
    _, _, algorithm_end = _der_value(spki, body)  # AlgorithmIdentifier
    tag, bits, bits_end = _der_value(spki, algorithm_end)
    assert tag == 0x03, "subjectPublicKey is a BIT STRING"
    key_bits = spki[bits + 1 : bits_end]
    issuer_name = certificate.certificate.issuer.public_bytes()
    return {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(issuer_name).hexdigest(),
        "issuerKeyHash": hashlib.sha256(key_bits).hexdigest(),
        "serialNumber": format(certificate.certificate.serial_number, "x"),
    }
