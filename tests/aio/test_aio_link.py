"""The asyncio link keeps the threaded link's rules (tests/shell/test_link.py): the URL, subprotocol and Basic auth
of the Connect effect, wss:// verified against the CA bundle, the client certificate in profile 3 handshakes only,
a refused TLS or HTTP handshake reported as the facts the core makes security events of, a message over the
limit refused unread, a CSMS without ocpp2.0.1 fatal, a dead network noticed by the ping, one ConnectionLost per
attempt. The link runs on an event loop in a thread; its inputs are collected as test_link's `Inputs` does."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import ssl
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest
from core_helpers import idle_handler, websocket_server
from pki import STATION_SERIAL, Pki, subject_common_name
from runtimes import AsyncStationInThread, LoopThread
from test_link import PASSWORD, PING_INTERVAL, Inputs, mini_csms, no_more_inputs, sends, silent_csms
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection

from chargecore.aio import AsyncChargingStation, StationOptions
from chargecore.aio.link import AsyncLink
from chargecore.pure.blocks.provisioning.dialling import connect_at
from chargecore.pure.effects import Connect, RegistrationChanged
from chargecore.pure.inputs import Connected, ConnectionLost, FrameReceived, OversizedFrameReceived, SecurityEventRaised
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import DEFAULT_MAX_FRAME_BYTES, ClientCertificate, fixed_credentials
from chargecore.testing.csms_double import wait_until

WAIT = 10.0


class Link:
    """An AsyncLink on `loop`, driven from the test thread."""

    def __init__(self, loop: LoopThread, ca_file: str | None, certificate: ClientCertificate | None) -> None:
        self.loop, self.inputs, self.log, self.fatal = loop, Inputs(), io.StringIO(), list[str]()
        self.link = AsyncLink(
            self.inputs.feed,
            FrameLog("CS", stream=self.log),
            self.fatal.append,
            fixed_credentials(ca_file, certificate),
        )

    def connect(self, effect: Connect) -> None:
        async def on_loop() -> None:
            self.link.connect(effect)

        self.loop.run(on_loop())

    def run(self, work: Coroutine[Any, Any, None]) -> None:
        self.loop.run(work, WAIT)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    running = LoopThread()
    yield running
    running.close()


@contextmanager
def aio_link(
    loop: LoopThread, ca_file: str | None = None, certificate: ClientCertificate | None = None
) -> Iterator[Link]:
    opened = Link(loop, ca_file, certificate)
    try:
        yield opened
    finally:
        opened.run(opened.link.close())
        opened.run(opened.link.join(WAIT))


@pytest.mark.parametrize(
    ("profile", "password", "authorized"),
    [(1, PASSWORD, True), (2, PASSWORD, True), (3, PASSWORD, False), (1, None, False)],
)
def test_url_subprotocol_and_basic_auth_only_for_profiles_1_and_2(
    loop: LoopThread, profile: int, password: str | None, authorized: bool
) -> None:
    requests: list[Request] = []

    def record(_connection: ServerConnection, request: Request) -> None:
        requests.append(request)

    with (
        websocket_server(idle_handler, process_request=record, subprotocols=["ocpp2.0.1"]) as port,
        aio_link(loop) as ws,
    ):
        ws.connect(connect_at(f"ws://127.0.0.1:{port}/ocpp", "CS 01", profile, password))
        assert isinstance(ws.inputs.next(), Connected)
    (request,) = requests
    assert request.path == "/ocpp/CS%2001"
    assert request.headers["Sec-WebSocket-Protocol"] == "ocpp2.0.1"
    if authorized:
        assert request.headers["Authorization"] == f"Basic {base64.b64encode(f'CS 01:{PASSWORD}'.encode()).decode()}"
    else:
        assert "Authorization" not in request.headers


def test_a_csms_without_ocpp201_is_fatal(loop: LoopThread) -> None:
    with websocket_server(idle_handler) as port, aio_link(loop) as ws:
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
        wait_until(lambda: ws.fatal, "the fatal refusal", WAIT)
        no_more_inputs(ws.inputs)
    assert "refused subprotocol ocpp2.0.1" in ws.fatal[0]


def test_an_asyncio_station_with_the_ca_bundle_connects_over_tls_and_boots(
    pki: Pki, loop: LoopThread, tmp_path: Path
) -> None:
    application = SimulatedCharger()
    with websocket_server(mini_csms, ssl=pki.server_context(), subprotocols=["ocpp2.0.1"]) as port:
        options = StationOptions(f"wss://127.0.0.1:{port}", "CS-TLS", tmp_path / "data", ca_file=str(pki.ca))
        station = AsyncStationInThread(
            AsyncChargingStation(options, application, FrameLog("CS-TLS", stream=io.StringIO())), loop
        )
        station.start()
        try:
            wait_until(lambda: RegistrationChanged("Accepted") in application.events, "an accepted boot", WAIT)
        finally:
            station.stop()


def test_a_csms_certificate_from_another_ca_is_refused_and_reported(pki: Pki, loop: LoopThread) -> None:
    connections: list[ServerConnection] = []
    with (
        websocket_server(connections.append, ssl=pki.server_context(), subprotocols=["ocpp2.0.1"]) as port,
        aio_link(loop, str(pki.other_ca)) as ws,
    ):
        ws.connect(connect_at(f"wss://127.0.0.1:{port}", "CS-TLS", 2, PASSWORD))
        refused = ws.inputs.next()
        assert isinstance(refused, SecurityEventRaised) and refused.event_type == "InvalidCsmsCertificate"
        assert isinstance(ws.inputs.next(), ConnectionLost)
    assert not connections


@pytest.mark.parametrize(("profile", "common_name"), [(2, None), (3, STATION_SERIAL)])
def test_the_client_certificate_goes_into_profile_3_handshakes_only(
    pki: Pki, loop: LoopThread, profile: int, common_name: str | None
) -> None:
    context = pki.client_certificate_context()
    context.verify_mode = ssl.CERT_OPTIONAL
    peers: list[dict[str, Any]] = []

    def record_peer(connection: ServerConnection) -> None:
        tls = connection.socket
        assert isinstance(tls, ssl.SSLSocket)
        peers.append(dict(tls.getpeercert() or {}))
        idle_handler(connection)

    certificate = (str(pki.client_cert), str(pki.client_key))
    with (
        websocket_server(record_peer, ssl=context, subprotocols=["ocpp2.0.1"]) as port,
        aio_link(loop, str(pki.ca), certificate) as ws,
    ):
        ws.connect(connect_at(f"wss://127.0.0.1:{port}", "CS-TLS", profile, PASSWORD))
        assert isinstance(ws.inputs.next(), Connected)
        wait_until(lambda: peers, "the CSMS to see the connection")
    assert subject_common_name(peers[0]) == common_name


def test_http_401_on_the_upgrade_is_failed_to_authenticate_at_csms(loop: LoopThread) -> None:
    def unauthorized(connection: ServerConnection, _request: Request) -> Response:
        return connection.respond(HTTPStatus.UNAUTHORIZED, "wrong password\n")

    with (
        websocket_server(idle_handler, process_request=unauthorized, subprotocols=["ocpp2.0.1"]) as port,
        aio_link(loop) as ws,
    ):
        ws.connect(connect_at(f"ws://127.0.0.1:{port}", "CS 01", 1, PASSWORD))
        assert ws.inputs.next() == SecurityEventRaised(ANY, "FailedToAuthenticateAtCsms", "HTTP 401 Unauthorized")
        assert isinstance(ws.inputs.next(), ConnectionLost)


@pytest.mark.parametrize("url", ["ws://127.0.0.1:1", "ws://127.0.0.1:99999", "http://127.0.0.1:1"])
def test_a_url_that_cannot_be_dialled_is_one_failed_attempt(loop: LoopThread, url: str) -> None:
    with aio_link(loop) as ws:
        ws.connect(Connect(url, "CS", 1, None))
        assert isinstance(ws.inputs.next(), ConnectionLost)
        no_more_inputs(ws.inputs)
    assert ws.fatal == []


def test_a_message_over_the_limit_is_refused_unread_and_one_at_the_limit_is_read(loop: LoopThread) -> None:
    at_limit = json.dumps([2, "m1", "DataTransfer", {"vendorId": "v", "data": ""}])
    at_limit = at_limit.replace('""', json.dumps("x" * (DEFAULT_MAX_FRAME_BYTES - len(at_limit))))
    over = "y" * (DEFAULT_MAX_FRAME_BYTES + 1)
    with websocket_server(sends(over, at_limit), subprotocols=["ocpp2.0.1"]) as port, aio_link(loop) as ws:
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
        assert isinstance(ws.inputs.next(), Connected)
        assert ws.inputs.next() == OversizedFrameReceived(ANY, DEFAULT_MAX_FRAME_BYTES + 1, DEFAULT_MAX_FRAME_BYTES)
        assert ws.inputs.next() == FrameReceived(ANY, at_limit)
        no_more_inputs(ws.inputs)
    assert "yyyy" not in ws.log.getvalue(), "an oversized message is not logged"


def test_a_ping_without_pong_drops_the_connection_within_two_intervals(loop: LoopThread) -> None:
    with silent_csms() as csms, aio_link(loop) as ws:
        ws.connect(Connect(f"ws://127.0.0.1:{csms.port}", "CS", 1, None, ping_interval=PING_INTERVAL))
        assert isinstance(ws.inputs.next(), Connected)
        connected = time.monotonic()
        assert isinstance(ws.inputs.next(), ConnectionLost)
        assert time.monotonic() - connected < 2 * PING_INTERVAL + 0.5
    assert csms.pings == 1
    assert f"no pong within {PING_INTERVAL} s" in ws.log.getvalue()


def test_a_normal_close_sends_1000_and_reports_no_loss(loop: LoopThread) -> None:
    close_codes: list[int | None] = []

    def record_close(connection: ServerConnection) -> None:
        idle_handler(connection)
        close_codes.append(connection.close_code)

    with websocket_server(record_close, subprotocols=["ocpp2.0.1"]) as port, aio_link(loop) as ws:
        ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
        assert isinstance(ws.inputs.next(), Connected)
        began = time.monotonic()
        ws.run(ws.link.close())
        assert time.monotonic() - began < 0.5
        wait_until(lambda: close_codes, "the CSMS to see the close")
        no_more_inputs(ws.inputs)
    assert close_codes == [1000]


def test_a_close_while_the_csms_keeps_sending_still_ends_with_the_closing_handshake(loop: LoopThread) -> None:
    """A message that arrives after `close` began is read and dropped unheard, and its reader leaves the connection
    to `close`: cutting it off there would lose the close frame (the CSMS would see 1006)."""
    close_codes: list[int | None] = []

    def keep_sending(connection: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                connection.send(json.dumps([2, "m", "Heartbeat", {}]))
        close_codes.append(connection.close_code)

    for _ in range(5):
        with websocket_server(keep_sending, subprotocols=["ocpp2.0.1"]) as port, aio_link(loop) as ws:
            ws.connect(Connect(f"ws://127.0.0.1:{port}", "CS", 1, None))
            assert isinstance(ws.inputs.next(), Connected)
            assert isinstance(ws.inputs.next(), FrameReceived)
            ws.run(ws.link.close())
            wait_until(lambda: len(close_codes) == 1, "the CSMS to see the close")
        assert close_codes.pop() == 1000


def test_the_network_going_down_drops_the_connection_and_fails_dials(loop: LoopThread) -> None:
    with websocket_server(idle_handler, subprotocols=["ocpp2.0.1"]) as port, aio_link(loop) as ws:
        effect = Connect(f"ws://127.0.0.1:{port}", "CS", 1, None)
        ws.connect(effect)
        assert isinstance(ws.inputs.next(), Connected)
        loop.loop.call_soon_threadsafe(ws.link.set_network, False)
        assert isinstance(ws.inputs.next(), ConnectionLost)
        ws.connect(effect)
        lost = ws.inputs.next()
        assert isinstance(lost, ConnectionLost) and lost.failure is not None and "offline" in lost.failure.text
        loop.loop.call_soon_threadsafe(ws.link.set_network, True)
        ws.connect(effect)
        assert isinstance(ws.inputs.next(), Connected)
