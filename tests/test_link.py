"""The websocket link: the URL and headers it dials with, wss:// verified against a CA bundle (profile 2), the
client certificate of profile 3, and the security events of refused connections. The credentials come from the
core's Connect (`connect_at`), and the security events are the core's judgement (`refusal_to_report`) of the
failures the link reports, as the core makes them."""

from __future__ import annotations

import base64
import io
import json
import queue
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from core_helpers import idle_handler, websocket_server
from csms_double import wait_until
from pki import STATION_SERIAL, Pki, old_tls_only, old_tls_works, subject_common_name
from websocket import WebSocketBadStatusException
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from chargecore.pure.connection import connect_at
from chargecore.pure.effects import RegistrationChanged
from chargecore.pure.inputs import Connected, ConnectionLost, Input, SecurityEventRaised
from chargecore.pure.security_events import refusal_event, refusal_to_report
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import ClientCertificate, WebSocketLink, dial_failure, station_url
from chargecore.shell.runtime import ChargingStation, StationOptions

PASSWORD = "0123456789abcdef"
WAIT = 10.0


@pytest.mark.parametrize(
    ("base", "station_id", "url"),
    [
        ("ws://h", "CS 01/ä", "ws://h/CS%2001%2F%C3%A4"),
        ("ws://h/ocpp/", "CS01", "ws://h/ocpp/CS01"),
        ("wss://h:9000/ocpp", "a?b#c", "wss://h:9000/ocpp/a%3Fb%23c"),
    ],
)
def test_station_url_appends_the_percent_encoded_id(base: str, station_id: str, url: str) -> None:
    assert station_url(base, station_id) == url


class Inputs:
    """What a link feeds the core, made concrete with the current time; a failed attempt that the core takes for a
    security event is preceded by that event, as the core raises it: once per type until the next connection."""

    def __init__(self) -> None:
        self.received: queue.Queue[Input] = queue.Queue()
        self.reported: frozenset[str] = frozenset()

    def feed(self, make: Any) -> None:
        event = make(datetime.now(UTC))
        if isinstance(event, Connected):
            self.reported = frozenset()
        if isinstance(event, ConnectionLost) and event.failure is not None:
            refusal = refusal_to_report(self.reported, event.failure)
            if refusal is not None:
                self.reported |= {refusal}
                self.received.put(SecurityEventRaised(event.now, refusal, event.failure.text))
        self.received.put(event)

    def next(self) -> Input:
        return self.received.get(timeout=WAIT)


@contextmanager
def link(
    ca_file: str | None = None, client_certificate: ClientCertificate | None = None
) -> Iterator[tuple[WebSocketLink, Inputs, io.StringIO]]:
    inputs, log = Inputs(), io.StringIO()

    def fatal(message: str) -> None:
        log.write(message)

    opened = WebSocketLink(inputs.feed, FrameLog("CS", stream=log), fatal, ca_file, client_certificate)
    try:
        yield opened, inputs, log
    finally:
        opened.close()
        opened.join(WAIT)


@pytest.mark.parametrize(
    ("profile", "password", "authorized"),
    [(1, PASSWORD, True), (2, PASSWORD, True), (3, PASSWORD, False), (1, None, False)],
)
def test_basic_auth_only_for_profiles_1_and_2_with_a_password(
    profile: int, password: str | None, authorized: bool
) -> None:
    requests: list[Request] = []

    def record(_connection: ServerConnection, request: Request) -> None:
        requests.append(request)

    with (
        websocket_server(idle_handler, process_request=record, subprotocols=["ocpp2.0.1"]) as port,
        link() as (ws, inputs, _),
    ):
        ws.connect(connect_at(f"ws://127.0.0.1:{port}/ocpp", "CS 01", profile, password))
        assert isinstance(inputs.next(), Connected)
    (request,) = requests
    assert request.path == "/ocpp/CS%2001"
    assert request.headers["Sec-WebSocket-Protocol"] == "ocpp2.0.1"
    if authorized:
        token = base64.b64encode(f"CS 01:{PASSWORD}".encode()).decode()
        assert request.headers["Authorization"] == f"Basic {token}"
    else:
        assert "Authorization" not in request.headers


# --- wss:// with a CA bundle -----------------------------------------------------------------------------------


def answer(action: str) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if action == "BootNotification":
        return {"currentTime": now, "interval": 300, "status": "Accepted"}
    return {"currentTime": now} if action == "Heartbeat" else {}


def mini_csms(connection: ServerConnection) -> None:
    """Answers every CALL of the station; enough for a boot."""
    with suppress(ConnectionClosed):
        for text in connection:
            frame = json.loads(text)
            if frame[0] == 2:
                connection.send(json.dumps([3, frame[1], answer(frame[2])]))


def test_a_station_with_the_ca_bundle_connects_over_tls_and_boots(pki: Pki, tmp_path: Path) -> None:
    application = SimulatedCharger()
    with websocket_server(mini_csms, ssl=pki.server_context(), subprotocols=["ocpp2.0.1"]) as port:
        options = StationOptions(f"wss://127.0.0.1:{port}", "CS-TLS", tmp_path / "data", ca_file=str(pki.ca))
        station = ChargingStation(options, application, FrameLog("CS-TLS", stream=io.StringIO()))
        station.start()
        try:
            wait_until(
                lambda: RegistrationChanged("Accepted") in application.events, "an accepted boot over wss://", 10.0
            )
        finally:
            station.stop()


@pytest.mark.parametrize("trusted", ["other-ca", "system"])
def test_a_link_without_the_right_ca_does_not_connect(pki: Pki, trusted: str) -> None:
    connections: list[ServerConnection] = []
    ca_file = str(pki.other_ca) if trusted == "other-ca" else None
    with (
        websocket_server(connections.append, ssl=pki.server_context(), subprotocols=["ocpp2.0.1"]) as port,
        link(ca_file) as (ws, inputs, log),
    ):
        ws.connect(connect_at(f"wss://127.0.0.1:{port}", "CS-TLS", 2, PASSWORD))
        refused = inputs.next()
        assert isinstance(refused, SecurityEventRaised) and refused.event_type == "InvalidCsmsCertificate"
        assert isinstance(inputs.next(), ConnectionLost)
    assert not connections
    assert "certificate verify failed" in log.getvalue().lower()


@pytest.mark.parametrize(("profile", "common_name"), [(2, None), (3, STATION_SERIAL)])
def test_the_client_certificate_goes_into_profile_3_handshakes_only(
    pki: Pki, profile: int, common_name: str | None
) -> None:
    context = pki.client_certificate_context()
    context.verify_mode = ssl.CERT_OPTIONAL  # asks every client for a certificate, connects those without one too
    peers: list[dict[str, Any] | None] = []

    def record_peer(connection: ServerConnection) -> None:
        tls = connection.socket
        assert isinstance(tls, ssl.SSLSocket)
        peers.append(dict(tls.getpeercert() or {}))
        idle_handler(connection)

    certificate = (str(pki.client_cert), str(pki.client_key))
    with (
        websocket_server(record_peer, ssl=context, subprotocols=["ocpp2.0.1"]) as port,
        link(str(pki.ca), certificate) as (ws, inputs, _),
    ):
        ws.connect(connect_at(f"wss://127.0.0.1:{port}", "CS-TLS", profile, PASSWORD))
        assert isinstance(inputs.next(), Connected)
        wait_until(lambda: peers, "the CSMS to see the connection")
    assert subject_common_name(peers[0] or {}) == common_name


# --- refused connections are security events (A00, A04) -------------------------------------------------------


def cipher_mismatch(context: ssl.SSLContext) -> None:
    """TLS 1.2 only, with a cipher suite the station does not offer (SHA-1 MAC)."""
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-AES128-SHA")


@pytest.mark.parametrize(
    ("server", "event_type", "reason"),
    [
        ("unknown", "InvalidCsmsCertificate", "unable to get local issuer certificate"),
        ("expired", "InvalidCsmsCertificate", "certificate has expired"),
        ("wrong-name", "InvalidCsmsCertificate", "mismatch"),
        ("tls-1.1", "InvalidTLSVersion", "protocol version"),
        ("cipher", "InvalidTLSCipherSuite", "handshake failure"),
    ],
)
def test_a_refused_tls_handshake_is_a_security_event_before_the_loss(
    pki: Pki, server: str, event_type: str, reason: str
) -> None:
    context = pki.server_context(pki.invalid_certs.get(server))
    if server == "tls-1.1":
        if not old_tls_works(pki):
            pytest.skip("the local OpenSSL cannot speak TLS below 1.2")
        old_tls_only(context)
    elif server == "cipher":
        cipher_mismatch(context)
    connections: list[ServerConnection] = []
    with (
        websocket_server(connections.append, ssl=context, subprotocols=["ocpp2.0.1"]) as port,
        link(str(pki.ca)) as (ws, inputs, _),
    ):
        for attempt in (1, 2):
            ws.connect(connect_at(f"wss://127.0.0.1:{port}", "CS-TLS", 2, PASSWORD))
            if attempt == 1:
                event = inputs.next()
                assert isinstance(event, SecurityEventRaised), event
                assert event.event_type == event_type
                assert event.tech_info is not None and reason in event.tech_info, event.tech_info
            assert isinstance(inputs.next(), ConnectionLost), "a kind is reported once until the next connection"
    assert not connections


def test_http_401_on_the_upgrade_is_failed_to_authenticate_at_csms() -> None:
    def unauthorized(connection: ServerConnection, _request: Request) -> Response:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong password\n")

    with (
        websocket_server(idle_handler, process_request=unauthorized, subprotocols=["ocpp2.0.1"]) as port,
        link() as (ws, inputs, _),
    ):
        ws.connect(connect_at(f"ws://127.0.0.1:{port}", "CS 01", 1, PASSWORD))
        assert inputs.next() == SecurityEventRaised(ANY, "FailedToAuthenticateAtCsms", "HTTP 401 Unauthorized")
        assert isinstance(inputs.next(), ConnectionLost)


def security_event(error: Exception) -> str | None:
    """The security event the core makes of the link's account of a failed attempt (None: an ordinary failure)."""
    return refusal_event(dial_failure(error))


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        WebSocketBadStatusException("Handshake status 503", HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable"),
        ssl.SSLError(1, "something else"),
    ],
)
def test_ordinary_failures_are_no_security_events(error: Exception) -> None:
    assert security_event(error) is None
