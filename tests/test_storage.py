"""StationStore: what the core persists survives a restart, and a crash mid-write loses nothing old."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tinydb import TinyDB

from chargecore.shell import storage
from chargecore.shell.storage import StationStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StationStore]:
    opened = StationStore(tmp_path / "data")
    yield opened
    opened.close()


def reopened(data_dir: Path) -> dict[str, Any]:
    """What a restarted station would load."""
    fresh = StationStore(data_dir)
    try:
        return fresh.load()
    finally:
        fresh.close()


def test_put_then_load_round_trips_json_values(store: StationStore) -> None:
    entries = {"rpc/epoch": 3, "provisioning/boot_reason": "RemoteReset", "x/nested": {"a": [1, "b", None]}}
    store.put(entries.items())
    assert store.load() == entries


def test_the_data_dir_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "deep" / "er"
    StationStore(data_dir).close()
    assert data_dir.is_dir()


def test_a_later_put_overwrites_and_none_deletes(tmp_path: Path, store: StationStore) -> None:
    store.put([("a", 1), ("b", 2)])
    store.put([("a", 10), ("b", None), ("c", None)])
    assert store.load() == {"a": 10}
    assert reopened(tmp_path / "data") == {"a": 10}


def test_values_survive_reopening(tmp_path: Path, store: StationStore) -> None:
    store.put([("rpc/epoch", 7), ("device_model/OCPPCommCtrlr/HeartbeatInterval/Actual", "300")])
    store.close()
    assert reopened(tmp_path / "data") == {"rpc/epoch": 7, "device_model/OCPPCommCtrlr/HeartbeatInterval/Actual": "300"}


def test_an_empty_store_loads_empty(tmp_path: Path) -> None:
    assert reopened(tmp_path / "data") == {}


def test_a_batch_is_one_journal_line(tmp_path: Path, store: StationStore) -> None:
    store.put([("a", 1), ("b", 2), ("c", 3), ("a", None)])
    store.put([("d", 4)])
    lines = (tmp_path / "data" / "station.journal").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [[["a", 1], ["b", 2], ["c", 3], ["a", None]], [["d", 4]]]


def test_a_torn_last_batch_is_dropped_whole_and_later_batches_survive(tmp_path: Path, store: StationStore) -> None:
    """Power fails in the middle of appending a batch: on restart none of that batch is applied, the rest is,
    and what the restarted station appends is readable after the next restart."""
    data_dir = tmp_path / "data"
    store.put([("a", 1), ("b", 2)])
    store.close()
    with open(data_dir / "station.journal", "a", encoding="utf-8") as journal:
        journal.write('[["a",100],["c",')  # the crash cut this batch short
    restarted = StationStore(data_dir)
    assert restarted.load() == {"a": 1, "b": 2}
    restarted.put([("d", 4)])
    restarted.close()
    assert reopened(data_dir) == {"a": 1, "b": 2, "d": 4}


def test_compaction_moves_the_journal_into_the_snapshot(
    tmp_path: Path, store: StationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage, "MIN_JOURNAL_BYTES", 100)
    for n in range(50):
        store.put([(f"tx_queue/{n:08d}", {"seqNo": n}), (f"tx_queue/{n - 10:08d}", None)])
    journal = (tmp_path / "data" / "station.journal").stat().st_size
    snapshot = (tmp_path / "data" / "station.json").stat().st_size
    assert journal <= 2 * snapshot + 100, "the journal was compacted into the snapshot, not left to grow"
    expected = {f"tx_queue/{n:08d}": {"seqNo": n} for n in range(40, 50)}
    assert store.load() == expected
    assert reopened(tmp_path / "data") == expected


def test_a_crash_during_compaction_loses_nothing(
    tmp_path: Path, store: StationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Power fails after the new snapshot was written, before the rename or before the journal was emptied:
    either way the store reloads exactly what was put."""
    data_dir = tmp_path / "data"
    store.put([("a", 1), ("b", 2)])
    monkeypatch.setattr(storage, "MIN_JOURNAL_BYTES", 0)

    def power_failure(*_: Any) -> None:
        raise OSError("power failure")

    with monkeypatch.context() as patch:
        patch.setattr("chargecore.shell.storage.os.replace", power_failure)
        with pytest.raises(OSError, match="power failure"):
            store.put([("a", 100), ("b", None), ("c", 3)])
    assert reopened(data_dir) == {"a": 100, "c": 3}, "the journal line was durable before compaction began"

    with monkeypatch.context() as patch:
        patch.setattr("chargecore.shell.storage.open", _failing_truncate, raising=False)
        with pytest.raises(OSError, match="power failure"):
            store.put([("d", 4)])
    assert reopened(data_dir) == {"a": 100, "c": 3, "d": 4}, "snapshot renamed, journal not yet emptied"


def _failing_truncate(path: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    if str(path).endswith(".journal") and mode == "w":
        raise OSError("power failure")
    return open(path, mode, *args, **kwargs)


def test_tinydb_reads_the_store(tmp_path: Path, store: StationStore) -> None:
    store.put([("a", 1), ("b", {"x": [1]})])
    store.put([("a", None), ("c", "three")])
    database = TinyDB(str(tmp_path / "data" / "station.json"), storage=storage.JournalStorage)
    assert {row["key"]: row["value"] for row in database.table(storage.TABLE).all()} == {"b": {"x": [1]}, "c": "three"}


def test_any_string_the_core_hands_over_is_stored(tmp_path: Path, store: StationStore) -> None:
    """A CSMS may send a lone surrogate ("\\ud800" is valid JSON); storing it must not crash the station."""
    odd = {"idToken": "\ud800card", "note": "Zürich ⚡"}
    store.put([("auth/cache/ISO14443/x", odd)])
    store.close()
    assert reopened(tmp_path / "data") == {"auth/cache/ISO14443/x": odd}
