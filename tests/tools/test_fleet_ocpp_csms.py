"""`chargecore fleet` against a CSMS written the way an `ocpp` package user would write one (its ChargePoint
routing and schema checks, the `websockets` server): twenty stations all boot and transact, and neither side
sends a CALLERROR. The issue's 200 stations are a script figure (docs/fleet.md), not a test."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ocpp.routing import on  # type: ignore[import-untyped]
from ocpp.v201 import ChargePoint, call_result  # type: ignore[import-untyped]
from ocpp.v201.enums import Action  # type: ignore[import-untyped]
from websockets.asyncio.server import Server as WebSocketServer
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from chargecore.tools.fleet.cli import main

STATIONS = 20
SCENARIO = {
    "arrival_mean_s": 1.0,
    "charge_s": [2.0, 3.0],
    "meter_interval_s": 1.0,
    "stay_s": [0.2, 0.4],
    "plug_to_badge_s": [0.1, 0.3],
    "pause_share": 0.2,
    "pause_s": [0.3, 0.6],
    "invalid_share": 0.1,
    "fault_mean_s": 0,
    "network_drop_share": 0.0,
}


def _now() -> str:
    return datetime.now(UTC).isoformat()


class PackageCsms(ChargePoint):  # type: ignore[misc]
    """One station's connection; invalid tokens are the ones named FLEETBAD..."""

    seen: Counter[str]

    def _info(self, id_token: dict[str, Any]) -> dict[str, str]:
        return {"status": "Invalid" if id_token["id_token"].startswith("FLEETBAD") else "Accepted"}

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot(self, **_: Any) -> Any:
        self.seen["BootNotification"] += 1
        return call_result.BootNotification(current_time=_now(), interval=30, status="Accepted")

    @on(Action.status_notification)  # type: ignore[untyped-decorator]
    def on_status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.heartbeat)  # type: ignore[untyped-decorator]
    def on_heartbeat(self, **_: Any) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.authorize)  # type: ignore[untyped-decorator]
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        return call_result.Authorize(id_token_info=self._info(id_token))

    @on(Action.security_event_notification)  # type: ignore[untyped-decorator]
    def on_security_event(self, **_: Any) -> Any:
        return call_result.SecurityEventNotification()

    @on(Action.notify_event)  # type: ignore[untyped-decorator]
    def on_notify_event(self, **_: Any) -> Any:
        return call_result.NotifyEvent()

    @on(Action.meter_values)  # type: ignore[untyped-decorator]
    def on_meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()

    @on(Action.transaction_event)  # type: ignore[untyped-decorator]
    def on_transaction_event(self, event_type: str, id_token: dict[str, Any] | None = None, **_: Any) -> Any:
        self.seen[f"TransactionEvent {event_type}"] += 1
        return call_result.TransactionEvent(**({"id_token_info": self._info(id_token)} if id_token else {}))


class Server:
    """The package CSMS on its own loop thread, while the fleet runs its loop in the test's thread."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.stations: set[str] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="package-csms")

    async def _connected(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        station = PackageCsms(connection.request.path.rsplit("/", 1)[-1], connection)
        station.seen = self.seen
        self.stations.add(station.id)
        with suppress(ConnectionClosed):
            await station.start()

    def start(self) -> str:
        self.thread.start()

        async def listen() -> WebSocketServer:
            return await serve(
                self._connected, "127.0.0.1", 0, subprotocols=[Subprotocol("ocpp2.0.1")], close_timeout=1
            )

        self.server = asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)
        return f"ws://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    def stop(self) -> None:
        self.server.close()
        asyncio.run_coroutine_threadsafe(self.server.wait_closed(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def package_csms() -> Iterator[tuple[Server, str]]:
    server = Server()
    url = server.start()
    try:
        yield server, url
    finally:
        server.stop()


def test_twenty_stations_boot_and_transact_against_an_ocpp_package_csms(
    package_csms: tuple[Server, str], tmp_path: Path
) -> None:
    server, url = package_csms
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    argv = ["--csms", url, "--stations", str(STATIONS), "--duration", "12", "--ramp", "0", "--seed", "3"]
    code = main([*argv, "--scenario", str(scenario), "--data-dir", str(tmp_path / "data")], io.StringIO())
    assert code == 0
    summary = json.loads((tmp_path / "data" / "summary.json").read_text())
    assert summary["booted"] == STATIONS
    assert server.stations == {f"FLEET{i:05d}" for i in range(1, STATIONS + 1)}
    assert server.seen["BootNotification"] >= STATIONS
    assert summary["callerrors_from_csms"] == summary["callerrors_from_stations"] == 0
    assert summary["transactions_started"] >= STATIONS // 2
    assert summary["transactions_ended"] >= STATIONS // 4
    assert summary["transactions_ended_with_energy"] == summary["transactions_ended"]
    assert server.seen["TransactionEvent Started"] == summary["transactions_started"]
    assert server.seen["TransactionEvent Ended"] >= summary["transactions_ended"]
    assert summary["stations_crashed"] == summary["errors"] == 0
