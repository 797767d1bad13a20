"""shell/certificates/renewal.py with a real CertificateStore: the pending key of a CSR, its reuse by a repeat,
the chain facts against the CSMS roots, and the previous certificate kept, dropped or put back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chargecore.pure.blocks.security.certificate_store import StoreChanged
from chargecore.pure.effects import ChainFacts, ChainQuestion, CsrQuestion, InstallOwnQuestion
from chargecore.shell.certificates import renewal
from chargecore.shell.certificates.store import CertificateStore

USE = "ChargingStationCertificate"


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, public_key: object, issuer: str, ca: bool) -> str:
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


ROOT_KEY = ec.generate_private_key(ec.SECP256R1())
ROOT = _certificate("root", ROOT_KEY, ROOT_KEY.public_key(), "root", ca=True)


def store_with_root(tmp_path: Path) -> CertificateStore:
    store = CertificateStore(tmp_path)
    assert store.install_ca("CSMSRootCertificate", ROOT).problem is None
    return store


def csr(store: CertificateStore, new_key: bool = True) -> x509.CertificateSigningRequest:
    text = renewal.answer(store, CsrQuestion(USE, "SN-1", "chargecore", "DE", new_key=new_key))
    assert isinstance(text, str)
    return x509.load_pem_x509_csr(text.encode())


def signed_for(request: x509.CertificateSigningRequest) -> str:
    return _certificate("SN-1", ROOT_KEY, request.public_key(), "root", ca=False)


def test_a_csr_for_a_new_pending_key_and_a_repeat_for_the_same_key(tmp_path: Path) -> None:
    store = store_with_root(tmp_path)
    first = csr(store)
    assert first.is_signature_valid
    assert [a.value for a in first.subject] == ["DE", "chargecore", "SN-1"]
    assert csr(store, new_key=False).public_key() == first.public_key(), "a repeat keeps the key"
    assert csr(store).public_key() != first.public_key(), "a new request makes a new key"


def test_chain_facts_use_the_csms_roots_and_the_pending_key(tmp_path: Path) -> None:
    store = store_with_root(tmp_path)
    request = csr(store)
    facts = renewal.answer(store, ChainQuestion("ChargingStationCertificate", signed_for(request)))
    assert isinstance(facts, ChainFacts)
    assert (facts.parsed, facts.trusted, facts.key_matches, facts.common_name) == (True, True, True, "SN-1")


def test_install_keeps_the_previous_pair_until_dropped_and_can_put_it_back(tmp_path: Path) -> None:
    store = store_with_root(tmp_path)
    first = signed_for(csr(store))
    assert isinstance(renewal.answer(store, InstallOwnQuestion(USE, first)), StoreChanged)
    assert store.client_certificate() is not None
    second = signed_for(csr(store))
    changed = renewal.answer(store, InstallOwnQuestion(USE, second))
    assert isinstance(changed, StoreChanged) and changed.problem is None
    assert store.certificates_of(USE)[0] == x509.load_pem_x509_certificate(second.encode())
    assert store.restore_previous(USE), "the CSMS refused the new one: the previous pair comes back"
    assert store.certificates_of(USE)[0] == x509.load_pem_x509_certificate(first.encode())
    _, key_file = store.client_certificate() or ("", "")
    key = serialization.load_pem_private_key(Path(key_file).read_text().split("\n", 1)[1].encode(), None)
    assert key.public_key() == x509.load_pem_x509_certificate(first.encode()).public_key()
    assert not store.restore_previous(USE), "only once"
    renewal.answer(store, InstallOwnQuestion(USE, signed_for(csr(store))))
    store.drop_previous(USE)
    assert not store.restore_previous(USE)
    again = CertificateStore(tmp_path)
    assert not again.notices, "the store reads back cleanly (the previous folder is not mistaken for a use)"
