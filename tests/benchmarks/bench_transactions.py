"""Charging sessions per second through the pure core, and the persistent TransactionEvent queue at 100 and at
10,000 queued events: enqueue, restart and delivery, each with its storage writes.

    python tests/benchmarks/bench_transactions.py [--sessions N] [--samples S] [--measured M]

Sessions: a booted station (CSMS answers every CALL at once, as `step(FrameReceived)`), then per session:
plug, token, Authorize answered Accepted, power path closed (Started), S meter readings each followed by a
triggered TransactionEvent (Updated, meter value), the same token again (Ended), unplug. Effects are executed
like the shell does minus I/O (StartEnergyTransfer/StopEnergyTransfer answered with PowerPathChanged).

Queue, for a backlog of N = 100 and N = 10,000 TransactionEvents (the station offline, a transaction running,
ChargingStateChanged toggling so that each step queues one Updated event; the backlog is built through the
core and written to a fresh `StationStore` in one batch, not timed):

- enqueue: M more events, each = `step` + its Persist written by `StationStore.put` (fsynced journal append);
- restart: reopen the store and rebuild the station from it (`StationStore` + `initial_station`, which
  restores the lane), divided by the events queued (at 100 the fixed cost of building a station dominates);
- delivery: after the restart (PowerUp) and a reconnect, the CSMS answers M events one by one; each answer is one
  `step` (acknowledge, send the next) + the Persist that removes the answered event from disk.

Figures are medians over the timed events (the machine is shared: a step another process preempted does not
move them). The cost per event must be the same at 100 and at 10,000. This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.model import build_device_model
from chargecore.pure.effects import Effects, Persist, SendFrame, StartEnergyTransfer, StopEnergyTransfer
from chargecore.pure.inputs import (
    ChargingStateChanged,
    Connected,
    ConnectionLost,
    ConnectorChanged,
    EvState,
    FrameReceived,
    Input,
    MeterReading,
    PowerPathChanged,
    PowerUp,
    TokenPresented,
)
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import step
from chargecore.shell.storage import StationStore

T0 = datetime(2024, 1, 1, tzinfo=UTC)
IDENTITY = StationIdentity("BENCH", "ws://x", (1,))
QUEUE_CONFIG: dict[str, Any] = {"TxCtrlr": {"TxStartPoint": "EVConnected"}}
TOKEN = {"idToken": "04A2B3C4", "type": "ISO14443"}
ANSWERS: dict[str, dict[str, Any]] = {
    "BootNotification": {"currentTime": "2024-01-01T00:00:00Z", "interval": 3600, "status": "Accepted"},
    "Authorize": {"idTokenInfo": {"status": "Accepted"}},
}


class Driver:
    def __init__(self, config: dict[str, Any], persisted: dict[str, Any] | None = None) -> None:
        model = build_device_model((1,), config).unwrap()
        self.station: Station = initial_station(IDENTITY, model, persisted or {})
        self.now = T0
        self.answering = True
        self.store: StationStore | None = None
        self.unwritten: list[tuple[str, Any]] = []
        """Persist entries while no store is attached (the untimed backlog, written in one batch)."""

    def feed(self, event: Input) -> None:
        self.station, effects = step(self.station, event)
        self.execute(effects)

    def execute(self, effects: Effects) -> None:
        for effect in effects:
            if isinstance(effect, StartEnergyTransfer | StopEnergyTransfer):
                self.feed(PowerPathChanged(self.now, effect.evse_id, isinstance(effect, StartEnergyTransfer)))
            elif isinstance(effect, Persist):
                if self.store is None:
                    self.unwritten.extend(effect.entries)
                else:
                    self.store.put(effect.entries)
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


RESTARTS = 5
STATES: tuple[EvState, ...] = ("SuspendedEV", "Charging")


def _offline_backlog(backlog: int, data_dir: Path) -> Driver:
    """A station offline with a transaction running and `backlog` events in the lane, all on disk."""
    driver = booted(QUEUE_CONFIG)
    driver.feed(ConnectorChanged(T0, 1, 1, "plug"))
    driver.answering = False
    driver.feed(ConnectionLost(T0, 0.0))
    for index in range(backlog):
        driver.feed(ChargingStateChanged(T0, 1, STATES[index % 2]))
    assert len(driver.station.rpc.lane) >= backlog
    driver.store = StationStore(data_dir)
    driver.store.put(driver.unwritten)
    return driver


def queue_costs(backlog: int, measured: int) -> tuple[float, float, float]:
    """Median microseconds per event (enqueue, restart, delivery) with `backlog` events queued (the median, as the
    machine is shared: a timed step that another process preempted does not move it)."""
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory)
        driver = _offline_backlog(backlog, data_dir)
        enqueues = []
        for index in range(measured):
            start = time.perf_counter()
            driver.feed(ChargingStateChanged(T0, 1, STATES[(backlog + index) % 2]))
            enqueues.append(time.perf_counter() - start)
        queued = len(driver.station.rpc.lane)
        assert driver.store is not None
        driver.store.close()

        restarts = []
        for attempt in range(RESTARTS):
            start = time.perf_counter()
            store = StationStore(data_dir)
            restarted = Driver(QUEUE_CONFIG, store.load())
            restarts.append((time.perf_counter() - start) / queued)
            assert len(restarted.station.rpc.lane) == queued
            if attempt < RESTARTS - 1:
                store.close()  # one store per data dir at a time: the last one stays open for the delivery

        restarted.store, restarted.answering = store, False
        restarted.feed(PowerUp(T0, "bench"))  # PowerLoss: the interrupted transaction ends (one more event)
        restarted.station, effects = step(restarted.station, Connected(T0))
        restarted.execute(effects)
        pending = [json.loads(e.text) for e in effects if isinstance(e, SendFrame)]
        deliveries = []
        while len(deliveries) < measured:
            frame = next((f for f in pending if f[0] == 2), None)
            assert frame is not None, "the station stopped sending"
            answer = json.dumps([3, frame[1], ANSWERS.get(frame[2], {})])
            start = time.perf_counter()
            restarted.station, effects = step(restarted.station, FrameReceived(T0, answer))
            restarted.execute(effects)
            if frame[2] == "TransactionEvent":
                deliveries.append(time.perf_counter() - start)
            pending = [json.loads(e.text) for e in effects if isinstance(e, SendFrame)]
        store.close()
    enqueue, restart, delivery = (statistics.median(times) * 1e6 for times in (enqueues, restarts, deliveries))
    return enqueue, restart, delivery


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--measured", type=int, default=300, help="events timed per queue figure")
    args = parser.parse_args()
    driver = booted({})
    session(driver, args.samples)  # warm-up
    start = time.perf_counter()
    for _ in range(args.sessions):
        session(driver, args.samples)
    elapsed = time.perf_counter() - start
    print(f"{args.sessions / elapsed:8.1f} sessions/s ({args.samples} meter samples each), pure core")
    print("µs per TransactionEvent     100 queued   10,000 queued   (core + StationStore, fsync per write)")
    figures = {backlog: queue_costs(backlog, args.measured) for backlog in (100, 10_000)}
    for index, name in enumerate(("enqueue", "restart (rebuild lane)", "delivery after reconnect")):
        print(f"{name:26} {figures[100][index]:11.1f} {figures[10_000][index]:15.1f}")


if __name__ == "__main__":
    main()
