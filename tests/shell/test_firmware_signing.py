"""The firmware signature as the shell measures it (L01.FR.03): RSA and ECDSA over SHA-256 of the file, and every
way a signature can be bad. The reason never carries key material."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from firmware_kit import Signer, image, issue

from chargecore.shell.firmware_signing import signature_problem


@pytest.fixture(scope="module")
def root() -> Signer:
    return issue("Test Manufacturer Root", ca=True)


@pytest.fixture
def firmware(tmp_path: Path) -> Path:
    path = tmp_path / "fw.bin"
    path.write_bytes(image("9.9.9", size=3 * 1024 * 1024))  # more than one read chunk
    return path


@pytest.mark.requirements("L01.FR.03")
@pytest.mark.parametrize("rsa_key", [False, True], ids=["ecdsa", "rsa"])
def test_a_signature_by_the_certificates_key_holds(root: Signer, firmware: Path, rsa_key: bool) -> None:
    signer = issue("Firmware Signer", root, rsa_key=rsa_key)
    assert signature_problem(firmware, signer.pem, signer.sign(firmware.read_bytes())) is None


@pytest.mark.requirements("L01.FR.03")
def test_a_tampered_file_fails(root: Signer, firmware: Path) -> None:
    signer = issue("Firmware Signer", root)
    signature = signer.sign(firmware.read_bytes())
    with firmware.open("r+b") as file:
        file.seek(2 * 1024 * 1024)
        file.write(b"X")
    assert signature_problem(firmware, signer.pem, signature) == "the signature does not match the firmware file"


def test_another_keys_signature_fails(root: Signer, firmware: Path) -> None:
    signer, other = issue("Firmware Signer", root), issue("Other", root)
    problem = signature_problem(firmware, signer.pem, other.sign(firmware.read_bytes()))
    assert problem == "the signature does not match the firmware file"


@pytest.mark.parametrize("signature", ["not base64!", "YWJj=extra", ""], ids=["symbols", "padding", "empty"])
def test_a_signature_that_is_not_base64_or_empty_fails(root: Signer, firmware: Path, signature: str) -> None:
    signer = issue("Firmware Signer", root)
    assert signature_problem(firmware, signer.pem, signature) is not None


def test_a_certificate_that_does_not_parse_fails(firmware: Path) -> None:
    problem = signature_problem(firmware, "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n", "AAAA")
    assert problem == "the signing certificate is not a PEM X.509 certificate"


def test_an_unsupported_key_type_fails_and_names_the_type(root: Signer, firmware: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(root.certificate.subject)
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(root.certificate.not_valid_before_utc)
        .not_valid_after(root.certificate.not_valid_after_utc)
        .sign(key, None)
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    signature = base64.b64encode(key.sign(firmware.read_bytes())).decode()
    problem = signature_problem(firmware, pem, signature)
    assert problem is not None and problem.startswith("unsupported signing key type")
