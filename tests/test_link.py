"""The websocket link: the URL and headers it dials with, and wss:// verified against a CA bundle (profile 2)."""

from __future__ import annotations

import base64
import io
import json
import queue
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from core_helpers import idle_handler, websocket_server
from csms_double import wait_until
from pki import Pki, make_pki
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request
from websockets.sync.server import ServerConnection

from chargecore.pure.effects import Connect, RegistrationChanged
from chargecore.pure.inputs import Connected, ConnectionLost, Input
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import WebSocketLink, station_url
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
    """What a link feeds the core, made concrete with the current time."""

    def __init__(self) -> None:
        self.received: queue.Queue[Input] = queue.Queue()

    def feed(self, make: Any) -> None:
        self.received.put(make(datetime.now(UTC)))

    def next(self) -> Input:
        return self.received.get(timeout=WAIT)


@contextmanager
def link(ca_file: str | None = None) -> Iterator[tuple[WebSocketLink, Inputs, io.StringIO]]:
    inputs, log = Inputs(), io.StringIO()

    def fatal(message: str) -> None:
        log.write(message)

    opened = WebSocketLink(inputs.feed, FrameLog("CS", stream=log), fatal, ca_file)
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
        ws.connect(Connect(f"ws://127.0.0.1:{port}/ocpp", "CS 01", profile, password))
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


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


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
        ws.connect(Connect(f"wss://127.0.0.1:{port}", "CS-TLS", 2, PASSWORD))
        assert isinstance(inputs.next(), ConnectionLost)
    assert not connections
    assert "certificate verify failed" in log.getvalue().lower()
