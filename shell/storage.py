"""What must survive a restart, in tinydb under --data-dir: a cost per write that does not grow with the data,
and never a record lost without a line that says so.

tinydb's own JSONStorage rewrites the whole file on every write (and its Table rebuilds the whole table in
memory), so persisting one queued TransactionEvent would cost O(n) and a queue of 10,000 events O(n^2).
`JournalStorage` is a tinydb Storage made of two files, plus a lock file; all three are created mode 0600
(the store holds BasicAuthPassword and the other WriteOnly values in clear):

- `station.json`, the snapshot, replaced only by write-fsync-rename;
- `station.journal`, one record per `Persist` batch, appended and fsynced before `put` returns;
- `station.lock`, flocked while a station uses the data dir (a second process is refused); at a clean close
  it records how many records the other two files hold.

The record format and the rules for reading damaged and older files are in journal_storage.py; the record
itself in store_records.py, the data dir and its lock in store_files.py.

When the journal has grown past twice the snapshot, the snapshot is rewritten and the journal emptied;
replaying a journal onto a snapshot that already holds it is harmless (values are absolute), so a crash
between the two steps loses nothing. Each `put` costs one append and one fsync, plus an amortised share of
compaction.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb import TinyDB

from chargecore.shell.journal_storage import JournalStorage, Loaded, as_tinydb
from chargecore.shell.store_damage import damaged_label
from chargecore.shell.store_files import FILE_MODE, LOCK, SNAPSHOT, CleanClose, DataDirLock, StoreUnusable, refusing
from chargecore.shell.store_legacy import LEGACY_LABEL

MIN_JOURNAL_BYTES = 256 * 1024
"""The journal is compacted only past this size (and past twice the snapshot), so small stores never churn."""


class StationStore:
    """A durable key/value map (keys chosen by the core's `Persist` effects); one batch = one journal record.
    Raises StoreUnusable when the data dir cannot be used safely. `notices`: (level, line) pairs for the log
    at start, one per damaged file (and the interrupted write a crash left)."""

    def __init__(self, data_dir: Path) -> None:
        self.notices: list[tuple[str, str]] = []
        with refusing(data_dir):
            if data_dir.exists() and not data_dir.is_dir():
                raise StoreUnusable(f"data dir {data_dir} is not a directory")
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not os.access(data_dir, os.W_OK | os.X_OK):  # else the first compaction would fail, not the start
                raise StoreUnusable(f"data dir {data_dir} is not writable")
            lock = DataDirLock(data_dir / LOCK)
        try:
            with refusing(data_dir):
                self._db = TinyDB(str(data_dir / SNAPSHOT), storage=JournalStorage)
                self._storage: JournalStorage = self._db.storage  # type: ignore[assignment]
                self._open(lock)
        except BaseException:
            lock.release(None)
            raise
        self._lock: DataDirLock | None = lock

    def _open(self, lock: DataDirLock) -> None:
        loaded = self._storage.load(lock.previous)
        lock.claim()
        self._values = loaded.values
        self._snapshot_records = loaded.snapshot_records
        self._seq = loaded.journal_records
        if loaded.damage or loaded.legacy:
            self._rewrite(loaded)
        elif loaded.interrupted_write is not None:
            self._storage.cut_journal(loaded.interrupted_write)
        if loaded.interrupted_write is not None:
            interrupted = "dropped the last batch, a write a crash interrupted before it was acknowledged"
            self.notices.append(("info", f"{self._storage.journal_path}: {interrupted}"))
        for path in (self._storage.path, self._storage.journal_path):  # an earlier version's files may be 0644
            if path.exists():
                os.chmod(path, FILE_MODE)
        self._snapshot_bytes = self._storage.path.stat().st_size if self._storage.path.exists() else 0

    def _rewrite(self, loaded: Loaded) -> None:
        """The loaded values as the new snapshot: damaged files kept as `.damaged-<UTC time>` and named in a
        warning, files in the format before checksums kept as `.pre-checksum` and their migration said."""
        labels = {path: LEGACY_LABEL for path in loaded.legacy} | {
            damage.path: damaged_label() for damage in loaded.damage if damage.present
        }
        kept = self._storage.write(as_tinydb(self._values), labels)
        self.notices += [("warning", damage.line(kept.get(damage.path))) for damage in loaded.damage]
        if loaded.legacy:
            records = f"{len(self._values)} record{'s' * (len(self._values) != 1)}"
            names = ", ".join(kept[path].name for path in loaded.legacy)
            migrated = f"migrated from the format before checksums, {records} rewritten with checksums"
            self.notices.append(("info", f"{self._storage.path.parent}: {migrated}; the old files are kept as {names}"))
        self._snapshot_records, self._seq = len(self._values), 0

    def load(self) -> dict[str, Any]:
        return dict(self._values)

    def put(self, entries: Iterable[tuple[str, Any]]) -> None:
        """Durable when it returns. StoreUnusable when the disk refuses: the batch is not stored if its append
        failed, and kept if only the compaction after it failed."""
        batch = list(entries)
        if not batch:
            return
        if self._lock is None:
            raise StoreUnusable(f"{self._storage.path.parent}: the store was closed (the station has stopped)")
        with refusing(self._storage.journal_path):
            journal_bytes = self._storage.append(self._seq + 1, batch)
        self._seq += 1
        for key, value in batch:
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        if journal_bytes > max(MIN_JOURNAL_BYTES, 2 * self._snapshot_bytes):
            with refusing(self._storage.path):
                self._compact()

    def _compact(self) -> None:
        self._storage.write(as_tinydb(self._values))
        self._snapshot_records, self._seq = len(self._values), 0
        self._snapshot_bytes = self._storage.path.stat().st_size

    def close(self) -> None:
        """Record a clean close and release the data dir; closing twice is harmless."""
        if self._lock is None:
            return
        self._db.close()
        self._lock.release(CleanClose(self._snapshot_records, self._seq))
        self._lock = None
