"""What must survive a restart, in tinydb under --data-dir.

tinydb's JSONStorage overwrites its file in place, so a crash in the middle of a write loses everything.
`AtomicJSONStorage` writes a new file, fsyncs it and renames it over the old one, and a `Persist` batch is
flushed as one such write: after a crash the file holds either the whole batch or none of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.middlewares import CachingMiddleware
from tinydb.storages import Storage


class AtomicJSONStorage(Storage):
    def __init__(self, path: str) -> None:
        self._path = Path(path)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        return json.loads(text) if text else None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        temporary = self._path.with_suffix(self._path.suffix + ".tmp")
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(data, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._path)
        directory = os.open(self._path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def close(self) -> None:
        """Nothing stays open between writes."""


class StationStore:
    """A durable key/value map (keys chosen by the core's `Persist` effects)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._db = TinyDB(str(data_dir / "station.json"), storage=CachingMiddleware(AtomicJSONStorage))
        self._table = self._db.table("values")

    def load(self) -> dict[str, Any]:
        return {row["key"]: row["value"] for row in self._table.all()}

    def put(self, entries: Iterable[tuple[str, Any]]) -> None:
        row = Query()
        for key, value in entries:
            if value is None:
                self._table.remove(row.key == key)
            else:
                self._table.upsert({"key": key, "value": value}, row.key == key)
        self._db.storage.flush()  # type: ignore[attr-defined]

    def close(self) -> None:
        self._db.close()
