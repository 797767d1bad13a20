"""The store's files as a tinydb Storage, and how they are read back: never a record lost without a line that
says so.

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
   `scan_legacy_snapshot` and `scan_legacy_journal`) is read with that format's rules, 1-4 applied by line or
   document, and migrated: its records are rewritten as a new snapshot, the old file kept as
   `<name>.pre-checksum`, and one info line says how many records were migrated.

A file set aside is copied and fsynced first, then the new snapshot replaces the old in one rename, and only
then is the journal emptied: a crash at any step leaves the old files in place (read again at the next start,
perhaps with one copy too many) or the new snapshot complete.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tinydb.storages import Storage

from chargecore.shell.store_damage import Damage, describe_loss, describe_problem
from chargecore.shell.store_files import (
    FILE_MODE,
    JOURNAL,
    CleanClose,
    fsync_directory,
    keep_copy,
    owned,
    read_bytes,
    write_all,
    write_file,
)
from chargecore.shell.store_legacy import LEGACY_FORMAT, scan_legacy_journal, scan_legacy_snapshot
from chargecore.shell.store_records import (
    RECORD_BYTES,
    TABLE,
    encode_record,
    is_journal_record,
    is_snapshot_record,
    scan_records,
)


def as_tinydb(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {TABLE: {str(doc_id): {"key": key, "value": value} for doc_id, (key, value) in enumerate(values.items(), 1)}}


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
        return as_tinydb(loaded.values) if loaded.values or self.path.exists() else None

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
        write_file(temporary, b"".join(lines))
        kept = {path: keep_copy(path, label) for path, label in set_aside.items()}
        if kept:
            fsync_directory(self.path.parent)
        os.replace(temporary, self.path)
        fsync_directory(self.path.parent)
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
            write_all(journal, line)
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
        raw = read_bytes(self.journal_path)
        if raw is None:
            expected = clean.journal_records if clean else 0
            if expected:
                damage.append(Damage(self.journal_path, "missing", describe_loss(expected, expected), 0, present=False))
            return Loaded(values, snapshot_records, 0, damage, None, legacy)
        scan = scan_records(raw, is_journal_record)
        old = None if scan.records else scan_legacy_journal(raw)
        if old is not None:
            scan = old
            legacy.append(self.journal_path)
        interrupted = clean is None and not scan.damaged_lines and not scan.tail.translate(None, RECORD_BYTES)
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
            problem = (
                describe_problem(raw, scan)
                if scan.damaged_lines or scan.tail
                else "shorter than at the last clean stop"
            )
            problem = f"{LEGACY_FORMAT}, {problem}" if old is not None else problem
            damage.append(
                Damage(self.journal_path, problem, describe_loss(lost, total if known else None), len(seqs), True)
            )
            interrupted = False
        cut = len(raw) - len(scan.tail) if interrupted and scan.tail else None
        return Loaded(values, snapshot_records, max(seqs, default=0), damage, cut, legacy)

    def _load_snapshot(self, expected: int | None) -> tuple[dict[str, Any], int, list[Damage], list[Path]]:
        """The snapshot's values and records, its damage, and [its path] if it is in the format before checksums."""
        raw = read_bytes(self.path)
        if raw is None:
            missing = (
                [Damage(self.path, "missing", describe_loss(expected, expected), 0, present=False)] if expected else []
            )
            return {}, 0, missing, []
        scan = scan_records(raw, is_snapshot_record)
        old = None if scan.records else scan_legacy_snapshot(raw)
        if old is not None:
            documents, lost, total = old
            values = {document["key"]: document["value"] for document in documents}
            problem = "not whole JSON" if total is None else f"{lost} damaged document{'s' * (lost != 1)}"
            loss = Damage(
                self.path, f"{LEGACY_FORMAT}, {problem}", describe_loss(lost, total), len(values), present=True
            )
            return values, len(values), [loss] if lost or total is None else [], [self.path]
        header = next((payload["records"] for seq, payload in scan.records if seq == 0), None)
        total = header if header is not None else expected
        entries = {seq: payload for seq, payload in scan.records if seq > 0}
        values = {key: value for key, value in entries.values()}
        lost = (total - len(entries.keys() & range(1, total + 1))) if total is not None else 0
        whole = header is not None and len(entries) == header == len(values)
        if whole and not (scan.damaged_lines or scan.tail or lost):
            return values, header or 0, [], []
        damage = Damage(self.path, describe_problem(raw, scan), describe_loss(lost, total), len(values), True)
        return values, len(values), [damage], []

    def _open_journal(self) -> int:
        if self._journal is None:
            self._journal = owned(os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE))
            os.fchmod(self._journal.fileno(), FILE_MODE)
            self._journal_bytes = os.fstat(self._journal.fileno()).st_size
        return self._journal.fileno()
