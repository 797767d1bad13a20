"""`chargecore csms --ca-dir`: the CSMS's small CA signs a station's CSR (A02), serves wss:// and verifies client
certificates (profile 3). A raw websocket-client plays the station, so every frame is checked as sent."""

from __future__ import annotations

import json
import ssl
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargecore.tools.csms import LocalCsms
from chargecore.tools.csms_ca import CaRefused, CsmsCa


def make_csr(common_name: str | None = "CS-SN-1") -> tuple[ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "chargecore")]
    if common_name is not None:
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names)).sign(key, hashes.SHA256())
    return key, csr.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def ca(tmp_path: Path) -> CsmsCa:
    return CsmsCa.open(tmp_path / "ca")


def test_the_ca_is_kept_in_its_folder_with_private_keys_0600(ca: CsmsCa) -> None:
    for name in ("ca.key", "server.key"):
        assert stat.S_IMODE((ca.folder / name).stat().st_mode) == 0o600
    again = CsmsCa.open(ca.folder)
    assert again.ca_certificate == ca.ca_certificate, "a restart keeps the CA the stations trust"


def test_a_csr_is_signed_for_its_key_and_subject(ca: CsmsCa) -> None:
    key, csr = make_csr()
    leaf = x509.load_pem_x509_certificate(ca.sign(csr).encode())
    assert leaf.public_key() == key.public_key()
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "CS-SN-1"
    leaf.verify_directly_issued_by(ca.ca_certificate)


@pytest.mark.parametrize(
    ("csr", "why"),
    [("not a csr", "not a PEM CSR"), ("A" * 6000, "over 5500"), (make_csr(None)[1], "no commonName")],
)
def test_bad_csrs_are_refused(ca: CsmsCa, csr: str, why: str) -> None:
    with pytest.raises(CaRefused, match=why):
        ca.sign(csr)


@pytest.fixture
def csms(ca: CsmsCa) -> Iterator[LocalCsms]:
    with LocalCsms(on_log=lambda _line: None, ca=ca) as running:
        yield running


def dial(csms: LocalCsms, ca: CsmsCa, cert: Path | None = None, key: Path | None = None) -> websocket.WebSocket:
    context = ssl.create_default_context(cafile=str(ca.ca_file))
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    return websocket.create_connection(
        csms.url + "/CS001", subprotocols=["ocpp2.0.1"], timeout=5, sslopt={"context": context}
    )


def test_sign_certificate_is_accepted_then_certificate_signed_follows(csms: LocalCsms, ca: CsmsCa) -> None:
    assert csms.url.startswith("wss://")
    key, csr = make_csr()
    ws = dial(csms, ca)
    ws.send(json.dumps([2, "m1", "SignCertificate", {"csr": csr, "certificateType": "ChargingStationCertificate"}]))
    assert json.loads(ws.recv()) == [3, "m1", {"status": "Accepted"}]
    kind, message_id, action, payload = json.loads(ws.recv())
    assert (kind, action, payload["certificateType"]) == (2, "CertificateSigned", "ChargingStationCertificate")
    leaf = x509.load_pem_x509_certificate(payload["certificateChain"].encode())
    assert leaf.public_key() == key.public_key()
    ws.send(json.dumps([3, message_id, {"status": "Accepted"}]))
    csms.wait_for(lambda r: r.action == "CertificateSigned" and r.kind == "CALLRESULT")
    ws.close()


def _client_files(folder: Path, chain: str, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert, key_file = folder / "client.pem", folder / "client.key"
    cert.write_text(chain)
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, key_file


def test_a_client_certificate_of_the_ca_is_verified_and_one_of_another_ca_refused(
    csms: LocalCsms, ca: CsmsCa, tmp_path: Path
) -> None:
    key, csr = make_csr()
    dial(csms, ca, *_client_files(tmp_path, ca.sign(csr), key)).close()
    stranger = CsmsCa.open(tmp_path / "other")
    other_key, other_csr = make_csr()
    with pytest.raises((ssl.SSLError, ConnectionError, websocket.WebSocketException)):
        dial(csms, ca, *_client_files(tmp_path, stranger.sign(other_csr), other_key)).recv()


def test_without_a_ca_sign_certificate_is_rejected() -> None:
    with LocalCsms(on_log=lambda _line: None) as plain:
        ws = websocket.create_connection(plain.url + "/CS001", subprotocols=["ocpp2.0.1"], timeout=5)
        ws.send(json.dumps([2, "m1", "SignCertificate", {"csr": make_csr()[1]}]))
        reply: list[Any] = json.loads(ws.recv())
        assert reply == [3, "m1", {"status": "Rejected"}]
        ws.close()
