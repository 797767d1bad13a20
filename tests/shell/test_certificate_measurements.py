"""shell/certificates/measurements.py: what the shell measures of a CertificateSigned chain (A02.FR.07-09) and of a
certificate for GetCertificateStatus (M06), checked against values computed independently in the test."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from chargecore.shell.certificates.measurements import measure_chain, ocsp_next_update, ocsp_request_data

NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()


def issue(
    name: str, issuer: Issued | None = None, *, ca: bool = False, days: tuple[int, int] = (-1, 365), **extra: object
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if "ocsp_url" in extra:
        location = x509.UniformResourceIdentifier(str(extra["ocsp_url"]))
        access = x509.AccessDescription(AuthorityInformationAccessOID.OCSP, location)
        builder = builder.add_extension(x509.AuthorityInformationAccess([access]), critical=False)
    signer = key if issuer is None else issuer.key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


ROOT = issue("root", ca=True)
SUB = issue("sub", ROOT, ca=True)
LEAF = issue("CS-SN-1", SUB)


def test_a_good_chain_through_a_sub_ca() -> None:
    facts = measure_chain(LEAF.pem + SUB.pem, [ROOT.certificate], LEAF.key.public_key())
    assert (facts.parsed, facts.trusted, facts.key_matches, facts.common_name) == (True, True, True, "CS-SN-1")
    assert facts.not_after == LEAF.certificate.not_valid_after_utc and facts.problem is None


def test_a_leaf_signed_directly_by_the_root() -> None:
    leaf = issue("CS-SN-1", ROOT)
    assert measure_chain(leaf.pem, [ROOT.certificate], leaf.key.public_key()).trusted


@pytest.mark.parametrize("chain", ["garbage", "", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_unreadable_chains_are_facts_not_exceptions(chain: str) -> None:
    facts = measure_chain(chain, [ROOT.certificate], None)
    assert not facts.parsed and facts.problem


def test_a_100_kb_chain_of_many_certificates_is_refused_as_unreadable() -> None:
    facts = measure_chain(LEAF.pem * 220, [ROOT.certificate], LEAF.key.public_key())
    assert len(LEAF.pem * 220) > 100_000 and not facts.parsed


def test_an_unknown_root_a_wrong_order_and_a_wrong_key() -> None:
    other_root = issue("other", ca=True)
    assert not measure_chain(LEAF.pem + SUB.pem, [other_root.certificate], None).trusted
    assert not measure_chain(SUB.pem + LEAF.pem, [ROOT.certificate], None).trusted
    assert not measure_chain(LEAF.pem, [ROOT.certificate], None).trusted, "the sub-CA is missing"
    facts = measure_chain(LEAF.pem + SUB.pem, [ROOT.certificate], ec.generate_private_key(ec.SECP256R1()).public_key())
    assert facts.trusted and not facts.key_matches


def test_a_non_ca_in_the_middle_breaks_the_chain() -> None:
    not_ca = issue("not-a-ca", ROOT)
    leaf = issue("CS-SN-1", not_ca)
    assert not measure_chain(leaf.pem + not_ca.pem, [ROOT.certificate], None).trusted


def test_validity_is_measured_not_judged() -> None:
    expired = issue("CS-SN-1", ROOT, days=(-30, -1))
    facts = measure_chain(expired.pem, [ROOT.certificate], expired.key.public_key())
    assert facts.trusted and facts.not_after is not None and facts.not_after < NOW


@pytest.mark.requirements("M06.FR.01")
def test_ocsp_request_data_matches_hashes_computed_from_the_der() -> None:
    leaf = issue("EMAID", SUB, ocsp_url="http://ocsp.example/")
    data = ocsp_request_data(leaf.certificate, SUB.certificate)
    spki = SUB.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_bits = spki[-65:]  # the uncompressed P-256 point: the BIT STRING's content after its unused-bits byte
    assert data == {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": hashlib.sha256(SUB.certificate.subject.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.sha256(key_bits).hexdigest(),
        "serialNumber": format(leaf.certificate.serial_number, "x"),
        "responderURL": "http://ocsp.example/",
    }


def test_ocsp_next_update_is_read_from_the_response() -> None:
    next_update = (NOW + timedelta(hours=4)).replace(microsecond=0)
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=LEAF.certificate,
        issuer=SUB.certificate,
        algorithm=hashes.SHA256(),
        cert_status=ocsp.OCSPCertStatus.GOOD,
        this_update=NOW.replace(microsecond=0),
        next_update=next_update,
        revocation_time=None,
        revocation_reason=None,
    )
    response = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, SUB.certificate).sign(SUB.key, hashes.SHA256())
    encoded = base64.b64encode(response.public_bytes(serialization.Encoding.DER)).decode()
    assert ocsp_next_update(encoded) == next_update
    assert ocsp_next_update("not base64!") is None
    assert ocsp_next_update(base64.b64encode(b"junk").decode()) is None
