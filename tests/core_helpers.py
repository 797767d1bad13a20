"""Shared test helpers.

`Sim` drives the pure core through `step` only, with a test-controlled clock, so every unit test of the core
reads as the sequence of inputs a station sees. `websocket_server` serves the shell tests that
need a real peer on loopback.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from returns.result import Failure
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from chargecore.pure.boot import boot_station
from chargecore.pure.effects import Effect, Effects, InternalError, Log, Persist, SendFrame
from chargecore.pure.inputs import (
    Answer,
    ChangeVariable,
    ChargingStateChanged,
    Connected,
    ConnectionLost,
    ConnectorChange,
    ConnectorChanged,
    ConnectorFound,
    EvState,
    FrameReceived,
    Input,
    MeterReading,
    ParkingBayChanged,
    PowerPathChanged,
    PowerUp,
    SendDataTransfer,
    Shutdown,
    Tick,
    TokenPresented,
    VariableReported,
)
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import DEADLINES, next_deadline, step

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
"""The shell's clock at the start of every core test."""
NONCE = "a1b2c3d4"
CSMS_TIME = "2030-01-01T00:00:00.000Z"
"""The CSMS clock in boot/heartbeat answers: far from T0, so a wrong clock offset shows."""

E = TypeVar("E")


def at(seconds: float) -> datetime:
    """T0 plus `seconds`: tests name moments by their offset."""
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class SentCall:
    """A CALL the station sent."""

    message_id: str
    action: str
    payload: dict[str, Any]


def frames(effects: Effects) -> list[list[Any]]:
    """Every frame the effects send, decoded."""
    return [json.loads(effect.text) for effect in effects if isinstance(effect, SendFrame)]


def calls(effects: Effects) -> list[SentCall]:
    return [SentCall(f[1], f[2], f[3]) for f in frames(effects) if f[0] == 2]


def replies(effects: Effects) -> list[list[Any]]:
    """CALLRESULT and CALLERROR frames (our answers to the CSMS)."""
    return [f for f in frames(effects) if f[0] in (3, 4)]


def of_type(effects: Effects, kind: type[E]) -> list[E]:
    return [effect for effect in effects if isinstance(effect, kind)]


def persisted(effects: Effects) -> dict[str, Any]:
    """All Persist entries of `effects`, later ones winning."""
    return {key: value for effect in of_type(effects, Persist) for key, value in effect.entries}


def warnings(effects: Effects) -> list[str]:
    return [effect.message for effect in of_type(effects, Log) if effect.level == "warning"]


def make_station(
    evse_connectors: tuple[int, ...] = (1,),
    config: Mapping[str, Any] | None = None,
    stored: Mapping[str, Any] | None = None,
    **identity: Any,
) -> Station:
    """A station before PowerUp, built the way the shell builds it (catalogue + config + stored values)."""
    identity_ = StationIdentity("CS001", "ws://csms.example/ocpp", evse_connectors, **identity)
    station = boot_station(identity_, config, dict(stored or {}))
    assert not isinstance(station, Failure), station
    return station.unwrap()


def csms_answer(action: str, status: str = "Accepted", interval: int = 300) -> dict[str, Any]:
    """What a well-behaved CSMS answers to each CALL the station sends."""
    answers: dict[str, dict[str, Any]] = {
        "BootNotification": {"currentTime": CSMS_TIME, "interval": interval, "status": status},
        "Heartbeat": {"currentTime": CSMS_TIME},
        "StatusNotification": {},
        "DataTransfer": {"status": "Accepted"},
        "NotifyReport": {},
        "ReportChargingProfiles": {},
        "NotifyChargingLimit": {},
        "ClearedChargingLimit": {},
        "NotifyEvent": {},
        "NotifyMonitoringReport": {},
        "MeterValues": {},
        "Authorize": {"idTokenInfo": {"status": status}},
        "TransactionEvent": {},
        "SecurityEventNotification": {},
        "FirmwareStatusNotification": {},
        "PublishFirmwareStatusNotification": {},
        "ReservationStatusUpdate": {},
    }
    return answers[action]


def connection_data(url: str, security_profile: int = 1, **overrides: Any) -> dict[str, Any]:
    """A NetworkConnectionProfile's connectionData for `url`, as SetNetworkProfile carries it."""
    return {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": url,
        "messageTimeout": 30,
        "securityProfile": security_profile,
        "ocppInterface": "Wired0",
        **overrides,
    }


def every_deadline(station: Station) -> datetime | None:
    """`next_deadline` computed from every block, without the memo it may answer from."""
    moments = [moment for moment in (deadline(station) for deadline in DEADLINES) if moment is not None]
    return min(moments) if moments else None


@dataclass
class Sim:
    """A station and the current time; each method feeds one input through `step` and returns its effects.

    Any `InternalError` effect fails the test at once (the core caught itself about to break the protocol), and
    so does a timer that is still due after a Tick."""

    station: Station
    now: datetime = T0
    log: list[Effect] = field(default_factory=list)
    """Every effect so far, in order."""

    def feed(self, event: Input) -> Effects:
        self.now = event.now
        self.station, effects = step(self.station, event)
        assert not of_type(effects, InternalError), effects
        deadline = next_deadline(self.station)
        assert deadline == every_deadline(self.station), "next_deadline's memo (Settled) went stale"
        if isinstance(event, Tick):  # a timer still due after its Tick would make the shell spin
            assert deadline is None or deadline > event.now, f"a timer is still due after Tick({event.now})"
        self.log.extend(effects)
        return effects

    def when(self, seconds: float | None) -> datetime:
        return self.now if seconds is None else at(seconds)

    def power_up(
        self, at_s: float | None = None, nonce: str = NONCE, found: tuple[ConnectorFound, ...] = ()
    ) -> Effects:
        """PowerUp; `found` is what the hardware reports on its connectors (a cable still plugged in, a fault)."""
        return self.feed(PowerUp(self.when(at_s), nonce, found))

    def connect(self, at_s: float | None = None) -> Effects:
        return self.feed(Connected(self.when(at_s)))

    def lose(self, at_s: float | None = None, jitter: float = 0.0) -> Effects:
        return self.feed(ConnectionLost(self.when(at_s), jitter))

    def tick(self, at_s: float | None = None) -> Effects:
        return self.feed(Tick(self.when(at_s)))

    def tick_deadline(self) -> Effects:
        """Tick at `next_deadline`, as the shell does when no input arrives before it."""
        deadline = next_deadline(self.station)
        assert deadline is not None, "no timer is running"
        return self.feed(Tick(deadline))

    def receive(self, frame: list[Any], at_s: float | None = None) -> Effects:
        return self.feed(FrameReceived(self.when(at_s), json.dumps(frame)))

    def csms_call(self, action: str, payload: dict[str, Any], message_id: str = "csms-1") -> Effects:
        return self.receive([2, message_id, action, payload])

    def plug(self, evse_id: int = 1, connector_id: int | None = 1, change: ConnectorChange = "plug") -> Effects:
        return self.feed(ConnectorChanged(self.now, evse_id, connector_id, change))

    def answer(self, question_id: int, value: Any) -> Effects:
        return self.feed(Answer(self.now, question_id, value))

    def send_data_transfer(self, vendor_id: str, message_id: str | None = None, data: Any = None) -> Effects:
        return self.feed(SendDataTransfer(self.now, vendor_id, message_id, data))

    def change_variable(self, component: str, variable: str, value: str, **where: Any) -> Effects:
        return self.feed(ChangeVariable(self.now, component, variable, value, **where))

    def report_variable(self, component: str, variable: str, value: str, **where: Any) -> Effects:
        """A hardware reading of a (possibly ReadOnly) Actual value."""
        return self.feed(VariableReported(self.now, component, variable, value, **where))

    def shutdown(self) -> Effects:
        return self.feed(Shutdown(self.now))

    def present_token(self, token: str = "TOKEN1", evse_id: int | None = 1, kind: str = "ISO14443") -> Effects:
        return self.feed(TokenPresented(self.now, {"idToken": token, "type": kind}, evse_id))

    def ev_state(self, state: EvState, evse_id: int = 1) -> Effects:
        return self.feed(ChargingStateChanged(self.now, evse_id, state))

    def power_path(self, closed: bool = True, evse_id: int = 1) -> Effects:
        return self.feed(PowerPathChanged(self.now, evse_id, closed))

    def meter(self, energy_wh: float, power_w: float | None = None, evse_id: int = 1) -> Effects:
        return self.feed(MeterReading(self.now, evse_id, energy_wh, power_w))

    def parking_bay(self, occupied: bool, evse_id: int = 1) -> Effects:
        return self.feed(ParkingBayChanged(self.now, evse_id, occupied))

    def outstanding(self) -> SentCall:
        """The CALL of ours that waits for its answer."""
        in_flight = self.station.rpc.in_flight
        assert in_flight is not None, "no CALL is outstanding"
        return SentCall(in_flight.message_id, in_flight.call.action, in_flight.call.payload)

    def reply(self, payload: dict[str, Any] | None = None, at_s: float | None = None) -> Effects:
        """Answer the outstanding CALL with `payload`, or with what a well-behaved CSMS answers: its Heartbeat
        answer gives the time the station already keeps (no clock jump, so no SettingSystemTime)."""
        call = self.outstanding()
        if payload is None:
            payload = csms_answer(call.action)
            if call.action == "Heartbeat":
                payload = {"currentTime": ocpp_time(self.station, self.when(at_s))}
        return self.receive([3, call.message_id, payload], at_s)

    def correct_clock(self, seconds: float) -> Effects:
        """The CSMS moves the station clock by `seconds` (back when negative): it triggers a Heartbeat and answers
        it with that time (G02.FR.02), the way a CSMS corrects a station every heartbeat."""
        effects = self.csms_call("TriggerMessage", {"requestedMessage": "Heartbeat"})
        assert self.outstanding().action == "Heartbeat"
        moved = ocpp_time(self.station, self.now + timedelta(seconds=seconds))
        return effects + self.reply({"currentTime": moved}) + self.answer_all()

    def reply_error(self, code: str = "InternalError") -> Effects:
        return self.receive([4, self.outstanding().message_id, code, "CSMS failed", {}])

    def answer_all(self) -> Effects:
        """Let the CSMS answer every CALL the station sends until nothing is outstanding."""
        effects: Effects = ()
        while self.station.rpc.in_flight is not None:
            effects += self.reply()
        return effects


def started(
    evse_connectors: tuple[int, ...] = (1,),
    config: Mapping[str, Any] | None = None,
    stored: Mapping[str, Any] | None = None,
    **identity: Any,
) -> Sim:
    """A station powered up at T0 and connected at T0+1 s: its BootNotification is outstanding."""
    sim = Sim(make_station(evse_connectors, config, stored, **identity))
    sim.power_up(0)
    sim.connect(1)
    return sim


def answer_boot(sim: Sim, status: str = "Accepted", interval: int = 300, at_s: float = 2) -> Effects:
    """The CSMS answers the outstanding BootNotification (at T0+2 s unless told)."""
    return sim.reply(csms_answer("BootNotification", status, interval), at_s=at_s)


def booted(
    evse_connectors: tuple[int, ...] = (1,),
    status: str = "Accepted",
    interval: int = 300,
    config: Mapping[str, Any] | None = None,
    stored: Mapping[str, Any] | None = None,
    **identity: Any,
) -> Sim:
    """`started`, and the boot answered `status` at T0+2 s; when Accepted the CSMS has also answered every
    StatusNotification, so the station is idle."""
    sim = started(evse_connectors, config, stored, **identity)
    answer_boot(sim, status, interval)
    sim.answer_all()
    return sim


# --- shell helpers: a websocket peer on loopback, and waiting on conditions --------------------------------------


@contextmanager
def websocket_server(handler: Callable[[ServerConnection], None], **options: Any) -> Iterator[int]:
    """A websockets server on 127.0.0.1 running `handler` per connection; yields the port."""
    server = serve(handler, "127.0.0.1", 0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="test-ws-server")
    thread.start()
    try:
        yield server.socket.getsockname()[1]
    finally:
        server.shutdown()
        thread.join(10)


def idle_handler(connection: ServerConnection) -> None:
    """A peer that accepts the connection and ignores every message until it closes."""
    with suppress(ConnectionClosed):
        for _ in connection:
            pass
