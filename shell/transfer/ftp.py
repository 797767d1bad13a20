"""ftp:// and ftps:// with the standard library's ftplib: passive mode, binary type, `user:password@` from the
URL (anonymous without), RETR resumed with REST, STOR for uploads.

ftps:// is explicit FTPS (AUTH TLS on the control connection, then PROT P so the data is encrypted too),
verified against `TransferOptions.ca_file` (the system's store when None); implicit FTPS (port 990) is not
supported by ftplib and not offered. A server that refuses REST makes the resume start over from byte 0.
"""

from __future__ import annotations

import ftplib
import os
import socket
import ssl
from pathlib import Path
from typing import BinaryIO

from chargecore.shell.transfer.files import Budget, PartFile, local_failure
from chargecore.shell.transfer.locations import Location
from chargecore.shell.transfer.outcome import Failure, TransferError

_FTP_ERRORS = (ftplib.Error, OSError, EOFError)


def download(location: Location, part: PartFile, budget: Budget) -> None:
    """One attempt: from `part.size` on (REST) or from the start. DROPPED when the data connection breaks off."""
    ftp = _connect(location, budget)
    try:
        size = _size(ftp, location.path)
        budget.allow(size)
        part.total = size
        _retrieve(ftp, location, part, budget)
        if size is not None and part.size < size:
            raise TransferError(Failure.DROPPED, f"dropped at byte {part.size} of {size}: {location.shown}")
    except TransferError:
        raise
    except _FTP_ERRORS as error:
        raise _failure(error, location, Failure.NOT_FOUND, mid_transfer=True) from None
    finally:
        ftp.close()


def upload(location: Location, path: Path, remote_name: str, budget: Budget) -> int:
    """STOR to the URL's path, plus `remote_name` when the path ends with "/". Returns the bytes sent."""
    target = location.path + remote_name if location.path.endswith("/") else location.path
    try:
        file = path.open("rb")
    except OSError as error:
        raise local_failure(error, f"reading {path.name}") from None
    with file:
        size = _local_size(file)
        budget.allow(size)
        ftp = _connect(location, budget)
        try:
            ftp.storbinary(f"STOR {target}", _Reader(file, budget, size), budget.options.limits.chunk_bytes)
            return file.tell()
        except TransferError:
            raise
        except _FTP_ERRORS as error:
            raise _failure(error, location, Failure.ACCESS_DENIED, mid_transfer=True) from None
        finally:
            ftp.close()


def _connect(location: Location, budget: Budget) -> ftplib.FTP:
    budget.check()
    timeout = budget.socket_timeout()
    if location.scheme == "ftps":
        ca = budget.options.ca_file
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        ftp: ftplib.FTP = ftplib.FTP_TLS(context=context, timeout=timeout)
    else:
        ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(location.host, location.port or 21)
        if isinstance(ftp, ftplib.FTP_TLS):
            _secure(ftp, location)  # before USER/PASS: the password never travels in clear
        ftp.login(location.user or "anonymous", location.password or "anonymous@")
        if isinstance(ftp, ftplib.FTP_TLS):
            ftp.prot_p()
        ftp.set_pasv(True)
        ftp.voidcmd("TYPE I")
    except TransferError:
        ftp.close()
        raise
    except _FTP_ERRORS as error:
        ftp.close()
        raise _failure(error, location, Failure.NOT_FOUND, mid_transfer=False) from None
    return ftp


def _secure(ftp: ftplib.FTP_TLS, location: Location) -> None:
    """AUTH TLS; a server that refuses it fails TLS_FAILED (an ftps:// URL promises encryption)."""
    try:
        ftp.auth()
    except ftplib.Error as error:
        why = location.scrub(str(error))
        raise TransferError(Failure.TLS_FAILED, f"tls failed: {location.shown} refused AUTH TLS: {why}") from None


def _size(ftp: ftplib.FTP, path: str) -> int | None:
    """The file's size by SIZE, None when the server does not implement it (5xx other than 550)."""
    try:
        return ftp.size(path)
    except ftplib.error_perm as error:
        if _code(error) == 550:
            raise
        return None


def _retrieve(ftp: ftplib.FTP, location: Location, part: PartFile, budget: Budget) -> None:
    command, blocksize = f"RETR {location.path}", budget.options.limits.chunk_bytes
    if part.size:
        try:
            ftp.retrbinary(command, part.write, blocksize, rest=part.size)
            return
        except ftplib.error_perm as error:
            if _code(error) not in (500, 501, 502, 504):  # REST refused: start over below
                raise
            part.restart()
    ftp.retrbinary(command, part.write, blocksize)


def _failure(error: BaseException, location: Location, missing: Failure, *, mid_transfer: bool) -> TransferError:
    """`missing`: what 550 means here (NOT_FOUND for a download, ACCESS_DENIED for an upload)."""
    why = location.scrub(f"{type(error).__name__}: {error}")
    code = _code(error)
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return TransferError(Failure.TLS_FAILED, f"tls failed with {location.shown}: {why}")
    if code in (530, 553) or (code == 550 and missing is Failure.ACCESS_DENIED):
        return TransferError(Failure.ACCESS_DENIED, f"ftp {code}: {location.shown}", code)
    if code == 550:
        return TransferError(Failure.NOT_FOUND, f"ftp {code}: {location.shown}", code)
    if code == 421 or (not mid_transfer and isinstance(error, OSError | EOFError)):
        return TransferError(Failure.UNREACHABLE, f"unreachable: {location.shown}: {why}", code)
    if code in (425, 426) or isinstance(error, OSError | EOFError | socket.timeout):
        return TransferError(Failure.DROPPED, f"dropped by {location.shown}: {why}", code)
    return TransferError(Failure.SERVER_ERROR, f"ftp error from {location.shown}: {why}", code)


def _code(error: BaseException) -> int | None:
    text = str(error)
    return int(text[:3]) if isinstance(error, ftplib.Error) and text[:3].isdigit() else None


def _local_size(file: BinaryIO) -> int:
    try:
        return os.fstat(file.fileno()).st_size
    except OSError as error:
        raise local_failure(error, "reading the file to upload") from None


class _Reader:
    """The file STOR reads from, advancing the budget per block; a local read error is a TransferError."""

    def __init__(self, file: BinaryIO, budget: Budget, total: int) -> None:
        self._file, self._budget, self._total = file, budget, total

    def read(self, size: int = -1, /) -> bytes:
        self._budget.advance(self._file.tell(), self._total)
        try:
            return self._file.read(size)
        except OSError as error:
            raise local_failure(error, "reading the file to upload") from None
