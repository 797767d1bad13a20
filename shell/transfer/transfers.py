"""`download` and `upload`: pick the protocol by the URL's scheme, run it within the limits, resume a dropped
download, and return a `Done` or `Failed` value; nothing raises to the caller and nothing partial stays behind.

Both block on the network: call them from a worker thread (`worker.start`), never from the core thread.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from chargecore.shell.transfer.files import Budget, PartFile
from chargecore.shell.transfer.limits import TransferOptions
from chargecore.shell.transfer.locations import Location, parse
from chargecore.shell.transfer.outcome import Done, Failed, Failure, Outcome, TransferError

_log = logging.getLogger("chargecore.shell.transfer")


def _fetch(location: Location, part: PartFile, budget: Budget) -> None:
    """The protocol's download; its module is imported by the first transfer that needs it, not at start-up
    (urllib3 and ftplib would cost every station's start ~60 ms for a transfer it may never make)."""
    if location.scheme in ("ftp", "ftps"):
        from chargecore.shell.transfer.ftp import download as ftp_download

        ftp_download(location, part, budget)
    else:
        from chargecore.shell.transfer.http import download as http_download

        http_download(location, part, budget)


def download(url: str, directory: Path, name: str, options: TransferOptions | None = None) -> Outcome:
    """Fetch `url` into `directory/name` (replacing a file of that name only once the new one is complete).

    A connection that drops mid-body is resumed from the bytes already written (HTTP Range, FTP REST; from byte
    0 when the server cannot resume) up to `Limits.resumes` times, within `Limits.total_seconds` overall.
    """
    options = options or TransferOptions()
    try:
        location = parse(url)
        budget = Budget(options)
        part = PartFile(directory, name, budget)
    except TransferError as error:
        return _failed(error.failed, "download")
    resumed = 0
    try:
        while True:
            budget.check()
            try:
                _fetch(location, part, budget)
                break
            except TransferError as error:
                if error.failed.reason is not Failure.DROPPED or resumed >= options.limits.resumes:
                    raise
                resumed += 1
                _log.info("%s; resuming (%d of %d)", error.failed.detail, resumed, options.limits.resumes)
        path = part.commit()
    except TransferError as error:
        part.discard()
        return _failed(error.failed, "download")
    except BaseException:
        part.discard()
        raise
    _log.info("downloaded %s to %s: %d bytes", location.shown, path, part.size)
    return Done(path, part.size, resumed)


def upload(
    url: str,
    path: Path,
    remote_name: str | None = None,
    options: TransferOptions | None = None,
    *,
    method: Literal["POST", "PUT"] = "POST",
    field: str = "file",
) -> Outcome:
    """Send the file at `path` to `url` under `remote_name` (default: the file's own name).

    http(s): POST multipart/form-data with the file in form field `field` (what OCPP CSMSs' upload endpoints
    read), or PUT of the raw bytes; ftp(s): STOR. A URL ending with "/" is a directory: `remote_name` is
    appended (PUT, STOR). An upload is not resumed: a retry is the caller's (GetLog `retries`).
    """
    options = options or TransferOptions()
    name = remote_name or path.name
    try:
        location = parse(url)
        budget = Budget(options)
        if location.scheme in ("ftp", "ftps"):
            from chargecore.shell.transfer.ftp import upload as ftp_upload

            size = ftp_upload(location, path, name, budget)
        else:
            from chargecore.shell.transfer.http import upload as http_upload

            size = http_upload(location, path, name, budget, method, field)
    except TransferError as error:
        return _failed(error.failed, "upload")
    _log.info("uploaded %s to %s: %d bytes", path.name, location.shown, size)
    return Done(path, size)


def _failed(failed: Failed, what: str) -> Failed:
    _log.warning("%s failed (%s): %s", what, failed.reason, failed.detail)
    return failed
