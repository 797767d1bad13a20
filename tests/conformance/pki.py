"""A throwaway PKI for TLS tests (security profiles 2 and 3): a test CA, a CA that signed nothing, a server
certificate for 127.0.0.1 signed by the test CA, the invalid server certificates of TC_A_05 (same key), and the
station's client certificate (ChargingStationCertificate, profile 3) signed by the test CA plus one for the same
key signed by the other CA, made with the openssl command line tool (the `cryptography` package is not a
dependency)."""

from __future__ import annotations

import re
import shutil
import socket
import ssl
import subprocess
import threading
import warnings
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SERVER_EXTENSIONS = """\
subjectAltName = IP:127.0.0.1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
CLIENT_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""
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
    """Write the PKI into `folder`; skips the calling test when openssl is not installed."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line tool is not installed")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=30)

    for name in ("ca", "other-ca"):
        openssl("req", "-x509", *key, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
                "-subj", f"/CN=chargecore test {name}", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    (folder / "server.ext").write_text(SERVER_EXTENSIONS, encoding="utf-8")
    (folder / "wrong-name.ext").write_text(SERVER_EXTENSIONS.replace("IP:127.0.0.1", f"DNS:{WRONG_NAME}"), "utf-8")
    openssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    openssl("req", "-new", "-key", "server.key", "-out", "wrong-name.csr", "-subj", f"/CN={WRONG_NAME}")

    def sign(name: str, csr: str, ca: str, days: str, extensions: str) -> Path:
        openssl("x509", "-req", "-in", csr, "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", days, "-extfile", extensions)  # fmt: skip
        return folder / f"{name}.pem"

    valid = sign("server", "server.csr", "ca", "2", "server.ext")
    invalid = {
        "unknown": sign("unknown", "server.csr", "other-ca", "2", "server.ext"),
        "expired": sign("expired", "server.csr", "ca", "-1", "server.ext"),  # notAfter a day ago
        "wrong-name": sign("wrong-name", "wrong-name.csr", "ca", "2", "wrong-name.ext"),
    }
    (folder / "client.ext").write_text(CLIENT_EXTENSIONS, encoding="utf-8")
    openssl("req", *key, "-keyout", "client.key", "-out", "client.csr", "-subj", f"/O=chargecore/CN={STATION_SERIAL}")
    client = sign("client", "client.csr", "ca", "2", "client.ext")
    untrusted = sign("untrusted-client", "client.csr", "other-ca", "2", "client.ext")
    ca, other_ca = folder / "ca.pem", folder / "other-ca.pem"
    return Pki(ca, other_ca, valid, folder / "server.key", invalid, client, folder / "client.key", untrusted)


def public_key(pem: str) -> tuple[str, int]:
    """(algorithm, bits) of a PEM certificate's public key as openssl reads it, e.g. ("id-ecPublicKey", 256)."""
    text = subprocess.run(
        ["openssl", "x509", "-noout", "-text"], input=pem, text=True, check=True, capture_output=True, timeout=30
    ).stdout
    algorithm = re.search(r"Public Key Algorithm: (\S+)", text)
    bits = re.search(r"Public-Key: \((\d+) bit\)", text)
    assert algorithm and bits, text
    return algorithm[1], int(bits[1])


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
