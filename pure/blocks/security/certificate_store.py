"""What the station's certificate store holds, as plain values the core reasons about (blocks A and M).

Theory of operation. The X.509 work happens in the shell (`shell/certificates/`): it parses PEM, checks
signatures, computes the CertificateHashData and keeps the files and private keys. The core never sees a PEM
text it has to parse nor a key: it keeps `Certificates`, the list of what is installed, each entry described by
`CertificateFacts` the shell measured. The shell feeds that list with `inputs.CertificatesLoaded` at power-up
(before `PowerUp`) and whenever the store changed outside a CSMS call; a change the core asked for comes back in
the answer to the question that asked for it (`StoreCertificateQuestion`, `RemoveCertificateQuestion`).

Rules:
1. An entry is one `use` (InstallCertificateUseEnumType's four CA kinds, ChargingStationCertificate,
   V2GCertificateChain) and one certificate; a chain keeps its leaf in `certificate` and the certificates above
   it in `chain` (leaf-first order), which GetInstalledCertificateIds reports as childCertificateHashData.
2. Hash data compare case-insensitively and serial numbers without leading zeros (`CertificateHashData.matches`),
   because CSMSs differ in how they write hex.
3. Every question about certificates is answered with the values of this module, never with objects of the
   `cryptography` package: an answer can be logged and replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

CSMS_ROOT = "CSMSRootCertificate"
MANUFACTURER_ROOT = "ManufacturerRootCertificate"
V2G_ROOT = "V2GRootCertificate"
MO_ROOT = "MORootCertificate"
CA_USES: tuple[str, ...] = (V2G_ROOT, MO_ROOT, CSMS_ROOT, MANUFACTURER_ROOT)
"""InstallCertificateUseEnumType: the CA certificates a CSMS installs with InstallCertificate (M05)."""
STATION_CERTIFICATE = "ChargingStationCertificate"
"""The station's own TLS client certificate (security profile 3) with its private key (A02, A03)."""
V2G_CHAIN = "V2GCertificateChain"
"""The station's ISO 15118 certificate chain with its private key (A02 for V2G, M06 renewal)."""
REPORTED_USES: tuple[str, ...] = (*CA_USES, V2G_CHAIN)
"""GetCertificateIdUseEnumType: what GetInstalledCertificateIds can list (M03); the ChargingStationCertificate is
not among them."""


@dataclass(frozen=True, slots=True)
class CertificateHashData:
    """OCPP CertificateHashDataType. issuerNameHash: over the DER of the issuer Name; issuerKeyHash: over the
    issuer's subjectPublicKey BIT STRING value (no tag, length nor unused-bits octet), as in OCSP (RFC 6960);
    serialNumber: hex, no "0x", no leading zeros, lowercase."""

    hash_algorithm: str
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def payload(self) -> dict[str, str]:
        return {
            "hashAlgorithm": self.hash_algorithm,
            "issuerNameHash": self.issuer_name_hash,
            "issuerKeyHash": self.issuer_key_hash,
            "serialNumber": self.serial_number,
        }

    @staticmethod
    def from_payload(payload: dict[str, Any]) -> CertificateHashData:
        return CertificateHashData(
            str(payload["hashAlgorithm"]),
            str(payload["issuerNameHash"]),
            str(payload["issuerKeyHash"]),
            str(payload["serialNumber"]),
        )

    def matches(self, other: CertificateHashData) -> bool:
        """The same certificate, written either way (rule 2)."""
        return (
            self.hash_algorithm == other.hash_algorithm
            and self.issuer_name_hash.lower() == other.issuer_name_hash.lower()
            and self.issuer_key_hash.lower() == other.issuer_key_hash.lower()
            and _serial(self.serial_number) == _serial(other.serial_number)
        )


def _serial(text: str) -> str:
    return text.lower().removeprefix("0x").lstrip("0") or "0"


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What the shell measured of one X.509 certificate."""

    fingerprint: str
    """SHA-256 of the DER, hex: the store's name for the certificate."""
    hashes: tuple[CertificateHashData, ...]
    """Its CertificateHashData for SHA256, SHA384 and SHA512, SHA256 first (the one the station reports)."""
    subject_common_name: str | None
    subject_organization: str | None
    issuer_common_name: str | None
    not_before: datetime
    not_after: datetime
    is_ca: bool
    """basicConstraints cA=TRUE."""
    self_signed: bool
    """Its issuer is its subject and its own key verifies its signature."""

    @property
    def hash_data(self) -> CertificateHashData:
        return self.hashes[0]

    def identified_by(self, wanted: CertificateHashData) -> bool:
        return any(mine.matches(wanted) for mine in self.hashes)

    def valid_at(self, now: datetime) -> bool:
        return self.not_before <= now <= self.not_after


@dataclass(frozen=True, slots=True)
class InstalledCertificate:
    """One entry of the store (rule 1)."""

    use: str
    certificate: CertificateFacts
    chain: tuple[CertificateFacts, ...] = ()
    """The CA certificates above `certificate`, leaf-first (a V2GCertificateChain's sub-CAs)."""


@dataclass(frozen=True, slots=True)
class Certificates:
    """The store as the core knows it."""

    installed: tuple[InstalledCertificate, ...] = ()
    loaded: bool = False
    """The shell has said what is installed (CertificatesLoaded) since power-up."""

    def of_use(self, *uses: str) -> tuple[InstalledCertificate, ...]:
        return tuple(entry for entry in self.installed if entry.use in uses)

    def find(self, wanted: CertificateHashData) -> InstalledCertificate | None:
        """The entry whose certificate (not a chain member) the hash data identify."""
        return next((entry for entry in self.installed if entry.certificate.identified_by(wanted)), None)

    def usable_csms_roots(self, now: datetime) -> tuple[InstalledCertificate, ...]:
        """The CSMS roots valid now: what a TLS connection (profiles 2 and 3) can trust."""
        return tuple(entry for entry in self.of_use(CSMS_ROOT) if entry.certificate.valid_at(now))

    @property
    def station_certificate(self) -> InstalledCertificate | None:
        return next(iter(self.of_use(STATION_CERTIFICATE)), None)


@dataclass(frozen=True, slots=True)
class CertificateCheck:
    """The shell's answer to `CheckCertificateQuestion`: the certificates of a PEM text, leaf-first, and what it
    could verify. `problem` says why it could not parse it (then `chain` is empty)."""

    chain: tuple[CertificateFacts, ...]
    problem: str | None = None
    chain_verified: bool = False
    """Each certificate of `chain` is signed by the next one."""
    anchor: str | None = None
    """The fingerprint of the certificate that signed the last of `chain`: itself when it is self-signed, or an
    installed certificate of the same use; None when neither verifies it."""


@dataclass(frozen=True, slots=True)
class StoreChanged:
    """The shell's answer to `StoreCertificateQuestion` and `RemoveCertificateQuestion`: what is installed now,
    or the reason the change could not be made (the store is unchanged then)."""

    installed: tuple[InstalledCertificate, ...]
    problem: str | None = None
