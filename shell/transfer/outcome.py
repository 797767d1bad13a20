"""What a transfer ends as: a plain value the runtime turns into an input for the core.

A transfer never raises to its caller: it ends `Done` or `Failed`, and `Failed.reason` is one of the `Failure`
names below, so a block maps reasons to OCPP statuses (DownloadFailed, UploadFailure, PermissionDenied, ...)
without reading text. `Failed.detail` is for people and logs; it never holds a password (see `locations.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Failure(StrEnum):
    """Why a transfer failed; the values are the words docs/transfer.md and the logs use."""

    UNSUPPORTED_SCHEME = "unsupported scheme"  # not http, https, ftp or ftps
    BAD_URL = "bad url"  # no host, a port that is no number, ...
    UNREACHABLE = "unreachable"  # name not resolved, connection refused, no answer to the connect
    TLS_FAILED = "tls failed"  # the server's certificate did not verify, or the handshake failed
    NOT_FOUND = "not found"  # HTTP 404/410, FTP 550 on a download
    ACCESS_DENIED = "access denied"  # the server refused us: HTTP 401/403, FTP 530, FTP 550/553 on an upload
    SERVER_ERROR = "server error"  # any other error answer of the server (`Failed.status` has its code)
    DROPPED = "dropped"  # the connection broke mid-transfer and resuming did not save it
    TOO_LARGE = "too large"  # more bytes than `Limits.max_bytes`
    TIMED_OUT = "timed out"  # the whole transfer took longer than `Limits.total_seconds`
    DISK_FULL = "disk full"  # ENOSPC or EDQUOT while writing the download
    PERMISSION_DENIED = "permission denied"  # our own file system refused: the directory or the file to upload
    LOCAL_IO = "local i/o error"  # any other OSError on our side (the file to upload is missing, ...)
    CANCELLED = "cancelled"  # the caller's cancel event was set
    INTERNAL = "internal error"  # a bug in the transfer code: the worker caught it rather than die silently


@dataclass(frozen=True)
class Done:
    """The transfer completed: `path` is the downloaded file in its final place (the uploaded file for an
    upload), `size` the number of bytes transferred in total, `resumed` how many times a dropped connection was
    resumed on the way."""

    path: Path
    size: int
    resumed: int = 0


@dataclass(frozen=True)
class Failed:
    """The transfer failed and left nothing behind; `status` is the server's answer code when there was one."""

    reason: Failure
    detail: str
    status: int | None = None


Outcome = Done | Failed


class TransferError(Exception):
    """Internal to the package: how the protocol modules stop a transfer; `download`/`upload` turn it into
    `Failed` and never let it reach the caller."""

    def __init__(self, reason: Failure, detail: str, status: int | None = None) -> None:
        super().__init__(detail)
        self.failed = Failed(reason, detail, status)
