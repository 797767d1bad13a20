"""Charging sessions per second through the pure core, and the cost of queueing a TransactionEvent while the
persistent lane already holds 100 or 10,000 events.

    python tests/benchmarks/bench_transactions.py [--sessions N] [--samples S]

Sessions: a booted station (CSMS answers every CALL at once, as `step(FrameReceived)`), then per session:
plug, token, Authorize answered Accepted, power path closed (Started), S meter readings each followed by a
triggered TransactionEvent (Updated, meter value), the same token again (Ended), unplug. Effects are executed
like the shell does minus I/O (StartEnergyTransfer/StopEnergyTransfer answered with PowerPathChanged).

Queue: the station offline with N TransactionEvents already in the lane; the time of one more event
(`step(MeterReading)` + a triggered Updated is not possible offline, so ChargingStateChanged toggles) is
measured at N = 100 and N = 10,000. This measures the pure side only (the Persist write is the shell's).
This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from chargecore.pure.device_model import build_device_model
from chargecore.pure.effects import Effects, SendFrame, StartEnergyTransfer, StopEnergyTransfer
from chargecore.pure.inputs import (
    ChargingStateChanged,
    Connected,
    ConnectionLost,
    ConnectorChanged,
    FrameReceived,
    Input,
    MeterReading,
    PowerPathChanged,
    PowerUp,
    TokenPresented,
)
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import initial_station, step

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TOKEN = {"idToken": "04A2B3C4", "type": "ISO14443"}
ANSWERS: dict[str, dict[str, Any]] = {
    "BootNotification": {"currentTime": "2024-01-01T00:00:00Z", "interval": 3600, "status": "Accepted"},
    "Authorize": {"idTokenInfo": {"status": "Accepted"}},
}


class Driver:
    def __init__(self, config: dict[str, Any]) -> None:
        model = build_device_model((1,), config).unwrap()
        self.station: Station = initial_station(StationIdentity("BENCH", "ws://x", (1,)), model, {})
        self.now = T0
        self.answering = True

    def feed(self, event: Input) -> None:
        self.station, effects = step(self.station, event)
        self.execute(effects)

    def execute(self, effects: Effects) -> None:
        for effect in effects:
            if isinstance(effect, StartEnergyTransfer | StopEnergyTransfer):
                self.feed(PowerPathChanged(self.now, effect.evse_id, isinstance(effect, StartEnergyTransfer)))
            elif isinstance(effect, SendFrame) and self.answering:
                frame = json.loads(effect.text)
                if frame[0] == 2:
                    answer = ANSWERS.get(frame[2], {})
                    self.feed(FrameReceived(self.now, json.dumps([3, frame[1], answer])))


def booted(config: dict[str, Any]) -> Driver:
    driver = Driver(config)
    driver.feed(PowerUp(T0, "bench"))
    driver.feed(Connected(T0))
    return driver


def session(driver: Driver, samples: int) -> None:
    now = driver.now
    driver.feed(ConnectorChanged(now, 1, 1, "plug"))
    driver.feed(TokenPresented(now, TOKEN, 1))
    for sample in range(samples):
        driver.feed(MeterReading(now, 1, 1000.0 + sample, 7000.0))
        trigger = {"requestedMessage": "TransactionEvent", "evse": {"id": 1}}
        driver.feed(FrameReceived(now, json.dumps([2, f"t{sample}", "TriggerMessage", trigger])))
    driver.feed(TokenPresented(now, TOKEN, 1))
    driver.feed(ConnectorChanged(now, 1, 1, "unplug"))
    driver.now += timedelta(seconds=1)


def queue_cost(backlog: int, measured: int = 200) -> float:
    """Microseconds per queued TransactionEvent with `backlog` events already waiting (offline)."""
    driver = booted({"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    driver.feed(ConnectorChanged(T0, 1, 1, "plug"))
    driver.answering = False
    driver.feed(ConnectionLost(T0, 0.0))
    states = ["SuspendedEV", "Charging"]
    for index in range(backlog):
        driver.feed(ChargingStateChanged(T0, 1, states[index % 2]))  # type: ignore[arg-type]
    assert len(driver.station.rpc.lane) >= backlog
    start = time.perf_counter()
    for index in range(measured):
        driver.feed(ChargingStateChanged(T0, 1, states[(backlog + index) % 2]))  # type: ignore[arg-type]
    return (time.perf_counter() - start) / measured * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    driver = booted({})
    session(driver, args.samples)  # warm-up
    start = time.perf_counter()
    for _ in range(args.sessions):
        session(driver, args.samples)
    elapsed = time.perf_counter() - start
    print(f"{args.sessions / elapsed:8.1f} sessions/s ({args.samples} meter samples each), pure core")
    for backlog in (100, 10_000):
        print(f"{queue_cost(backlog):8.1f} µs per queued TransactionEvent with {backlog} already queued")


if __name__ == "__main__":
    main()
