"""A firmware-updating CSMS written the way an `ocpp` package user writes one, and a plain `http.server` file server:
neither is part of chargecore, so a firmware round trip against them checks the station against independent code.

Used by tests/conformance/test_firmware_end_to_end.py and tests/benchmarks/bench_firmware.py.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from ocpp.routing import on  # type: ignore[import-untyped]
from ocpp.v201 import ChargePoint, call, call_result  # type: ignore[import-untyped]
from ocpp.v201.enums import Action, RegistrationStatusEnumType  # type: ignore[import-untyped]
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

T = TypeVar("T")


@dataclass(frozen=True)
class Seen:
    action: str
    at: float
    session: int
    fields: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class FirmwareCsms(ChargePoint):  # type: ignore[misc]
    """Accepts the boot, answers every notification, and records what it heard."""

    def __init__(self, station_id: str, connection: ServerConnection, session: int, seen: list[Seen]) -> None:
        super().__init__(station_id, connection)
        self._session = session
        self._seen = seen

    def _record(self, action: str, **fields: Any) -> None:
        self._seen.append(Seen(action, time.monotonic(), self._session, fields))

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        self._record("BootNotification", reason=reason, version=charging_station.get("firmware_version"))
        return call_result.BootNotification(
            current_time=_now(), interval=300, status=RegistrationStatusEnumType.accepted
        )

    @on(Action.status_notification)  # type: ignore[untyped-decorator]
    def on_status_notification(self, connector_status: str, **_: Any) -> Any:
        self._record("StatusNotification", status=connector_status)
        return call_result.StatusNotification()

    @on(Action.firmware_status_notification)  # type: ignore[untyped-decorator]
    def on_firmware_status_notification(self, status: str, request_id: int | None = None, **_: Any) -> Any:
        self._record("FirmwareStatusNotification", status=status, request_id=request_id)
        return call_result.FirmwareStatusNotification()

    @on(Action.security_event_notification)  # type: ignore[untyped-decorator]
    def on_security_event_notification(self, type: str, **_: Any) -> Any:
        self._record("SecurityEventNotification", type=type)
        return call_result.SecurityEventNotification()

    @on(Action.heartbeat)  # type: ignore[untyped-decorator]
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=_now())


class FirmwareCsmsServer:
    """The asyncio server on its own event-loop thread, driven by synchronous code."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self._stations: list[FirmwareCsms] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="ocpp-firmware-csms")
        self._server: Server | None = None

    def start(self) -> FirmwareCsmsServer:
        self._thread.start()
        self._server = self._run(self._listen())
        return self

    async def _listen(self) -> Server:
        return await serve(self._serve, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")], ping_interval=None)

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._run(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    def of(self, action: str, session: int | None = None) -> list[Seen]:
        return [s for s in list(self.seen) if s.action == action and session in (None, s.session)]

    def wait_for(self, predicate: Any, what: str, timeout: float = 10) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}; seen {[(s.action, s.fields) for s in self.seen]}")
            time.sleep(0.01)

    def install_manufacturer_root(self, pem: str) -> str:
        request = call.InstallCertificate(certificate_type="ManufacturerRootCertificate", certificate=pem)
        return str(self._run(self._stations[-1].call(request)).status)

    def update_firmware(self, request_id: int, location: str, certificate: str, signature: str) -> str:
        past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        firmware = {
            "location": location,
            "retrieve_date_time": past,
            "signing_certificate": certificate,
            "signature": signature,
        }
        request = call.UpdateFirmware(request_id=request_id, firmware=firmware)
        return str(self._run(self._stations[-1].call(request)).status)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        station = FirmwareCsms(connection.request.path.strip("/"), connection, len(self._stations) + 1, self.seen)
        self._stations.append(station)
        with suppress(ConnectionClosed):
            await station.start()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No request lines on stderr."""


@contextmanager
def plain_http_server(directory: Path) -> Iterator[str]:
    """The standard library's file server over `directory`; yields its base URL (ending in /)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="plain-http")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
