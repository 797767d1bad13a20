"""The certificate store's files (shell/certificates/): hash data as Part 2 defines them (checked two independent
ways), seeding only at the first start, damage found and set aside, keys in 0600 files that OpenSSL loads, a
station certificate whose key does not match refused, and the operator's `certificates` listing."""

from __future__ import annotations

import os
import ssl
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from issuer import Issued, expected_hash_data, issue, make_root, new_key

from chargecore.pure.blocks.security.certificate_store import Certificates
from chargecore.shell.certificates.keys import FileKeyStore, KeyStoreError, csr_subject
from chargecore.shell.certificates.record_files import Damaged, read_record_file, write_record_file
from chargecore.shell.certificates.store import CertificateStore
from chargecore.shell.cli import describe_certificates
from chargecore.shell.runtime import ChargingStation, ConfigurationError, StationOptions


def files(tmp_path: Path, *issued: tuple[str, str]) -> list[str]:
    paths = []
    for name, text in issued:
        path = tmp_path / name
        path.write_text(text)
        paths.append(str(path))
    return paths


@pytest.fixture
def chain() -> tuple[Issued, Issued, Issued]:
    root = make_root("store root")
    sub = issue(root, "store sub-CA", ca=True)
    return root, sub, issue(sub, "CS-STORE-1", organization="chargecore", usage="client")


def seeded(tmp_path: Path, chain: tuple[Issued, Issued, Issued]) -> CertificateStore:
    root, sub, leaf = chain
    ca, cert, key = files(tmp_path, ("ca.pem", root.pem), ("cert.pem", leaf.chain_pem(sub)), ("key.pem", leaf.key_pem))
    store = CertificateStore(tmp_path / "data")
    store.seed(ca, cert, key)
    return store


def test_the_hash_data_are_those_part_2_defines(tmp_path: Path, chain: tuple[Issued, Issued, Issued]) -> None:
    root, sub, leaf = chain
    store = seeded(tmp_path, chain)
    by_use = {entry.use: entry for entry in store.installed()}
    assert by_use["CSMSRootCertificate"].certificate.hash_data.payload() == expected_hash_data(root)
    own = by_use["ChargingStationCertificate"]
    assert own.certificate.hash_data.payload() == expected_hash_data(leaf, sub)
    assert [child.hash_data.payload() for child in own.chain] == [expected_hash_data(sub, root)]
    # a second, independent computation: the CertID of an OCSP request (RFC 6960) hashes the same fields
    request = ocsp.OCSPRequestBuilder().add_certificate(leaf.certificate, sub.certificate, hashes.SHA256()).build()
    assert own.certificate.hash_data.issuer_name_hash == request.issuer_name_hash.hex()
    assert own.certificate.hash_data.issuer_key_hash == request.issuer_key_hash.hex()
    assert int(own.certificate.hash_data.serial_number, 16) == request.serial_number


def test_a_serial_with_a_leading_zero_nibble_is_written_without_it(tmp_path: Path) -> None:
    root = make_root("serial root")
    small = issue(root, "small serial", ca=True, serial=0x0ABC)
    store = CertificateStore(tmp_path / "data")
    store.install_ca("MORootCertificate", small.pem)
    check = store.check("MORootCertificate", small.pem)
    assert check.chain[0].hash_data.serial_number == "abc"


def test_seeding_happens_at_the_first_start_only(tmp_path: Path, chain: tuple[Issued, Issued, Issued]) -> None:
    store = seeded(tmp_path, chain)
    (root,) = [e for e in store.installed() if e.use == "CSMSRootCertificate"]
    assert store.remove("CSMSRootCertificate", root.certificate.fingerprint).problem is None
    store.install_ca("CSMSRootCertificate", make_root("installed by the CSMS").pem)
    again = seeded(tmp_path, chain)  # a restart with the same options
    roots = [e.certificate.subject_common_name for e in again.installed() if e.use == "CSMSRootCertificate"]
    assert roots == ["installed by the CSMS"], "the deleted seed root does not come back"


def test_keys_are_0600_files_tls_loads_and_never_in_an_error(
    tmp_path: Path, chain: tuple[Issued, Issued, Issued]
) -> None:
    store = seeded(tmp_path, chain)
    client = store.client_certificate()
    assert client is not None
    cert_file, key_file = client
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.folder).st_mode) == 0o700
    ssl.create_default_context().load_cert_chain(cert_file, key_file)  # OpenSSL skips the checksum header
    keys = FileKeyStore(tmp_path / "keys")
    with pytest.raises(KeyStoreError) as refused:
        keys.import_key(
            "ChargingStationCertificate", b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n"
        )
    assert "c2VjcmV0" not in str(refused.value)


def test_a_key_store_makes_csrs_and_adopts_a_pending_key(tmp_path: Path) -> None:
    keys = FileKeyStore(tmp_path / "keys")
    public = keys.create("ChargingStationCertificate.pending")
    request = keys.sign_request("ChargingStationCertificate.pending", csr_subject("CS-1", "chargecore"))
    assert request.is_signature_valid
    assert request.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert request.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == "CS-1"
    keys.adopt("ChargingStationCertificate.pending", "ChargingStationCertificate")
    assert keys.public_key("ChargingStationCertificate.pending") is None
    assert keys.public_key("ChargingStationCertificate") is not None


def test_a_damaged_file_is_moved_aside_and_the_others_kept(
    tmp_path: Path, chain: tuple[Issued, Issued, Issued]
) -> None:
    store = seeded(tmp_path, chain)
    store.install_ca("MORootCertificate", make_root("mo").pem)
    (damaged,) = (store.folder / "CSMSRootCertificate").glob("*.pem")
    damaged.write_bytes(damaged.read_bytes().replace(b"M", b"N", 3))
    reopened = CertificateStore(tmp_path / "data")
    assert {e.use for e in reopened.installed()} == {"MORootCertificate", "ChargingStationCertificate"}
    ((level, line),) = reopened.notices
    assert level == "warning" and "damaged, moved aside" in line and "CSMSRootCertificate lost" in line
    assert not damaged.exists() and list(damaged.parent.glob("*.damaged-*"))


def test_a_record_file_is_checked_and_written_whole(tmp_path: Path) -> None:
    path = tmp_path / "f.pem"
    write_record_file(path, "label", "body\n")
    assert read_record_file(path, "label") == "body\n"
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(Damaged):
        read_record_file(path, "other label")
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(Damaged):
        read_record_file(path, "label")


def test_a_station_certificate_with_another_key_is_refused(
    tmp_path: Path, chain: tuple[Issued, Issued, Issued]
) -> None:
    root, _, leaf = chain
    other_key = Issued(leaf.certificate, new_key()).key_pem
    ca, cert, key = files(tmp_path, ("ca.pem", root.pem), ("cert.pem", leaf.pem), ("other.key", other_key))
    options = StationOptions("wss://127.0.0.1:1", "CS", tmp_path / "data", ca_file=ca, client_cert=cert, client_key=key)
    with pytest.raises(ConfigurationError, match="does not belong"):
        ChargingStation(options)


def test_the_operator_listing_names_each_certificate_and_its_expiry(
    tmp_path: Path, chain: tuple[Issued, Issued, Issued]
) -> None:
    store = seeded(tmp_path, chain)
    text = describe_certificates(Certificates(store.installed(), True))
    leaf = chain[2]
    assert "CSMSRootCertificate: CN=store root" in text
    assert "ChargingStationCertificate: CN=CS-STORE-1, issuer CN=store sub-CA" in text
    assert "sub-CA: CN=store sub-CA" in text
    assert f"{leaf.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC" in text


def test_a_certificate_that_cannot_be_described_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cryptography reads fields lazily: an unknown key type or a malformed extension raises only when asked."""
    store = CertificateStore(tmp_path / "data")

    def unusable(*_: object) -> None:
        raise ValueError("error parsing asn1 value")

    monkeypatch.setattr("chargecore.shell.certificates.x509_facts.describe_chain", unusable)
    check = store.check("CSMSRootCertificate", make_root("odd").pem)
    assert check.chain == () and check.problem == "unusable certificate: ValueError"


def test_a_damaged_key_is_a_key_store_error_that_names_only_the_slot(tmp_path: Path) -> None:
    keys = FileKeyStore(tmp_path / "keys")
    keys.create("V2GCertificateChain")
    path = tmp_path / "keys" / "V2GCertificateChain.key"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(KeyStoreError, match=r"^the key file of V2GCertificateChain is damaged$"):
        keys.public_key("V2GCertificateChain")


def test_an_own_chain_is_removed_only_by_its_own_fingerprint(
    tmp_path: Path, chain: tuple[Issued, Issued, Issued]
) -> None:
    store = seeded(tmp_path, chain)
    (own,) = [e for e in store.installed() if e.use == "ChargingStationCertificate"]
    assert store.remove("ChargingStationCertificate", "0" * 64).problem is not None
    assert own in store.installed()
    assert store.remove("ChargingStationCertificate", own.certificate.fingerprint).problem is None
    assert store.client_certificate() is None, "the chain and its key are gone"


def test_a_chain_for_a_pending_key_is_installed_with_that_key(
    tmp_path: Path, chain: tuple[Issued, Issued, Issued]
) -> None:
    """The renewal path: a key made for a CSR, the certificate signed for it, installed; TLS loads the pair."""
    sub = chain[1]
    store = seeded(tmp_path, chain)
    pending = "ChargingStationCertificate.pending"
    store.keys.create(pending)
    request = store.keys.sign_request(pending, csr_subject("CS-STORE-1", "chargecore"))
    now = datetime.now(UTC)
    renewed = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(sub.certificate.subject)
        .public_key(request.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(sub.key, hashes.SHA256())
    )
    pem = renewed.public_bytes(serialization.Encoding.PEM).decode() + sub.pem
    assert store.install_own("ChargingStationCertificate", pem, pending_key=pending).problem is None
    client = store.client_certificate()
    assert client is not None
    ssl.create_default_context().load_cert_chain(*client)  # the new chain and the adopted key belong together
    (own,) = [e for e in store.installed() if e.use == "ChargingStationCertificate"]
    assert own.certificate.hash_data.serial_number == format(renewed.serial_number, "x")
    assert store.keys.public_key(pending) is None


class RecordingKeys(FileKeyStore):
    """An integrator's key store (here the file one, recording what the station asks of it)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.asked: list[tuple[str, str]] = []

    def import_key(self, slot: str, pem: bytes) -> None:
        self.asked.append(("import_key", slot))
        super().import_key(slot, pem)

    def tls_key_file(self, slot: str) -> str | None:
        self.asked.append(("tls_key_file", slot))
        return super().tls_key_file(slot)


def test_the_station_keeps_its_key_where_the_integrators_key_store_says(
    tmp_path: Path, chain: tuple[Issued, Issued, Issued]
) -> None:
    root, sub, leaf = chain
    ca, cert, key = files(tmp_path, ("ca.pem", root.pem), ("cert.pem", leaf.chain_pem(sub)), ("key.pem", leaf.key_pem))
    keys = RecordingKeys(tmp_path / "secure-element")
    options = StationOptions("wss://127.0.0.1:1", "CS", tmp_path / "data", ca_file=ca, client_cert=cert, client_key=key)
    station = ChargingStation(options, keys=keys)
    try:
        assert ("import_key", "ChargingStationCertificate") in keys.asked
        assert (tmp_path / "secure-element" / "ChargingStationCertificate.key").exists()
        assert not (tmp_path / "data" / "certificates" / "keys").exists(), "no key file in the default place"
        assert station.state.identity.has_client_certificate
    finally:
        station.stop()
