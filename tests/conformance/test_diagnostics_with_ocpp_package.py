"""GetLog and CustomerInformation sent by the CSMS built on the independent `ocpp` package (the issue's "done
when"): the log arrives on an HTTP server that is not part of this project (a bare `http.server` handler written
here, which keeps the raw multipart body), and a customer's data is reported and then cleared.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from harness import StationFactory
from ocpp.routing import on  # type: ignore[import-untyped]
from ocpp.v201 import (
    call,  # type: ignore[import-untyped]
    call_result,
)
from ocpp.v201.enums import Action  # type: ignore[import-untyped]
from test_against_ocpp_package_csms import PackageCsms, PackageCsmsServer
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import wait_until


class DiagnosticsCsms(PackageCsms):  # type: ignore[misc]
    """The ocpp-package CSMS, also taking the diagnostics messages."""

    @on(Action.log_status_notification)  # type: ignore[untyped-decorator]
    def on_log_status_notification(self, status: str, request_id: int | None = None, **_: Any) -> Any:
        self._record("LogStatusNotification", status=status, request_id=request_id)
        return call_result.LogStatusNotification()

    @on(Action.notify_customer_information)  # type: ignore[untyped-decorator]
    def on_notify_customer_information(self, data: str, seq_no: int, request_id: int, **extra: Any) -> Any:
        self._record("NotifyCustomerInformation", data=data, seq_no=seq_no, request_id=request_id)
        return call_result.NotifyCustomerInformation()


class DiagnosticsCsmsServer(PackageCsmsServer):
    def __init__(self) -> None:
        super().__init__()
        self.charge_points: list[DiagnosticsCsms] = []

    def send(self, request: Any) -> Any:
        """Send a CALL from the CSMS to the connected station; its CALLRESULT payload object."""
        return self._run(self.charge_points[-1].call(request))

    async def _serve(self, connection: ServerConnection) -> None:
        self._connections.append(connection)
        assert connection.request is not None
        charge_point = DiagnosticsCsms(
            connection.request.path.strip("/"), connection, len(self._connections), self.seen
        )
        self.charge_points.append(charge_point)
        with contextlib.suppress(ConnectionClosed):
            await charge_point.start()


class Uploads(BaseHTTPRequestHandler):
    """Takes any POST and keeps its raw body."""

    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def package_csms() -> Iterator[DiagnosticsCsmsServer]:
    server = DiagnosticsCsmsServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def upload_server() -> Iterator[str]:
    Uploads.bodies.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Uploads)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/logs"
    server.shutdown()
    server.server_close()


@pytest.mark.requirements("N01.FR.01", "N01.FR.09", "N01.FR.19")
def test_get_log_from_an_ocpp_package_csms_arrives_on_a_plain_http_server(
    package_csms: DiagnosticsCsmsServer, station_factory: StationFactory, upload_server: str
) -> None:
    station_factory(csms_url=package_csms.url)
    package_csms.wait_for("StatusNotification")
    response = package_csms.send(
        call.GetLog(log={"remote_location": upload_server}, log_type="DiagnosticsLog", request_id=5)
    )
    assert response.status == "Accepted" and response.filename
    statuses = package_csms.wait_for("LogStatusNotification", 2, timeout=15)
    assert [(s.fields["status"], s.fields["request_id"]) for s in statuses] == [("Uploading", 5), ("Uploaded", 5)]
    (body,) = Uploads.bodies
    assert f'filename="{response.filename}"'.encode() in body and b"BootNotification" in body


@pytest.mark.requirements("N09.FR.05", "N10.FR.03")
def test_customer_information_from_an_ocpp_package_csms_reports_then_clears(
    package_csms: DiagnosticsCsmsServer, station_factory: StationFactory
) -> None:
    application = SimulatedCharger()
    application.customers["c-1"] = ["app account of c-1"]
    station_factory(csms_url=package_csms.url, application=application)
    package_csms.wait_for("StatusNotification")
    reply = package_csms.send(
        call.CustomerInformation(request_id=1, report=True, clear=True, customer_identifier="c-1")
    )
    assert reply.status == "Accepted"
    (first,) = package_csms.wait_for("NotifyCustomerInformation")
    assert (first.fields["data"], first.fields["request_id"]) == ("app account of c-1", 1)
    reply = package_csms.send(
        call.CustomerInformation(request_id=2, report=True, clear=False, customer_identifier="c-1")
    )
    assert reply.status == "Accepted"
    wait_until(lambda: len(package_csms.of("NotifyCustomerInformation")) == 2, "the second report")
    assert package_csms.of("NotifyCustomerInformation")[1].fields["data"] == "", "cleared"
