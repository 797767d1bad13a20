"""Persisting queued TransactionEvents: cost of one enqueue at 100 and at 10,000 queued events.

    python tests/benchmarks/bench_storage.py [--enqueues N]

chargecore: `StationStore.put` (shell/storage.py, tinydb with a journal storage: one fsynced append per batch,
amortised compaction). Peer: tinydb as it comes, `TinyDB(path)` (JSONStorage) with one `table.insert` per event,
which rewrites the whole file each time. Each store is pre-filled with `queued` events (not timed), then
`--enqueues` more are timed one by one (an enqueue = put the event, as the core's Persist does; every tenth
also removes the oldest, as an acknowledgement does), then a restart is timed: reopen and load everything
(the replay a rebooted station does). Events are TransactionEvent-sized payloads (~500 bytes of JSON).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from chargecore.shell.storage import StationStore


def _event(n: int) -> dict[str, Any]:
    return {
        "eventType": "Updated",
        "timestamp": "2026-11-25T12:00:00.000Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": n,
        "offline": True,
        "transactionInfo": {"transactionId": "a1b2c3d4-7-1", "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [
            {
                "timestamp": "2026-11-25T12:00:00.000Z",
                "sampledValue": [
                    {
                        "value": 1234.5 + n,
                        "measurand": "Energy.Active.Import.Register",
                        "unitOfMeasure": {"unit": "Wh"},
                    },
                    {"value": 7200.0, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
                    {"value": 32.0, "measurand": "Current.Import", "phase": "L1", "unitOfMeasure": {"unit": "A"}},
                ],
            }
        ],
    }


def _key(n: int) -> str:
    return f"tx_queue/{n:012d}"


def chargecore_run(directory: Path, queued: int, enqueues: int) -> tuple[float, float]:
    store = StationStore(directory)
    store.put([(_key(n), _event(n)) for n in range(queued)])
    expected = set(range(queued + enqueues))
    timings = []
    for n in range(queued, queued + enqueues):
        batch = [(_key(n), _event(n))]
        if n % 10 == 0:
            batch.append((_key(n - queued), None))
            expected.discard(n - queued)
        started = time.perf_counter()
        store.put(batch)
        timings.append(time.perf_counter() - started)
    store.close()
    started = time.perf_counter()
    reopened = StationStore(directory)
    loaded = reopened.load()
    replay = time.perf_counter() - started
    reopened.close()
    assert set(loaded) == {_key(n) for n in expected}, "the restarted store lost or kept the wrong events"
    return statistics.median(timings), replay


def tinydb_run(directory: Path, queued: int, enqueues: int) -> tuple[float, float]:
    directory.mkdir(parents=True, exist_ok=True)
    database = TinyDB(str(directory / "plain.json"))
    table = database.table("values")
    table.insert_multiple({"key": _key(n), "value": _event(n)} for n in range(queued))
    timings = []
    for n in range(queued, queued + enqueues):
        started = time.perf_counter()
        table.insert({"key": _key(n), "value": _event(n)})
        timings.append(time.perf_counter() - started)
    database.close()
    started = time.perf_counter()
    reopened = TinyDB(str(directory / "plain.json"))
    loaded = {row["key"]: row["value"] for row in reopened.table("values").all()}
    replay = time.perf_counter() - started
    reopened.close()
    assert len(loaded) == queued + enqueues
    return statistics.median(timings), replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enqueues", type=int, default=200, help="timed enqueues per run (default 200)")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, {args.enqueues} timed enqueues per row")
    print("chargecore fsyncs every enqueue; plain tinydb does not fsync at all (it would only be slower)")
    print()
    print("| queued | chargecore enqueue | plain tinydb insert | chargecore restart+load | tinydb reopen+load |")
    print("|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        for queued in (100, 10_000):
            ours, ours_replay = chargecore_run(Path(scratch) / f"ours-{queued}", queued, args.enqueues)
            theirs, theirs_replay = tinydb_run(Path(scratch) / f"plain-{queued}", queued, args.enqueues)
            print(
                f"| {queued:,} | {ours * 1e6:,.0f} µs | {theirs * 1e6:,.0f} µs "
                f"| {ours_replay * 1e3:,.1f} ms | {theirs_replay * 1e3:,.1f} ms |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
