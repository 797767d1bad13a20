"""The station against a CSMS built on the independent `ocpp` package (its ChargePoint routing, schema checks
and payload classes), served by the `websockets` asyncio server: a second implementation of the protocol
that does not share the station's assumptions, nor the scripted double's: boot, heartbeats and reconnects, and a
whole charging session online, offline and across a power loss, a reservation (block H) used and one expired, and
CA certificates installed, listed with hash data the CSMS computes itself, and deleted.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from harness import StationFactory
from issuer import make_root
from ocpp.routing import on  # type: ignore[import-untyped]
from ocpp.v201 import ChargePoint, call, call_result  # type: ignore[import-untyped]
from ocpp.v201.enums import Action, RegistrationStatusEnumType  # type: ignore[import-untyped]
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from chargecore.testing.csms_double import wait_until

HEARTBEAT_INTERVAL = 1
T = TypeVar("T")


@dataclass(frozen=True)
class Seen:
    """A request the ocpp-package CSMS accepted (it answers schema-invalid ones with a CALLERROR instead)."""

    action: str
    at: float
    session: int
    fields: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class PackageCsms(ChargePoint):  # type: ignore[misc]
    """The CSMS end of one connection, written the way an `ocpp` package user would."""

    def __init__(self, station_id: str, connection: ServerConnection, session: int, seen: list[Seen]) -> None:
        super().__init__(station_id, connection)
        self._session = session
        self._seen = seen

    def _record(self, action: str, **fields: Any) -> None:
        self._seen.append(Seen(action, time.monotonic(), self._session, fields))

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        self._record("BootNotification", reason=reason)
        return call_result.BootNotification(
            current_time=_now(), interval=HEARTBEAT_INTERVAL, status=RegistrationStatusEnumType.accepted
        )

    @on(Action.status_notification)  # type: ignore[untyped-decorator]
    def on_status_notification(self, connector_status: str, evse_id: int, connector_id: int, **_: Any) -> Any:
        self._record("StatusNotification", evse=evse_id, connector=connector_id, status=connector_status)
        return call_result.StatusNotification()

    @on(Action.heartbeat)  # type: ignore[untyped-decorator]
    def on_heartbeat(self, **_: Any) -> Any:
        self._record("Heartbeat")
        return call_result.Heartbeat(current_time=_now())

    @on(Action.authorize)  # type: ignore[untyped-decorator]
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        self._record("Authorize", id_token=id_token["id_token"])
        return call_result.Authorize(id_token_info={"status": "Accepted"})

    @on(Action.transaction_event)  # type: ignore[untyped-decorator]
    def on_transaction_event(
        self,
        event_type: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        id_token: dict[str, Any] | None = None,
        offline: bool = False,
        reservation_id: int | None = None,
        **_: Any,
    ) -> Any:
        self._record(
            "TransactionEvent",
            event_type=event_type,
            trigger=trigger_reason,
            seq_no=seq_no,
            transaction_id=transaction_info["transaction_id"],
            stopped_reason=transaction_info.get("stopped_reason"),
            offline=offline,
            reservation_id=reservation_id,
            id_token=None if id_token is None else id_token["id_token"],
        )
        accepted = {"id_token_info": {"status": "Accepted"}} if id_token is not None else {}
        return call_result.TransactionEvent(**accepted)

    @on(Action.reservation_status_update)  # type: ignore[untyped-decorator]
    def on_reservation_status_update(self, reservation_id: int, reservation_update_status: str, **_: Any) -> Any:
        self._record("ReservationStatusUpdate", reservation_id=reservation_id, status=reservation_update_status)
        return call_result.ReservationStatusUpdate()

    @on(Action.security_event_notification)  # type: ignore[untyped-decorator]
    def on_security_event_notification(self, type: str, **_: Any) -> Any:
        self._record("SecurityEventNotification", type=type)
        return call_result.SecurityEventNotification()


class PackageCsmsServer:
    """Runs the asyncio server on its own event-loop thread so the synchronous test can drive it; `csms_class` is the
    ChargePoint subclass that serves each connection (a test may extend PackageCsms). A context manager: started on
    entry, stopped on exit."""

    def __init__(self, csms_class: type[PackageCsms] = PackageCsms) -> None:
        self.csms_class = csms_class
        self.charge_points: list[PackageCsms] = []
        self.seen: list[Seen] = []
        self.close_codes: list[int | None] = []
        self._connections: list[ServerConnection] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="ocpp-package-csms")
        self._server: Server | None = None

    def start(self) -> None:
        self._thread.start()
        self._server = self._run(self._listen())

    def __enter__(self) -> PackageCsmsServer:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._run(self._server.wait_closed())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    def drop_connection(self) -> None:
        """Lose the TCP connection without a closing handshake, as a network failure would."""
        connection = self._connections[-1]
        self._loop.call_soon_threadsafe(connection.transport.abort)

    def of(self, action: str, session: int | None = None) -> list[Seen]:
        return [s for s in list(self.seen) if s.action == action and session in (None, s.session)]

    def wait_for(self, action: str, count: int = 1, session: int | None = None, timeout: float = 5) -> list[Seen]:
        """The first `count` requests of `action` (on connection `session`, if given), waiting for them."""
        return wait_until(
            lambda: self.of(action, session)[:count] if len(self.of(action, session)) >= count else None,
            f"{count} {action}",
            timeout,
        )

    def call(self, request: Any) -> Any:
        """Send a CSMS request (an `ocpp.v201.call` payload) on the latest connection and return its response."""
        return self._run(self.charge_points[-1].call(request))

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(5)

    async def _listen(self) -> Server:
        return await serve(self._serve, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")], ping_interval=None)

    async def _serve(self, connection: ServerConnection) -> None:
        self._connections.append(connection)
        assert connection.request is not None
        station_id = connection.request.path.strip("/")
        charge_point = self.csms_class(station_id, connection, len(self._connections), self.seen)
        self.charge_points.append(charge_point)
        try:
            await charge_point.start()
        except ConnectionClosed:
            pass
        finally:
            self.close_codes.append(connection.close_code)


@pytest.fixture
def package_csms() -> Iterator[PackageCsmsServer]:
    with PackageCsmsServer() as server:
        yield server


@pytest.mark.requirements("B01.FR.01", "B01.FR.04", "B01.FR.05", "G02.FR.01")
def test_station_against_ocpp_package_csms(package_csms: PackageCsmsServer, station_factory: StationFactory) -> None:
    station = station_factory(csms_url=package_csms.url, evse_connectors=(1, 2))

    boots = package_csms.wait_for("BootNotification")
    assert boots[0].fields["reason"] == "PowerUp"
    statuses = package_csms.wait_for("StatusNotification", 3)
    reported = {(s.fields["evse"], s.fields["connector"]): s.fields["status"] for s in statuses}
    assert reported == {(1, 1): "Available", (2, 1): "Available", (2, 2): "Available"}

    beats = package_csms.wait_for("Heartbeat", 3)
    gaps = [later.at - earlier.at for earlier, later in zip([boots[0], *beats], beats, strict=False)]
    assert all(0.8 * HEARTBEAT_INTERVAL <= gap <= 3 * HEARTBEAT_INTERVAL for gap in gaps), gaps  # slack for loaded CI

    package_csms.drop_connection()
    package_csms.wait_for("Heartbeat", session=2, timeout=8)
    assert package_csms.of("BootNotification") == boots, "still Accepted after a reconnect: no new boot"

    station.stop()
    wait_until(lambda: len(package_csms.close_codes) == 2, "the station's connection to end")
    assert package_csms.close_codes[-1] == 1000, "the station closes normally when it quits"


@pytest.mark.requirements("E01.FR.07", "E11.FR.01", "E12.FR.01", "E12.FR.02")
def test_a_whole_session_against_ocpp_package_csms_online_offline_and_across_a_power_loss(
    package_csms: PackageCsmsServer, station_factory: StationFactory
) -> None:
    """Plug, badge, charge, an offline stretch, a power loss: the independent CSMS gets every TransactionEvent of
    the transaction once, seqNo 0, 1, 2... without a gap, the offline ones marked, and the PowerLoss Ended last."""
    station = station_factory(csms_url=package_csms.url, config={"SampledDataCtrlr": {"TxUpdatedInterval": 0}})
    package_csms.wait_for("StatusNotification")
    station.meter(1, 1000.0, 7000.0)
    station.connector(1, 1, "plug")
    station.present_token("TOKEN1", evse_id=1)
    package_csms.wait_for("Authorize")
    [started] = package_csms.wait_for("TransactionEvent")
    assert (started.fields["event_type"], started.fields["seq_no"]) == ("Started", 0)
    # an unanswered Started would be sent again after the outage (at least once): the test wants it answered first
    wait_until(lambda: not station.state.rpc.lane and station.state.rpc.in_flight is None, "the answer to Started")

    station.set_network(False)  # the network goes: these events queue, marked offline
    wait_until(lambda: station.state.connection.phase != "up", "the station to notice")
    station.ev_state(1, "SuspendedEV")
    station.ev_state(1, "Charging")
    station.set_network(True)
    events = package_csms.wait_for("TransactionEvent", 3, timeout=10)
    assert [e.fields["offline"] for e in events[1:]] == [True, True]

    wait_until(lambda: not station.state.rpc.lane, "the station to have the CSMS's answers")
    data_dir = station.options.data_dir
    station.stop(timeout=5)  # the power goes; the same storage comes back
    restarted = station_factory(csms_url=package_csms.url, data_dir=data_dir)
    events = package_csms.wait_for("TransactionEvent", 4, timeout=10)
    transaction = started.fields["transaction_id"]
    assert {e.fields["transaction_id"] for e in events} == {transaction}
    assert [e.fields["seq_no"] for e in events] == [0, 1, 2, 3], "each once, in order"
    assert (events[-1].fields["event_type"], events[-1].fields["stopped_reason"]) == ("Ended", "PowerLoss")
    startups = [s.fields["type"] for s in package_csms.wait_for("SecurityEventNotification", 2, timeout=10)]
    assert startups == ["StartupOfTheDevice", "StartupOfTheDevice"], "A04: one per start"
    restarted.stop(timeout=5)
    assert len(package_csms.of("TransactionEvent")) == 4, "nothing sent twice"


def _expiry(seconds: float) -> str:
    return datetime.fromtimestamp(time.time() + seconds, UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.requirements("H01.FR.23", "H03.FR.09", "H03.FR.10")
def test_a_reservation_against_ocpp_package_csms(
    package_csms: PackageCsmsServer, station_factory: StationFactory
) -> None:
    """ReserveNow makes the connector Reserved, another token is refused there, the reserved token starts the
    transaction with reservationId; a second reservation expires on time with ReservationStatusUpdate Expired."""
    station = station_factory(csms_url=package_csms.url, config={"TxCtrlr": {"TxStartPoint": "Authorized"}})
    package_csms.wait_for("StatusNotification")
    reserved = {"id_token": "RESERVED1", "type": "ISO14443"}
    answer = package_csms.call(call.ReserveNow(id=5, expiry_date_time=_expiry(600), id_token=reserved, evse_id=1))
    assert answer.status == "Accepted"
    assert package_csms.wait_for("StatusNotification", 2)[1].fields["status"] == "Reserved"

    station.present_token("STRANGER", evse_id=1)
    package_csms.wait_for("Authorize")
    wait_until(lambda: station.state.rpc.in_flight is None and not station.state.rpc.queue, "the token refused")
    assert package_csms.of("TransactionEvent") == [], "another token starts nothing on the reserved EVSE"

    station.present_token("RESERVED1", evse_id=1)
    [started] = package_csms.wait_for("TransactionEvent")
    assert started.fields["reservation_id"] == 5 and started.fields["id_token"] == "RESERVED1"
    assert package_csms.wait_for("StatusNotification", 3)[2].fields["status"] == "Occupied"
    station.present_token("RESERVED1", evse_id=1)  # the driver ends it
    package_csms.wait_for("TransactionEvent", 2)

    made = time.monotonic()
    answer = package_csms.call(call.ReserveNow(id=6, expiry_date_time=_expiry(2), id_token=reserved, evse_id=1))
    assert answer.status == "Accepted"
    [expired] = package_csms.wait_for("ReservationStatusUpdate", timeout=10)
    assert (expired.fields["reservation_id"], expired.fields["status"]) == (6, "Expired")
    assert 1.0 <= expired.at - made <= 5.0, "on time"
    wait_until(lambda: package_csms.of("StatusNotification")[-1].fields["status"] == "Available", "Available again")


def _package_hash_data(pem: str) -> dict[str, str]:
    """The CSMS side's own CertificateHashData of a root, computed with `cryptography` as an OCSP CertID."""
    certificate = x509.load_pem_x509_certificate(pem.encode())
    cert_id = ocsp.OCSPRequestBuilder().add_certificate(certificate, certificate, hashes.SHA256()).build()
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": cert_id.issuer_name_hash.hex(),
        "issuer_key_hash": cert_id.issuer_key_hash.hex(),
        "serial_number": format(cert_id.serial_number, "x"),
    }


@pytest.mark.requirements("M03.FR.01", "M04.FR.01", "M04.FR.02", "M05.FR.01", "M05.FR.02")
def test_ocpp_package_csms_installs_lists_and_deletes_a_root_with_hashes_it_computes_itself(
    package_csms: PackageCsmsServer, station_factory: StationFactory
) -> None:
    station_factory(csms_url=package_csms.url)
    package_csms.wait_for("StatusNotification")
    root = make_root("ocpp-package CSMS root").pem
    installed = package_csms.call(call.InstallCertificate(certificate_type="MORootCertificate", certificate=root))
    assert installed.status == "Accepted"
    listed = package_csms.call(call.GetInstalledCertificateIds(certificate_type=["MORootCertificate"]))
    assert listed.status == "Accepted"
    assert [item["certificate_hash_data"] for item in listed.certificate_hash_data_chain] == [_package_hash_data(root)]
    deleted = package_csms.call(call.DeleteCertificate(certificate_hash_data=_package_hash_data(root)))
    assert deleted.status == "Accepted"
    again = package_csms.call(call.GetInstalledCertificateIds(certificate_type=["MORootCertificate"]))
    assert again.status == "NotFound"
