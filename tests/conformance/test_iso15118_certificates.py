"""ISO 15118 certificates through the running station: the V2G station certificate renewed like the station
certificate (Part 6 reusable state RenewV2GChargingStationCertificate, A02 with SignV2GCertificate),
Get15118EVCertificate (M01/M02) and GetCertificateStatus with the OCSP data the shell computes (M06), against the
CSMS double."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from harness import Booted, StationFactory, boot
from issuer import issue, make_root

from chargecore.pure.effects import CertificateRenewed, CertificateStatusAnswered, EVCertificateAnswered
from chargecore.testing.csms_double import CsmsDouble, wait_until

ISO15118 = {
    "ISO15118Ctrlr": {
        "SeccId": "SECC-001",
        "OrganizationName": "chargecore CPO",
        "CountryName": "NL",
        "ContractCertificateInstallationEnabled": True,
    }
}


@pytest.fixture
def v2g_booted(csms: CsmsDouble, station_factory: StationFactory) -> Booted:
    return boot(station_factory(config=ISO15118), csms)


@pytest.mark.requirements("A02.FR.02", "A02.FR.08")
def test_renew_v2g_charging_station_certificate(v2g_booted: Booted, csms: CsmsDouble) -> None:
    v2g_root = make_root("V2G Root CA")
    installed = csms.call("InstallCertificate", {"certificateType": "V2GRootCertificate", "certificate": v2g_root.pem})
    assert installed.payload == {"status": "Accepted"}
    assert csms.trigger("SignV2GCertificate").payload == {"status": "Accepted"}  # 1-2.
    request = csms.expect_call("SignCertificate")  # 3.
    assert request.payload["certificateType"] == "V2GCertificate"
    csr = x509.load_pem_x509_csr(request.payload["csr"].encode())
    assert [(a.oid, a.value) for a in csr.subject] == [
        (NameOID.COUNTRY_NAME, "NL"),
        (NameOID.ORGANIZATION_NAME, "chargecore CPO"),
        (NameOID.COMMON_NAME, "SECC-001"),
    ]
    csms.reply(request, {"status": "Accepted"})  # 4.
    start = datetime.now(UTC) - timedelta(hours=1)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(v2g_root.certificate.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=60))
        .sign(v2g_root.key, hashes.SHA256())
    )
    chain = leaf.public_bytes(serialization.Encoding.PEM).decode()
    signed = csms.call("CertificateSigned", {"certificateChain": chain, "certificateType": "V2GCertificate"})  # 5.
    assert signed.payload == {"status": "Accepted"}  # 6.
    ids = csms.call("GetInstalledCertificateIds", {"certificateType": ["V2GCertificateChain"]})
    assert ids.payload is not None and ids.payload["status"] == "Accepted"
    (entry,) = ids.payload["certificateHashDataChain"]
    assert entry["certificateHashData"]["serialNumber"] == format(leaf.serial_number, "x")
    renewed = wait_until(
        lambda: [e for e in v2g_booted.application.events if isinstance(e, CertificateRenewed)] or None, "the event"
    )
    assert renewed[0].certificate_type == "V2GCertificate"


@pytest.mark.requirements("M01.FR.01", "M02.FR.01")
def test_an_ev_certificate_request_goes_to_the_csms_and_back(v2g_booted: Booted, csms: CsmsDouble) -> None:
    v2g_booted.station.get_15118_ev_certificate("urn:iso:15118:2:2013:MsgDef", "Install", "RVhJLXJlcXVlc3Q=")
    call = csms.expect_call("Get15118EVCertificate")
    assert call.payload == {
        "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
        "action": "Install",
        "exiRequest": "RVhJLXJlcXVlc3Q=",
    }
    csms.reply(call, {"status": "Accepted", "exiResponse": "RVhJLXJlc3BvbnNl"})
    answered = wait_until(
        lambda: [e for e in v2g_booted.application.events if isinstance(e, EVCertificateAnswered)] or None, "answer"
    )
    assert (answered[0].status, answered[0].exi_response) == ("Accepted", "RVhJLXJlc3BvbnNl")


@pytest.mark.requirements("M06.FR.01")
def test_certificate_status_is_asked_with_ocsp_data_computed_from_the_certificate(
    v2g_booted: Booted, csms: CsmsDouble
) -> None:
    mo_root = make_root("MO Root")
    contract = issue(mo_root, "EMAID-NL-CPO-123")
    v2g_booted.station.certificate_status(contract.pem, mo_root.pem)
    call = csms.expect_call("GetCertificateStatus")
    data = call.payload["ocspRequestData"]
    assert data["issuerNameHash"] == hashlib.sha256(mo_root.certificate.subject.public_bytes()).hexdigest()
    assert data["serialNumber"] == format(contract.certificate.serial_number, "x")
    csms.reply(call, {"status": "Failed"})
    answered = wait_until(
        lambda: [e for e in v2g_booted.application.events if isinstance(e, CertificateStatusAnswered)] or None, "answer"
    )
    assert answered[0].status == "Failed" and not answered[0].cached
    with pytest.raises(ValueError):
        v2g_booted.station.certificate_status("not a certificate", mo_root.pem)
