"""The local CSMS's own small certificate authority (`chargecore csms --ca-dir DIR`), made with `cryptography`.

It lets the demo show A02 end to end: the CSMS serves wss:// with a server certificate of this CA, answers a
station's SignCertificateRequest by signing its CSR (CertificateSigned), and verifies the station's client
certificate at security profile 3 against the same CA. Everything is kept in DIR so that restarts keep the CA a
station trusts: `ca.pem` (give it to the station as --ca-file), `ca.key`, `server.pem`, `server.key` (keys 0600).
This is a demo CA: no revocation, no policy beyond "a valid CSR signature and a commonName".
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LEAF_DAYS = 365
"""How long a station certificate this CA signs is valid."""
CA_DAYS = 3650
MAX_CSR_CHARACTERS = 5500
"""SignCertificateRequest.csr is string(5500)."""


class CaRefused(ValueError):
    """A CSR this CA does not sign (unreadable, bad signature, no commonName); the text says why."""


@dataclass(frozen=True)
class CsmsCa:
    folder: Path
    ca_certificate: x509.Certificate
    ca_key: ec.EllipticCurvePrivateKey

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @classmethod
    def open(cls, folder: Path, host: str = "127.0.0.1") -> CsmsCa:
        """Load the CA kept in `folder`, or create it (and a server certificate for `host`) the first time."""
        folder.mkdir(parents=True, exist_ok=True)
        key_file, cert_file = folder / "ca.key", folder / "ca.pem"
        if key_file.exists() and cert_file.exists():
            key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                raise ValueError(f"{key_file} is not an EC private key")
            ca = cls(folder, x509.load_pem_x509_certificate(cert_file.read_bytes()), key)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chargecore demo CSMS root")])
            builder = _builder(name, name, key.public_key(), CA_DAYS)
            builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            certificate = builder.add_extension(usage, critical=True).sign(key, hashes.SHA256())
            _write(key_file, _private_pem(key))
            _write(cert_file, certificate.public_bytes(serialization.Encoding.PEM))
            ca = cls(folder, certificate, key)
        if not (folder / "server.pem").exists():
            ca._issue_server_certificate(host)
        return ca

    def sign(self, csr_pem: str, days: int = LEAF_DAYS) -> str:
        """The PEM certificate for this CSR (subject as asked, client authentication), signed by the CA."""
        if len(csr_pem) > MAX_CSR_CHARACTERS:
            raise CaRefused(f"CSR of {len(csr_pem)} characters, over {MAX_CSR_CHARACTERS}")
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as error:
            raise CaRefused(f"not a PEM CSR: {error}") from None
        if not csr.is_signature_valid:
            raise CaRefused("the CSR's signature does not verify")
        if not csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
            raise CaRefused("the CSR has no commonName")
        builder = _builder(csr.subject, self.ca_certificate.subject, csr.public_key(), days)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False
        )
        certificate = builder.sign(self.ca_key, hashes.SHA256())
        return certificate.public_bytes(serialization.Encoding.PEM).decode()

    def server_context(self) -> ssl.SSLContext:
        """TLS server side: this CA's server certificate; a client certificate is verified against the CA when
        the station presents one (profile 3) and not required otherwise (profile 2 uses Basic auth)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.folder / "server.pem", self.folder / "server.key")
        context.load_verify_locations(self.ca_file)
        context.verify_mode = ssl.CERT_OPTIONAL
        return context

    @staticmethod
    def client_certificate(ssl_object: object) -> str:
        """How a log line names the client certificate a station presented on a TLS connection ("" when none)."""
        der = ssl_object.getpeercert(binary_form=True) if isinstance(ssl_object, ssl.SSLObject) else None
        if not der:
            return ""
        certificate = x509.load_der_x509_certificate(der)
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        common_name = names[0].value if names else "?"
        return f" with client certificate CN={common_name!s} serial {certificate.serial_number:x}"[:120]

    def _issue_server_certificate(self, host: str) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        builder = _builder(name, self.ca_certificate.subject, key.public_key(), LEAF_DAYS)
        builder = builder.add_extension(x509.SubjectAlternativeName(_alt_names(host)), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        certificate = builder.sign(self.ca_key, hashes.SHA256())
        _write(self.folder / "server.key", _private_pem(key))
        _write(self.folder / "server.pem", certificate.public_bytes(serialization.Encoding.PEM))


def _builder(subject: x509.Name, issuer: x509.Name, public_key: object, days: int) -> x509.CertificateBuilder:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
    )


def _alt_names(host: str) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    return list(dict.fromkeys(names))


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, data: bytes) -> None:
    """Written 0600 from the start (a private key is never readable by others, not even for a moment)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
