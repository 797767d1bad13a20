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

Every line of the snapshot and the journal is a record, `<CRC-32 of the rest, 8 hex digits> <seq> <JSON>\\n`,
the JSON ASCII only. The snapshot's seq 0 is `{"records": N}`, then seq 1..N are `[key, value]`; the journal's
seq 1, 2, ... (from 1 again after each compaction) are batches `[[key, value], ...]` (value null deletes).
Reading follows these rules:

1. A line whose checksum, seq or shape is wrong is damaged; every intact record around it is kept.
2. A record is lost when its seq is missing: a gap, a snapshot shorter than its header says, a journal
   shorter than the last clean close recorded.
3. The journal's last line without its newline, after a crash (no clean close), made only of what records
   are made of (printable ASCII), is the write the crash interrupted: `put` had not returned, so nothing
   acknowledged is lost. It is cut off and said at info level. After a clean close, or made of other bytes
   (zeros, garbage), it is damage.
4. A damaged file is kept as `<name>.damaged-<UTC time>`, never deleted; the intact records become the new
   snapshot, and one warning line names the file, what was wrong and how many records were lost.
5. What the station cannot repair refuses the start with a one-line `StoreUnusable`: a data dir that cannot
   be created, read or written (a file, read-only, no space), a file that cannot be read (permissions, I/O
   error, a directory in its place), another process holding the lock. Moving aside a file that is merely
   unreadable would start the station without its queued events; the operator fixes the cause instead.
6. A file in which no line is a record but some is in the shape the release before checksums wrote (see
   `_scan_legacy_snapshot` and `_scan_legacy_journal`) is read with that format's rules, 1-4 applied by line or
   document, and migrated: its records are rewritten as a new snapshot, the old file kept as
   `<name>.pre-checksum`, and one info line says how many records were migrated.

A file set aside is copied and fsynced first, then the new snapshot replaces the old in one rename, and only
then is the journal emptied: a crash at any step leaves the old files in place (read again at the next start,
perhaps with one copy too many) or the new snapshot complete.

When the journal has grown past twice the snapshot, the snapshot is rewritten and the journal emptied;
replaying a journal onto a snapshot that already holds it is harmless (values are absolute), so a crash
between the two steps loses nothing. Each `put` costs one append and one fsync, plus an amortised share of
compaction.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from tinydb import TinyDB
from tinydb.storages import Storage

from chargecore.pure.ocppj.frames import compact_json  # ASCII only: a lone surrogate the core hands over can be written

TABLE = "values"
SNAPSHOT = "station.json"
JOURNAL = "station.journal"
LOCK = "station.lock"
LEGACY_FORMAT = "in the format before checksums"
LEGACY_LABEL = "pre-checksum"
"""The suffix under which the files of the format before checksums are kept after their migration."""
FILE_MODE = 0o600
_RECORD_BYTES = bytes(range(0x20, 0x7F))
"""What a record line is made of (printable ASCII): a partial last line of other bytes is damage, not a crash."""
MIN_JOURNAL_BYTES = 256 * 1024
"""The journal is compacted only past this size (and past twice the snapshot), so small stores never churn."""


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
        _fsync_directory(data_dir)
        _fsync_directory(root)
        said.append(f"moved {source} of an earlier release, which kept it there, to {target}")
    return said


# --- records ----------------------------------------------------------------------------------------------


def encode_record(seq: int, payload: Any) -> bytes:
    body = b"%d %s" % (seq, compact_json(payload).encode("ascii"))
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode_record(line: bytes) -> tuple[int, Any] | None:
    """(seq, payload) of an intact record line (without its newline); None when it is damaged."""
    checked = _checked(line)
    payload = _NOT_JSON if checked is None else _loads(checked[1])
    return None if checked is None or payload is _NOT_JSON else (checked[0], payload)


def _checked(line: bytes) -> tuple[int, bytes] | None:
    """(seq, JSON text) of a line whose checksum holds; None when it is damaged."""
    body = line[9:]
    try:
        if line[8:9] != b" " or int(line[:8], 16) != zlib.crc32(body):
            return None
        seq, _, payload = body.partition(b" ")
        return int(seq), payload
    except ValueError:
        return None


_NOT_JSON = object()


def _loads(text: bytes) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _parse_all(texts: list[bytes]) -> list[Any]:
    """The JSON values of lines whose checksums hold, so each is one whole JSON value as written: parsed in one
    go (a fifth faster at restart than one by one), and one by one only if that fails."""
    try:
        values = json.loads((b"[%b]" % b",".join(texts)).decode("ascii"))  # records are ASCII
    except (ValueError, RecursionError):
        values = None
    return values if isinstance(values, list) and len(values) == len(texts) else [_loads(text) for text in texts]


def _is_entry(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)


def _is_snapshot_record(record: tuple[int, Any]) -> bool:
    seq, payload = record
    if seq == 0:
        return isinstance(payload, dict) and isinstance(payload.get("records"), int)
    return seq > 0 and _is_entry(payload) and payload[1] is not None


def _is_journal_record(record: tuple[int, Any]) -> bool:
    seq, payload = record
    return seq > 0 and isinstance(payload, list) and bool(payload) and all(_is_entry(item) for item in payload)


def _is_legacy_document(document: Any) -> bool:
    """A document of the snapshot before checksums: `{"key": k, "value": v}`, v never null."""
    return (
        isinstance(document, dict)
        and document.keys() == {"key", "value"}
        and _is_snapshot_record((1, [document["key"], document["value"]]))
    )


def _printable(data: bytes) -> bool:
    return not data.translate(None, _RECORD_BYTES)


@dataclass(frozen=True)
class _Scan:
    records: list[tuple[int, Any]]
    """The intact records, in file order."""
    damaged_lines: int
    damage_at_end: bool
    """A damaged line (or a partial last line) comes after the last intact record."""
    tail: bytes
    """What follows the last newline (a partial line; empty when the file ends with a newline)."""


def _scan(raw: bytes, valid: Callable[[tuple[int, Any]], bool]) -> _Scan:
    lines = raw.split(b"\n")
    tail = lines.pop()
    checked = [_checked(line) for line in lines]
    parsed = iter(_parse_all([text for _, text in filter(None, checked)]))
    return _collect([None if line is None else (line[0], next(parsed)) for line in checked], valid, tail)


def _collect(lines: list[tuple[int, Any] | None], valid: Callable[[tuple[int, Any]], bool], tail: bytes) -> _Scan:
    """The scan of a file's lines, each (seq, payload) or None when it could not be read."""
    records: list[tuple[int, Any]] = []
    damaged = 0
    damage_at_end = False
    for record in lines:
        if record is not None and valid(record):
            records.append(record)
            damage_at_end = False
        else:
            damaged += 1
            damage_at_end = True
    return _Scan(records, damaged, damage_at_end or bool(tail), tail)


def _scan_legacy_journal(raw: bytes) -> _Scan | None:
    """The journal before checksums: one compact JSON line per batch, `[[key, value], ...]`, each numbered here by
    its place as if it were its seq. None when no line has that shape and the file does not begin like one."""
    lines = raw.split(b"\n")
    tail = lines.pop()
    numbered = [(number, _loads(line)) if _printable(line) else None for number, line in enumerate(lines, 1)]
    scan = _collect(numbered, _is_journal_record, tail)
    return scan if scan.records or raw.startswith(b"[") else None


_LEGACY_DOCUMENT = re.compile(rb'"([0-9]+)":(?=\{"key":)')
"""Where a document begins in the snapshot before checksums: `"<doc id>":{"key":...`."""


def _scan_legacy_snapshot(raw: bytes) -> tuple[list[dict[str, Any]], int, int | None] | None:
    """The snapshot before checksums: tinydb's JSON, `{"values": {"1": {"key": k, "value": v}, ...}}` (doc ids 1..N),
    on one line without a newline. Its readable documents, how many were lost and how many it held (None when
    unknown); None when the file is not in that shape. A file that is not whole JSON is searched for every whole
    document of printable ASCII (what the old release wrote); the doc ids missing below the last one are lost."""
    whole = _loads(raw) if _printable(raw) else None
    if isinstance(whole, dict):
        table = whole.get(TABLE, {})
        documents = list(table.values()) if isinstance(table, dict) else [table]
        readable = [document for document in documents if _is_legacy_document(document)]
        return readable, len(documents) - len(readable), len(documents)
    text = raw.decode("latin-1")  # one character per byte, so that positions in `text` are positions in `raw`
    decoder = json.JSONDecoder()
    found: dict[int, dict[str, Any]] = {}
    position = 0
    while match := _LEGACY_DOCUMENT.search(raw, position):
        position = match.end()
        try:
            document, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            continue
        if _is_legacy_document(document) and _printable(raw[position:end]):
            found[int(match[1])] = document
            position = end
    if not found and not raw.startswith(b"{"):
        return None
    return list(found.values()), max(found, default=0) - len(found), None


def _problem(raw: bytes, scan: _Scan) -> str:
    if not raw:
        return "empty"
    found = [f"{scan.damaged_lines} damaged line{'s' * (scan.damaged_lines != 1)}"] if scan.damaged_lines else []
    found += ["a partial last line"] if scan.tail else []
    return ", ".join(found) or "records missing"


def _loss(lost: int, total: int | None) -> str:
    if total is not None:
        return f"{lost} of {total} records lost"
    return f"at least {lost} records lost" if lost else "an unknown number of records lost"


# --- files --------------------------------------------------------------------------------------------------


@contextmanager
def _refusing(path: Path) -> Iterator[None]:
    """An OSError becomes a one-line StoreUnusable naming the file."""
    try:
        yield
    except OSError as error:
        raise StoreUnusable(f"cannot use {error.filename or path}: {error.strerror or error}") from None


def _read_bytes(path: Path) -> bytes | None:
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


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]


def _write_file(path: Path, data: bytes) -> None:
    """Write and fsync a new file; one that fails (a full disk) is removed rather than left taking space."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(handle, FILE_MODE)
        _write_all(handle, data)
        os.fsync(handle)
    except OSError:
        with suppress(OSError):
            os.unlink(path)
        raise
    finally:
        os.close(handle)


def _fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _damaged_label() -> str:
    """The suffix under which a damaged file is kept: `damaged-<UTC time>`."""
    return "damaged-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _keep_copy(path: Path, label: str) -> Path:
    """Copy a file to `<name>.<label>` (a free name), so that nothing is deleted and a fresh file can take its
    place; the original stays until the new snapshot is in place. The copy is written and fsynced under a
    temporary name first, so that a copy under the label is always whole."""
    aside = path.with_name(f"{path.name}.{label}")
    number = 1
    while aside.exists():
        number += 1
        aside = path.with_name(f"{path.name}.{label}-{number}")
    temporary = aside.with_name(aside.name + ".tmp")
    _write_file(temporary, path.read_bytes())
    os.rename(temporary, aside)
    return aside


def _owned(handle: int) -> io.FileIO:
    """The open file as an object that closes it when it is garbage: a store that is dropped without `close`
    (a station whose start failed later) releases the lock and the journal as a crash would."""
    return io.FileIO(handle, "r+")  # the mode is only a label here: the store works on its fileno()


def _as_tinydb(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {TABLE: {str(doc_id): {"key": key, "value": value} for doc_id, (key, value) in enumerate(values.items(), 1)}}


@dataclass(frozen=True)
class CleanClose:
    """What the lock file says after a clean close: how many records the snapshot and the journal held."""

    snapshot_records: int
    journal_records: int


@dataclass(frozen=True)
class Damage:
    """One damaged or missing file: its warning line reads `<path>: <problem>, <loss>; <what was done>`."""

    path: Path
    problem: str
    loss: str
    kept: int
    present: bool
    """The file exists (and is moved aside); False: it is missing."""

    def line(self, aside: Path | None) -> str:
        done = f"moved aside to {aside.name}, its {self.kept} intact records kept" if aside else "nothing to move"
        return f"{self.path}: {self.problem}, {self.loss}; {done}"


@dataclass(frozen=True)
class Loaded:
    values: dict[str, Any]
    snapshot_records: int
    journal_records: int
    """The journal's last seq (the next append is one more)."""
    damage: list[Damage]
    interrupted_write: int | None
    """Where the write a crash interrupted begins in the journal (rule 3); None if there is none."""
    legacy: list[Path]
    """The files in the format before checksums (rule 6), to migrate."""


class JournalStorage(Storage):
    """A tinydb Storage: a snapshot replaced atomically plus an append-only journal of batches."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.journal_path = self.path.with_name(JOURNAL)
        self._journal: io.FileIO | None = None
        self._journal_bytes = 0

    def read(self) -> dict[str, dict[str, Any]] | None:
        loaded = self.load(None)
        return _as_tinydb(loaded.values) if loaded.values or self.path.exists() else None

    def write(
        self, data: dict[str, dict[str, Any]], set_aside: Mapping[Path, str] = MappingProxyType({})
    ) -> dict[Path, Path]:
        """Replace the snapshot with `data` (tinydb's whole database) and empty the journal, after keeping a copy
        of each file in `set_aside` under `<name>.<label>` (returned: the copies' paths). The new snapshot and the
        copies are durable before the snapshot is replaced; the journal is emptied only after that."""
        entries = [(document["key"], document["value"]) for document in data.get(TABLE, {}).values()]
        lines = [encode_record(0, {"records": len(entries)})]
        lines += [encode_record(seq, [key, value]) for seq, (key, value) in enumerate(entries, 1)]
        temporary = self.path.with_suffix(self.path.suffix + ".tmp")
        _write_file(temporary, b"".join(lines))
        kept = {path: _keep_copy(path, label) for path, label in set_aside.items()}
        if kept:
            _fsync_directory(self.path.parent)
        os.replace(temporary, self.path)
        _fsync_directory(self.path.parent)
        journal = self._open_journal()
        os.ftruncate(journal, 0)
        os.fsync(journal)
        self._journal_bytes = 0
        return kept

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def append(self, seq: int, entries: list[tuple[str, Any]]) -> int:
        """Append one batch durably; returns the journal's size afterwards. A failed append is cut off again,
        so that the next one starts a clean line."""
        journal = self._open_journal()
        line = encode_record(seq, [[key, value] for key, value in entries])
        try:
            _write_all(journal, line)
            os.fsync(journal)
        except OSError:
            with suppress(OSError):
                os.ftruncate(journal, self._journal_bytes)
            raise
        self._journal_bytes += len(line)
        return self._journal_bytes

    def cut_journal(self, size: int) -> None:
        """Drop what follows `size` bytes: the write a crash interrupted (rule 3)."""
        journal = self._open_journal()
        os.ftruncate(journal, size)
        os.fsync(journal)
        self._journal_bytes = size

    def load(self, clean: CleanClose | None) -> Loaded:
        """The snapshot with the journal's intact batches applied, and the damage found. `clean`: what the last
        clean close recorded (None after a crash or on first use)."""
        values, snapshot_records, damage, legacy = self._load_snapshot(clean.snapshot_records if clean else None)
        raw = _read_bytes(self.journal_path)
        if raw is None:
            expected = clean.journal_records if clean else 0
            if expected:
                damage.append(Damage(self.journal_path, "missing", _loss(expected, expected), 0, present=False))
            return Loaded(values, snapshot_records, 0, damage, None, legacy)
        scan = _scan(raw, _is_journal_record)
        old = None if scan.records else _scan_legacy_journal(raw)
        if old is not None:
            scan = old
            legacy.append(self.journal_path)
        interrupted = clean is None and not scan.damaged_lines and not scan.tail.translate(None, _RECORD_BYTES)
        seqs = [seq for seq, _ in scan.records]
        for _, batch in scan.records:
            for key, value in batch:
                if value is None:
                    values.pop(key, None)
                else:
                    values[key] = value
        total = max([*seqs, clean.journal_records if clean else 0])
        lost = total - len(set(seqs))
        if scan.damaged_lines or lost or seqs != sorted(set(seqs)) or (scan.tail and not interrupted):
            known = clean is not None or not scan.damage_at_end
            problem = _problem(raw, scan) if scan.damaged_lines or scan.tail else "shorter than at the last clean stop"
            problem = f"{LEGACY_FORMAT}, {problem}" if old is not None else problem
            damage.append(Damage(self.journal_path, problem, _loss(lost, total if known else None), len(seqs), True))
            interrupted = False
        cut = len(raw) - len(scan.tail) if interrupted and scan.tail else None
        return Loaded(values, snapshot_records, max(seqs, default=0), damage, cut, legacy)

    def _load_snapshot(self, expected: int | None) -> tuple[dict[str, Any], int, list[Damage], list[Path]]:
        """The snapshot's values and records, its damage, and [its path] if it is in the format before checksums."""
        raw = _read_bytes(self.path)
        if raw is None:
            missing = [Damage(self.path, "missing", _loss(expected, expected), 0, present=False)] if expected else []
            return {}, 0, missing, []
        scan = _scan(raw, _is_snapshot_record)
        old = None if scan.records else _scan_legacy_snapshot(raw)
        if old is not None:
            documents, lost, total = old
            values = {document["key"]: document["value"] for document in documents}
            problem = "not whole JSON" if total is None else f"{lost} damaged document{'s' * (lost != 1)}"
            loss = Damage(self.path, f"{LEGACY_FORMAT}, {problem}", _loss(lost, total), len(values), present=True)
            return values, len(values), [loss] if lost or total is None else [], [self.path]
        header = next((payload["records"] for seq, payload in scan.records if seq == 0), None)
        total = header if header is not None else expected
        entries = {seq: payload for seq, payload in scan.records if seq > 0}
        values = {key: value for key, value in entries.values()}
        lost = (total - len(entries.keys() & range(1, total + 1))) if total is not None else 0
        whole = header is not None and len(entries) == header == len(values)
        if whole and not (scan.damaged_lines or scan.tail or lost):
            return values, header or 0, [], []
        damage = Damage(self.path, _problem(raw, scan), _loss(lost, total), len(values), True)
        return values, len(values), [damage], []

    def _open_journal(self) -> int:
        if self._journal is None:
            self._journal = _owned(os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE))
            os.fchmod(self._journal.fileno(), FILE_MODE)
            self._journal_bytes = os.fstat(self._journal.fileno()).st_size
        return self._journal.fileno()


class DataDirLock:
    """One station process per data dir: an flock on `station.lock`, which the kernel releases when the process
    ends however it ends. Its content: the holder's pid while it runs, a `CleanClose` after a clean close."""

    def __init__(self, path: Path) -> None:
        self._file = _owned(os.open(path, os.O_RDWR | os.O_CREAT, FILE_MODE))
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
        _write_all(self._handle, record)  # a write that fails halfway leaves a damaged record: read as a crash
        os.ftruncate(self._handle, len(record))
        os.fsync(self._handle)


class StationStore:
    """A durable key/value map (keys chosen by the core's `Persist` effects); one batch = one journal record.
    Raises StoreUnusable when the data dir cannot be used safely. `notices`: (level, line) pairs for the log
    at start, one per damaged file (and the interrupted write a crash left)."""

    def __init__(self, data_dir: Path) -> None:
        self.notices: list[tuple[str, str]] = []
        with _refusing(data_dir):
            if data_dir.exists() and not data_dir.is_dir():
                raise StoreUnusable(f"data dir {data_dir} is not a directory")
            data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not os.access(data_dir, os.W_OK | os.X_OK):  # else the first compaction would fail, not the start
                raise StoreUnusable(f"data dir {data_dir} is not writable")
            lock = DataDirLock(data_dir / LOCK)
        try:
            with _refusing(data_dir):
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
            damage.path: _damaged_label() for damage in loaded.damage if damage.present
        }
        kept = self._storage.write(_as_tinydb(self._values), labels)
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
        with _refusing(self._storage.journal_path):
            journal_bytes = self._storage.append(self._seq + 1, batch)
        self._seq += 1
        for key, value in batch:
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        if journal_bytes > max(MIN_JOURNAL_BYTES, 2 * self._snapshot_bytes):
            with _refusing(self._storage.path):
                self._compact()

    def _compact(self) -> None:
        self._storage.write(_as_tinydb(self._values))
        self._snapshot_records, self._seq = len(self._values), 0
        self._snapshot_bytes = self._storage.path.stat().st_size

    def close(self) -> None:
        """Record a clean close and release the data dir; closing twice is harmless."""
        if self._lock is None:
            return
        self._db.close()
        self._lock.release(CleanClose(self._snapshot_records, self._seq))
        self._lock = None
