"""Block L in the shell: carries out the core's firmware effects and reports each outcome back as an input.

Downloads run in worker threads through `shell/transfer` (one per request; a cancelled one stops at its next
chunk), into `<data dir>/firmware/`: a file the core hears of is whole, and a failed or cancelled download leaves
nothing behind. The signature check runs on the core thread (hashing a file is bounded by its size limit); a file
whose signature fails is removed. The install is the application's hook, which the runtime calls through its hook
guard. Nothing here decides what comes next: the core does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import cast, get_args

from chargecore.pure import effects as fx
from chargecore.pure.inputs import FirmwareDownloaded, FirmwareInstalled, FirmwareInstallResult, FirmwareVerified
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.transfer import Done, Limits, Outcome, TransferOptions, download, redact, start

Submit = Callable[[Callable[[datetime], object]], None]

DEFAULT_MAX_BYTES = Limits().max_bytes
"""The largest firmware file the station downloads (StationOptions.firmware_max_bytes)."""
INSTALL_RESULTS: frozenset[str] = frozenset(get_args(FirmwareInstallResult))


class FirmwareShell:
    """The firmware effects of one station: downloads in the background, signature checks, install results."""

    def __init__(
        self,
        data_dir: Path,
        submit: Submit,
        log: FrameLog,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.directory = data_dir / "firmware"
        self._submit = submit
        self._log = log
        self._limits = Limits(max_bytes=max_bytes)
        self._cancelled: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def download(self, effect: fx.DownloadFirmware) -> None:
        """Start the download in a worker thread (shell/transfer: no partial file, limits, resume)."""
        request_id = effect.request_id
        try:
            self.directory.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            reason = f"cannot create {self.directory}: {error.strerror}"
            self._submit(lambda now: FirmwareDownloaded(now, request_id, None, reason))
            return
        options = TransferOptions(self._limits)  # https servers verified against the system's CA store
        with self._lock:
            self._cancelled[request_id] = options.cancel
        self._log.event("info", f"firmware request {request_id}: downloading {redact(effect.location)}")
        start(
            f"chargecore-firmware-{request_id}",
            lambda: download(effect.location, self.directory, f"request-{request_id}.bin", options),
            lambda outcome: self._downloaded(request_id, options.cancel, outcome),
        )

    def cancel(self, effect: fx.CancelFirmwareDownload) -> None:
        with self._lock:
            cancelled = self._cancelled.get(effect.request_id)
        if cancelled is not None:
            cancelled.set()
            self._log.event("info", f"firmware request {effect.request_id}: download cancelled")

    def verify(self, effect: fx.VerifyFirmware) -> None:
        from chargecore.shell.firmware_signing import signature_problem  # cryptography: on first use, not at start

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

    def _downloaded(self, request_id: int, cancel: threading.Event, outcome: Outcome) -> None:
        """On the worker thread: the core hears how the download ended."""
        with self._lock:
            if self._cancelled.get(request_id) is cancel:
                del self._cancelled[request_id]
        if isinstance(outcome, Done):
            self._log.event("info", f"firmware request {request_id}: downloaded {outcome.size} bytes")
            path = str(outcome.path)
            self._submit(lambda now: FirmwareDownloaded(now, request_id, path))
            return
        reason = f"{outcome.reason}: {outcome.detail}"
        self._log.event("warning", f"firmware request {request_id}: download failed: {reason}")
        self._submit(lambda now: FirmwareDownloaded(now, request_id, None, reason))
