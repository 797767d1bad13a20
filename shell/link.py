"""The websocket to the CSMS (websocket-client): dial, read frames into the core, send frames out.

Each connection attempt runs in its own reader thread; what it observes enters the core as inputs through
`feed`. Inputs from an attempt that has since been replaced are discarded. Every way an attempt can end (a dial
that fails for any reason, even a URL websocket-client cannot use; the CSMS closing; a dead network; a bug) ends in
exactly one ConnectionLost, so the core's back-off and profile fallback (B10) always go on. A failed attempt's
ConnectionLost says why it failed, as facts (OpenSSL's reason, the HTTP status: `dial_failure`); the core decides
which failures are security events (A00, A04). The link dials with the credentials the Connect effect names.

On a connection the station pings every WebSocketPingInterval seconds (`Connect.ping_interval`, Part 4 8.4); a ping
still unanswered when the next one is due means a dead, half-open network, and the connection is dropped. A message
larger than `max_frame_bytes` is never decoded nor logged: the core hears only its size.
"""

from __future__ import annotations

import base64
import contextlib
import random
import socket
import ssl
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import websocket

from chargecore.pure.device_model.redaction import redact_frame
from chargecore.pure.effects import Connect
from chargecore.pure.inputs import (
    Connected,
    ConnectionLost,
    DialFailure,
    FrameReceived,
    Input,
    OversizedFrameReceived,
)
from chargecore.shell.frame_log import FrameLog

SUBPROTOCOL = "ocpp2.0.1"
DIAL_TIMEOUT_SECONDS = 10.0
CLOSE_WAIT_SECONDS = 1.0
"""How long a normal close waits for the CSMS to answer the close frame."""
DEFAULT_MAX_FRAME_BYTES = 512 * 1024
"""The largest message the station reads: the largest legitimate OCPP 2.0.1 messages (a full local list, a long
charging schedule, a certificate chain) stay far below it."""
DIAL_FAILURES = (websocket.WebSocketException, OSError, ValueError)
"""What an attempt that cannot connect raises: the network, TLS and the handshake; ValueError for a URL that
websocket-client cannot use (a port above 65535, an unknown scheme)."""

Feed = Callable[[Callable[[datetime], Input]], None]


class SubprotocolRefused(Exception):
    """The CSMS does not speak OCPP 2.0.1: retrying cannot help."""


def station_url(base: str, station_id: str) -> str:
    return f"{base.rstrip('/')}/{quote(station_id, safe='')}"


ClientCertificate = tuple[str, str]
"""The station's certificate (ChargingStationCertificate) and its private key: paths of PEM files."""


@dataclass(frozen=True)
class TlsCredentials:
    """What one TLS dial uses: the trust anchors, as PEM text (the CSMSRootCertificates of the certificate
    store; None: the system's CAs), and the station's certificate and key files (the ChargingStationCertificate)."""

    ca_pem: str | None = None
    client_certificate: ClientCertificate | None = None


Credentials = Callable[[Connect], TlsCredentials]
"""Read on the core thread when a Connect is executed, so that a certificate installed or deleted since the last
attempt counts from the next one; the anchors are the CSMS roots the Connect names (`Connect.csms_roots`)."""


def fixed_credentials(ca_file: str | None, client_certificate: ClientCertificate | None = None) -> Credentials:
    """Credentials from files that do not change (tests, tools)."""
    ca_pem = None if ca_file is None else Path(ca_file).read_text("ascii", errors="replace")
    credentials = TlsCredentials(ca_pem, client_certificate)
    return lambda effect: credentials


def no_credentials(effect: Connect) -> TlsCredentials:
    """The system's CAs and no client certificate."""
    return TlsCredentials()


def tls_context(credentials: TlsCredentials, client_certificate: bool = False) -> ssl.SSLContext:
    """The CSMS's certificate must chain to the trust anchors (the system's CAs without any) and name the host we
    dial (A00.FR.309-311); TLS 1.2 or above only (A00.FR.314, A00.FR.316). With `client_certificate` (security
    profile 3) the station proves who it is with its certificate in the handshake."""
    context = ssl.create_default_context(cadata=credentials.ca_pem)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if credentials.ca_pem is not None:  # an installed CSMS root is an anchor even when another root signed it (M05)
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    if client_certificate and credentials.client_certificate is not None:
        context.load_cert_chain(*credentials.client_certificate, password=_no_password)
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


def basic_auth(station_id: str, password: str) -> str:
    """The value of the Authorization header for HTTP Basic auth as the station (both runtimes send it)."""
    token = base64.b64encode(f"{station_id}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _basic_auth_header(station_id: str, password: str) -> str:
    return f"Authorization: {basic_auth(station_id, password)}"


class WebSocketLink:
    def __init__(
        self,
        feed: Feed,
        log: FrameLog,
        on_fatal: Callable[[str], None],
        credentials: Credentials = no_credentials,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self._feed = feed
        self._log = log
        self._on_fatal = on_fatal
        self._credentials = credentials
        self._max_frame_bytes = max_frame_bytes
        self._lock = threading.Lock()
        self._socket: websocket.WebSocket | None = None
        self._generation = 0
        self._threads: list[threading.Thread] = []
        self._network_down = False
        self._reader_ended = threading.Event()
        """Set when the reader of `_socket` has stopped reading."""

    def connect(self, effect: Connect) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        credentials = self._credentials(effect) if effect.url.startswith("wss") else TlsCredentials()
        self._start(self._run, (effect, generation, credentials), "ocpp-link")

    def _start(self, target: Callable[..., None], args: tuple[object, ...], name: str) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        with self._lock:  # the core thread and reader threads both start threads
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def send(self, text: str) -> None:
        with self._lock:
            sock = self._socket
        if sock is None:
            self._log.event("warning", f"not connected, frame not sent: {redact_frame(text)}", "link")
            return
        self._log.frame("send", redact_frame(text))
        try:
            sock.send(text)
        except (websocket.WebSocketException, OSError) as error:
            self._log.event("warning", f"send failed: {error}", "link")

    def close(self) -> None:
        """Close normally (1000) and ignore whatever the old reader thread still reports. The close frame goes out
        now and the reader, still reading, takes the CSMS's answer; a CSMS that has not answered within
        CLOSE_WAIT_SECONDS (a dead network) is cut off. websocket-client's own close() would wait for the answer
        behind the reader's lock, forever on a half-open connection."""
        with self._lock:
            self._generation += 1
            sock, self._socket = self._socket, None
            reader_ended = self._reader_ended
        if sock is not None:
            with contextlib.suppress(Exception):
                sock.send_close(websocket.STATUS_NORMAL)
            self._start(_abort_unless, (sock, reader_ended), "ocpp-close")

    def set_network(self, up: bool) -> None:
        """Simulate the network going away (operator `offline`, the demo): the connection drops without a close
        handshake and every dial fails until it is back; the core sees ConnectionLost and retries as usual."""
        with self._lock:
            self._network_down = not up
            sock = None if up else self._socket
        if sock is not None:
            _abort(sock)

    def join(self, timeout: float = 5.0) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _dial(self, effect: Connect, credentials: TlsCredentials) -> websocket.WebSocket:
        url = station_url(effect.url, effect.station_id)
        if self._network_down:
            raise OSError("the network is down (offline)")
        # The subprotocol is offered and checked here, not through `subprotocols=`: websocket-client reports a
        # refusal only as "Invalid WebSocket Header", which looks like any transient handshake failure.
        headers = [f"Sec-WebSocket-Protocol: {SUBPROTOCOL}"]
        if effect.basic_auth_password is not None:
            headers.append(_basic_auth_header(effect.station_id, effect.basic_auth_password))
        context = tls_context(credentials, effect.client_certificate) if url.startswith("wss") else None
        sslopt = None if context is None else {"context": context}
        sock = websocket.create_connection(url, timeout=DIAL_TIMEOUT_SECONDS, header=headers, sslopt=sslopt)
        chosen = (sock.getheaders() or {}).get("sec-websocket-protocol")
        if (chosen or "").strip().lower() != SUBPROTOCOL:
            with contextlib.suppress(websocket.WebSocketException, OSError):
                sock.close()
            refused = f"the CSMS at {url} refused subprotocol {SUBPROTOCOL} (it chose {chosen or 'none'})"
            raise SubprotocolRefused(refused)
        return sock

    def _run(self, effect: Connect, generation: int, credentials: TlsCredentials) -> None:
        """One attempt from dial to end; only a refused subprotocol (fatal) ends without a ConnectionLost."""
        try:
            sock = self._dial(effect, credentials)
        except SubprotocolRefused as error:
            self._on_fatal(str(error))
            return
        except DIAL_FAILURES as error:
            self._log.event("info", f"connection attempt failed: {error}", "link")
            self._lost(generation, dial_failure(error))
            return
        except Exception:  # a bug, here or in websocket-client: still only a failed attempt
            self._log.event("error", f"connection attempt failed:\n{traceback.format_exc()}", "link")
            self._lost(generation)
            return
        done = threading.Event()
        try:
            self._serve(sock, effect, generation, done)
        except Exception:  # e.g. EBADF when the socket was closed under the reader: the connection is gone
            self._log.event("error", f"the connection's reader failed:\n{traceback.format_exc()}", "link")
        finally:
            done.set()
            with self._lock:
                if self._socket is sock:
                    self._socket = None
            # after a close or failure seen by the reader, no one else would release the TCP socket
            with contextlib.suppress(Exception):
                sock.shutdown()  # type: ignore[no-untyped-call]
        self._lost(generation)

    def _serve(self, sock: websocket.WebSocket, effect: Connect, generation: int, done: threading.Event) -> None:
        """Read messages into the core until the connection ends (or this attempt is replaced)."""
        with self._lock:
            if generation != self._generation:
                return
            self._socket, self._reader_ended = sock, done
        sock.settimeout(None)
        self._log.event("info", f"connected to {station_url(effect.url, effect.station_id)}", "link")
        self._feed(Connected)
        pongs = threading.Event()
        if effect.ping_interval > 0:
            self._start(self._keep_alive, (sock, effect.ping_interval, pongs, done), "ocpp-ping")
        while self._current(generation):
            try:
                opcode, data = sock.recv_data(control_frame=True)
            except (websocket.WebSocketException, OSError):
                return  # closed, reset or shut down: the usual ends of a connection
            if opcode == websocket.ABNF.OPCODE_PONG:
                pongs.set()
            elif opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                self._receive(data)
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                return

    def _receive(self, data: bytes) -> None:
        """An empty message goes in like any other (the core answers it as a bad frame); one over the limit goes in
        as its size only, never decoded, parsed or logged."""
        size, limit = len(data), self._max_frame_bytes
        if size > limit:
            self._log.event("warning", f"a message of {size} bytes refused unread (more than {limit})", "link")
            self._feed(lambda now: OversizedFrameReceived(now, size, limit))
            return
        text = data.decode("utf-8", errors="replace")
        self._log.frame("recv", redact_frame(text))
        self._feed(lambda now: FrameReceived(now, text))

    def _keep_alive(
        self, sock: websocket.WebSocket, interval: int, pongs: threading.Event, done: threading.Event
    ) -> None:
        """A ping every `interval` seconds until the connection ends; a ping still unanswered when the next is due,
        or one that cannot be sent, is a dead connection: the socket is shut down, so the reader reports the loss."""
        waiting = False
        while not done.wait(interval):
            if waiting and not pongs.is_set():
                self._log.event("warning", f"no pong within {interval} s: the connection is dead", "link")
                _abort(sock)
                return
            pongs.clear()
            try:
                sock.ping()
            except Exception as error:  # whatever the send raised, the connection is unusable
                self._log.event("warning", f"ping failed: {error}", "link")
                _abort(sock)
                return
            waiting = True

    def _lost(self, generation: int, failure: DialFailure | None = None) -> None:
        if self._current(generation):
            jitter = random.random()
            self._log.event("info", "connection lost", "link")
            self._feed(lambda now: ConnectionLost(now, jitter, failure))


def _abort(sock: websocket.WebSocket) -> None:
    """Drop the connection without a close handshake (a dead peer would never answer one): the reader wakes to an
    end of stream and reports the loss."""
    raw = sock.sock
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


def _abort_unless(sock: websocket.WebSocket, reader_ended: threading.Event) -> None:
    if not reader_ended.wait(CLOSE_WAIT_SECONDS):
        _abort(sock)
