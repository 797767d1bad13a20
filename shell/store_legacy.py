"""Reading the files of the release before checksums (rule 6 of journal_storage.py), so that an upgrade
migrates them instead of taking them for damage."""

from __future__ import annotations

import json
import re
from typing import Any

from chargecore.shell.store_records import (
    TABLE,
    Scan,
    collect_records,
    is_journal_record,
    is_snapshot_record,
    loads,
    printable,
)

LEGACY_FORMAT = "in the format before checksums"
LEGACY_LABEL = "pre-checksum"
"""The suffix under which the files of the format before checksums are kept after their migration."""


def is_legacy_document(document: Any) -> bool:
    """A document of the snapshot before checksums: `{"key": k, "value": v}`, v never null."""
    return (
        isinstance(document, dict)
        and document.keys() == {"key", "value"}
        and is_snapshot_record((1, [document["key"], document["value"]]))
    )


def scan_legacy_journal(raw: bytes) -> Scan | None:
    """The journal before checksums: one compact JSON line per batch, `[[key, value], ...]`, each numbered here by
    its place as if it were its seq. None when no line has that shape and the file does not begin like one."""
    lines = raw.split(b"\n")
    tail = lines.pop()
    numbered = [(number, loads(line)) if printable(line) else None for number, line in enumerate(lines, 1)]
    scan = collect_records(numbered, is_journal_record, tail)
    return scan if scan.records or raw.startswith(b"[") else None


_LEGACY_DOCUMENT = re.compile(rb'"([0-9]+)":(?=\{"key":)')
"""Where a document begins in the snapshot before checksums: `"<doc id>":{"key":...`."""


def scan_legacy_snapshot(raw: bytes) -> tuple[list[dict[str, Any]], int, int | None] | None:
    """The snapshot before checksums: tinydb's JSON, `{"values": {"1": {"key": k, "value": v}, ...}}` (doc ids 1..N),
    on one line without a newline. Its readable documents, how many were lost and how many it held (None when
    unknown); None when the file is not in that shape. A file that is not whole JSON is searched for every whole
    document of printable ASCII (what the old release wrote); the doc ids missing below the last one are lost."""
    whole = loads(raw) if printable(raw) else None
    if isinstance(whole, dict):
        table = whole.get(TABLE, {})
        documents = list(table.values()) if isinstance(table, dict) else [table]
        readable = [document for document in documents if is_legacy_document(document)]
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
        if is_legacy_document(document) and printable(raw[position:end]):
            found[int(match[1])] = document
            position = end
    if not found and not raw.startswith(b"{"):
        return None
    return list(found.values()), max(found, default=0) - len(found), None
