"""Part 6 A02 test cases (update of the Charging Station Certificate on request of the CSMS) against the real
station at security profile 3 over loopback TLS: a CSMS double that requires a client certificate of the test CA,
and that CA (tests/conformance/issuer.py, `cryptography`) signing the station's CSRs as the OCTT does.

Also the bad inputs of issue 12 item 8 for CertificateSigned (unparsable, expired, not yet valid, unknown root,
wrong key, wrong CN, 100 KB): Rejected with a reasonCode, InvalidChargingStationCertificate, nothing installed, and
the station keeps connecting with its current certificate.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from harness import StationFactory, boot, settle
from issuer import Issued, make_root
from pki import STATION_SERIAL, Pki

from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until

PROFILE_3 = {"SecurityCtrlr": {"SecurityProfile": 3}}
STATION_CERTIFICATE = "ChargingStationCertificate"


@pytest.fixture
def profile_3_csms(pki: Pki) -> Iterator[CsmsDouble]:
    """A TLS CSMS double that requires a client certificate signed by the test CA (a profile 3 CSMS)."""
    with CsmsDouble(tls=pki.client_certificate_context()) as double:
        yield double


def profile_3_station(station_factory: StationFactory, csms: CsmsDouble, pki: Pki, **security: Any) -> ChargingStation:
    """The prerequisites of the A02 cases: a station supporting and using security profile 3."""
    return station_factory(
        csms_url=csms.url,
        ca_file=str(pki.ca),
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key),
        serial_number=STATION_SERIAL,
        config={"SecurityCtrlr": {"SecurityProfile": 3, **security}},
    )


def sign(
    csr_pem: str,
    authority: Issued,
    *,
    common_name: str | None = None,
    starts_in: timedelta = timedelta(hours=-1),
    days: float = 30,
    public_key: Any = None,
) -> str:
    """The OCTT's CertificateSigned chain: a client certificate for the CSR's key and subject (or the given ones),
    signed by `authority`."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    assert csr.is_signature_valid
    subject = csr.subject
    if common_name is not None:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = datetime.now(UTC) + starts_in
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.certificate.subject)
        .public_key(public_key or csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(authority.key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def check_csr(call: StationCall) -> x509.CertificateSigningRequest:
    """Tool validation of steps 3/6/9: an RFC 2986 CSR in PEM, RSA >= 2048 or EC >= 224 bits, for the station."""
    assert call.payload.get("certificateType", STATION_CERTIFICATE) == STATION_CERTIFICATE
    csr = x509.load_pem_x509_csr(call.payload["csr"].encode())
    assert csr.is_signature_valid
    key = csr.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey)
    assert key.key_size >= (224 if isinstance(key, ec.EllipticCurvePublicKey) else 2048)
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == STATION_SERIAL  # A02.FR.06
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "chargecore"
    return csr


def request_signing(csms: CsmsDouble, sign_status: str = "Accepted") -> StationCall:
    """Steps 1-4: TriggerMessage SignChargingStationCertificate, Accepted; the SignCertificateRequest, answered."""
    assert csms.trigger("SignChargingStationCertificate").payload == {"status": "Accepted"}  # 1-2.
    request = csms.expect_call("SignCertificate")  # 3.
    check_csr(request)
    csms.reply(request, {"status": sign_status})  # 4.
    return request


def certificate_signed(csms: CsmsDouble, chain: str) -> dict[str, Any]:
    reply = csms.call("CertificateSigned", {"certificateChain": chain, "certificateType": STATION_CERTIFICATE})
    assert reply.payload is not None, f"CertificateSigned answered {reply.error_code}"
    return reply.payload


def client_certificate_serial(csms: CsmsDouble, session: int) -> int:
    """The serial number of the client certificate the station presented on that connection."""
    tls = csms.wait_session(session).websocket.socket
    assert isinstance(tls, ssl.SSLSocket)
    der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def reconnect(station: ChargingStation, csms: CsmsDouble) -> int:
    """The CSMS drops the connection; the station dials again (1 s back-off), still accepted (no new boot). The
    new session's number, once the station has taken in its connection."""
    number = csms.session_count + 1
    csms.close_connection()
    csms.wait_session(number, timeout=10)
    settle(station, csms)
    return number


def security_event_types(station: ChargingStation, csms: CsmsDouble) -> list[str]:
    settle(station, csms)
    return [call.payload["type"] for call in csms.calls("SecurityEventNotification")]


@pytest.mark.requirements(
    "A02.FR.02", "A02.FR.03", "A02.FR.06", "A02.FR.08", "A02.FR.09", "F06.FR.04", "F06.FR.05", "F06.FR.10"
)
def test_TC_A_11_CS_update_charging_station_certificate_success(
    profile_3_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    csms = profile_3_csms
    station = profile_3_station(station_factory, csms, pki)
    boot(station, csms)
    first = client_certificate_serial(csms, 1)
    # 1. Reusable State RenewChargingStationCertificate: trigger, SignCertificate, CertificateSigned Accepted
    request = request_signing(csms)
    signed = sign(request.payload["csr"], pki.authority)
    assert certificate_signed(csms, signed) == {"status": "Accepted"}  # 5-6.
    # the new certificate is used at the next connection, the old one until then
    session = reconnect(station, csms)
    renewed = x509.load_pem_x509_certificate(signed.encode()).serial_number
    assert client_certificate_serial(csms, session) == renewed != first
    data_dir = station.options.data_dir
    assert data_dir is not None
    previous = data_dir / "certificates" / "previous" / f"{STATION_CERTIFICATE}.pem"
    wait_until(lambda: not previous.exists() or None, "the previous certificate to be dropped once the new connected")


@pytest.mark.requirements("A02.FR.07", "A03.FR.07")
def test_TC_A_14_CS_update_charging_station_certificate_invalid_certificate(
    profile_3_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    csms = profile_3_csms
    station = profile_3_station(station_factory, csms, pki)
    boot(station, csms)
    first = client_certificate_serial(csms, 1)
    request = request_signing(csms)  # 1-4.
    invalid = sign(request.payload["csr"], make_root("not the CSMS root"))  # <Configured invalid_signingCertificate>
    response = certificate_signed(csms, invalid)  # 5.
    assert response["status"] == "Rejected", "6."
    assert "InvalidChargingStationCertificate" in security_event_types(station, csms), "7-8."
    assert client_certificate_serial(csms, reconnect(station, csms)) == first, (
        "the station keeps its current certificate"
    )


def test_TC_A_15_CS_update_charging_station_certificate_sign_certificate_rejected(
    profile_3_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    csms = profile_3_csms
    station = profile_3_station(station_factory, csms, pki, CertSigningWaitMinimum=1, CertSigningRepeatTimes=1)
    boot(station, csms)
    request_signing(csms, "Rejected")  # 1-4.
    time.sleep(1.5)  # past CertSigningWaitMinimum: a Rejected request is not repeated
    settle(station, csms)
    assert len(csms.calls("SignCertificate")) == 1


@pytest.mark.requirements("A02.FR.17", "A02.FR.18")
def test_TC_A_23_CS_certificate_signed_request_timeout(
    profile_3_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    wait = 1  # <Configured CertSigningWaitMinimum>
    csms = profile_3_csms
    station = profile_3_station(station_factory, csms, pki, CertSigningWaitMinimum=wait, CertSigningRepeatTimes=1)
    boot(station, csms)
    first = request_signing(csms)  # 1-4.
    accepted_at = time.monotonic()
    second = csms.expect_call("SignCertificate", timeout=wait + 5)  # 5-6.
    assert time.monotonic() - accepted_at >= wait - 0.1, "step 5: not before CertSigningWaitMinimum"
    check_csr(second)
    csms.reply(second, {"status": "Accepted"})  # 7.
    accepted_at = time.monotonic()
    third = csms.expect_call("SignCertificate", timeout=2 * wait + 5)  # 8-9.
    assert time.monotonic() - accepted_at >= 2 * wait - 0.1, "step 8: not before CertSigningWaitMinimum times 2"
    check_csr(third)
    csms.reply(third, {"status": "Accepted"})  # 10.
    signed = sign(first.payload["csr"], pki.authority)  # 11. generated from the CSR of step 3
    assert certificate_signed(csms, signed) == {"status": "Accepted"}  # 12.
    time.sleep(4 * wait + 0.5)
    settle(station, csms)
    assert len(csms.calls("SignCertificate")) == 3, "RepeatTimes 1: two repeats, then none"


def _bad_chain(kind: str, csr_pem: str, pki: Pki) -> str:
    chains = {
        "unparsable": lambda: "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
        "expired": lambda: sign(csr_pem, pki.authority, starts_in=timedelta(days=-10), days=2),
        "not yet valid": lambda: sign(csr_pem, pki.authority, starts_in=timedelta(days=2)),
        "unknown root": lambda: sign(csr_pem, make_root("stranger")),
        "wrong key": lambda: sign(
            csr_pem, pki.authority, public_key=ec.generate_private_key(ec.SECP256R1()).public_key()
        ),
        "wrong CN": lambda: sign(csr_pem, pki.authority, common_name="SOMEONE-ELSE"),
    }
    return chains[kind]()


@pytest.mark.requirements("A02.FR.07")
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("unparsable", "InvalidFormat"),
        ("expired", "Expired"),
        ("not yet valid", "NotYetValid"),
        ("unknown root", "InvalidChain"),
        ("wrong key", "WrongKey"),
        ("wrong CN", "WrongCommonName"),
    ],
)
def test_a_bad_certificate_signed_is_rejected_and_the_station_keeps_its_certificate(
    profile_3_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, kind: str, reason: str
) -> None:
    csms = profile_3_csms
    station = profile_3_station(station_factory, csms, pki)
    boot(station, csms)
    first = client_certificate_serial(csms, 1)
    request = request_signing(csms)
    response = certificate_signed(csms, _bad_chain(kind, request.payload["csr"], pki))
    assert response["status"] == "Rejected" and response["statusInfo"]["reasonCode"] == reason
    assert security_event_types(station, csms).count("InvalidChargingStationCertificate") == 1
    assert client_certificate_serial(csms, reconnect(station, csms)) == first, "nothing installed"


def test_a_100_kb_certificate_chain_is_refused_and_the_station_keeps_working(
    profile_3_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    """Over the schema's 10000 characters: a CALLERROR (Part 4: a request that breaks its schema), nothing
    installed; the station answers the next request as before."""
    csms = profile_3_csms
    station = profile_3_station(station_factory, csms, pki)
    boot(station, csms)
    request_signing(csms)
    chain = sign(check_csr_text(csms), pki.authority) * 200
    assert len(chain) > 100_000
    reply = csms.call("CertificateSigned", {"certificateChain": chain, "certificateType": STATION_CERTIFICATE})
    assert reply.error_code is not None and reply.payload is None
    assert csms.trigger("Heartbeat").payload == {"status": "Accepted"}
    settle(station, csms)


def check_csr_text(csms: CsmsDouble) -> str:
    return str(csms.calls("SignCertificate")[-1].payload["csr"])


def _not_for_tls_clients(csr_pem: str, authority: Issued) -> str:
    """A certificate the station accepts (right root, key, CN, validity) but a TLS server refuses for a client: its
    keyUsage allows certificate signing only."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    start = datetime.now(UTC) - timedelta(hours=1)
    usage = x509.KeyUsage(False, False, False, False, False, True, False, False, False)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(authority.certificate.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .add_extension(usage, critical=True)
        .sign(authority.key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_a_renewed_certificate_the_csms_refuses_is_replaced_by_the_previous_one(
    profile_3_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    """The old certificate is kept until the new one has connected once: refused in the handshake, it comes back."""
    csms = profile_3_csms
    station = profile_3_station(station_factory, csms, pki)
    boot(station, csms)
    first = client_certificate_serial(csms, 1)
    request = request_signing(csms)
    refused_later = _not_for_tls_clients(request.payload["csr"], pki.authority)
    assert certificate_signed(csms, refused_later)["status"] == "Accepted"
    csms.close_connection()
    session = csms.wait_session(2, timeout=45)  # after an attempt refused in the handshake (back-off doubles)
    assert client_certificate_serial(csms, session.number) == first, "the previous certificate came back"
