"""Block L in the shell: carries out the core's firmware effects and reports each outcome back as an input.

Downloads run in worker threads (one per request; a cancelled one stops at its next chunk), into
`<data dir>/firmware/`: a `.part` file renamed only once complete, so a file the core hears of is whole and a failed
or cancelled download leaves nothing behind. The signature check runs on the core thread (hashing a file is
bounded by its size limit); a file whose signature fails is removed. The install is the application's hook, which
the runtime calls through its hook guard. Nothing here decides what comes next: the core does.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import cast, get_args
from urllib.parse import urlsplit

from chargecore.pure import effects as fx
from chargecore.pure.inputs import FirmwareDownloaded, FirmwareInstalled, FirmwareInstallResult, FirmwareVerified
from chargecore.shell.firmware_signing import signature_problem
from chargecore.shell.frame_log import FrameLog

Submit = Callable[[Callable[[datetime], object]], None]
Fetch = Callable[[str, Path, int, threading.Event], None]
"""fetch(url, destination, max_bytes, cancelled): write the whole file to `destination` or raise."""

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
"""The largest firmware file the station downloads (StationOptions.firmware_max_bytes)."""
TIMEOUT_SECONDS = 30.0
"""A download that gets no byte for this long fails."""
CHUNK = 64 * 1024
INSTALL_RESULTS: frozenset[str] = frozenset(get_args(FirmwareInstallResult))


class DownloadError(Exception):
    """A download that could not be completed; the message says why (for the log and the core)."""


def fetch_url(url: str, destination: Path, max_bytes: int, cancelled: threading.Event) -> None:
    """HTTP(S) with the standard library, streamed to `destination`, refused beyond `max_bytes`."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise DownloadError(f"unsupported scheme {scheme or '(none)'!r}")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, destination.open("wb") as file:
            size = 0
            while chunk := response.read(CHUNK):
                if cancelled.is_set():
                    raise DownloadError("cancelled")
                size += len(chunk)
                if size > max_bytes:
                    raise DownloadError(f"larger than the limit of {max_bytes} bytes")
                file.write(chunk)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(str(getattr(error, "reason", error))) from None


class FirmwareShell:
    """The firmware effects of one station: downloads in the background, signature checks, install results."""

    def __init__(
        self,
        data_dir: Path,
        submit: Submit,
        log: FrameLog,
        report_bug: Callable[[BaseException, str], None],
        max_bytes: int = DEFAULT_MAX_BYTES,
        fetch: Fetch = fetch_url,
    ) -> None:
        self.directory = data_dir / "firmware"
        self._submit = submit
        self._log = log
        self._report_bug = report_bug
        self._max_bytes = max_bytes
        self._fetch = fetch
        self._cancelled: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def download(self, effect: fx.DownloadFirmware) -> None:
        cancelled = threading.Event()
        with self._lock:
            self._cancelled[effect.request_id] = cancelled
        self._log.event("info", f"firmware request {effect.request_id}: downloading {effect.location}")
        worker = threading.Thread(
            target=self._download,
            args=(effect.request_id, effect.location, cancelled),
            daemon=True,
            name=f"chargecore-firmware-{effect.request_id}",
        )
        worker.start()

    def cancel(self, effect: fx.CancelFirmwareDownload) -> None:
        with self._lock:
            cancelled = self._cancelled.get(effect.request_id)
        if cancelled is not None:
            cancelled.set()
            self._log.event("info", f"firmware request {effect.request_id}: download cancelled")

    def verify(self, effect: fx.VerifyFirmware) -> None:
        path = Path(effect.path)
        problem = signature_problem(path, effect.certificate, effect.signature)
        if problem is not None:
            path.unlink(missing_ok=True)
        self._log.event("info", f"firmware request {effect.request_id}: signature {problem or 'verified'}")
        self._submit(lambda now: FirmwareVerified(now, effect.request_id, problem))

    def installed(self, request_id: int, result: object) -> None:
        """The install hook's answer; anything but one of the three results counts as InstallationFailed."""
        outcome: FirmwareInstallResult = "InstallationFailed"
        if isinstance(result, str) and result in INSTALL_RESULTS:
            outcome = cast(FirmwareInstallResult, result)  # one of the Literal's values, checked just above
        self._log.event("info", f"firmware request {request_id}: install hook answered {outcome}")
        self._submit(lambda now: FirmwareInstalled(now, request_id, outcome))

    def _download(self, request_id: int, location: str, cancelled: threading.Event) -> None:
        """The worker: whole file or nothing, and the core always hears how it ended; a bug ends the station."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            destination = self.directory / f"request-{request_id}.bin"
            partial = destination.with_suffix(".part")
            try:
                self._fetch(location, partial, self._max_bytes, cancelled)
                if cancelled.is_set():
                    raise DownloadError("cancelled")
                partial.replace(destination)
            except (DownloadError, OSError) as error:
                with suppress(OSError):
                    partial.unlink(missing_ok=True)
                reason = str(error)
                self._log.event("warning", f"firmware request {request_id}: download failed: {reason}")
                self._submit(lambda now: FirmwareDownloaded(now, request_id, None, reason))
                return
            self._log.event("info", f"firmware request {request_id}: downloaded {destination.stat().st_size} bytes")
            self._submit(lambda now: FirmwareDownloaded(now, request_id, str(destination)))
        except BaseException as error:  # a bug in this worker: never a quiet death
            self._report_bug(error, f"the firmware download of request {request_id}")
        finally:
            with self._lock:
                if self._cancelled.get(request_id) is cancelled:
                    del self._cancelled[request_id]
