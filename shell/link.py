"""The websocket to the CSMS (websocket-client): dial, read frames into the core, send frames out.

Each connection attempt runs in its own reader thread; what it observes enters the core as inputs through
`feed`. Inputs from an attempt that has since been replaced are discarded. A failed attempt's ConnectionLost says
why it failed, as facts (OpenSSL's reason, the HTTP status: `dial_failure`); the core decides which failures are
security events (A00, A04). The link dials with the credentials the Connect effect names, and decides nothing.
"""

from __future__ import annotations

import base64
import contextlib
import random
import socket
import ssl
import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

import websocket

from chargecore.pure.effects import Connect
from chargecore.pure.inputs import Connected, ConnectionLost, DialFailure, FrameReceived, Input
from chargecore.pure.redaction import redact_frame
from chargecore.shell.frame_log import FrameLog

SUBPROTOCOL = "ocpp2.0.1"
DIAL_TIMEOUT_SECONDS = 10.0

Feed = Callable[[Callable[[datetime], Input]], None]


class SubprotocolRefused(Exception):
    """The CSMS does not speak OCPP 2.0.1: retrying cannot help."""


def station_url(base: str, station_id: str) -> str:
    return f"{base.rstrip('/')}/{quote(station_id, safe='')}"


ClientCertificate = tuple[str, str]
"""The station's certificate (ChargingStationCertificate) and its private key: paths of PEM files."""


def tls_context(ca_file: str | None, client_certificate: ClientCertificate | None = None) -> ssl.SSLContext:
    """The CSMS's certificate must chain to `ca_file` (the system's CAs without one) and name the host we dial
    (A00.FR.309-311); TLS 1.2 or above only (A00.FR.314, A00.FR.316). With `client_certificate` (security profile
    3) the station proves who it is with it in the handshake."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if client_certificate is not None:
        context.load_cert_chain(*client_certificate, password=_no_password)
    return context


def _no_password() -> str:
    """An encrypted key cannot be used unattended: fail rather than prompt on the terminal."""
    raise ssl.SSLError("the private key is encrypted")


def client_certificate_problem(cert: str, key: str) -> str | None:
    """Why the station cannot use this certificate and key, or None: checked once at start so a bad file is a
    clear message rather than a failure at every connection attempt."""
    for what, path in (("client certificate", cert), ("client key", key)):
        try:
            with open(path, "rb"):
                pass
        except OSError as error:
            return f"cannot read the {what} {path}: {error.strerror or error}"
    try:
        ssl.create_default_context().load_verify_locations(cafile=cert)
    except ssl.SSLError:
        return f"the client certificate {cert} is not a PEM certificate"
    try:
        ssl.create_default_context().load_cert_chain(cert, key, password=_no_password)
    except ssl.SSLError as error:
        if getattr(error, "reason", None) == "KEY_VALUES_MISMATCH":
            return f"the client key {key} does not belong to the client certificate {cert}"
        return f"the client key {key} is not an unencrypted PEM private key"
    return None


def dial_failure(error: BaseException) -> DialFailure:
    """What a failed connection attempt tells: where it failed, OpenSSL's reason or the HTTP status, and the text."""
    if isinstance(error, ssl.SSLError):  # a certificate that failed verification too: CERTIFICATE_VERIFY_FAILED
        reason = getattr(error, "reason", None)  # set on the errors OpenSSL raised only
        return DialFailure("tls", reason or "", _ssl_text(error))
    if isinstance(error, websocket.WebSocketBadStatusException):
        status = f"HTTP {error.status_code} {error.status_message or ''}".strip()
        return DialFailure("http", str(error.status_code), status)
    return DialFailure("other", "", str(error))


def _ssl_text(error: ssl.SSLError) -> str:
    """OpenSSL's message without the place in Python's C code."""
    return str(error).split(" (_ssl.c:")[0]


def _basic_auth_header(station_id: str, password: str) -> str:
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return f"Authorization: Basic {token}"


class WebSocketLink:
    def __init__(
        self,
        feed: Feed,
        log: FrameLog,
        on_fatal: Callable[[str], None],
        ca_file: str | None = None,
        client_certificate: ClientCertificate | None = None,
    ) -> None:
        self._feed = feed
        self._log = log
        self._on_fatal = on_fatal
        self._ca_file = ca_file
        self._client_certificate = client_certificate
        self._lock = threading.Lock()
        self._socket: websocket.WebSocket | None = None
        self._generation = 0
        self._threads: list[threading.Thread] = []
        self._network_down = False

    def connect(self, effect: Connect) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        thread = threading.Thread(target=self._run, args=(effect, generation), daemon=True, name="ocpp-link")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def send(self, text: str) -> None:
        with self._lock:
            sock = self._socket
        if sock is None:
            self._log.event("warning", f"not connected, frame not sent: {redact_frame(text)}")
            return
        self._log.frame("send", redact_frame(text))
        try:
            sock.send(text)
        except (websocket.WebSocketException, OSError) as error:
            self._log.event("warning", f"send failed: {error}")

    def close(self) -> None:
        """Close normally (1000) and ignore whatever the old reader thread still reports."""
        with self._lock:
            self._generation += 1
            sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                sock.close(status=websocket.STATUS_NORMAL)

    def set_network(self, up: bool) -> None:
        """Simulate the network going away (operator `offline`, the demo): the connection drops without a close
        handshake and every dial fails until it is back; the core sees ConnectionLost and retries as usual."""
        with self._lock:
            self._network_down = not up
            sock = None if up else self._socket
        if sock is not None and sock.sock is not None:
            with contextlib.suppress(OSError):
                sock.sock.shutdown(socket.SHUT_RDWR)  # wakes the reader thread, which reports the loss

    def join(self, timeout: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(timeout)

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _dial(self, effect: Connect) -> websocket.WebSocket:
        url = station_url(effect.url, effect.station_id)
        if self._network_down:
            raise OSError("the network is down (offline)")
        # The subprotocol is offered and checked here, not through `subprotocols=`: websocket-client reports a
        # refusal only as "Invalid WebSocket Header", which looks like any transient handshake failure.
        headers = [f"Sec-WebSocket-Protocol: {SUBPROTOCOL}"]
        if effect.basic_auth_password is not None:
            headers.append(_basic_auth_header(effect.station_id, effect.basic_auth_password))
        certificate = self._client_certificate if effect.client_certificate else None
        sslopt = {"context": tls_context(self._ca_file, certificate)} if url.startswith("wss") else None
        sock = websocket.create_connection(url, timeout=DIAL_TIMEOUT_SECONDS, header=headers, sslopt=sslopt)
        chosen = (sock.getheaders() or {}).get("sec-websocket-protocol")
        if (chosen or "").strip().lower() != SUBPROTOCOL:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                sock.close()
            refused = f"the CSMS at {url} refused subprotocol {SUBPROTOCOL} (it chose {chosen or 'none'})"
            raise SubprotocolRefused(refused)
        return sock

    def _run(self, effect: Connect, generation: int) -> None:
        try:
            sock = self._dial(effect)
        except SubprotocolRefused as error:
            self._on_fatal(str(error))
            return
        except (websocket.WebSocketException, OSError) as error:
            self._log.event("info", f"connection attempt failed: {error}")
            self._lost(generation, dial_failure(error))
            return
        with self._lock:
            if generation != self._generation:
                sock.close()
                return
            self._socket = sock
        sock.settimeout(None)
        self._log.event("info", f"connected to {station_url(effect.url, effect.station_id)}")
        self._feed(Connected)
        while self._current(generation):
            try:
                text = sock.recv()
            except (websocket.WebSocketException, OSError):
                break
            if not text:
                break
            if isinstance(text, bytes):
                text = text.decode("utf-8", errors="replace")
            self._log.frame("recv", redact_frame(text))
            self._feed(lambda now, text=text: FrameReceived(now, text))
        with self._lock:
            if self._socket is sock:
                self._socket = None
        # after a close or failure seen by the reader, no one else would release the TCP socket
        sock.shutdown()  # type: ignore[no-untyped-call]
        self._lost(generation)

    def _lost(self, generation: int, failure: DialFailure | None = None) -> None:
        if self._current(generation):
            jitter = random.random()
            self._log.event("info", "connection lost")
            self._feed(lambda now: ConnectionLost(now, jitter, failure))
