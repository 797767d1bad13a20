"""Part 6 security test cases (A00) for the Charging Station: HTTP Basic authentication (profile 1 and 2), the
CSMS's server certificate and TLS version (profile 2) and the station's client-side certificate (profile 3), against
the real station over loopback with a TLS CSMS double whose server context a test changes between the station's
connection attempts, as the OCTT does.

The requirement ids are the test cases' own, except the A00.FR.4xx twins of TC_A_04 to TC_A_06, which are the same
rules for security profile 3. TC_A_09 and TC_A_10 (BasicAuthPassword through SetVariables) are in test_variables.py.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import StationFactory, boot, settle
from pki import (
    STATION_SERIAL,
    Pki,
    current_tls_only,
    old_tls_only,
    old_tls_works,
    public_key,
    subject_common_name,
)

from chargecore.pure.effects import SecurityEventLogged
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until

PASSWORD = "0123456789abcdefABCD"
"""<Configured basicAuthPassword>: 16 to 40 characters of identifierString."""
PROFILE_2 = {"SecurityCtrlr": {"SecurityProfile": 2}}
PROFILE_3 = {"SecurityCtrlr": {"SecurityProfile": 3}}
REQUIRED_CIPHERS = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"}
"""TC_A_04 step 2: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 and TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, the first
of the two pairs the station may support (it offers no static RSA key exchange)."""


@pytest.fixture
def server_tls(pki: Pki) -> ssl.SSLContext:
    """The TLS CSMS double's server context, serving the valid certificate until a test changes it."""
    return pki.server_context()


@pytest.fixture
def tls_csms(server_tls: ssl.SSLContext) -> Iterator[CsmsDouble]:
    with CsmsDouble(tls=server_tls) as double:
        yield double


def profile_2_station(station_factory: StationFactory, csms: CsmsDouble, pki: Pki, **config: Any) -> ChargingStation:
    return station_factory(
        csms_url=csms.url, ca_file=str(pki.ca), password=PASSWORD, config={**PROFILE_2, "OCPPCommCtrlr": config}
    )


def refused_first_attempt(station: ChargingStation, csms: CsmsDouble) -> None:
    """Steps 1-3: the station tried, deemed the server unacceptable and ended the connection before any HTTP
    upgrade (it now waits to retry)."""
    wait_until(lambda: station.state.connection.phase == "waiting", "the station to end its first attempt")
    assert csms.attempts == [], "no HTTP upgrade over the refused TLS connection"


def security_events(station: ChargingStation, csms: CsmsDouble) -> list[StationCall]:
    """Every SecurityEventNotification the station has sent, once all it queued has arrived (the double answers
    them as the OCTT does)."""
    settle(station, csms)
    return csms.calls("SecurityEventNotification")


def types_of(calls: list[StationCall]) -> list[str]:
    return [call.payload["type"] for call in calls]


def station_tls(csms: CsmsDouble) -> ssl.SSLSocket:
    """The CSMS's end of the station's first connection."""
    tls = csms.wait_session(1).websocket.socket
    assert isinstance(tls, ssl.SSLSocket)
    return tls


def assert_current_tls(tls: ssl.SSLSocket, step: str) -> None:
    """TLS 1.2 or above, and the station offered the cipher suites Part 6 requires."""
    assert tls.version() in ("TLSv1.2", "TLSv1.3"), f"{step}: TLS 1.2 or above"
    offered = {name for name, _, _ in tls.shared_ciphers() or []}
    assert offered >= REQUIRED_CIPHERS, f"{step}: the station offers {sorted(offered)}"


@pytest.mark.parametrize("profile", [1, 2])
@pytest.mark.requirements("A00.FR.202", "A00.FR.203", "A00.FR.204", "A00.FR.301", "A00.FR.302", "B01.FR.01")
def test_TC_A_01_CS_basic_authentication_valid_password(
    csms: CsmsDouble, tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, profile: int
) -> None:
    server = csms if profile == 1 else tls_csms
    config = {"SecurityCtrlr": {"SecurityProfile": profile}}
    station = station_factory(csms_url=server.url, ca_file=str(pki.ca), password=PASSWORD, config=config)
    booted = boot(station, server)  # 1. Reusable State Booted
    assert booted.boot.payload["reason"] == "PowerUp"

    attempt = server.wait_session(1).attempt
    assert attempt.path == "/CS001", "the ChargingStationId ends the connection URL"
    token = base64.b64encode(f"CS001:{PASSWORD}".encode()).decode("ascii")
    assert attempt.headers["Authorization"] == f"Basic {token}"


@pytest.mark.requirements("A00.FR.309", "A00.FR.312", "A00.FR.313", "A00.FR.319", "A00.FR.321")
def test_TC_A_04_CS_tls_valid_server_certificate(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    station = profile_2_station(station_factory, tls_csms, pki)
    boot(station, tls_csms)  # 1-10. TLS handshake, upgrade, BootNotification Accepted, connector statuses

    tls = station_tls(tls_csms)
    assert_current_tls(tls, "step 2")
    assert tls.compression() is None, "no TLS compression"
    assert "Authorization" in tls_csms.wait_session(1).attempt.headers, "profile 2 sends username/password"


@pytest.mark.parametrize("kind", ["unknown", "expired", "wrong-name"])
@pytest.mark.requirements("A00.FR.309", "A00.FR.310", "A00.FR.311", "A04.FR.01")
def test_TC_A_05_CS_tls_invalid_server_certificate(
    server_tls: ssl.SSLContext, tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, kind: str
) -> None:
    server_tls.load_cert_chain(pki.invalid_certs[kind], pki.server_key)  # 2. <Configured invalid server certificate>
    station = profile_2_station(station_factory, tls_csms, pki, NetworkProfileConnectionAttempts=2)
    refused_first_attempt(station, tls_csms)  # 1-3.

    server_tls.load_cert_chain(pki.server_cert, pki.server_key)  # 5. <Configured server certificate>
    boot(station, tls_csms)  # 4-13. the second attempt connects and boots
    assert len(tls_csms.attempts) == 1

    sent = types_of(security_events(station, tls_csms))
    assert sent.count("InvalidCsmsCertificate") == 1, f"14. {sent}"


@pytest.mark.requirements("A00.FR.314", "A00.FR.316", "A04.FR.01")
def test_TC_A_06_CS_tls_version_too_low(
    server_tls: ssl.SSLContext, tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    if not old_tls_works(pki):
        pytest.skip("the local OpenSSL cannot speak TLS below 1.2, so no CSMS double can offer it")
    old_tls_only(server_tls)  # 2. a Server Hello below TLS 1.2
    station = profile_2_station(station_factory, tls_csms, pki, NetworkProfileConnectionAttempts=1)
    refused_first_attempt(station, tls_csms)  # 1-3.

    current_tls_only(server_tls)  # 5.
    boot(station, tls_csms)  # 4-13.

    sent = types_of(security_events(station, tls_csms))
    assert {"StartupOfTheDevice", "ResetOrReboot"} & set(sent), f"14. {sent}"  # the order of 12, 14, 16 is free
    assert sent.count("InvalidTLSVersion") == 1, f"16. (optional; this station detects it) {sent}"


def profile_3_station(
    station_factory: StationFactory, csms: CsmsDouble, pki: Pki, client_cert: Path, **config: Any
) -> ChargingStation:
    """A station at security profile 3 with `client_cert` (for the key of the PKI's station certificate)."""
    return station_factory(
        csms_url=csms.url,
        ca_file=str(pki.ca),
        client_cert=str(client_cert),
        client_key=str(pki.client_key),
        serial_number=STATION_SERIAL,
        config={**PROFILE_3, "OCPPCommCtrlr": config},
    )


@pytest.fixture
def client_certificate_csms(pki: Pki) -> Iterator[tuple[CsmsDouble, ssl.SSLContext]]:
    """A TLS CSMS double that requires a client certificate signed by the test CA (a profile 3 CSMS), and its
    server context."""
    context = pki.client_certificate_context()
    with CsmsDouble(tls=context) as double:
        yield double, context


@pytest.mark.requirements(
    "A00.FR.401", "A00.FR.402", "A00.FR.415", "A00.FR.416", "A00.FR.422",
    "A00.FR.502", "A00.FR.503", "A00.FR.507", "A00.FR.508", "A00.FR.511",
)  # fmt: skip
def test_TC_A_07_CS_tls_client_side_certificate_valid(
    client_certificate_csms: tuple[CsmsDouble, ssl.SSLContext], station_factory: StationFactory, pki: Pki
) -> None:
    csms, _ = client_certificate_csms
    station = profile_3_station(station_factory, csms, pki, pki.client_cert)
    booted = boot(station, csms)  # 1-10. handshake with the client certificate, upgrade, boot, connector statuses
    assert [call.payload["connectorStatus"] for call in booted.statuses] == ["Available"]

    tls = station_tls(csms)
    assert_current_tls(tls, "step 4")
    peer = tls.getpeercert()  # verified against the test CA by the server context (CERT_REQUIRED)
    assert peer, "step 3: the station sent its client certificate"
    assert peer["serialNumber"], "step 4: the certificate includes a serial number"
    serial = booted.boot.payload["chargingStation"]["serialNumber"]
    assert subject_common_name(peer) == serial == STATION_SERIAL, "step 4: CN = the station's unique serial number"
    der = tls.getpeercert(binary_form=True)
    assert der is not None
    algorithm, bits = public_key(ssl.DER_cert_to_PEM_cert(der))  # step 4: RSA >= 2048 bits, EC >= 224 bits
    assert bits >= {"rsaEncryption": 2048, "id-ecPublicKey": 224}[algorithm], (algorithm, bits)
    assert "Authorization" not in csms.wait_session(1).attempt.headers, "profile 3 authenticates by certificate only"


@pytest.mark.parametrize("kind", ["none", "untrusted"])
def test_a_csms_requiring_a_client_certificate_refuses_a_station_without_a_valid_one(
    client_certificate_csms: tuple[CsmsDouble, ssl.SSLContext], station_factory: StationFactory, pki: Pki, kind: str
) -> None:
    """No client certificate (a profile 2 station) or one the CSMS does not trust: the TLS handshake fails, there
    is no HTTP upgrade and no boot. Pinned to TLS 1.2, where the CSMS refuses within the handshake, the refusal of
    an untrusted certificate (alert unknown_ca) is FailedToAuthenticateAtCsms: our credentials rejected (not
    critical: logged, not sent). Trusting the other CA as well then lets the station in."""
    csms, server_tls = client_certificate_csms
    server_tls.maximum_version = ssl.TLSVersion.TLSv1_2
    if kind == "none":
        station = profile_2_station(station_factory, csms, pki, NetworkProfileConnectionAttempts=1)
    else:
        station = profile_3_station(station_factory, csms, pki, pki.untrusted_client_cert)
    refused_first_attempt(station, csms)
    assert station.state.registration.status != "Accepted"
    if kind == "untrusted":
        application = station.application
        assert isinstance(application, SimulatedCharger)
        logged = [event for event in application.events if isinstance(event, SecurityEventLogged)]
        refusals = [event for event in logged if event.event_type != "StartupOfTheDevice"]
        assert [(event.event_type, event.critical) for event in refusals] == [("FailedToAuthenticateAtCsms", False)]
        assert "unknown ca" in (refusals[0].tech_info or "")

        server_tls.load_verify_locations(pki.other_ca)
        boot(station, csms)
        assert len(csms.attempts) == 1
