"""The websocket to the CSMS on the event loop (the `websockets` client): the asyncio twin of shell/link.py, with
the same rules: the URL `<csms url>/<station id>`, subprotocol ocpp2.0.1 (a CSMS that does not choose it is fatal),
Basic auth and the client certificate as the Connect effect names them, TLS from `shell.link.tls_context`.

Each connection attempt is one task; what it observes enters the core through `feed`, and inputs from an attempt
that has since been replaced are discarded. Every way an attempt ends (a failed dial of any kind, the CSMS
closing, a dead network, a bug) ends in exactly one ConnectionLost. The station pings every `ping_interval` seconds
and drops a connection whose pong has not come back by the next ping (Part 4 8.4), at once, as the threaded link
does (websockets' own keepalive would first wait for a close handshake the dead peer never answers). A message
larger than `max_frame_bytes` is never decoded nor logged: the core hears only its size. websockets itself refuses a
message beyond READ_LIMIT_FACTOR times that limit (close code 1009), so a hostile CSMS cannot make the station
buffer without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import cast

from websockets.asyncio.client import ClientConnection, connect
from websockets.datastructures import HeadersLike
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidMessage, InvalidStatus, NegotiationError
from websockets.http11 import USER_AGENT
from websockets.typing import Subprotocol

from chargecore.pure.device_model.redaction import redact_frame
from chargecore.pure.effects import Connect
from chargecore.pure.inputs import Connected, ConnectionLost, DialFailure, FrameReceived, Input, OversizedFrameReceived
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import (
    CLOSE_WAIT_SECONDS,
    DEFAULT_MAX_FRAME_BYTES,
    DIAL_TIMEOUT_SECONDS,
    SUBPROTOCOL,
    Credentials,
    TlsCredentials,
    basic_auth,
    dial_failure,
    no_credentials,
    station_url,
    tls_context,
)

Feed = Callable[[Callable[[datetime], Input]], None]
READ_LIMIT_FACTOR = 4
"""websockets reads a message whole before the station can look at its size; beyond this many times the frame limit
it closes the connection instead (1009), so memory per station stays bounded."""
DIAL_FAILURES = (OSError, InvalidHandshake, TimeoutError, ValueError)
"""What an attempt that cannot connect raises: the network, TLS, the handshake, the open timeout, a bad URL."""


class _TlsAwareConnection(ClientConnection):
    """websockets reports a connection lost before the HTTP answer as "did not receive a valid HTTP response" and
    drops why. Under TLS 1.3 a CSMS refuses the client certificate only after the client's handshake has completed,
    with an alert that ends the connection there: the alert is what the core must hear (A02: the previous
    certificate comes back; FailedToAuthenticateAtCsms), as the threaded link reports it."""

    lost_by: Exception | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_by = exc
        super().connection_lost(exc)

    async def handshake(
        self, additional_headers: HeadersLike | None = None, user_agent_header: str | None = USER_AGENT
    ) -> None:
        try:
            await super().handshake(additional_headers, user_agent_header)
        except InvalidMessage:
            if isinstance(self.lost_by, ssl.SSLError):
                raise self.lost_by from None
            raise


class SubprotocolRefused(Exception):
    """The CSMS does not speak OCPP 2.0.1: retrying cannot help."""


def aio_dial_failure(error: BaseException) -> DialFailure:
    """As `shell.link.dial_failure`, with websockets' refused handshake as its HTTP status."""
    if isinstance(error, InvalidStatus):
        response = error.response
        return DialFailure("http", str(response.status_code), f"HTTP {response.status_code} {response.reason_phrase}")
    return dial_failure(error)


class AsyncLink:
    """One connection at a time to the CSMS; `connect` starts an attempt, `close` ends the current one."""

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
        self._socket: ClientConnection | None = None
        self._generation = 0
        self._closing: set[ClientConnection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._network_down = False

    def connect(self, effect: Connect) -> None:
        self._generation += 1
        # read now, on the core task, so that a certificate installed or deleted since counts from this attempt
        credentials = self._credentials(effect) if effect.url.startswith("wss") else TlsCredentials()
        self._spawn(self._run(effect, credentials, self._generation))

    def _spawn(self, work: object) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def send(self, text: str) -> None:
        sock = self._socket
        if sock is None:
            self._log.event("warning", f"not connected, frame not sent: {redact_frame(text)}")
            return
        self._log.frame("send", redact_frame(text))
        try:
            await sock.send(text)
        except (ConnectionClosed, OSError) as error:
            self._log.event("warning", f"send failed: {error}")

    async def close(self) -> None:
        """Close normally (1000) and ignore whatever the old attempt still reports; a CSMS that has not answered
        the close within CLOSE_WAIT_SECONDS (a dead network) is cut off."""
        self._generation += 1
        sock, self._socket = self._socket, None
        if sock is None:
            return
        self._closing.add(sock)  # its reader must not cut it off before the close frame has gone out
        try:
            await asyncio.wait_for(sock.close(), CLOSE_WAIT_SECONDS)
        except (TimeoutError, ConnectionClosed, OSError):
            sock.transport.abort()
        finally:
            self._closing.discard(sock)

    def set_network(self, up: bool) -> None:
        """Simulate the network going away: the connection drops without a close handshake and every dial fails
        until it is back; the core sees ConnectionLost and retries as usual."""
        self._network_down = not up
        if not up and self._socket is not None:
            self._socket.transport.abort()

    async def join(self, timeout: float) -> None:
        """Wait at most `timeout` seconds for the attempts to end, then cancel what is left."""
        tasks = set(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=max(timeout, 0.01))
        for task in pending:
            task.cancel()

    async def _dial(self, effect: Connect, credentials: TlsCredentials) -> ClientConnection:
        url = station_url(effect.url, effect.station_id)
        if self._network_down:
            raise OSError("the network is down (offline)")
        headers = []
        if effect.basic_auth_password is not None:
            headers.append(("Authorization", basic_auth(effect.station_id, effect.basic_auth_password)))
        sock = await connect(
            url,
            subprotocols=[Subprotocol(SUBPROTOCOL)],
            additional_headers=headers,
            ssl=tls_context(credentials, effect.client_certificate) if url.startswith("wss") else None,
            open_timeout=DIAL_TIMEOUT_SECONDS,
            ping_interval=None,  # the station's own keep-alive, below
            close_timeout=CLOSE_WAIT_SECONDS,
            max_size=READ_LIMIT_FACTOR * self._max_frame_bytes,
            compression=None,  # as the threaded link: no permessage-deflate
            proxy=None,
            create_connection=_TlsAwareConnection,
        )
        if (sock.subprotocol or "").lower() != SUBPROTOCOL:
            sock.transport.abort()
            raise SubprotocolRefused(f"the CSMS at {url} refused subprotocol {SUBPROTOCOL} (it chose none)")
        return sock

    async def _run(self, effect: Connect, credentials: TlsCredentials, generation: int) -> None:
        """One attempt from dial to end; only a refused subprotocol (fatal) ends without a ConnectionLost."""
        try:
            sock = await self._dial(effect, credentials)
        except (SubprotocolRefused, NegotiationError) as error:
            self._on_fatal(str(error))
            return
        except DIAL_FAILURES as error:
            self._log.event("info", f"connection attempt failed: {error}")
            self._lost(generation, aio_dial_failure(error))
            return
        except Exception:  # a bug, here or in websockets: still only a failed attempt
            self._log.event("error", f"connection attempt failed:\n{traceback.format_exc()}")
            self._lost(generation)
            return
        try:
            await self._serve(sock, effect, generation)
        except Exception:  # the connection is gone whatever broke the reader
            self._log.event("error", f"the connection's reader failed:\n{traceback.format_exc()}")
        finally:
            if self._socket is sock:
                self._socket = None
            if sock not in self._closing:  # else `close` ends it, with the closing handshake
                sock.transport.abort()
        self._lost(generation)

    async def _serve(self, sock: ClientConnection, effect: Connect, generation: int) -> None:
        """Read messages into the core until the connection ends (or this attempt is replaced)."""
        if generation != self._generation:
            return
        self._socket = sock
        self._log.event("info", f"connected to {station_url(effect.url, effect.station_id)}")
        self._feed(Connected)
        pinging = asyncio.get_running_loop().create_task(self._keep_alive(sock, effect.ping_interval))
        try:
            with contextlib.suppress(ConnectionClosed, OSError):
                async for message in sock:
                    if generation != self._generation:
                        if sock in self._closing:
                            continue  # read on, unheard, so that the CSMS's close frame can arrive
                        return
                    self._receive(message.encode("utf-8") if isinstance(message, str) else message)
        finally:
            pinging.cancel()

    async def _keep_alive(self, sock: ClientConnection, interval: int) -> None:
        """A ping every `interval` seconds (none when 0); a ping still unanswered when the next is due, or one that
        cannot be sent, is a dead connection: it is dropped, so the reader reports the loss."""
        if interval <= 0:
            return
        pong: Awaitable[float] | None = None
        while True:
            await asyncio.sleep(interval)
            if pong is not None and not cast("asyncio.Future[float]", pong).done():
                self._log.event("warning", f"no pong within {interval} s: the connection is dead")
                sock.transport.abort()
                return
            try:
                pong = await sock.ping()
            except Exception as error:  # whatever the send raised, the connection is unusable
                self._log.event("warning", f"ping failed: {error}")
                sock.transport.abort()
                return

    def _receive(self, data: bytes) -> None:
        size, limit = len(data), self._max_frame_bytes
        if size > limit:
            self._log.event("warning", f"a message of {size} bytes refused unread (more than {limit})")
            self._feed(lambda now: OversizedFrameReceived(now, size, limit))
            return
        text = data.decode("utf-8", errors="replace")
        self._log.frame("recv", redact_frame(text))
        self._feed(lambda now: FrameReceived(now, text))

    def _lost(self, generation: int, failure: DialFailure | None = None) -> None:
        if generation == self._generation:
            jitter = random.random()
            self._log.event("info", "connection lost")
            self._feed(lambda now: ConnectionLost(now, jitter, failure))
