"""A firmware-updating CSMS written the way an `ocpp` package user writes one (the package CSMS of
tests/conformance/test_against_ocpp_package_csms.py, extended), and a plain `http.server` file server: neither is
part of chargecore, so a firmware round trip against them checks the station against independent code.

Used by tests/conformance/test_firmware_end_to_end.py and tests/benchmarks/bench_firmware.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ocpp.routing import on  # type: ignore[import-untyped]
from ocpp.v201 import call, call_result  # type: ignore[import-untyped]
from ocpp.v201.enums import Action, RegistrationStatusEnumType  # type: ignore[import-untyped]
from test_against_ocpp_package_csms import PackageCsms, PackageCsmsServer


class FirmwareCsms(PackageCsms):
    """The package CSMS with a long heartbeat interval, the firmware version of each boot recorded, and
    FirmwareStatusNotification answered."""

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        self._record("BootNotification", reason=reason, version=charging_station.get("firmware_version"))
        return call_result.BootNotification(
            current_time=datetime.now(UTC).isoformat(), interval=300, status=RegistrationStatusEnumType.accepted
        )

    @on(Action.firmware_status_notification)  # type: ignore[untyped-decorator]
    def on_firmware_status_notification(self, status: str, request_id: int | None = None, **_: Any) -> Any:
        self._record("FirmwareStatusNotification", status=status, request_id=request_id)
        return call_result.FirmwareStatusNotification()


class FirmwareCsmsServer(PackageCsmsServer):
    """The package CSMS server serving `FirmwareCsms`, with the two requests a firmware round trip needs."""

    def __init__(self) -> None:
        super().__init__(FirmwareCsms)

    def start(self) -> FirmwareCsmsServer:  # type: ignore[override]
        super().start()
        return self

    def until(self, predicate: Callable[[], Any], what: str, timeout: float = 10) -> None:
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what}; seen {[(s.action, s.fields) for s in self.seen]}")
            time.sleep(0.01)

    def install_manufacturer_root(self, pem: str) -> str:
        request = call.InstallCertificate(certificate_type="ManufacturerRootCertificate", certificate=pem)
        return str(self.call(request).status)

    def update_firmware(self, request_id: int, location: str, certificate: str, signature: str) -> str:
        past = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
        firmware = {
            "location": location,
            "retrieve_date_time": past,
            "signing_certificate": certificate,
            "signature": signature,
        }
        return str(self.call(call.UpdateFirmware(request_id=request_id, firmware=firmware)).status)


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
