"""The local side of a transfer: the temporary file a download grows in, the budget of time, size and
cancellation every chunk is checked against, and what an OSError of our own file system is called.

A download is written to `.<name>.<random>.part` beside its final name and renamed into place (after fsync)
only when complete; on any failure the part file is removed, so no partial file is ever left behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from chargecore.shell.transfer.limits import TransferOptions
from chargecore.shell.transfer.outcome import Failure, TransferError

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}


def local_failure(error: OSError, what: str) -> TransferError:
    """`what` says which local thing failed (e.g. "writing the download"); the text names no URL."""
    if error.errno in _DISK_FULL:
        return TransferError(Failure.DISK_FULL, f"disk full while {what}")
    reason = Failure.PERMISSION_DENIED if error.errno in _DENIED else Failure.LOCAL_IO
    return TransferError(reason, f"{reason} while {what}: {error.strerror or error}")


class Budget:
    """The limits of one transfer as it runs: time left, bytes allowed, the cancel event."""

    def __init__(self, options: TransferOptions) -> None:
        self.options = options
        self._ends = time.monotonic() + options.limits.total_seconds

    def check(self) -> None:
        """Raise CANCELLED or TIMED_OUT; called before every network operation and after every chunk."""
        if self.options.cancel.is_set():
            raise TransferError(Failure.CANCELLED, "cancelled")
        if time.monotonic() >= self._ends:
            raise TransferError(Failure.TIMED_OUT, f"timed out after {self.options.limits.total_seconds:g} s")

    def socket_timeout(self) -> float:
        """The socket timeout for the next operation: never longer than the time left (at least 10 ms)."""
        return max(0.01, min(self.options.limits.socket_seconds, self._ends - time.monotonic()))

    def advance(self, done: int, total: int | None) -> None:
        """After each chunk, either way: tell `TransferOptions.progress`, then check time and cancellation."""
        if self.options.progress is not None:
            self.options.progress(done, total)
        self.check()

    def allow(self, size: int | None) -> None:
        """Raise TOO_LARGE when a size the server announced or we reached is over the limit."""
        limit = self.options.limits.max_bytes
        if size is not None and size > limit:
            raise TransferError(Failure.TOO_LARGE, f"too large: {size} bytes, the limit is {limit}")


class PartFile:
    """The file a download grows in; `commit` renames it to its final name, `discard` removes it."""

    def __init__(self, directory: Path, name: str, budget: Budget) -> None:
        if not name or Path(name).name != name or name in {".", ".."}:
            raise TransferError(Failure.LOCAL_IO, f"not a plain file name: {name!r}")
        self.final = directory / name
        self._budget = budget
        self.total: int | None = None  # the full size, once a server said it
        try:
            handle, raw = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
            os.close(handle)
        except OSError as error:
            raise local_failure(error, f"creating a file in {directory}") from None
        self.path = Path(raw)
        try:
            self._file: BinaryIO = budget.options.open_file(self.path)
        except OSError as error:
            self.path.unlink(missing_ok=True)
            raise local_failure(error, "opening the download file") from None
        self.size = 0

    def restart(self) -> None:
        """The server ignored our resume offset and sends from byte 0: start the file over."""
        self._write(lambda: (self._file.seek(0), self._file.truncate(0)))
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._budget.allow(self.size + len(chunk))
        self._write(lambda: self._file.write(chunk))
        self.size += len(chunk)
        self._budget.advance(self.size, self.total)

    def commit(self) -> Path:
        """fsync, rename into place, fsync the directory: the final name only ever holds a complete file."""
        self._write(self._sync_and_close)
        try:
            os.replace(self.path, self.final)
            directory = os.open(self.final.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as error:
            self.discard()
            raise local_failure(error, f"moving the download to {self.final.name}") from None
        return self.final

    def _sync_and_close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def discard(self) -> None:
        """Close and remove the part file; never raises (it runs on the way out of a failure)."""
        with contextlib.suppress(OSError):
            self._file.close()
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)

    def _write(self, operation: Callable[[], object]) -> None:
        try:
            operation()
        except OSError as error:
            raise local_failure(error, "writing the download") from None
