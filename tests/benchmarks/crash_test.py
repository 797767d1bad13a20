"""Crash test of the persistent TransactionEvent queue (E11-E13): kill -9 the station at random moments of
offline and online transactions, restart it on the same data dir, and check what the CSMS received.

    python tests/benchmarks/crash_test.py [--runs N] [--seed S]

The embedded CSMS (`LocalCsms`) runs in this process on loopback; the station is a subprocess (this file with
`--station URL DATA_DIR`: a `ChargingStation` with the `SimulatedCharger` that plugs in, toggles the EV's
charging state and unplugs, over and over: TxStartPoint and TxStopPoint EVConnected, so every plug starts a
transaction). Each of the N runs starts the station on the same data dir, waits for its BootNotification (at most
BOOT_LIMIT seconds, so a slow start on a loaded machine does not eat the run), lets it work for a random while, takes
the CSMS away for part of the runs (the station queues its events with offline: true and reconnects when the
CSMS is back), and kills the station with SIGKILL at a random moment. After the kill, the station's store is
read to learn which events it still holds (not acknowledged). Finally the station runs once more, with the
CSMS up, until its queue is empty.

Checked over every TransactionEvent the CSMS received, by (transactionId, seqNo):

- lost: a seqNo missing in a transaction (they must be contiguous from 0), a transaction without Started at
  seqNo 0 or without Ended as its last event, or an event the station still holds at the end;
- duplicated: an event received again although the station had durably recorded its acknowledgement (it was
  no longer in the store read after the kill, or no CSMS outage came between the two receipts in one run);
- inconsistent: the same (transactionId, seqNo) received with different contents.

Receiving an event again that the station did not yet know to be acknowledged (the kill or the outage came
between the CSMS's answer and the station recording it) is at-least-once delivery as OCPP has it (E11: the
CSMS recognises the event by transactionId and seqNo); it is reported as "redelivered", not as duplicated.
Exit status 1 when anything is lost, duplicated or inconsistent.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargecore.shell.storage import StationStore
from chargecore.tools.csms import LocalCsms, Record

STATION_ID = "CRASH"
LANE_NAMESPACE = "tx_queue/"
CONFIG: dict[str, Any] = {
    "TxCtrlr": {"TxStartPoint": "EVConnected", "TxStopPoint": "EVConnected"},
    "OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 1, "RetryBackOffRandomRange": 0, "RetryBackOffRepeatTimes": 0},
}
EventKey = tuple[str, int]
BOOT_LIMIT = 60.0
"""Seconds a station process may take to send its BootNotification: generous for a loaded machine, but bounded."""


# --- the station (child process) ----------------------------------------------------------------------------


def run_station(url: str, data_dir: Path, seed: int) -> None:
    """Charge, over and over, until killed."""
    from chargecore.shell.application import SimulatedCharger
    from chargecore.shell.runtime import ChargingStation, StationOptions

    options = StationOptions(url, STATION_ID, data_dir, config=CONFIG)
    station = ChargingStation(options, SimulatedCharger())
    station.start()
    pace = random.Random(seed)
    while True:
        station.connector(1, 1, "plug")
        for toggle in range(pace.randint(1, 6)):
            time.sleep(pace.uniform(0.005, 0.05))
            station.ev_state(1, "SuspendedEV" if toggle % 2 == 0 else "Charging")
        time.sleep(pace.uniform(0.005, 0.05))
        station.connector(1, 1, "unplug")
        time.sleep(pace.uniform(0.005, 0.05))


# --- the test (parent process) -----------------------------------------------------------------------------


@dataclass
class Tally:
    received: dict[EventKey, dict[str, Any]] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    redelivered: int = 0
    inconsistent: list[str] = field(default_factory=list)


def _event_key(payload: dict[str, Any]) -> EventKey:
    return payload["transactionInfo"]["transactionId"], payload["seqNo"]


def _held(data_dir: Path) -> set[EventKey]:
    """The TransactionEvents the (dead) station still holds: sent again after a restart, legitimately. The lane
    also holds SecurityEventNotifications (StartupOfTheDevice at every start), which this test does not count."""
    store = StationStore(data_dir)
    try:
        values = store.load()
    finally:
        store.close()
    lane = [v for k, v in values.items() if k.startswith(LANE_NAMESPACE)]
    return {_event_key(v["payload"]) for v in lane if v["action"] == "TransactionEvent"}


def _start_station(*arguments: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, *arguments]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_boot(csms: LocalCsms, child: subprocess.Popen[bytes], since: int) -> None:
    """Until this life of the station sent its BootNotification (the CSMS is up whenever a life begins). The random
    kill moment counts from there, so a slow start on a loaded machine cannot use up a life before the station
    has done anything; by then it has also taken the plug-in it was given at start."""
    deadline = time.monotonic() + BOOT_LIMIT
    while not any(r.direction == "in" and r.action == "BootNotification" for r in csms.messages[since:]):
        if child.poll() is not None:
            raise RuntimeError(f"the station exited with code {child.returncode} before it booted")
        if time.monotonic() > deadline:
            child.kill()
            raise TimeoutError(f"the station sent no BootNotification within {BOOT_LIMIT:.0f} s")
        time.sleep(0.02)


def _receipts(csms: LocalCsms, since: int) -> tuple[list[tuple[int, Record]], int]:
    messages = csms.messages
    events = [
        (index, record)
        for index, record in enumerate(messages[since:], since)
        if record.direction == "in" and record.kind == "CALL" and record.action == "TransactionEvent"
    ]
    return events, len(messages)


def _account(tally: Tally, events: list[tuple[int, Record]], held: set[EventKey], outages: list[int]) -> None:
    """Receipts of one life of the station. `held`: what the store held when this life began; `outages`: the
    number of CSMS messages when each outage began (messages from that index on came after it)."""
    seen_this_life: dict[EventKey, int] = {}
    for index, record in events:
        key = _event_key(record.payload)
        label = f"{key[0]}/{key[1]}"
        earlier = tally.received.get(key)
        if earlier is not None and earlier != record.payload:
            tally.inconsistent.append(label)
        if key in seen_this_life:
            outage_between = any(seen_this_life[key] < cut <= index for cut in outages)
            if outage_between:
                tally.redelivered += 1
            else:
                tally.duplicated.append(label)
        elif earlier is not None:
            if key in held:
                tally.redelivered += 1
            else:
                tally.duplicated.append(label)
        seen_this_life[key] = index
        tally.received[key] = record.payload


def _check_sequences(tally: Tally) -> None:
    by_transaction: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for (transaction_id, seq_no), payload in tally.received.items():
        by_transaction[transaction_id][seq_no] = payload
    for transaction_id, events in by_transaction.items():
        last = max(events)
        tally.lost += [f"{transaction_id}/{n}" for n in range(last + 1) if n not in events]
        if events.get(0, {}).get("eventType") != "Started":
            tally.lost.append(f"{transaction_id}: no Started at seqNo 0")
        if events[last]["eventType"] != "Ended":
            tally.lost.append(f"{transaction_id}: no Ended last")
        if sum(payload["eventType"] == "Ended" for payload in events.values()) != 1:
            tally.lost.append(f"{transaction_id}: Ended not exactly once")


def _wait_quiet(csms: LocalCsms, quiet: float, limit: float) -> None:
    """Until no TransactionEvent arrived for `quiet` seconds."""
    deadline = time.monotonic() + limit
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = sum(1 for r in csms.messages if r.action == "TransactionEvent")
        if now_count != count:
            count, since = now_count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


def crash_test(runs: int, seed: int, data_dir: Path, say: Any = print) -> Tally:
    rng = random.Random(seed)
    csms = LocalCsms(on_log=lambda _line: None)
    csms.start()
    url, up = csms.url, True
    tally = Tally()
    outages: list[int] = []
    seen = 0
    held: set[EventKey] = set()
    try:
        for run in range(runs):
            life_began = len(csms.messages)
            child = _start_station("--station", url, str(data_dir), "--seed", str(rng.randrange(1 << 30)))
            _wait_boot(csms, child, since=life_began)
            time.sleep(rng.uniform(0.0, 1.5))
            if rng.random() < 0.5:  # the CSMS goes away for a while, and comes back before or after the kill
                csms.stop()
                up = False
                outages.append(len(csms.messages))
                time.sleep(rng.uniform(0.2, 1.2))
                if rng.random() < 0.5:
                    up = csms.start() > 0
                    time.sleep(rng.uniform(0.0, 1.5))
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
            if not up:
                up = csms.start() > 0
            events, seen_next = _receipts(csms, seen)
            _account(tally, events, held, outages)
            seen = seen_next
            held = _held(data_dir)
            if (run + 1) % 20 == 0:
                say(f"  {run + 1} kills, {len(tally.received)} events received so far")
        life_began = len(csms.messages)
        final = _start_station("--idle", url, str(data_dir))
        _wait_boot(csms, final, since=life_began)
        _wait_quiet(csms, quiet=3.0, limit=60.0)
        final.terminate()
        final.wait()
        events, _ = _receipts(csms, seen)
        _account(tally, events, held, outages)
        left = _held(data_dir)
        tally.lost += [f"{t}/{n} still queued" for t, n in sorted(left)]
    finally:
        csms.stop()
    _check_sequences(tally)
    return tally


def run_idle(url: str, data_dir: Path) -> None:
    """The last life: no new transactions, just deliver what is queued (the interrupted one ends, PowerLoss)."""
    from chargecore.shell.application import SimulatedCharger
    from chargecore.shell.runtime import ChargingStation, StationOptions

    options = StationOptions(url, STATION_ID, data_dir, config=CONFIG)
    station = ChargingStation(options, SimulatedCharger())
    station.start()
    signal.signal(signal.SIGTERM, lambda *_: station.submit_stop())
    station.wait()
    station.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="kill -9 this many times")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--station", nargs=2, metavar=("URL", "DATA_DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--idle", nargs=2, metavar=("URL", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.station:
        run_station(args.station[0], Path(args.station[1]), args.seed)
        return 0
    if args.idle:
        run_idle(args.idle[0], Path(args.idle[1]))
        return 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as directory:
        tally = crash_test(args.runs, args.seed, Path(directory))
    elapsed = time.monotonic() - started
    transactions = len({key[0] for key in tally.received})
    print(f"{args.runs} kill -9, {transactions} transactions, {len(tally.received)} distinct TransactionEvents")
    print(f"events lost: {len(tally.lost)}   events duplicated: {len(tally.duplicated)}", end="")
    print(
        f"   inconsistent: {len(tally.inconsistent)}   redelivered (unacknowledged at the crash): {tally.redelivered}"
    )
    for problem in (tally.lost + tally.duplicated + tally.inconsistent)[:20]:
        print(f"  {problem}")
    print(f"run time {elapsed:.1f} s")
    return 1 if tally.lost or tally.duplicated or tally.inconsistent else 0


if __name__ == "__main__":
    sys.exit(main())
