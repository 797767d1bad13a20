"""The websocket link: the URL and headers it dials with, wss:// verified against a CA bundle (profile 2), the
client certificate of profile 3, and the security events of refused connections. The credentials come from the
core's Connect (`dialling.connect_at`), and the security events are the core's judgement (`refusal_to_report`) of the
failures the link reports, as the core makes them."""

from __future__ import annotations

import base64
import errno
import hashlib
import io
import json
import queue
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
import websocket
from core_helpers import idle_handler, websocket_server
from pki import STATION_SERIAL, Pki, old_tls_only, old_tls_works, subject_common_name
from websocket import WebSocketBadStatusException
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from chargecore.pure.blocks.provisioning.dialling import connect_at
from chargecore.pure.blocks.provisioning.network_profiles import PROFILES_KEY
from chargecore.pure.blocks.security.security_events import refusal_event, refusal_to_report
from chargecore.pure.effects import Connect, RegistrationChanged
from chargecore.pure.inputs import (
    Connected,
    ConnectionLost,
    FrameReceived,
    Input,
    OversizedFrameReceived,
    SecurityEventRaised,
)
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import (
    CLOSE_WAIT_SECONDS,
    DEFAULT_MAX_FRAME_BYTES,
    ClientCertificate,
    WebSocketLink,
    dial_failure,
    fixed_credentials,
    station_url,
)
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.shell.storage import StationStore
from chargecore.testing.csms_double import wait_until

PASSWORD = "0123456789abcdef"
WAIT = 10.0
FAST_RETRY = {"RetryBackOffWaitMinimum": 1, "RetryBackOffRandomRange": 0}
"""OCPPCommCtrlr values for the shortest reconnect back-off the catalogue allows: one second, no random part."""


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

    credentials = fixed_credentials(ca_file, client_certificate)
    opened = WebSocketLink(inputs.feed, FrameLog("CS", stream=log), fatal, credentials)
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


# --- every way an attempt ends is one ConnectionLost --------------------------------------------------------


def no_more_inputs(inputs: Inputs, quiet: float = 0.5) -> None:
    with pytest.raises(queue.Empty):
        inputs.received.get(timeout=quiet)


@pytest.mark.parametrize("url", ["ws://127.0.0.1:99999", "ws://127.0.0.1:0", "http://127.0.0.1:9", "ws://[::1"])
def test_a_url_that_cannot_be_dialled_is_a_failed_attempt(url: str) -> None:
    with link() as (ws, inputs, log):
        ws.connect(Connect(url, "CS", 1, None))
        assert isinstance(inputs.next(), ConnectionLost)
        no_more_inputs(inputs)
    assert "connection attempt failed" in log.getvalue()


def test_a_stored_profile_with_port_99999_falls_back_to_the_next_slot(tmp_path: Path) -> None:
    """The unusable profile (stored before SetNetworkProfile refused it) is tried and given up like any other."""
    connected: list[str] = []

    def record(connection: ServerConnection) -> None:
        connected.append(connection.request.path if connection.request else "")
        mini_csms(connection)

    with websocket_server(record, subprotocols=["ocpp2.0.1"]) as port:
        store = StationStore(tmp_path / "data")
        store.put([(PROFILES_KEY, [profile(1, "ws://127.0.0.1:99999"), profile(2, f"ws://127.0.0.1:{port}/two")])])
        store.close()
        priority = {"NetworkConfigurationPriority": "1,2", "NetworkProfileConnectionAttempts": 1}
        config = {"OCPPCommCtrlr": FAST_RETRY | priority}
        options = StationOptions("ws://127.0.0.1:99999", "CS-FALLBACK", tmp_path / "data", config=config)
        station = ChargingStation(options, log=FrameLog("CS-FALLBACK", stream=io.StringIO()))
        station.start()
        try:
            wait_until(lambda: connected, "a connection through slot 2", WAIT)
        finally:
            station.stop()
    assert connected[0] == "/two/CS-FALLBACK"


def profile(slot: int, url: str) -> dict[str, Any]:
    data = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30}
    return {"configurationSlot": slot, "connectionData": data | {"securityProfile": 1, "ocppInterface": "Wired0"}}


DIAL_SETTIMEOUT = websocket.WebSocket.settimeout


def fail_settimeout(sock: websocket.WebSocket, timeout: float | None) -> None:
    """The reader's settimeout(None) on a socket closed under it, as seen in the field; the dial's works."""
    if timeout is None:
        raise OSError(errno.EBADF, "Bad file descriptor")
    DIAL_SETTIMEOUT(sock, timeout)


def fail_recv_data(_sock: Any, control_frame: bool = False) -> Any:
    raise RuntimeError("a bug in the reader")


@pytest.mark.parametrize(
    ("method", "failure", "connected"),
    [("settimeout", fail_settimeout, False), ("recv_data", fail_recv_data, True)],
)
def test_a_reader_that_fails_reports_one_loss(
    monkeypatch: pytest.MonkeyPatch, method: str, failure: Any, connected: bool
) -> None:
    monkeypatch.setattr(websocket.WebSocket, method, failure)
    with websocket_server(idle_handler, subprotocols=["ocpp2.0.1"]) as port, link() as (ws, inputs, log):
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
        if connected:
            assert isinstance(inputs.next(), Connected)
        assert isinstance(inputs.next(), ConnectionLost)
        no_more_inputs(inputs)
    assert "Traceback" in log.getvalue()
    assert not [thread for thread in threading.enumerate() if thread.name == "ocpp-link" and thread.is_alive()]


# --- what the CSMS sends: empty and oversized messages --------------------------------------------------------


def sends(*messages: str) -> Any:
    """A CSMS that sends `messages` on connecting, then idles."""

    def handler(connection: ServerConnection) -> None:
        for message in messages:
            connection.send(message)
        idle_handler(connection)

    return handler


def test_an_empty_message_goes_to_the_core_and_the_connection_stays() -> None:
    heartbeat = '[2,"m1","Heartbeat",{}]'
    with websocket_server(sends("", heartbeat), subprotocols=["ocpp2.0.1"]) as port, link() as (ws, inputs, _):
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
        assert isinstance(inputs.next(), Connected)
        assert [inputs.next(), inputs.next()] == [FrameReceived(ANY, ""), FrameReceived(ANY, heartbeat)]
        no_more_inputs(inputs)


def test_a_message_over_the_limit_is_refused_unread_and_one_at_the_limit_is_read() -> None:
    at_limit = json.dumps([2, "m1", "DataTransfer", {"vendorId": "v", "data": ""}])
    at_limit = at_limit.replace('""', json.dumps("x" * (DEFAULT_MAX_FRAME_BYTES - len(at_limit))))
    over = "y" * (DEFAULT_MAX_FRAME_BYTES + 1)
    assert len(at_limit.encode()) == DEFAULT_MAX_FRAME_BYTES
    with websocket_server(sends(over, at_limit), subprotocols=["ocpp2.0.1"]) as port, link() as (ws, inputs, log):
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
        assert isinstance(inputs.next(), Connected)
        assert inputs.next() == OversizedFrameReceived(ANY, DEFAULT_MAX_FRAME_BYTES + 1, DEFAULT_MAX_FRAME_BYTES)
        assert inputs.next() == FrameReceived(ANY, at_limit)
        no_more_inputs(inputs)
    assert "yyyy" not in log.getvalue(), "an oversized message is not logged"
    assert f"{DEFAULT_MAX_FRAME_BYTES + 1} bytes refused unread" in log.getvalue()


# --- WebSocketPingInterval: a dead network is noticed ---------------------------------------------------------


class SilentCsms:
    """A CSMS behind a network that died half-open: it completes the websocket handshake, then reads what the
    station sends and answers nothing, not even a ping. Records when each connection came and the pings it got."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.connected_at: list[float] = []
        self.pings = 0

    def serve(self) -> None:
        with suppress(OSError):
            while True:
                peer, _ = self.listener.accept()
                threading.Thread(target=self._handle, args=(peer,), daemon=True).start()

    def _handle(self, peer: socket.socket) -> None:
        with peer, suppress(OSError, ValueError):
            request = b""
            while b"\r\n\r\n" not in request:
                request += peer.recv(4096) or b"?" * 4096
            key = re.search(rb"Sec-WebSocket-Key: *(\S+)", request, re.IGNORECASE)
            assert key is not None
            accept = base64.b64encode(hashlib.sha1(key[1] + WEBSOCKET_GUID).digest()).decode()
            peer.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + f"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: ocpp2.0.1\r\n\r\n".encode()
            )
            self.connected_at.append(time.monotonic())
            while True:
                header = peer.recv(2)
                if len(header) < 2:
                    return
                length = header[1] & 0x7F
                extra = {126: 2, 127: 8}.get(length, 0)
                if extra:
                    length = int.from_bytes(peer.recv(extra), "big")
                _read_exactly(peer, 4 + length)  # the mask, then the payload
                self.pings += header[0] & 0x0F == websocket.ABNF.OPCODE_PING


WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _read_exactly(peer: socket.socket, size: int) -> None:
    while size > 0:
        chunk = peer.recv(size)
        if not chunk:
            raise OSError("closed")
        size -= len(chunk)


@contextmanager
def silent_csms() -> Iterator[SilentCsms]:
    csms = SilentCsms()
    thread = threading.Thread(target=csms.serve, daemon=True, name="test-silent-csms")
    thread.start()
    try:
        yield csms
    finally:
        with suppress(OSError):
            csms.listener.shutdown(socket.SHUT_RDWR)  # wakes accept(), which close() alone does not
        csms.listener.close()
        thread.join(WAIT)


PING_INTERVAL = 1


def test_a_ping_without_pong_drops_the_connection_within_two_intervals() -> None:
    with silent_csms() as csms, link() as (ws, inputs, log):
        ws.connect(Connect(f"ws://127.0.0.1:{csms.port}", "CS", 1, None, ping_interval=PING_INTERVAL))
        assert isinstance(inputs.next(), Connected)
        connected = time.monotonic()
        assert isinstance(inputs.next(), ConnectionLost)
        assert time.monotonic() - connected < 2 * PING_INTERVAL + 0.5
    assert csms.pings == 1
    assert f"no pong within {PING_INTERVAL} s" in log.getvalue()
    assert "Traceback" not in log.getvalue(), "a dead connection is an ordinary loss, not a failure of the reader"


@contextmanager
def csms_port(kind: str) -> Iterator[int]:
    """A CSMS that answers pings (as websockets does), or the silent one."""
    if kind == "answers pings":
        with websocket_server(idle_handler, subprotocols=["ocpp2.0.1"]) as port:
            yield port
    else:
        with silent_csms() as csms:
            yield csms.port


@pytest.mark.parametrize(("csms", "interval"), [("answers pings", PING_INTERVAL), ("silent", 0)])
def test_a_connection_that_answers_or_is_not_pinged_stays_up(csms: str, interval: int) -> None:
    with csms_port(csms) as port, link() as (ws, inputs, _):
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None, ping_interval=interval))
        assert isinstance(inputs.next(), Connected)
        no_more_inputs(inputs, quiet=4 * PING_INTERVAL)


def test_a_station_on_a_dead_network_reconnects(tmp_path: Path) -> None:
    """End to end: the device model's WebSocketPingInterval reaches the link; the loss it detects makes the station
    dial again after the back-off (one second here)."""
    config = {"OCPPCommCtrlr": FAST_RETRY | {"WebSocketPingInterval": PING_INTERVAL}}
    with silent_csms() as csms:
        options = StationOptions(f"ws://127.0.0.1:{csms.port}", "CS-PING", tmp_path / "data", config=config)
        station = ChargingStation(options, log=FrameLog("CS-PING", stream=io.StringIO()))
        station.start()
        try:
            wait_until(lambda: len(csms.connected_at) >= 2, "a second connection", WAIT)
        finally:
            station.stop()
    first, second = csms.connected_at[:2]
    assert second - first < 2 * PING_INTERVAL + FAST_RETRY["RetryBackOffWaitMinimum"] + 1.0


def closed_within(ws: WebSocketLink, seconds: float) -> bool:
    """Whether close() and the end of every link thread took at most `seconds` (a hang fails, not blocks, the test)."""
    closing = threading.Thread(target=lambda: (ws.close(), ws.join(WAIT)), daemon=True)
    started = time.monotonic()
    closing.start()
    closing.join(seconds)
    return not closing.is_alive() and time.monotonic() - started <= seconds


def test_a_normal_close_is_answered_by_the_csms_at_once() -> None:
    close_codes: list[int | None] = []

    def record_close(connection: ServerConnection) -> None:
        idle_handler(connection)
        close_codes.append(connection.close_code)

    with websocket_server(record_close, subprotocols=["ocpp2.0.1"]) as port, link() as (ws, inputs, _):
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
        assert isinstance(inputs.next(), Connected)
        assert closed_within(ws, CLOSE_WAIT_SECONDS / 2)
        wait_until(lambda: close_codes, "the CSMS to see the close")
    assert close_codes == [1000]
    no_more_inputs(inputs)


def test_closing_a_half_open_connection_gives_up_after_the_close_wait() -> None:
    with silent_csms() as csms, link() as (ws, inputs, _):
        ws.connect(Connect(f"ws://127.0.0.1:{csms.port}", "CS", 1, None))
        assert isinstance(inputs.next(), Connected)
        assert closed_within(ws, CLOSE_WAIT_SECONDS + 0.5)
    no_more_inputs(inputs)
