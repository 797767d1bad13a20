"""Store entries of the station's own certificate for core tests of A02/A03 (certificate_store values)."""

from __future__ import annotations

from datetime import datetime, timedelta

from chargecore.pure.blocks.security.certificate_store import (
    CertificateFacts,
    CertificateHashData,
    InstalledCertificate,
)


def own_entry(
    not_after: datetime, use: str = "ChargingStationCertificate", name: str = "SN-42"
) -> InstalledCertificate:
    """An installed certificate of `use` valid for a year up to `not_after`."""
    hashes = (CertificateHashData("SHA256", "aa" * 32, "bb" * 32, "1"),)
    facts = CertificateFacts(
        fingerprint=f"{name}-{not_after.isoformat()}",
        hashes=hashes,
        subject_common_name=name,
        subject_organization="chargecore",
        issuer_common_name="root",
        not_before=not_after - timedelta(days=365),
        not_after=not_after,
        is_ca=False,
        self_signed=False,
    )
    return InstalledCertificate(use, facts)
