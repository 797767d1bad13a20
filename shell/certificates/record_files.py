"""One certificate or key per file, with a checksum, so that damage is detected like the rest of the storage
(docs/storage.md) while the file stays plain PEM that OpenSSL loads as it is (OpenSSL skips text before
`-----BEGIN`):

    chargecore-record <CRC-32 of the rest of the file, 8 hex digits> <label>
    -----BEGIN CERTIFICATE-----
    ...

Writes are atomic: a temporary file is written and fsynced (mode 0600), renamed over the old one, and the
folder fsynced. A file whose checksum fails is `Damaged`; the store moves it aside and says so in one line.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

from chargecore.shell.store_files import fsync_directory, read_bytes, write_file

MAGIC = "chargecore-record"


class Damaged(Exception):
    """The file's checksum or header does not hold; the message names the file, never its content."""


def encode(label: str, text: str) -> bytes:
    body = text.encode("ascii")
    return f"{MAGIC} {zlib.crc32(body):08x} {label}\n".encode("ascii") + body


def read_record_file(path: Path, label: str) -> str | None:
    """The text of the record file (without the header), None when there is none; raises Damaged."""
    data = read_bytes(path)
    if data is None:
        return None
    header, _, body = data.partition(b"\n")
    parts = header.split(b" ", 2)
    try:
        intact = len(parts) == 3 and parts[0] == MAGIC.encode() and int(parts[1], 16) == zlib.crc32(body)
    except ValueError:
        intact = False
    if not intact or parts[2] != label.encode("ascii"):
        raise Damaged(f"{path}: checksum or header does not hold")
    return body.decode("ascii")


def write_record_file(path: Path, label: str, text: str) -> None:
    """Write atomically (temporary file, fsync, rename, fsync of the folder)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    write_file(temporary, encode(label, text))
    os.replace(temporary, path)
    fsync_directory(path.parent)


def remove_record_file(path: Path) -> None:
    path.unlink(missing_ok=True)
    fsync_directory(path.parent)
