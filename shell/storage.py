"""What must survive a restart, in tinydb under --data-dir, at a cost per write that does not grow with the data.

tinydb's own JSONStorage rewrites the whole file on every write (and its Table rebuilds the whole table in
memory), so persisting one queued TransactionEvent would cost O(n) and a queue of 10,000 events O(n^2).
`JournalStorage` is a tinydb Storage made of two files:

- `station.json`, a snapshot in tinydb's own format (table "values", one document {"key", "value"} per key),
  replaced only by write-fsync-rename;
- `station.journal`, one JSON line per `Persist` batch (`[[key, value], ...]`, value null deletes), appended
  and fsynced before `put` returns.

`read()` is the snapshot with the journal replayed on top, so `TinyDB(path, storage=JournalStorage)` sees the
current data. A batch is one line: after a crash, a line that was not completely written (no newline, or not
JSON) is the batch that was being written, and it is dropped whole and cut off the file before anything is
appended. When the journal has grown past twice the snapshot, the snapshot is rewritten and the journal
emptied; replaying a journal onto a snapshot that already holds it is harmless (values are absolute), so a
crash between the two steps loses nothing. Each `put` costs one append and one fsync, plus an amortised
share of compaction.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage

from chargecore.pure.frames import compact_json  # ASCII only: a lone surrogate the core hands over can be written

TABLE = "values"
MIN_JOURNAL_BYTES = 256 * 1024
"""The journal is compacted only past this size (and past twice the snapshot), so small stores never churn."""


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _as_tinydb(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {TABLE: {str(doc_id): {"key": key, "value": value} for doc_id, (key, value) in enumerate(values.items(), 1)}}


class JournalStorage(Storage):
    """A tinydb Storage: a snapshot replaced atomically plus an append-only journal of batches."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.journal_path = self.path.with_suffix(".journal")

    def read(self) -> dict[str, dict[str, Any]] | None:
        values = self.load_values()
        return _as_tinydb(values) if values or self.path.exists() else None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        """Replace the snapshot with `data` (tinydb's whole database) and empty the journal."""
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(compact_json(data))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        _fsync_directory(self.path.parent)
        with open(self.journal_path, "w", encoding="utf-8") as journal:
            os.fsync(journal.fileno())

    def close(self) -> None:
        """Nothing stays open between writes."""

    def load_values(self) -> dict[str, Any]:
        """key -> value: the snapshot with every complete journal line applied; a torn last line is cut off."""
        values: dict[str, Any] = {}
        try:
            snapshot = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except FileNotFoundError:
            snapshot = {}
        for document in snapshot.get(TABLE, {}).values():
            values[document["key"]] = document["value"]
        for batch in self._replayable_batches():
            for key, value in batch:
                if value is None:
                    values.pop(key, None)
                else:
                    values[key] = value
        return values

    def append(self, entries: list[tuple[str, Any]]) -> int:
        """Append one batch durably; returns the journal's size afterwards."""
        line = compact_json([[key, value] for key, value in entries]) + "\n"
        with open(self.journal_path, "a", encoding="utf-8") as journal:
            journal.write(line)
            journal.flush()
            os.fsync(journal.fileno())
            return journal.tell()

    def _replayable_batches(self) -> list[list[list[Any]]]:
        try:
            raw = self.journal_path.read_bytes()
        except FileNotFoundError:
            return []
        batches: list[list[list[Any]]] = []
        good = 0
        for line in raw.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                batches.append(json.loads(line))
            except ValueError:
                break
            good += len(line)
        if good < len(raw):  # the batch a crash interrupted: drop it so the next append starts a clean line
            with open(self.journal_path, "r+b") as journal:
                journal.truncate(good)
                os.fsync(journal.fileno())
        return batches


class StationStore:
    """A durable key/value map (keys chosen by the core's `Persist` effects); one batch = one journal line."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = TinyDB(str(data_dir / "station.json"), storage=JournalStorage)
        self._storage: JournalStorage = self._db.storage  # type: ignore[assignment]
        self._values = self._storage.load_values()
        self._snapshot_bytes = self._storage.path.stat().st_size if self._storage.path.exists() else 0

    def load(self) -> dict[str, Any]:
        return dict(self._values)

    def put(self, entries: Iterable[tuple[str, Any]]) -> None:
        batch = list(entries)
        if not batch:
            return
        journal_bytes = self._storage.append(batch)
        for key, value in batch:
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        if journal_bytes > max(MIN_JOURNAL_BYTES, 2 * self._snapshot_bytes):
            self._compact()

    def _compact(self) -> None:
        self._storage.write(_as_tinydb(self._values))
        self._snapshot_bytes = self._storage.path.stat().st_size

    def close(self) -> None:
        self._db.close()
