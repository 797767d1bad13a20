"""The data dir and its files: where a station keeps them, the one-process lock, and writes that are durable
(fsynced, mode 0600: the store holds BasicAuthPassword and the other WriteOnly values in clear) or refuse the
start with a one-line `StoreUnusable` (rule 5 of journal_storage.py)."""

from __future__ import annotations

import fcntl
import io
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from chargecore.shell.store_records import decode_record, encode_record

SNAPSHOT = "station.json"
JOURNAL = "station.journal"
LOCK = "station.lock"
FILE_MODE = 0o600


class StoreUnusable(Exception):
    """The data dir cannot be used safely, so the station must not start (or go on); the message is one line."""


def station_data_dir(root: Path, station_id: str) -> Path:
    """One station's data dir under `root`: its id percent-encoded, so that any id is one harmless file name."""
    name = quote(station_id, safe="")
    return root / ("%2E" + name[1:] if name.startswith(".") else name)


def adopt_shared_files(root: Path, data_dir: Path) -> list[str]:
    """The release before per-station data dirs kept its files directly in `root` (the default `./data`): move
    each into this station's data dir, one rename each (a crash between two is finished at the next start),
    unless the station has its own already. Returns the lines that say what was moved or left."""
    said = []
    for name in (SNAPSHOT, JOURNAL):
        source, target = root / name, data_dir / name
        if not source.is_file():
            continue
        if target.exists():
            said.append(f"{source} of an earlier release stays where it is: {data_dir} has its own {name}")
            continue
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.rename(source, target)
        fsync_directory(data_dir)
        fsync_directory(root)
        said.append(f"moved {source} of an earlier release, which kept it there, to {target}")
    return said


@contextmanager
def refusing(path: Path) -> Iterator[None]:
    """An OSError becomes a one-line StoreUnusable naming the file."""
    try:
        yield
    except OSError as error:
        raise StoreUnusable(f"cannot use {error.filename or path}: {error.strerror or error}") from None


def read_bytes(path: Path) -> bytes | None:
    """The file's bytes; None when it does not exist. Something else in its place refuses the start."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise StoreUnusable(f"{path} is {kind}, where the station keeps a file: move it away")
    with open(os.open(path, os.O_RDONLY), "rb") as handle:
        return handle.read()


def write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]


def write_file(path: Path, data: bytes) -> None:
    """Write and fsync a new file; one that fails (a full disk) is removed rather than left taking space."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(handle, FILE_MODE)
        write_all(handle, data)
        os.fsync(handle)
    except OSError:
        with suppress(OSError):
            os.unlink(path)
        raise
    finally:
        os.close(handle)


def fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def keep_copy(path: Path, label: str) -> Path:
    """Copy a file to `<name>.<label>` (a free name), so that nothing is deleted and a fresh file can take its
    place; the original stays until the new snapshot is in place. The copy is written and fsynced under a
    temporary name first, so that a copy under the label is always whole."""
    aside = path.with_name(f"{path.name}.{label}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.{label}-{number}")
    temporary = aside.with_name(aside.name + ".tmp")
    write_file(temporary, path.read_bytes())
    os.rename(temporary, aside)
    return aside


def owned(handle: int) -> io.FileIO:
    """The open file as an object that closes it when it is garbage: a store that is dropped without `close`
    (a station whose start failed later) releases the lock and the journal as a crash would."""
    return io.FileIO(handle, "r+")  # the mode is only a label here: the store works on its fileno()


@dataclass(frozen=True)
class CleanClose:
    """What the lock file says after a clean close: how many records the snapshot and the journal held."""

    snapshot_records: int
    journal_records: int


class DataDirLock:
    """One station process per data dir: an flock on `station.lock`, which the kernel releases when the process
    ends however it ends. Its content: the holder's pid while it runs, a `CleanClose` after a clean close."""

    def __init__(self, path: Path) -> None:
        self._file = owned(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
        self._handle = self._file.fileno()
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._content().get("pid", "unknown")
            self._file.close()
            raise StoreUnusable(
                f"{path.parent} is in use by another station process (pid {holder}); give each station its own data dir"
            ) from None
        except OSError:
            self._file.close()
            raise
        os.fchmod(self._handle, FILE_MODE)
        content = self._content()
        self.previous: CleanClose | None = (
            CleanClose(content["snapshot_records"], content["journal_records"])
            if isinstance(content.get("snapshot_records"), int) and isinstance(content.get("journal_records"), int)
            else None
        )

    def claim(self) -> None:
        """Replace the clean-close record by this process's pid, before anything in the data dir changes."""
        self._record({"pid": os.getpid()})

    def release(self, clean: CleanClose | None) -> None:
        """Record a clean close (None: leave the pid, as a crash would) and let the next process in."""
        try:
            if clean is not None:
                with suppress(OSError):  # without the record the next start assumes a crash: still safe
                    self._record({"snapshot_records": clean.snapshot_records, "journal_records": clean.journal_records})
        finally:
            self._file.close()

    def _content(self) -> dict[str, Any]:
        record = decode_record(os.pread(self._handle, 4096, 0).split(b"\n")[0])
        return record[1] if record is not None and isinstance(record[1], dict) else {}

    def _record(self, content: dict[str, Any]) -> None:
        record = encode_record(0, content)
        os.lseek(self._handle, 0, os.SEEK_SET)
        write_all(self._handle, record)  # a write that fails halfway leaves a damaged record: read as a crash
        os.ftruncate(self._handle, len(record))
        os.fsync(self._handle)
