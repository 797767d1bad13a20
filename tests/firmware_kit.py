"""What the firmware tests (block L) need around the station: a manufacturer PKI made with `cryptography` and
signed firmware images (the loopback file servers are tests/transfer_servers.py's).

The images are what `SimulatedCharger.install_firmware` takes: a first line `chargecore-firmware <version>`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from chargecore.shell.application import FIRMWARE_MAGIC

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Signer:
    """A certificate and its key; `pem` is the certificate as UpdateFirmware carries it."""

    key: SigningKey
    certificate: x509.Certificate

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, data: bytes) -> str:
        """base64 of the SHA-256 signature over `data` (RSA PKCS#1 v1.5 or ECDSA)."""
        if isinstance(self.key, rsa.RSAPrivateKey):
            raw = self.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raw = self.key.sign(data, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(raw).decode()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def issue(common_name: str, issuer: Signer | None = None, *, rsa_key: bool = False, ca: bool = False) -> Signer:
    """A certificate for `common_name`, self-signed without `issuer`, valid from an hour ago for a day."""
    key: SigningKey
    if rsa_key:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name) if issuer is None else issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    signing_key = key if issuer is None else issuer.key
    return Signer(key, builder.sign(signing_key, hashes.SHA256()))


def image(version: str, size: int = 4096) -> bytes:
    """A firmware image the SimulatedCharger installs as `version`."""
    head = f"{FIRMWARE_MAGIC} {version}\n".encode()
    return head + bytes(index % 251 for index in range(max(0, size - len(head))))


def request(
    location: str,
    signer: Signer,
    signature: str,
    request_id: int,
    *,
    retrieve: datetime | None = None,
    install: datetime | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An UpdateFirmwareRequest; the times default to two hours ago, as the Part 6 cases send them."""
    past = datetime.now(UTC) - timedelta(hours=2)
    firmware = {
        "location": location,
        "retrieveDateTime": _ocpp(retrieve or past),
        "installDateTime": _ocpp(install or past),
        "signingCertificate": signer.pem,
        "signature": signature,
    }
    return {"requestId": request_id, "firmware": firmware, **extra}


def _ocpp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
