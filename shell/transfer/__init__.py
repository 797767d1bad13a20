"""File transfer for the shell: firmware downloads (L01) and log uploads (N01) over http, https, ftp and ftps.

    from chargecore.shell.transfer import Done, Failed, Failure, Limits, TransferOptions, download, start, upload

    start("firmware", lambda: download(url, data_dir / "firmware", "firmware.bin", options), on_outcome)
    start("log", lambda: upload(url, log_path, "diagnostics.log", options), on_outcome)

`download`/`upload` block, bound by `Limits` (size, total time, socket timeout, resumes), and return `Done` or
`Failed(reason: Failure, detail, status)`; a `Failed` leaves no file behind and its detail has no password. The
protocols: `http.py` (urllib3), `ftp.py` (ftplib); the local side: `files.py`; the URL: `locations.py`.
See docs/transfer.md.
"""

from chargecore.shell.transfer.limits import Limits, TransferOptions
from chargecore.shell.transfer.locations import SCHEMES, redact
from chargecore.shell.transfer.outcome import Done, Failed, Failure, Outcome
from chargecore.shell.transfer.transfers import download, upload
from chargecore.shell.transfer.worker import start

__all__ = [
    "SCHEMES",
    "Done",
    "Failed",
    "Failure",
    "Limits",
    "Outcome",
    "TransferOptions",
    "download",
    "redact",
    "start",
    "upload",
]
