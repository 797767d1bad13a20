"""The websocket link: the URL and headers it dials with, and wss:// verified against a CA bundle (profile 2)."""

from __future__ import annotations

import base64
import io
import json
import queue
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from core_helpers import idle_handler, websocket_server
from csms_double import wait_until
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


@dataclass(frozen=True)
class Pki:
    ca: Path
    other_ca: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.server_cert, self.server_key)
        return context


SERVER_EXTENSIONS = """\
subjectAltName = IP:127.0.0.1
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA, a CA that signed nothing, and a server certificate for 127.0.0.1, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line tool is not installed")
    folder = tmp_path_factory.mktemp("pki")
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True, timeout=30)

    for name in ("ca", "other-ca"):
        openssl("req", "-x509", *key, "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
                "-subj", f"/CN=chargecore test {name}", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    (folder / "server.ext").write_text(SERVER_EXTENSIONS, encoding="utf-8")
    openssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext")  # fmt: skip
    return Pki(folder / "ca.pem", folder / "other-ca.pem", folder / "server.pem", folder / "server.key")


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
