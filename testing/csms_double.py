"""A scripted CSMS test double that speaks real OCPP-J over a loopback websocket server.

Conformance tests drive the real station through the shell, so the only thing faked is the other end of the
wire. The double records every handshake and frame, answers the CALLs a test does not care about by itself
(Heartbeat, StatusNotification, SecurityEventNotification, as the OCTT does), and lets the test wait for, answer
and send everything else. Every wait has a timeout and fails the test with `CsmsTimeout` instead of hanging.

Deliberately independent of `chargecore.pure` (own JSON framing, no shared helpers), so the tests do not
agree with the station's bugs.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any, TypeVar

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("ocpp2.0.1")
DEFAULT_TIMEOUT = 5.0

Payload = dict[str, Any]
Responder = Callable[[Payload], Payload]
T = TypeVar("T")


class CsmsTimeout(AssertionError):
    """Something a test waited for did not happen in time (an assertion failure, not an error)."""


def ocpp_now() -> str:
    """The CSMS's clock as an OCPP dateTime."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wait_until(predicate: Callable[[], T | None], what: str, timeout: float = DEFAULT_TIMEOUT) -> T:
    """Poll `predicate` until it returns something truthy, and return that; for state that has no event."""
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise CsmsTimeout(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@dataclass(frozen=True)
class Attempt:
    """One websocket handshake the station made; `accepted` is False when the double refused it (HTTP 503)."""

    at: float
    path: str
    headers: Headers
    accepted: bool


@dataclass
class Session:
    """One accepted connection; `close_code` is what the peer's close frame said, set when it has ended."""

    number: int
    attempt: Attempt
    websocket: ServerConnection
    closed: bool = False
    close_code: int | None = None
    closed_at: float | None = None


@dataclass(frozen=True)
class StationCall:
    """A CALL the station sent; `auto_answered` when the double answered it by itself."""

    message_id: str
    action: str
    payload: Payload
    at: float
    session: int
    auto_answered: bool


@dataclass(frozen=True)
class StationReply:
    """The station's CALLRESULT (`payload` set) or CALLERROR (`error_code` set) to something the CSMS sent."""

    message_id: str
    payload: Payload | None = None
    error_code: str | None = None
    error_description: str = ""
    error_details: Any = None


@dataclass(frozen=True)
class Inbound:
    """Any text frame from the station, parsed when it is a JSON array (None otherwise)."""

    at: float
    text: str
    frame: list[Any] | None


@dataclass
class _Record:
    calls: list[StationCall] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)
    replies: list[StationReply] = field(default_factory=list)
    taken_replies: set[int] = field(default_factory=set)
    inbound: list[Inbound] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)


class CsmsDouble:
    """A websocket server on 127.0.0.1 (free port) for one station at a time; TLS with `tls` (profile 2)."""

    def __init__(self, heartbeat_interval: int = 10, tls: ssl.SSLContext | None = None) -> None:
        self.heartbeat_interval = heartbeat_interval
        self._tls = tls
        self._auto: dict[str, Responder] = {
            "Heartbeat": lambda _: {"currentTime": ocpp_now()},
            "StatusNotification": lambda _: {},
            "SecurityEventNotification": lambda _: {},
        }
        self._accepting = True
        self._record = _Record()
        self._changed = threading.Condition()
        self._send_lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> CsmsDouble:
        self._server = serve(
            self._serve_session,
            "127.0.0.1",
            0,
            subprotocols=[SUBPROTOCOL],
            process_request=self._handshake,
            ping_interval=None,
            close_timeout=2,
            ssl=self._tls,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="csms-double")
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(DEFAULT_TIMEOUT)

    def __enter__(self) -> CsmsDouble:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The CSMS URL without the station id (the station appends `/<id>`); wss:// when serving TLS."""
        assert self._server is not None, "start() the double first"
        host, port = self._server.socket.getsockname()[:2]
        return f"{'ws' if self._tls is None else 'wss'}://{host}:{port}"

    # --- connections ----------------------------------------------------------------------------------

    def refuse_connections(self) -> None:
        """Answer every new handshake with HTTP 503, as an unreachable or overloaded CSMS would."""
        with self._changed:
            self._accepting = False

    def accept_connections(self) -> None:
        with self._changed:
            self._accepting = True

    @property
    def attempts(self) -> list[Attempt]:
        with self._changed:
            return list(self._record.attempts)

    @property
    def session_count(self) -> int:
        with self._changed:
            return len(self._record.sessions)

    def wait_attempts(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[Attempt]:
        """Wait until the station has made at least `count` handshakes (accepted or not)."""
        return self._wait(
            lambda: list(self._record.attempts) if len(self._record.attempts) >= count else None,
            f"{count} connection attempts",
            timeout,
        )

    def wait_session(self, number: int, timeout: float = DEFAULT_TIMEOUT) -> Session:
        """Wait until accepted connection number `number` (1-based) is open for messages."""
        return self._wait(
            lambda: self._record.sessions[number - 1] if len(self._record.sessions) >= number else None,
            f"connection #{number}",
            timeout,
        )

    def wait_session_closed(self, number: int, timeout: float = DEFAULT_TIMEOUT) -> Session:
        session = self.wait_session(number, timeout)
        return self._wait(lambda: session if session.closed else None, f"connection #{number} to close", timeout)

    def close_connection(self, code: int = 1000, reason: str = "") -> Session:
        """Close the current connection from the CSMS side; returns once the closing handshake is done."""
        session = self._current()
        session.websocket.close(code, reason)
        return self.wait_session_closed(session.number)

    # --- the station's CALLs --------------------------------------------------------------------------

    def answer_automatically(self, action: str, responder: Responder | Payload) -> None:
        """Answer every `action` CALL with `responder(request)` (or a fixed payload); `expect_call` still
        returns them, so a test can check what was sent without answering it."""
        self._auto[action] = responder if callable(responder) else (lambda _: dict(responder))

    def expect_call(self, action: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> StationCall:
        """The oldest CALL (of `action`, if given) no earlier `expect_call` returned; waits for one."""

        def first_unconsumed() -> StationCall | None:
            for index, call in enumerate(self._record.calls):
                if index not in self._record.consumed and action in (None, call.action):
                    self._record.consumed.add(index)
                    return call
            return None

        return self._wait(first_unconsumed, f"a {action or 'CALL'} from the station", timeout)

    def expect_calls(self, action: str, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[StationCall]:
        return [self.expect_call(action, timeout) for _ in range(count)]

    def calls(self, action: str | None = None) -> list[StationCall]:
        """Every CALL received so far (of `action`, if given), consumed or not."""
        with self._changed:
            return [call for call in self._record.calls if action in (None, call.action)]

    def reply(self, call: StationCall, payload: Payload) -> None:
        self.send_raw(json.dumps([3, call.message_id, payload]))

    def reply_error(self, call: StationCall, code: str, description: str = "") -> None:
        self.send_raw(json.dumps([4, call.message_id, code, description, {}]))

    # --- the CSMS's CALLs -----------------------------------------------------------------------------

    def send_call(self, action: str, payload: Any) -> str:
        message_id = str(uuid.uuid4())
        self.send_raw(json.dumps([2, message_id, action, payload]))
        return message_id

    def wait_reply(self, message_id: str, timeout: float = DEFAULT_TIMEOUT) -> StationReply:
        """The station's CALLRESULT/CALLERROR with this message id (also "-1" for unreadable frames)."""

        def untaken() -> StationReply | None:
            for index, reply in enumerate(self._record.replies):
                if index not in self._record.taken_replies and reply.message_id == message_id:
                    self._record.taken_replies.add(index)
                    return reply
            return None

        return self._wait(untaken, f"the station's reply to {message_id}", timeout)

    def call(self, action: str, payload: Any, timeout: float = DEFAULT_TIMEOUT) -> StationReply:
        return self.wait_reply(self.send_call(action, payload), timeout)

    def trigger(self, requested_message: str, evse: Payload | None = None) -> StationReply:
        payload: Payload = {"requestedMessage": requested_message}
        if evse is not None:
            payload["evse"] = evse
        return self.call("TriggerMessage", payload)

    # --- raw frames -----------------------------------------------------------------------------------

    def send_raw(self, text: str) -> None:
        session = self._current()
        with self._send_lock:
            session.websocket.send(text)

    def inbound_count(self) -> int:
        """A mark for `inbound_since`."""
        with self._changed:
            return len(self._record.inbound)

    def inbound_since(self, mark: int) -> list[Inbound]:
        with self._changed:
            return list(self._record.inbound[mark:])

    # --- common CSMS scripts --------------------------------------------------------------------------

    def boot_response(self, status: str = "Accepted", interval: int | None = None, **extra: Any) -> Payload:
        return {
            "status": status,
            "currentTime": ocpp_now(),
            "interval": self.heartbeat_interval if interval is None else interval,
            **extra,
        }

    def answer_boot(self, status: str = "Accepted", interval: int | None = None, **extra: Any) -> StationCall:
        """Wait for the next BootNotification and answer it."""
        boot = self.expect_call("BootNotification")
        self.reply(boot, self.boot_response(status, interval, **extra))
        return boot

    # --- server side ----------------------------------------------------------------------------------

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        with self._changed:
            attempt = Attempt(time.monotonic(), request.path, request.headers, self._accepting)
            self._record.attempts.append(attempt)
            self._changed.notify_all()
        if attempt.accepted:
            return None
        return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "CSMS unavailable (test double)\n")

    def _serve_session(self, websocket: ServerConnection) -> None:
        with self._changed:
            attempt = next(a for a in reversed(self._record.attempts) if a.accepted)
            session = Session(len(self._record.sessions) + 1, attempt, websocket)
            self._record.sessions.append(session)
            self._changed.notify_all()
        try:
            for message in websocket:
                text = message if isinstance(message, str) else message.decode("utf-8", errors="replace")
                self._receive(session, text)
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                session.closed, session.close_code, session.closed_at = True, websocket.close_code, time.monotonic()
                self._changed.notify_all()

    def _receive(self, session: Session, text: str) -> None:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        frame = parsed if isinstance(parsed, list) else None
        answer: Payload | None = None
        with self._changed:
            self._record.inbound.append(Inbound(time.monotonic(), text, frame))
            if frame and frame[0] == 2 and len(frame) == 4:
                responder = self._auto.get(frame[2])
                auto = responder is not None
                call = StationCall(frame[1], frame[2], frame[3], time.monotonic(), session.number, auto)
                self._record.calls.append(call)
                if responder is not None:
                    answer = responder(call.payload)
            elif frame and frame[0] == 3 and len(frame) == 3:
                self._record.replies.append(StationReply(frame[1], payload=frame[2]))
            elif frame and frame[0] == 4 and len(frame) == 5:
                self._record.replies.append(StationReply(frame[1], None, frame[2], frame[3], frame[4]))
            self._changed.notify_all()
        if answer is not None and frame is not None:
            with self._send_lock:
                session.websocket.send(json.dumps([3, frame[1], answer]))

    def _current(self) -> Session:
        with self._changed:
            open_sessions = [s for s in self._record.sessions if not s.closed]
        if not open_sessions:
            raise AssertionError("the station is not connected to the CSMS double")
        return open_sessions[-1]

    def _wait(self, find: Callable[[], T | None], what: str, timeout: float) -> T:
        deadline = time.monotonic() + timeout
        with self._changed:
            while (found := find()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CsmsTimeout(f"timed out after {timeout} s waiting for {what}")
                self._changed.wait(remaining)
            return found
