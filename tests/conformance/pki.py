"""A throwaway PKI for TLS tests (security profiles 2 and 3): a test CA, a CA that signed nothing, a server
certificate for 127.0.0.1 signed by the test CA, the invalid server certificates of TC_A_05 (same key), and the
station's client certificate (ChargingStationCertificate, profile 3) signed by the test CA plus one for the same
key signed by the other CA, made with `cryptography` (issuer.py) and written as PEM files."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from issuer import Issued, issue, make_root, new_key

STATION_SERIAL = "CC-SN-000042"
"""The station's unique serial number: the commonName of its client certificate (TC_A_07 tool validations)."""
WRONG_NAME = "csms.invalid"
"""The name on the wrong-name certificate; the station dials 127.0.0.1."""


@dataclass(frozen=True)
class Pki:
    ca: Path
    other_ca: Path
    server_cert: Path
    server_key: Path
    invalid_certs: Mapping[str, Path]
    """Server certificates a station must refuse, by kind: "unknown" (signed by the other CA), "expired",
    "wrong-name" (for WRONG_NAME, not 127.0.0.1)."""
    client_cert: Path
    """The station's certificate, CN = STATION_SERIAL, signed by the test CA."""
    client_key: Path
    untrusted_client_cert: Path
    """The same station certificate signed by the other CA: a CSMS trusting the test CA refuses it."""
    authority: Issued
    """The test CA with its key, to issue more certificates under it (issuer.issue)."""

    def server_context(self, cert: Path | None = None) -> ssl.SSLContext:
        """A TLS server context serving `cert` (default: the valid certificate). Loading another certificate into
        it later serves that one to the connections accepted from then on."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert or self.server_cert, self.server_key)
        return context

    def client_certificate_context(self) -> ssl.SSLContext:
        """A server context (valid certificate) that requires a client certificate signed by the test CA, as a
        CSMS at security profile 3 does."""
        context = self.server_context()
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(self.ca)
        return context


def make_pki(folder: Path) -> Pki:
    """Write the PKI into `folder`."""

    def write(name: str, text: str) -> Path:
        path = folder / name
        path.write_text(text, encoding="ascii")
        return path

    ca, other_ca = make_root("chargecore test ca"), make_root("chargecore test other-ca")
    server_key, client_key = new_key(), new_key()
    valid = issue(ca, "127.0.0.1", usage="server", ip="127.0.0.1", key=server_key)
    invalid = {
        "unknown": issue(other_ca, "127.0.0.1", usage="server", ip="127.0.0.1", key=server_key),
        "expired": issue(ca, "127.0.0.1", usage="server", ip="127.0.0.1", key=server_key, starts_in=-3, days=2),
        "wrong-name": issue(ca, WRONG_NAME, usage="server", dns=WRONG_NAME, key=server_key),
    }
    client = issue(ca, STATION_SERIAL, organization="chargecore", usage="client", key=client_key)
    untrusted = issue(other_ca, STATION_SERIAL, organization="chargecore", usage="client", key=client_key)
    return Pki(
        ca=write("ca.pem", ca.pem),
        other_ca=write("other-ca.pem", other_ca.pem),
        server_cert=write("server.pem", valid.pem),
        server_key=write("server.key", valid.key_pem),
        invalid_certs={kind: write(f"{kind}.pem", made.pem) for kind, made in invalid.items()},
        client_cert=write("client.pem", client.pem),
        client_key=write("client.key", client.key_pem),
        untrusted_client_cert=write("untrusted-client.pem", untrusted.pem),
        authority=ca,
    )


def public_key(pem: str) -> tuple[str, int]:
    """(algorithm, bits) of a PEM certificate's public key, named as openssl does, e.g. ("id-ecPublicKey", 256)."""
    key = x509.load_pem_x509_certificate(pem.encode("ascii")).public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "rsaEncryption", key.key_size
    assert isinstance(key, ec.EllipticCurvePublicKey), type(key)
    return "id-ecPublicKey", key.curve.key_size


def subject_common_name(peer: Mapping[str, Any]) -> str | None:
    """The subject's commonName of a certificate as `SSLSocket.getpeercert()` gives it ({}: none was sent)."""
    subject = dict(pair for rdn in peer.get("subject", ()) for pair in rdn)
    return subject.get("commonName")


def old_tls_only(context: ssl.SSLContext) -> None:
    """Let `context` speak only TLS 1.0 and 1.1 (TC_A_06), which OpenSSL 3 allows at security level 0 only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")


def current_tls_only(context: ssl.SSLContext) -> None:
    """Undo `old_tls_only`: TLS 1.2 and above, default cipher suites."""
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    context.set_ciphers("DEFAULT:@SECLEVEL=2")


def old_tls_works(pki: Pki) -> bool:
    """Can the local OpenSSL complete a TLS 1.0/1.1 handshake at all? Some builds leave the old versions out."""
    server, client = pki.server_context(), ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.load_verify_locations(pki.ca)
    old_tls_only(server)
    old_tls_only(client)
    server_end, client_end = socket.socketpair()
    with server_end, client_end:
        server_end.settimeout(5)
        client_end.settimeout(5)

        def accept() -> None:
            with suppress(OSError):
                server.wrap_socket(server_end, server_side=True)

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            with client.wrap_socket(client_end, server_hostname="127.0.0.1") as tls:
                return tls.version() in ("TLSv1", "TLSv1.1")
        except OSError:
            return False
        finally:
            thread.join(5)
