"""StationStore: what the core persists survives a restart, and a crash mid-write loses nothing old."""

from __future__ import annotations

import gc
import os
import stat
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from store_faults import written_then_crashed
from tinydb import TinyDB

from chargecore.shell import storage
from chargecore.shell.cli import options_from, run_parser
from chargecore.shell.journal_storage import JournalStorage
from chargecore.shell.storage import StationStore
from chargecore.shell.store_files import StoreUnusable, station_data_dir
from chargecore.shell.store_records import TABLE, decode_record, encode_record


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
    store.close()
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
    lines = (tmp_path / "data" / "station.journal").read_bytes().split(b"\n")
    batches = [(1, [["a", 1], ["b", 2], ["c", 3], ["a", None]]), (2, [["d", 4]])]
    assert [decode_record(line) for line in lines[:-1]] == batches
    assert lines[-1] == b"", "each record ends with its newline"


def test_a_torn_last_batch_is_dropped_whole_and_later_batches_survive(tmp_path: Path) -> None:
    """Power fails in the middle of appending a batch: on restart none of that batch is applied, the rest is,
    what the restarted station appends is readable after the next restart, and the log says so at info level."""
    data_dir = tmp_path / "data"
    written_then_crashed(data_dir, [[("a", 1), ("b", 2)], [("a", 100), ("c", 3)]])
    journal = data_dir / "station.journal"
    journal.write_bytes(journal.read_bytes()[:-9])  # the crash cut the second batch short
    restarted = StationStore(data_dir)
    assert restarted.load() == {"a": 1, "b": 2}
    assert restarted.notices == [
        ("info", f"{journal}: dropped the last batch, a write a crash interrupted before it was acknowledged")
    ]
    restarted.put([("d", 4)])
    restarted.close()
    assert reopened(data_dir) == {"a": 1, "b": 2, "d": 4}
    assert [path.name for path in data_dir.iterdir() if "damaged" in path.name] == []


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
    store.close()
    assert reopened(tmp_path / "data") == expected


def test_a_crash_during_compaction_loses_nothing(
    tmp_path: Path, store: StationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Power fails after the new snapshot was written, before the rename or before the journal was emptied:
    either way the store reloads exactly what was put, and the failed put says so in one line."""
    data_dir = tmp_path / "data"
    store.put([("a", 1), ("b", 2)])
    monkeypatch.setattr(storage, "MIN_JOURNAL_BYTES", 0)

    def power_failure(*_: Any) -> None:
        raise OSError("power failure")

    with monkeypatch.context() as patch:
        patch.setattr("chargecore.shell.storage.os.replace", power_failure)
        with pytest.raises(StoreUnusable, match="power failure"):
            store.put([("a", 100), ("b", None), ("c", 3)])
    store.close()
    assert reopened(data_dir) == {"a": 100, "c": 3}, "the journal line was durable before compaction began"

    store = StationStore(data_dir)
    real_ftruncate = os.ftruncate

    def failing_truncate(handle: int, size: int) -> None:
        if os.readlink(f"/proc/self/fd/{handle}").endswith(".journal"):
            raise OSError("power failure")
        real_ftruncate(handle, size)

    with monkeypatch.context() as patch:
        patch.setattr("chargecore.shell.storage.os.ftruncate", failing_truncate)
        with pytest.raises(StoreUnusable, match="power failure"):
            store.put([("d", 4)])
    store.close()
    assert reopened(data_dir) == {"a": 100, "c": 3, "d": 4}, "snapshot renamed, journal not yet emptied"


def test_tinydb_reads_the_store(tmp_path: Path, store: StationStore) -> None:
    store.put([("a", 1), ("b", {"x": [1]})])
    store.put([("a", None), ("c", "three")])
    store.close()
    database = TinyDB(str(tmp_path / "data" / "station.json"), storage=JournalStorage)
    assert {row["key"]: row["value"] for row in database.table(TABLE).all()} == {"b": {"x": [1]}, "c": "three"}


def test_any_string_the_core_hands_over_is_stored(tmp_path: Path, store: StationStore) -> None:
    """A CSMS may send a lone surrogate ("\\ud800" is valid JSON); storing it must not crash the station."""
    odd = {"idToken": "\ud800card", "note": "Zürich ⚡"}
    store.put([("auth/cache/ISO14443/x", odd)])
    store.close()
    assert reopened(tmp_path / "data") == {"auth/cache/ISO14443/x": odd}


def test_a_full_disk_refuses_the_batch_in_one_line_and_keeps_the_journal_clean(
    tmp_path: Path, store: StationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC in the middle of an append: put raises a one-line StoreUnusable naming the journal, the partial
    line is cut off again, and what was stored before (and after, once there is room) survives."""
    store.put([("a", 1)])
    real_write = os.write

    def half_then_full(handle: int, data: Any) -> int:
        if len(data) > 20:
            return real_write(handle, bytes(data[:20]))
        raise OSError(28, os.strerror(28))

    with monkeypatch.context() as patch:
        patch.setattr("chargecore.shell.storage.os.write", half_then_full)
        with pytest.raises(StoreUnusable) as refused:
            store.put([("b", 2)])
    assert str(refused.value) == f"cannot use {tmp_path / 'data' / 'station.journal'}: No space left on device"
    assert store.load() == {"a": 1}
    store.put([("c", 3)])
    store.close()
    assert reopened(tmp_path / "data") == {"a": 1, "c": 3}


def test_the_store_files_are_readable_by_their_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store holds BasicAuthPassword in clear: 0600 files in a 0700 dir, whatever the umask, and a file an
    earlier version left readable by others is closed too."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    (data_dir / "station.json").write_bytes(encode_record(0, {"records": 0}))
    (data_dir / "station.journal").write_bytes(b"")
    for name in ("station.json", "station.journal"):
        (data_dir / name).chmod(0o644)
    monkeypatch.setattr(storage, "MIN_JOURNAL_BYTES", 0)
    previous = os.umask(0)
    try:
        store = StationStore(data_dir / "fresh")
        store.put([("device_model/SecurityCtrlr/BasicAuthPassword/Actual", "s3cret-s3cret")] * 3)
        store.close()
        StationStore(data_dir).close()
    finally:
        os.umask(previous)
    files = [*data_dir.glob("station.*"), *(data_dir / "fresh").glob("station.*")]
    assert {path.name for path in files} == {"station.json", "station.journal", "station.lock"}
    assert {oct(stat.S_IMODE(path.stat().st_mode)) for path in files} == {"0o600"}
    assert stat.S_IMODE((data_dir / "fresh").stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("station_id", "name"),
    [("CS001", "CS001"), ("a/b", "a%2Fb"), ("..", "%2E."), (".hidden", "%2Ehidden"), ("Zürich 1", "Z%C3%BCrich%201")],
)
def test_each_station_id_has_its_own_harmless_directory(station_id: str, name: str) -> None:
    assert station_data_dir(Path("data"), station_id) == Path("data") / name


def test_chargecore_run_keeps_each_station_id_in_its_own_data_dir() -> None:
    """Without --data-dir two stations must not share a store (one would send the other's queued events)."""
    def data_dir(*arguments: str) -> Path:
        return options_from(run_parser().parse_args(["--csms", "ws://127.0.0.1:9000", *arguments])).data_dir

    assert data_dir("--id", "CS001") == Path("data") / "CS001"
    assert data_dir("--id", "CS/002") == Path("data") / "CS%2F002"
    assert data_dir("--id", "CS001", "--data-dir", "/var/lib/charger") == Path("/var/lib/charger")


def test_a_record_whose_checksum_holds_over_text_that_is_not_json_is_damage_alone(tmp_path: Path) -> None:
    """Only a deliberate write makes such a line; it costs its own record, not the records parsed with it."""
    data_dir = tmp_path / "data"
    store = StationStore(data_dir)
    for n in range(3):
        store.put([(f"k{n}", n)])
    store.close()
    journal = data_dir / "station.journal"
    body = b'2 [["k1",'
    first, _, third = journal.read_bytes().split(b"\n")[:3]
    journal.write_bytes(b"\n".join([first, b"%08x %s" % (zlib.crc32(body), body), third, b""]))
    store = StationStore(data_dir)
    assert store.load() == {"k0": 0, "k2": 2}
    assert [", 1 of 3 records lost; " in line for _, line in store.notices] == [True]
    store.close()


def test_a_full_disk_during_compaction_keeps_the_batch_and_leaves_no_partial_snapshot(
    tmp_path: Path, store: StationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "data"
    store.put([("a", 1)])
    monkeypatch.setattr(storage, "MIN_JOURNAL_BYTES", 0)
    real_write = os.write

    def snapshot_does_not_fit(handle: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{handle}").endswith(".tmp"):
            raise OSError(28, os.strerror(28))
        return real_write(handle, data)

    with monkeypatch.context() as patch:
        patch.setattr("chargecore.shell.storage.os.write", snapshot_does_not_fit)
        with pytest.raises(StoreUnusable, match="No space left on device"):
            store.put([("b", 2)])
    assert sorted(path.name for path in data_dir.iterdir()) == ["station.journal", "station.lock"], "no .tmp left"
    store.close()
    assert reopened(data_dir) == {"a": 1, "b": 2}


def test_a_closed_store_writes_nothing(tmp_path: Path, store: StationStore) -> None:
    """A put after close (a core thread that outlived stop) would write without holding the data dir."""
    store.put([("a", 1)])
    store.close()
    with pytest.raises(StoreUnusable, match="the store was closed"):
        store.put([("b", 2)])
    assert reopened(tmp_path / "data") == {"a": 1}


def test_a_data_dir_the_station_may_not_write_to_refuses_the_start(
    tmp_path: Path, store: StationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """chmod 555 for a station that does not run as root (for root, which the tests run as, it changes nothing):
    its files may still be writable, but it could never rename a new snapshot into place."""
    store.put([("a", 1)])
    store.close()
    real_access = os.access
    data_dir = tmp_path / "data"
    monkeypatch.setattr(os, "access", lambda path, mode: path != data_dir and real_access(path, mode))
    with pytest.raises(StoreUnusable, match=f"^data dir {data_dir} is not writable$"):
        StationStore(data_dir)


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the unclosed store is the point
def test_a_store_dropped_without_close_lets_the_next_one_in(tmp_path: Path) -> None:
    """A ChargingStation whose start fails after its store opened (a bad certificate, say) drops the store:
    the data dir is free again, as after a crash, and nothing is lost."""
    dropped = StationStore(tmp_path)
    dropped.put([("a", 1)])
    del dropped
    gc.collect()
    assert reopened(tmp_path) == {"a": 1}
