"""The bounds and settings of one transfer, so that a hostile or broken server cannot hold the station: a size
limit, a total time limit, socket timeouts, and how many times a dropped connection is resumed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


def open_part(path: Path) -> BinaryIO:
    """How a download's temporary file is opened for appending; `TransferOptions.open_file` replaces it in
    tests to inject ENOSPC or EACCES."""
    return path.open("r+b")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 256 * 1024 * 1024  # a firmware image or a log bundle; more is refused as TOO_LARGE
    total_seconds: float = 600.0  # the whole transfer, resumes included
    socket_seconds: float = 30.0  # connect, and each read or write without progress
    resumes: int = 3  # dropped connections resumed (HTTP Range, FTP REST) before the transfer fails as DROPPED
    chunk_bytes: int = 64 * 1024


@dataclass(frozen=True)
class TransferOptions:
    """`ca_file`: the CAs https:// and ftps:// servers are verified against (None: the system's store).
    `cancel`: set it from any thread to stop the transfer (ends CANCELLED). `progress(bytes_so_far, total)`:
    called from the worker thread after each chunk, downloads and uploads; `total` is None when a server does
    not say the size of a download."""

    limits: Limits = Limits()
    ca_file: Path | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: Callable[[int, int | None], None] | None = None
    open_file: Callable[[Path], BinaryIO] = open_part
