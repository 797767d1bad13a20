"""A02 against a CSMS built on the independent `ocpp` package with a CA that is not part of this project (made here
with `cryptography` alone): the station at security profile 3 is asked to renew its certificate, the CSMS signs the
CSR after answering SignCertificate (an `@after` handler, as a package user writes it), and the station's next
connection presents the new certificate, which the CSMS's TLS server verifies against that CA (CERT_REQUIRED).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Coroutine
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from harness import StationFactory
from ocpp.routing import after, on  # type: ignore[import-untyped]
from ocpp.v201 import ChargePoint, call, call_result  # type: ignore[import-untyped]
from ocpp.v201.enums import Action, RegistrationStatusEnumType  # type: ignore[import-untyped]
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from chargecore.testing.csms_double import wait_until

SERIAL = "OUTSIDE-SN-7"
T = TypeVar("T")


@dataclass
class OutsideCa:
    """A CA of someone else's, with a server certificate for 127.0.0.1."""

    folder: Path
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP384R1()))

    def __post_init__(self) -> None:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Outside Operator Root CA")])
        self.certificate = (
            self._builder(name, self.key.public_key(), days=30)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA384())
        )
        self.write("ca.pem", self.certificate)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = (
            self._builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "csms")]), server_key.public_key(), 30)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ip_address("127.0.0.1"))]), critical=False)
            .sign(self.key, hashes.SHA384())
        )
        self.write("server.pem", server)
        self.write_key("server.key", server_key)

    def _builder(self, subject: x509.Name, public_key: Any, days: int) -> x509.CertificateBuilder:
        now = datetime.now(UTC)
        issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Outside Operator Root CA")])
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=days))
        )

    def client(self, subject: x509.Name, public_key: Any) -> x509.Certificate:
        return (
            self._builder(subject, public_key, 20)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, hashes.SHA384())
        )

    def write(self, name: str, certificate: x509.Certificate) -> Path:
        path = self.folder / name
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def write_key(self, name: str, key: ec.EllipticCurvePrivateKey) -> Path:
        path = self.folder / name
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.folder / "server.pem", self.folder / "server.key")
        context.load_verify_locations(self.folder / "ca.pem")
        context.verify_mode = ssl.CERT_REQUIRED  # profile 3: the client chain is verified
        return context


class SigningCsms(ChargePoint):  # type: ignore[misc]
    def __init__(self, station_id: str, connection: ServerConnection, server: PackageCsmsWithCa) -> None:
        super().__init__(station_id, connection)
        self._server = server

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot(self, **_: Any) -> Any:
        self._server.boots += 1
        now = datetime.now(UTC).isoformat()
        return call_result.BootNotification(current_time=now, interval=60, status=RegistrationStatusEnumType.accepted)

    @on(Action.status_notification)  # type: ignore[untyped-decorator]
    def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.security_event_notification)  # type: ignore[untyped-decorator]
    def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.heartbeat)  # type: ignore[untyped-decorator]
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=datetime.now(UTC).isoformat())

    @on(Action.sign_certificate)  # type: ignore[untyped-decorator]
    def on_sign_certificate(self, csr: str, **_: Any) -> Any:
        return call_result.SignCertificate(status="Accepted")

    @after(Action.sign_certificate)  # type: ignore[untyped-decorator]
    async def sign(self, csr: str, **_: Any) -> None:
        request = x509.load_pem_x509_csr(csr.encode())
        certificate = self._server.ca.client(request.subject, request.public_key())
        chain = certificate.public_bytes(serialization.Encoding.PEM).decode()
        signed = call.CertificateSigned(certificate_chain=chain, certificate_type="ChargingStationCertificate")
        answer = await self.call(signed)
        self._server.signed.append((certificate.serial_number, answer.status))


class PackageCsmsWithCa:
    def __init__(self, ca: OutsideCa) -> None:
        self.ca = ca
        self.signed: list[tuple[int, str]] = []
        self.boots = 0
        self.client_serials: list[int] = []
        self.stations: list[SigningCsms] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="ocpp-package-csms-ca")
        self._server: Server | None = None

    def __enter__(self) -> PackageCsmsWithCa:
        self._thread.start()
        self._server = self.run(self._listen())
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.close()
            self.run(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"wss://127.0.0.1:{next(iter(self._server.sockets)).getsockname()[1]}"

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _listen(self) -> Server:
        context = self.ca.server_context()
        return await serve(self._serve, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")], ssl=context)

    async def _serve(self, connection: ServerConnection) -> None:
        tls = connection.transport.get_extra_info("ssl_object")
        der = tls.getpeercert(binary_form=True)
        self.client_serials.append(x509.load_der_x509_certificate(der).serial_number)
        assert connection.request is not None
        station = SigningCsms(connection.request.path.strip("/"), connection, self)
        self.stations.append(station)
        with suppress(ConnectionClosed):  # the connection ended
            await station.start()

    def drop_connection(self) -> None:
        self.run(self.stations[-1]._connection.close())


@pytest.fixture
def outside_ca(tmp_path: Path) -> OutsideCa:
    folder = tmp_path / "outside-ca"
    folder.mkdir()
    return OutsideCa(folder)


@pytest.mark.requirements("A02.FR.02", "A02.FR.08", "A02.FR.09")
def test_renewal_against_an_ocpp_package_csms_and_an_outside_ca(
    outside_ca: OutsideCa, station_factory: StationFactory, tmp_path: Path
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERIAL)])
    first = outside_ca.client(subject, key.public_key())
    with PackageCsmsWithCa(outside_ca) as csms:
        station_factory(
            csms_url=csms.url,
            ca_file=str(outside_ca.folder / "ca.pem"),
            client_cert=str(outside_ca.write("first.pem", first)),
            client_key=str(outside_ca.write_key("first.key", key)),
            serial_number=SERIAL,
            config={"SecurityCtrlr": {"SecurityProfile": 3}},
        )
        wait_until(lambda: csms.client_serials or None, "the profile 3 connection", 10)
        assert csms.client_serials == [first.serial_number]
        wait_until(lambda: csms.boots or None, "the boot", 10)
        trigger = call.TriggerMessage(requested_message="SignChargingStationCertificate")
        assert csms.run(csms.stations[0].call(trigger)).status == "Accepted"
        (signed,) = wait_until(lambda: csms.signed or None, "the CertificateSigned answer", 10)
        assert signed[1] == "Accepted"
        csms.drop_connection()
        wait_until(lambda: len(csms.client_serials) == 2 or None, "the reconnection", 10)
        assert csms.client_serials[1] == signed[0], "the next connection presents the renewed certificate"
