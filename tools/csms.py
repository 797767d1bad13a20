"""A small local CSMS for trying a station out: `chargecore csms` and `chargecore demo`.

It is deliberately built on the independent `ocpp` package (its ChargePoint receive loop, frames and JSON
schemas) rather than on `chargecore.pure`, so it checks the station against a second implementation of the
protocol instead of agreeing with the station's own bugs. Two things it takes from chargecore instead, because
the package gets them wrong: the Part 4 answer to a frame that is not a well-formed RPC frame (ChargePoint logs
and drops garbage, an unknown message type or a CALL of the wrong length unanswered, echoes an unreadable
message id and calls a non-object payload a TypeConstraintViolation), and the table from schema keyword to
Part 4 error code; and it checks the schemas' date-time format, which the package's validator skips.

Payloads stay raw camelCase dicts end to end: ocpp's snake_case conversion is lossy for free-form fields such as
DataTransfer `data` and `customData`.

The asyncio server runs on a daemon thread so that synchronous code (the CLI, the demo, tests) can drive it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from types import FrameType, MappingProxyType
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

from jsonschema import Draft4Validator, FormatChecker
from ocpp.messages import (  # type: ignore[import-untyped]
    Call,
    CallError,
    CallResult,
    MessageType,
    get_validator,
)
from ocpp.v201 import ChargePoint  # type: ignore[import-untyped]
from ocpp.v201.enums import Action  # type: ignore[import-untyped]
from returns.result import Failure
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.typing import Subprotocol

from chargecore.pure.ocppj.frames import encode_frame, parse_frame
from chargecore.pure.ocppj.schemas import error_code
from chargecore.shell.cli import _Parser
from chargecore.tools import csms_reservations, file_server
from chargecore.tools.csms_ca import CaRefused, CsmsCa
from chargecore.tools.limits import open_files_as_allowed
from chargecore.tools.tariff import Pricing, Tariff, TariffError, load_tariff

OCPP_VERSION: Final = "2.0.1"
MAX_PORT: Final = 65535
BOOT_STATUSES: Final = ("Accepted", "Pending", "Rejected")
STATION_CERT: Final = "ChargingStationCertificate"
SIGNED_TIMEOUT: Final = 30.0
"""Seconds a station has to answer the CertificateSigned of its CSR."""
TOKEN_STATUSES: Final = (
    "Accepted",
    "Blocked",
    "ConcurrentTx",
    "Expired",
    "Invalid",
    "NoCredit",
    "NotAllowedTypeEVSE",
    "NotAtThisLocation",
    "NotAtThisTime",
    "Unknown",
)

Direction = Literal["in", "out"]
Kind = Literal["CALL", "CALLRESULT", "CALLERROR"]
Payload = dict[str, Any]
DataTransferHandler = Callable[[Payload], Payload]


class CsmsError(RuntimeError):
    """A CSMS-to-station request could not be made or got no usable answer."""


class CsmsCallError(CsmsError):
    """The station answered a request with a CALLERROR."""

    def __init__(self, station_id: str, action: str, code: str, description: str, details: Any) -> None:
        self.code = code
        self.description = description
        self.details = details
        super().__init__(
            f"{station_id} answered {action} with CALLERROR {code}: {description}" + (f" {details}" if details else "")
        )


@dataclass(frozen=True, slots=True)
class Record:
    """One message as the CSMS saw it; `direction` is "in" for station -> CSMS and "out" for CSMS -> station.

    `action` is the action of the CALL, also for the CALLRESULT or CALLERROR answering it; a CALLERROR's
    payload is {"errorCode", "errorDescription", "errorDetails"}.
    """

    direction: Direction
    station_id: str
    kind: Kind
    action: str
    payload: Any
    message_id: str
    timestamp: datetime

    def line(self) -> str:
        """The one-line form used for the human log."""
        arrow = "<-" if self.direction == "in" else "->"
        suffix = {"CALL": "", "CALLRESULT": ".result", "CALLERROR": ".error"}[self.kind]
        return f"csms {arrow} {self.station_id} {self.action}{suffix} {json.dumps(self.payload)}"


QUIET_ABOVE: Final = 5
"""With more stations connected than this, the CSMS prints a summary line instead of every message."""
SUMMARY_EVERY_S: Final = 10.0
LISTEN_BACKLOG: Final = 4096


class Traffic:
    """Messages and CALLERRORs counted in both directions, for the summary line."""

    def __init__(self) -> None:
        self.counts = {"in": 0, "out": 0, "errors": 0}
        self._last = dict(self.counts)

    def count(self, direction: Direction, kind: Kind) -> None:
        self.counts[direction] += 1
        self.counts["errors"] += kind == "CALLERROR"

    def since_last(self) -> str:
        now, last = dict(self.counts), self._last
        self._last = now
        seconds = f"{SUMMARY_EVERY_S:g} s"
        return (
            f"{now['in'] - last['in']} messages in and {now['out'] - last['out']} out in the last {seconds}, "
            f"{now['errors'] - last['errors']} CALLERRORs ({now['in']} in, {now['out']} out, {now['errors']} "
            "CALLERRORs in all)"
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _constant(response: Payload) -> Callable[[LocalCsms, Payload], Payload]:
    """A responder that always gives a fresh copy of `response` (records must not share mutable payloads)."""
    text = json.dumps(response)
    return lambda _csms, _request: json.loads(text)


_RESPONDERS: Final[Mapping[str, Callable[[LocalCsms, Payload], Payload]]] = MappingProxyType(
    {
        **{
            action: _constant({})
            for action in (
                "ClearedChargingLimit",
                "FirmwareStatusNotification",
                "LogStatusNotification",
                "MeterValues",
                "NotifyChargingLimit",
                "NotifyCustomerInformation",
                "NotifyDisplayMessages",
                "NotifyEvent",
                "NotifyMonitoringReport",
                "NotifyReport",
                "PublishFirmwareStatusNotification",
                "ReportChargingProfiles",
                "ReservationStatusUpdate",
                "SecurityEventNotification",
                "StatusNotification",
            )
        },
        "BootNotification": lambda csms, _request: {
            "currentTime": _now(),
            "interval": csms.heartbeat_interval,
            "status": csms.boot_status,
        },
        "Heartbeat": lambda _csms, _request: {"currentTime": _now()},
        "Authorize": lambda csms, request: {"idTokenInfo": csms.token_info(request["idToken"])},
        "TransactionEvent": lambda csms, request: csms._transaction_event(request),
        "DataTransfer": lambda csms, request: csms._data_transfer(request),
        "NotifyEVChargingNeeds": _constant({"status": "Accepted"}),
        "NotifyEVChargingSchedule": _constant({"status": "Accepted"}),
        # no ISO 15118 PKI behind this CSMS, so EV certificate requests honestly fail
        "Get15118EVCertificate": _constant({"status": "Failed", "exiResponse": ""}),
        "GetCertificateStatus": _constant({"status": "Failed"}),
        # with --ca-dir its CA signs the CSR and sends CertificateSigned after this answer (_Station._signed)
        "SignCertificate": lambda csms, _request: {"status": "Accepted" if csms.ca is not None else "Rejected"},
    }
)
"""The answer to every action a station may send (OCPP 2.0.1 Part 2, station -> CSMS)."""

STATION_ACTIONS: Final = frozenset(_RESPONDERS)

_ACTIONS: Final = frozenset(action.value for action in Action)
"""Every OCPP 2.0.1 action; checked before an action name becomes part of a schema file name."""

_FORMATS: Final = FormatChecker(formats=())
_RFC3339: Final = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


@_FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 section 5.6 date-time (the schemas' "format"), with its fields in range."""
    if not isinstance(value, str):
        return True  # the "type" keyword judges other types
    match = _RFC3339.fullmatch(value)
    if match is None:
        return False
    datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H:%M:%S")  # ValueError when a field is out of range
    return True


@cache
def _validator(message_type: int, action: str) -> Draft4Validator:
    """The ocpp package's validator of this message, with date-time formats checked as the schema says."""
    schema = get_validator(message_type, action, OCPP_VERSION).schema
    return Draft4Validator(schema, format_checker=_FORMATS)


def _violation(message_type: int, action: str, payload: Any) -> tuple[str, str] | None:
    """The Part 4 error code and a one-line description of the first schema violation, if any."""
    error = next(iter(_validator(message_type, action).iter_errors(payload)), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "payload"
    return error_code(str(error.validator)), f"{where}: {error.message}"[:255]


class _Station(ChargePoint):  # type: ignore[misc]
    """One connected station; ChargePoint supplies the receive loop, frame routing and response matching."""

    def __init__(self, station_id: str, connection: ServerConnection, csms: LocalCsms) -> None:
        super().__init__(station_id, connection)
        self._csms = csms
        self._tasks: set[asyncio.Task[None]] = set()

    async def _handle_call(self, msg: Call) -> None:
        """Answer a station's CALL from the responder table, as raw camelCase dicts."""
        self._csms._record("in", self.id, "CALL", msg.action, msg.payload, msg.unique_id)
        reply = self._answer(msg)
        if isinstance(reply, CallResult):
            self._csms._record("out", self.id, "CALLRESULT", msg.action, reply.payload, msg.unique_id)
        else:
            error = {
                "errorCode": reply.error_code,
                "errorDescription": reply.error_description,
                "errorDetails": reply.error_details,
            }
            self._csms._record("out", self.id, "CALLERROR", msg.action, error, msg.unique_id)
        await self._send(reply.to_json())
        if msg.action == "SignCertificate" and isinstance(reply, CallResult) and self._csms.ca is not None:
            self._tasks.add(task := asyncio.create_task(self._signed(msg.payload)))
            task.add_done_callback(self._tasks.discard)

    async def _signed(self, request: Payload) -> None:
        """A02: the CA signs the station's CSR; CertificateSigned goes out once the response has."""
        assert self._csms.ca is not None
        try:
            chain = self._csms.ca.sign(request["csr"])
        except CaRefused as refusal:
            self._csms.on_log(f"csms: not signing the CSR of {self.id}: {refusal}")
            return
        payload = {"certificateChain": chain, "certificateType": request.get("certificateType", STATION_CERT)}
        try:
            answer = await self.request("CertificateSigned", payload, SIGNED_TIMEOUT)
        except (CsmsError, TimeoutError, ConnectionClosed) as error:
            self._csms.on_log(f"csms: CertificateSigned to {self.id} failed: {error}")
            return
        self._csms.on_log(f"csms: {self.id} answered CertificateSigned {answer.get('status')}")

    async def route_message(self, raw_msg: str | bytes) -> None:
        """Answer a frame that is not a well-formed RPC frame as Part 4 says (the CALLERROR the station core's
        parser gives, message id "-1" when unreadable; nothing for a malformed reply) and keep the connection;
        ChargePoint routes the rest."""
        problem = parse_frame(raw_msg)
        if not isinstance(problem, Failure):
            await super().route_message(raw_msg)
            return
        reply = problem.failure().reply
        if reply is None:
            return
        error = {"errorCode": reply.code, "errorDescription": reply.description, "errorDetails": {}}
        self._csms._record("out", self.id, "CALLERROR", "(malformed frame)", error, reply.message_id)
        await self._send(encode_frame(reply))

    def _answer(self, msg: Call) -> CallResult | CallError:
        responder = _RESPONDERS.get(msg.action)
        if responder is None:
            if msg.action in _ACTIONS:
                return CallError(msg.unique_id, "NotSupported", f"{msg.action} is sent by the CSMS, not to it", {})
            return CallError(msg.unique_id, "NotImplemented", f"unknown action {msg.action!r}", {})
        violation = _violation(MessageType.Call, msg.action, msg.payload)
        if violation is not None:
            return CallError(msg.unique_id, *violation, {})
        try:
            payload = responder(self._csms, msg.payload)
        except Exception as error:  # a registered DataTransfer handler failed: the station gets InternalError
            return CallError(msg.unique_id, "InternalError", f"{type(error).__name__}: {error}"[:255], {})
        violation = _violation(MessageType.CallResult, msg.action, payload)
        if violation is not None:
            return CallError(msg.unique_id, "InternalError", f"CSMS built an invalid response: {violation[1]}", {})
        return msg.create_call_result(payload)

    async def request(self, action: str, payload: Payload, timeout: float) -> Payload:
        """Send one CALL and return the CALLRESULT payload; one request at a time, as OCPP requires."""
        message_id = str(uuid.uuid4())
        try:
            async with asyncio.timeout(timeout), self._call_lock:
                self._csms._record("out", self.id, "CALL", action, payload, message_id)
                await self._send(Call(message_id, action, payload).to_json())
                response = await self._get_specific_response(message_id, timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.id} did not answer {action} within {timeout:g} s") from None
        if response.message_type_id == MessageType.CallError:
            error = {
                "errorCode": response.error_code,
                "errorDescription": response.error_description,
                "errorDetails": response.error_details,
            }
            self._csms._record("in", self.id, "CALLERROR", action, error, message_id)
            raise CsmsCallError(
                self.id, action, response.error_code, response.error_description, response.error_details
            )
        self._csms._record("in", self.id, "CALLRESULT", action, response.payload, message_id)
        violation = _violation(MessageType.CallResult, action, response.payload)
        if violation is not None:
            raise CsmsError(f"{self.id} answered {action} with an invalid payload ({violation[0]}): {violation[1]}")
        return response.payload  # type: ignore[no-any-return]


def _station_id(path: str) -> str:
    """The station id is the last segment of the URL path (Part 4 section 3.1.1), percent-decoded."""
    return unquote(urlsplit(path).path.rsplit("/", 1)[-1])


class LocalCsms:
    """A local CSMS serving OCPP 2.0.1 on a background thread, driven from synchronous code."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        boot_status: str = "Accepted",
        heartbeat_interval: int = 10,
        on_log: Callable[[str], None] = print,
        ca: CsmsCa | None = None,
        tariff: Tariff | None = None,
        *,
        quiet: bool = False,
        keep_messages: bool = True,
    ) -> None:
        """`quiet`: a summary line every SUMMARY_EVERY_S seconds instead of a line per message, as when more than
        QUIET_ABOVE stations are connected. `keep_messages` False: `messages` and `wait_for` see nothing, so that
        a CSMS serving a fleet for hours does not grow."""
        self.ca = ca
        """With a CA the CSMS serves wss:// and signs the stations' CSRs (tools/csms_ca.py)."""
        self.host = host
        self.quiet = quiet
        self.keep_messages = keep_messages
        self.traffic = Traffic()
        self.port = port
        self.boot_status = boot_status
        self.heartbeat_interval: int = heartbeat_interval
        self.on_log = on_log
        self._messages: list[Record] = []
        self._changed = threading.Condition()
        self._stations: dict[str, _Station] = {}
        self._stations_lock = threading.Lock()
        self._vendors: dict[str, DataTransferHandler] = {}
        self._tokens: dict[str, Payload] = {}
        self._pricing = None if tariff is None else Pricing(tariff)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Server | None = None

    @property
    def boot_status(self) -> str:
        """The status BootNotification is answered with; may be changed while running."""
        return self._boot_status

    @boot_status.setter
    def boot_status(self, status: str) -> None:
        if status not in BOOT_STATUSES:
            raise ValueError(f"boot status must be one of {', '.join(BOOT_STATUSES)}, not {status!r}")
        self._boot_status = status

    def __enter__(self) -> LocalCsms:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> int:
        """Start serving; returns the bound port (a free one when `port` is 0)."""
        if self._loop is not None:
            raise CsmsError("the CSMS is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="chargecore-csms", daemon=True)
        thread.start()
        try:
            server = asyncio.run_coroutine_threadsafe(self._serve(), loop).result(timeout=10)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
            raise
        self._loop, self._thread, self._server = loop, thread, server
        self.port = server.sockets[0].getsockname()[1]
        return self.port

    async def _serve(self) -> Server:
        # a short close_timeout: stop() must not hang for long on a station that ignores the close handshake
        # a long listen backlog: a fleet dials thousands of connections at once, and a full backlog drops SYNs
        # that the stations then retry only after seconds of TCP back-off
        server = await serve(
            self._connected,
            self.host,
            self.port,
            subprotocols=[Subprotocol("ocpp2.0.1")],
            close_timeout=1,
            backlog=LISTEN_BACKLOG,
            ssl=None if self.ca is None else self.ca.server_context(),
        )
        # only once it listens: a port in use must not leave the task pending on a loop that is closed
        asyncio.get_running_loop().create_task(self._summaries())
        return server

    def stop(self) -> None:
        """Close every connection and the server, and end the background thread; idempotent."""
        loop, thread, server = self._loop, self._thread, self._server
        if loop is None or thread is None or server is None:
            return
        self._loop = self._thread = self._server = None

        async def shutdown() -> None:
            server.close()
            await server.wait_closed()
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()

    @property
    def url(self) -> str:
        """The URL stations connect to, followed by "/<station-id>"."""
        if self._loop is None:
            raise CsmsError("the CSMS is not running")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        scheme = "ws" if self.ca is None else "wss"
        return f"{scheme}://[{host}]:{self.port}" if ":" in host else f"{scheme}://{host}:{self.port}"

    def stations(self) -> list[str]:
        """Ids of the stations connected now."""
        with self._stations_lock:
            return sorted(self._stations)

    @property
    def messages(self) -> list[Record]:
        """A snapshot of every message exchanged so far, oldest first."""
        with self._changed:
            return list(self._messages)

    def on_data_transfer(self, vendor_id: str, handler: DataTransferHandler) -> None:
        """Answer DataTransfer for `vendor_id` with `handler(request) -> response` (camelCase dicts)."""
        self._vendors[vendor_id] = handler

    def set_token(self, id_token: str, status: str, group_id: str | None = None) -> None:
        """Answer Authorize and TransactionEvent for this idToken with `status` (others are Accepted)."""
        if status not in TOKEN_STATUSES:
            raise ValueError(f"token status must be one of {', '.join(TOKEN_STATUSES)}, not {status!r}")
        info: Payload = {"status": status}
        if group_id is not None:
            info["groupIdToken"] = {"idToken": group_id, "type": "Central"}
        self._tokens[id_token] = info

    def token_info(self, id_token: Payload) -> Payload:
        return dict(self._tokens.get(id_token["idToken"], {"status": "Accepted"}))

    def _transaction_event(self, request: Payload) -> Payload:
        """The token's idTokenInfo when one came, and with a tariff the running totalCost (block I)."""
        response = {"idTokenInfo": self.token_info(request["idToken"])} if "idToken" in request else {}
        if self._pricing is not None:
            response["totalCost"] = self._pricing.total_cost(request)
        return response

    def _data_transfer(self, request: Payload) -> Payload:
        handler = self._vendors.get(request["vendorId"])
        return handler(request) if handler is not None else {"status": "UnknownVendorId"}

    def call(self, station_id: str, action: str, payload: Payload, timeout: float = 10) -> Payload:
        """Send `action` to a station and return its response payload.

        Raises CsmsCallError on a CALLERROR, TimeoutError when no answer comes in `timeout` seconds, and
        CsmsError for an unknown station or action, an invalid request, or an invalid response.
        """
        loop = self._loop
        if loop is None:
            raise CsmsError("the CSMS is not running")
        if action not in _ACTIONS:
            raise CsmsError(f"unknown OCPP {OCPP_VERSION} action {action!r}")
        violation = _violation(MessageType.Call, action, payload)
        if violation is not None:
            raise CsmsError(f"invalid {action} request ({violation[0]}): {violation[1]}")
        with self._stations_lock:
            station = self._stations.get(station_id)
        if station is None:
            raise CsmsError(f"station {station_id!r} is not connected")
        future = asyncio.run_coroutine_threadsafe(station.request(action, payload, timeout), loop)
        try:
            # the coroutine enforces `timeout` itself; the margin only guards against a stuck loop
            return future.result(timeout=timeout + 5)
        except TimeoutError:
            future.cancel()
            raise
        except CancelledError:
            raise CsmsError(f"the CSMS stopped before {station_id} answered {action}") from None

    def wait_for(self, match: str | Callable[[Record], bool], timeout: float = 10, *, since: int = 0) -> Record:
        """Block until a station -> CSMS message matches, and return it.

        `match` is an action name (matching the station's CALLs) or a predicate on records. Messages from
        index `since` of `messages` on count, so one that arrived before the call is not missed; pass
        `len(csms.messages)` to wait for a new one.
        """
        predicate = match if callable(match) else lambda record: record.kind == "CALL" and record.action == match
        deadline = time.monotonic() + timeout
        with self._changed:
            index = since
            while True:
                for record in self._messages[index:]:
                    if record.direction == "in" and predicate(record):
                        return record
                index = max(index, len(self._messages))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching station message within {timeout:g} s")
                self._changed.wait(remaining)

    def _record(
        self, direction: Direction, station_id: str, kind: Kind, action: str, payload: Any, message_id: str
    ) -> None:
        self.traffic.count(direction, kind)
        if not self.keep_messages and self._summarizing():
            return
        record = Record(direction, station_id, kind, action, payload, message_id, datetime.now(UTC))
        if not self._summarizing():
            self.on_log(record.line())  # before waiters wake, so a log reads in the order things happened
        if not self.keep_messages:
            return
        with self._changed:
            self._messages.append(record)
            self._changed.notify_all()

    async def _connected(self, connection: ServerConnection) -> None:
        assert connection.request is not None  # set once the handshake is done, before the handler runs
        station_id = _station_id(connection.request.path)
        if not station_id:
            await connection.close(CloseCode.POLICY_VIOLATION, "the URL path must end with the station id")
            return
        station = _Station(station_id, connection, self)
        with self._stations_lock:
            replaced = station_id in self._stations
            self._stations[station_id] = station
        certificate = CsmsCa.client_certificate(connection.transport.get_extra_info("ssl_object"))
        if not self._summarizing():
            self.on_log(
                f"csms: {station_id} connected{certificate}"
                + (" (replacing its earlier connection)" if replaced else "")
            )
        try:
            await station.start()
        except ConnectionClosed:
            pass
        finally:
            with self._stations_lock:
                if self._stations.get(station_id) is station:
                    del self._stations[station_id]
            if not self._summarizing():
                self.on_log(f"csms: {station_id} disconnected")

    def _summarizing(self) -> bool:
        """A summary line instead of a line per message: asked for, or too many stations to follow."""
        return self.quiet or len(self._stations) > QUIET_ABOVE

    async def _summaries(self) -> None:
        """Every SUMMARY_EVERY_S seconds while summarizing, one line: stations and the traffic since the last."""
        while True:
            await asyncio.sleep(SUMMARY_EVERY_S)
            if self._summarizing():
                self.on_log(f"csms: {len(self._stations)} stations connected, {self.traffic.since_last()}")


_HELP: Final = (
    """commands:
  help                                  this text
  stations                              list connected stations
  send STATION_ID ACTION [JSON_PAYLOAD] send a request, e.g. send CS001 Reset {"type":"Immediate"}
  message STATION_ID ID TEXT            show TEXT on the station's displays (SetDisplayMessage, NormalCycle)
  cost STATION_ID TRANSACTION_ID TOTAL  tell the station a transaction's running cost (CostUpdated)
  boot-status Accepted|Pending|Rejected how to answer the next BootNotification
  token ID STATUS [GROUP]               answer idToken ID with STATUS (Accepted, Blocked, Invalid...)
"""
    + csms_reservations.HELP
    + """
  quit                                  stop the CSMS"""
)


def _run_command(csms: LocalCsms, line: str) -> bool:
    """Run one stdin command; False means quit. Mistakes print one line and are otherwise ignored."""
    command, *args = line.split(maxsplit=3) or [""]
    try:
        match command, args:
            case "", []:
                pass
            case "help", []:
                print(_HELP)
            case "stations", []:
                print(" ".join(csms.stations()) or "no stations connected")
            case "send", [station_id, action, *payload]:
                request = json.loads(payload[0]) if payload else {}
                print(json.dumps(csms.call(station_id, action, request)))
            case "reserve", [station_id, *words]:
                request = csms_reservations.reserve_now(" ".join(words).split())
                print(json.dumps(csms.call(station_id, "ReserveNow", request)))
            case "cancel-reservation", [station_id, *words]:
                request = csms_reservations.cancel_reservation(words)
                print(json.dumps(csms.call(station_id, "CancelReservation", request)))
            case "token", [id_token, status, *group]:
                csms.set_token(id_token, status, group[0] if group else None)
                print(f"idToken {id_token} is now answered {status}")
            case "message", [station_id, message_id, *text]:
                content = {"format": "UTF8", "content": " ".join(text)}
                info = {"id": int(message_id), "priority": "NormalCycle", "message": content}
                print(json.dumps(csms.call(station_id, "SetDisplayMessage", {"message": info})))
            case "cost", [station_id, transaction_id, total]:
                cost = {"totalCost": float(total), "transactionId": transaction_id}
                print(json.dumps(csms.call(station_id, "CostUpdated", cost)))
            case "boot-status", [status]:
                csms.boot_status = status
                print(f"BootNotification is now answered {status}")
            case "quit", []:
                return False
            case _:
                raise ValueError(f"cannot understand {line.strip()!r}; type 'help'")
    except (ValueError, CsmsError, TimeoutError) as error:
        print(f"error: {error}", file=sys.stderr)
    return True


def _seconds(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number of seconds, not {text!r}")
    return int(text)


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to {MAX_PORT}, not {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chargecore csms",
        description="Run a local OCPP 2.0.1 CSMS that answers every station message and logs it. "
        "Commands are read from stdin; type 'help'.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=_port, default=9000, help="port to listen on, 0 = any (default %(default)s)")
    parser.add_argument("--boot-status", choices=BOOT_STATUSES, default="Accepted", help="BootNotification answer")
    parser.add_argument("--heartbeat-interval", type=_seconds, default=10, help="seconds (default %(default)s)")
    parser.add_argument(
        "--quiet", action="store_true", help=f"a summary line every {SUMMARY_EVERY_S:g} s instead of every message"
    )
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        type=_token,
        metavar="ID=STATUS",
        help="answer idToken ID with STATUS (e.g. Invalid); may be repeated; other tokens are Accepted",
    )
    file_server.add_options(parser, _port)
    parser.add_argument(
        "--ca-dir", help="keep a small CA here: serve wss://, sign the stations' CSRs, verify their certificates"
    )
    parser.add_argument(
        "--tariff", type=Path, help="JSON tariff (currency, perKWh, perMinute): answer TransactionEvents with totalCost"
    )
    return parser


def _token(text: str) -> tuple[str, str]:
    id_token, _, status = text.partition("=")
    if not id_token or status not in TOKEN_STATUSES:
        raise argparse.ArgumentTypeError(f"must be ID=STATUS with STATUS one of {', '.join(TOKEN_STATUSES)}")
    return id_token, status


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """`chargecore csms`: serve until quit, SIGINT or SIGTERM; the end of stdin does not stop it."""
    args = _parser().parse_args(argv)
    open_files_as_allowed()
    try:
        ca = None if args.ca_dir is None else CsmsCa.open(Path(args.ca_dir), args.host)
    except (OSError, ValueError) as error:
        print(f"chargecore csms: error: --ca-dir {args.ca_dir}: {error}", file=sys.stderr)
        return 2
    try:
        tariff = None if args.tariff is None else load_tariff(args.tariff)
    except TariffError as error:
        print(f"chargecore csms: error: {error}", file=sys.stderr)
        return 2
    # keep_messages False: the command line never reads them back, and a CSMS serving for hours must not grow
    csms = LocalCsms(
        args.host,
        args.port,
        args.boot_status,
        args.heartbeat_interval,
        ca=ca,
        tariff=tariff,
        quiet=args.quiet,
        keep_messages=False,
    )
    for id_token, status in args.token:
        csms.set_token(id_token, status)
    try:
        csms.start()
    except OSError as error:
        print(f"chargecore csms: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
        return 2
    print(f"csms listening on {csms.url}/<station-id> (type 'help' for commands)", flush=True)
    try:
        files = file_server.start_from(args)
    except (OSError, file_server.UsageError) as error:
        print(f"chargecore csms: error: file server: {error}", file=sys.stderr)
        csms.stop()
        return 2
    if ca is not None:
        print(f"csms CA: give the stations --ca-file {ca.ca_file}", flush=True)
    in_main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        for line in sys.stdin:
            if not _run_command(csms, line):
                return 0
        while True:  # stdin ended (e.g. run in the background): keep serving until a signal
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if files is not None:
            files.stop()
        csms.stop()
