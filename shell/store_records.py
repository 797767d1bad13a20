"""The checksummed record, the one line format of the snapshot, the journal and the lock file:
`<CRC-32 of the rest, 8 hex digits> <seq> <JSON>\\n`, the JSON ASCII only, so that a damaged line is told from
an intact one and every intact record around it is kept (journal_storage.py says how files of them are read)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chargecore.pure.ocppj.frames import compact_json  # ASCII only: a lone surrogate the core hands over can be written

TABLE = "values"
"""The tinydb table that holds the store's documents `{"key": k, "value": v}`."""
RECORD_BYTES = bytes(range(0x20, 0x7F))
"""What a record line is made of (printable ASCII): a partial last line of other bytes is damage, not a crash."""


def encode_record(seq: int, payload: Any) -> bytes:
    body = b"%d %s" % (seq, compact_json(payload).encode("ascii"))
    return b"%08x %s\n" % (zlib.crc32(body), body)


def decode_record(line: bytes) -> tuple[int, Any] | None:
    """(seq, payload) of an intact record line (without its newline); None when it is damaged."""
    checked = _checked(line)
    payload = _NOT_JSON if checked is None else loads(checked[1])
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


def loads(text: bytes) -> Any:
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
    return values if isinstance(values, list) and len(values) == len(texts) else [loads(text) for text in texts]


def is_entry(item: Any) -> bool:
    return isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)


def is_snapshot_record(record: tuple[int, Any]) -> bool:
    seq, payload = record
    if seq == 0:
        return isinstance(payload, dict) and isinstance(payload.get("records"), int)
    return seq > 0 and is_entry(payload) and payload[1] is not None


def is_journal_record(record: tuple[int, Any]) -> bool:
    seq, payload = record
    return seq > 0 and isinstance(payload, list) and bool(payload) and all(is_entry(item) for item in payload)


def printable(data: bytes) -> bool:
    return not data.translate(None, RECORD_BYTES)


@dataclass(frozen=True)
class Scan:
    records: list[tuple[int, Any]]
    """The intact records, in file order."""
    damaged_lines: int
    damage_at_end: bool
    """A damaged line (or a partial last line) comes after the last intact record."""
    tail: bytes
    """What follows the last newline (a partial line; empty when the file ends with a newline)."""


def scan_records(raw: bytes, valid: Callable[[tuple[int, Any]], bool]) -> Scan:
    lines = raw.split(b"\n")
    tail = lines.pop()
    checked = [_checked(line) for line in lines]
    parsed = iter(_parse_all([text for _, text in filter(None, checked)]))
    return collect_records([None if line is None else (line[0], next(parsed)) for line in checked], valid, tail)


def collect_records(lines: list[tuple[int, Any] | None], valid: Callable[[tuple[int, Any]], bool], tail: bytes) -> Scan:
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
    return Scan(records, damaged, damage_at_end or bool(tail), tail)
