"""The trust anchors of one attempt during a CSMS root migration (M05.FR.13-16): the store hands the link only the
roots the `Connect` names, and a root another root signed is an anchor on its own (a real TLS handshake on
loopback)."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest
from issuer import Issued, issue, make_root

from chargecore.shell.certificates import x509_facts
from chargecore.shell.certificates.store import CertificateStore
from chargecore.shell.link import TlsCredentials, tls_context


@pytest.fixture
def roots() -> tuple[Issued, Issued]:
    old = make_root("old csms root")
    return old, issue(old, "new csms root", ca=True)


def stored(tmp_path: Path, *roots: Issued) -> CertificateStore:
    store = CertificateStore(tmp_path / "data")
    for root in roots:
        assert store.install_ca("CSMSRootCertificate", root.pem).problem is None
    return store


def fingerprint(root: Issued) -> str:
    return x509_facts.fingerprint(root.certificate)


def test_only_the_named_roots_are_anchors_and_never_none_while_roots_are_installed(
    tmp_path: Path, roots: tuple[Issued, Issued]
) -> None:
    old, new = roots
    store = stored(tmp_path, old, new)
    assert store.csms_roots_pem((fingerprint(new),)) == new.pem
    assert store.csms_roots_pem((fingerprint(old),)) == old.pem
    everything = store.csms_roots_pem()
    assert everything is not None and old.pem in everything and new.pem in everything
    assert store.csms_roots_pem(("no-such-root",)) == everything, "a stale name: every root, not the system's CAs"


def handshake(folder: Path, anchor_pem: str, server: Issued) -> str | None:
    """A TLS handshake on loopback trusting `anchor_pem`: None when it verified, else OpenSSL's reason."""
    cert, key = folder / "server.pem", folder / "server.key"
    cert.write_text(server.pem, encoding="ascii")
    key.write_text(server.key_pem, encoding="ascii")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        try:
            with context.wrap_socket(connection, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        client = tls_context(TlsCredentials(anchor_pem))
        with socket.create_connection(("127.0.0.1", port)) as raw, client.wrap_socket(raw, server_hostname="127.0.0.1"):
            return None
    except ssl.SSLError as error:
        return str(error.reason)
    finally:
        thread.join(5)
        listener.close()


@pytest.mark.requirements("M05.FR.13", "M05.FR.14")
def test_a_root_signed_by_another_root_is_an_anchor_of_its_own(tmp_path: Path, roots: tuple[Issued, Issued]) -> None:
    old, new = roots
    under_new = issue(new, "127.0.0.1", usage="server", ip="127.0.0.1")
    under_old = issue(old, "127.0.0.1", usage="server", ip="127.0.0.1")
    assert handshake(tmp_path, new.pem, under_new) is None, "the new root alone verifies its CSMS (partial chain)"
    assert handshake(tmp_path, new.pem, under_old) == "CERTIFICATE_VERIFY_FAILED", "and not the old root's"
    assert handshake(tmp_path, old.pem, under_old) is None
