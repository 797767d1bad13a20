"""StationStore: what the core persists survives a restart, and a crash mid-write loses nothing old."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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


def test_a_batch_is_one_file_write(monkeypatch: pytest.MonkeyPatch, store: StationStore) -> None:
    writes: list[dict[str, Any]] = []
    original = storage.AtomicJSONStorage.write

    def counting(self: storage.AtomicJSONStorage, data: dict[str, Any]) -> None:
        writes.append(data)
        original(self, data)

    monkeypatch.setattr(storage.AtomicJSONStorage, "write", counting)
    store.put([("a", 1), ("b", 2), ("c", 3), ("a", None)])
    assert len(writes) == 1


def test_a_crash_before_the_rename_leaves_the_old_file_intact(tmp_path: Path, store: StationStore) -> None:
    """Power fails after the new file was written but before it replaced the old one: the store still loads,
    with all of the old batch and none of the new one."""
    data_dir = tmp_path / "data"
    store.put([("a", 1), ("b", 2)])
    renames: list[tuple[str, str]] = []

    def crash(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        renames.append((str(source), str(destination)))
        raise OSError("power failure")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("chargecore.shell.storage.os.replace", crash)
        with pytest.raises(OSError, match="power failure"):
            store.put([("a", 100), ("b", None), ("c", 3)])

    (source, destination), *_ = renames
    assert Path(destination) == data_dir / "station.json"
    written = json.loads(Path(source).read_text(encoding="utf-8"))
    assert {row["key"] for row in written["values"].values()} == {"a", "c"}, "the new batch was fully written"
    assert reopened(data_dir) == {"a": 1, "b": 2}
