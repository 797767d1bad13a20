"""Part 6 block M test cases for the Charging Station: installing CA certificates (M05), listing them (M03) and
deleting them (M04), against the real station over loopback TLS, with certificates made by the test CA
(issuer.py). The hash data the station reports are checked against hash data this test computes itself from the
DER (`issuer.expected_hash_data`).

Errata 2023-12 6.1.26: the TC_M cases apply to stations at security profile 2 or 3, so the station runs at
profile 2 (TC_M_23: profile 3, errata 6.1.28) with the test CA as its CSMSRootCertificate. Errata 6.1.27 makes
TC_M_02/13/17/18 apply to stations with signed firmware updates (L01, the firmware branch); what they check here,
storing and listing ManufacturerRootCertificates, does not depend on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from certificate_steps import PASSWORD, PROFILE_2, PROFILE_3, install, installed
from cryptography import x509
from harness import Booted, StationFactory, boot
from issuer import Issued, expected_hash_data, issue, make_root
from pki import STATION_SERIAL, Pki

from chargecore.shell.certificates.store import CertificateStore
from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import CsmsDouble


def entry(use: str, certificate: Issued, issuer: Issued | None = None) -> dict[str, Any]:
    return {"certificateType": use, "certificateHashData": expected_hash_data(certificate, issuer)}


def certificate_installed(csms: CsmsDouble, use: str, certificate: Issued) -> None:
    """Memory/Reusable State CertificateInstalled: InstallCertificate answered Accepted."""
    assert install(csms, use, certificate) == {"status": "Accepted"}


def get_installed_certificates(csms: CsmsDouble, use: str, *expected: Issued) -> list[dict[str, Any]]:
    """Reusable State GetInstalledCertificates: Accepted, an entry of `use` with each certificate's hash data."""
    answer = installed(csms, use)
    assert answer["status"] == "Accepted", answer
    chain = answer["certificateHashDataChain"]
    for certificate in expected:
        assert entry(use, certificate) in chain, (use, chain)
    assert {item["certificateType"] for item in chain} == {use}
    return list(chain)


@pytest.mark.requirements("M05.FR.01", "M05.FR.02", "M03.FR.01", "M03.FR.03", "M03.FR.04")
def test_TC_M_01_CS_install_csms_root_certificate(tls_csms: CsmsDouble, profile_2_station: Booted, pki: Pki) -> None:
    new_root = make_root("configured new CSMS root")
    certificate_installed(tls_csms, "CSMSRootCertificate", new_root)  # 1.
    get_installed_certificates(tls_csms, "CSMSRootCertificate", new_root)  # 2.
    trusted = installed(tls_csms, "CSMSRootCertificate")["certificateHashDataChain"]
    assert entry("CSMSRootCertificate", pki.authority) in trusted, "the root in use stays"


@pytest.mark.requirements("M05.FR.01", "M05.FR.02", "M03.FR.01", "M03.FR.03", "M03.FR.04")
def test_TC_M_02_CS_install_manufacturer_root_certificate(tls_csms: CsmsDouble, profile_2_station: Booted) -> None:
    manufacturer = make_root("configured manufacturer root", organization="chargecore firmware")
    certificate_installed(tls_csms, "ManufacturerRootCertificate", manufacturer)  # 1.
    get_installed_certificates(tls_csms, "ManufacturerRootCertificate", manufacturer)  # 2.


@pytest.mark.requirements("M05.FR.01", "M05.FR.07")
def test_TC_M_07_CS_install_rejected_certificate_invalid(tls_csms: CsmsDouble, profile_2_station: Booted) -> None:
    expired = make_root("generated expired certificate", starts_in=-3, days=1)
    answer = install(tls_csms, "CSMSRootCertificate", expired)  # 1.
    assert answer["status"] == "Rejected", answer  # 2.
    assert answer["statusInfo"]["reasonCode"] == "InvalidCertificate"
    listed = installed(tls_csms, "CSMSRootCertificate")  # 3.
    assert listed["status"] == "Accepted"  # 4.
    assert entry("CSMSRootCertificate", expired) not in listed["certificateHashDataChain"]


@pytest.mark.requirements("M03.FR.01", "M03.FR.03", "M03.FR.04")
def test_TC_M_12_CS_retrieve_csms_root_certificates(tls_csms: CsmsDouble, profile_2_station: Booted, pki: Pki) -> None:
    new_root = make_root("configured new CSMS root")
    certificate_installed(tls_csms, "CSMSRootCertificate", new_root)  # memory state
    get_installed_certificates(tls_csms, "CSMSRootCertificate", new_root, pki.authority)  # 1.


@pytest.mark.requirements("M03.FR.01", "M03.FR.03", "M03.FR.04")
def test_TC_M_13_CS_retrieve_manufacturer_root_certificates(tls_csms: CsmsDouble, profile_2_station: Booted) -> None:
    manufacturer = make_root("configured manufacturer root")
    certificate_installed(tls_csms, "ManufacturerRootCertificate", manufacturer)  # memory state
    get_installed_certificates(tls_csms, "ManufacturerRootCertificate", manufacturer)  # 1.


@pytest.mark.requirements("M03.FR.01", "M03.FR.03", "M03.FR.04")
def test_TC_M_17_CS_retrieve_csms_and_manufacturer_root_certificates(
    tls_csms: CsmsDouble, profile_2_station: Booted
) -> None:
    csms_root, manufacturer = make_root("configured new CSMS root"), make_root("configured manufacturer root")
    certificate_installed(tls_csms, "CSMSRootCertificate", csms_root)  # memory state
    certificate_installed(tls_csms, "ManufacturerRootCertificate", manufacturer)
    answer = installed(tls_csms, "CSMSRootCertificate", "ManufacturerRootCertificate")  # 1.
    assert answer["status"] == "Accepted"
    chain = answer["certificateHashDataChain"]
    assert entry("CSMSRootCertificate", csms_root) in chain
    assert entry("ManufacturerRootCertificate", manufacturer) in chain


@pytest.mark.requirements("M03.FR.01", "M03.FR.03", "M03.FR.04")
def test_TC_M_18_CS_retrieve_all_certificate_types(tls_csms: CsmsDouble, profile_2_station: Booted) -> None:
    csms_root, manufacturer = make_root("configured new CSMS root"), make_root("configured manufacturer root")
    certificate_installed(tls_csms, "CSMSRootCertificate", csms_root)  # memory state
    certificate_installed(tls_csms, "ManufacturerRootCertificate", manufacturer)
    answer = installed(tls_csms)  # 1. certificateType omitted
    assert answer["status"] == "Accepted"  # 2.
    chain = answer["certificateHashDataChain"]
    assert entry("CSMSRootCertificate", csms_root) in chain
    assert entry("ManufacturerRootCertificate", manufacturer) in chain


@pytest.mark.requirements("M03.FR.01", "M03.FR.02")
def test_TC_M_19_CS_retrieve_no_matching_certificate(tls_csms: CsmsDouble, profile_2_station: Booted) -> None:
    answer = installed(tls_csms, "MORootCertificate")  # 1. (no MORootCertificate installed)
    assert answer["status"] == "NotFound"  # 2.
    assert "certificateHashDataChain" not in answer


@pytest.mark.requirements("M04.FR.01", "M04.FR.02")
def test_TC_M_20_CS_delete_certificate_success(tls_csms: CsmsDouble, profile_2_station: Booted) -> None:
    """The reusable state CertificateInstalled comes first: the station never deletes its last CSMS root at
    profile 2 (it could not connect again), so the certificate deleted is the one the CSMS installed."""
    configured = make_root("configured new CSMS root")
    certificate_installed(tls_csms, "CSMSRootCertificate", configured)  # before
    returned = get_installed_certificates(tls_csms, "CSMSRootCertificate", configured)  # 1.
    target = next(item for item in returned if item == entry("CSMSRootCertificate", configured))
    reply = tls_csms.call("DeleteCertificate", {"certificateHashData": target["certificateHashData"]})  # 2.
    assert reply.payload == {"status": "Accepted"}  # 3.
    after = installed(tls_csms, "CSMSRootCertificate")  # 4.
    assert target not in after["certificateHashDataChain"]


@pytest.mark.requirements("M04.FR.01", "M04.FR.04")
def test_TC_M_22_CS_delete_certificate_not_found(tls_csms: CsmsDouble, profile_2_station: Booted) -> None:
    get_installed_certificates(tls_csms, "CSMSRootCertificate")  # 1.
    unknown = expected_hash_data(make_root("unknown certificate"))
    reply = tls_csms.call("DeleteCertificate", {"certificateHashData": unknown})  # 2.
    assert reply.payload is not None and reply.payload["status"] == "NotFound"  # 3.


@pytest.fixture
def client_certificate_csms(pki: Pki) -> Iterator[CsmsDouble]:
    with CsmsDouble(tls=pki.client_certificate_context()) as double:
        yield double


def profile_3_station(station_factory: StationFactory, csms: CsmsDouble, pki: Pki) -> ChargingStation:
    return station_factory(
        csms_url=csms.url,
        ca_file=str(pki.ca),
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key),
        serial_number=STATION_SERIAL,
        config=PROFILE_3,
    )


@pytest.mark.requirements("M04.FR.01", "M04.FR.06")
def test_TC_M_23_CS_delete_charging_station_certificate_refused(
    client_certificate_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    """The reusable state RenewChargingStationCertificate (A02) is the certrenew branch's; the station certificate
    here is the one it was installed with, which is what the case deletes."""
    csms = client_certificate_csms
    boot(profile_3_station(station_factory, csms, pki), csms)
    answer = installed(csms)  # 1. certificateType omitted
    assert answer["status"] == "Accepted"
    assert all(item["certificateType"] != "ChargingStationCertificate" for item in answer["certificateHashDataChain"])
    client = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())
    station_hash = expected_hash_data(client, pki.authority)
    reply = csms.call("DeleteCertificate", {"certificateHashData": station_hash})  # 2.
    assert reply.payload is not None and reply.payload["status"] in ("NotFound", "Failed")  # 3.
    assert reply.payload["status"] == "Failed", "this station knows its certificate and refuses (M04.FR.06)"
    csms.close_connection()
    csms.wait_session(2)  # the certificate is still there: the station reconnects at profile 3


@pytest.mark.requirements("M05.FR.01", "M03.FR.03")
def test_a_sub_ca_signed_by_an_installed_root_of_its_kind_is_installed_with_that_roots_key_hash(
    tls_csms: CsmsDouble, profile_2_station: Booted
) -> None:
    """Not self-signed but verified by an installed V2GRootCertificate: Accepted, and its issuerKeyHash is over
    that root's key."""
    root = make_root("V2G root")
    sub = issue(root, "V2G sub-CA", ca=True)
    certificate_installed(tls_csms, "V2GRootCertificate", root)
    assert install(tls_csms, "V2GRootCertificate", sub) == {"status": "Accepted"}, "signed by an installed V2G root"
    chain = installed(tls_csms, "V2GRootCertificate")["certificateHashDataChain"]
    assert entry("V2GRootCertificate", root) in chain
    assert entry("V2GRootCertificate", sub, root) in chain


@pytest.mark.requirements("M03.FR.01", "M03.FR.05")
def test_a_v2g_certificate_chain_is_listed_with_its_sub_cas_as_child_hash_data(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, tmp_path: Path
) -> None:
    """The V2G chain the station holds (leaf, two sub-CAs under an installed V2G root): the leaf's hash data, and
    each sub-CA's as childCertificateHashData, computed here from the DER."""
    root = make_root("V2G root")
    sub1 = issue(root, "V2G sub-CA 1", ca=True)
    sub2 = issue(sub1, "V2G sub-CA 2", ca=True)
    leaf = issue(sub2, "SECC CS001")
    data_dir = tmp_path / "v2g-station"
    store = CertificateStore(data_dir)
    store.install_ca("V2GRootCertificate", root.pem)
    assert store.install_own("V2GCertificateChain", leaf.chain_pem(sub2, sub1)).problem is None
    station = station_factory(
        csms_url=tls_csms.url, ca_file=str(pki.ca), password=PASSWORD, config=PROFILE_2, data_dir=data_dir
    )
    boot(station, tls_csms)
    answer = installed(tls_csms, "V2GCertificateChain")
    assert answer["certificateHashDataChain"] == [
        {
            "certificateType": "V2GCertificateChain",
            "certificateHashData": expected_hash_data(leaf, sub2),
            "childCertificateHashData": [expected_hash_data(sub2, sub1), expected_hash_data(sub1, root)],
        }
    ]
