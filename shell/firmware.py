"""Block L in the shell: carries out the core's firmware effects and reports each outcome back as an input.

Downloads run off the core through `shell/transfer` (one job per request; a cancelled one stops at its next chunk),
into `<data dir>/firmware/`: a file the core hears of is whole, and a failed or cancelled download leaves nothing
behind. The signature check (hashing the whole file) runs off the core too; a file whose signature fails is
removed. Where that work runs is the runtime's `Runner` (a thread each, or an executor). The install is the
application's hook, which the runtime calls through its hook guard. Nothing here decides what comes next: the core does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import cast, get_args

from chargecore.pure import effects as fx
from chargecore.pure.inputs import (
    FirmwareDownloaded,
    FirmwareInstalled,
    FirmwareInstallResult,
    FirmwareVerified,
    Input,
)
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.transfer import Done, Limits, Outcome, TransferOptions, download, redact, start
from chargecore.shell.transfer.worker import Runner, guarded, in_thread

Submit = Callable[[Callable[[datetime], Input]], None]

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
        run: Runner = in_thread,
    ) -> None:
        """`run`: where the downloads and the signature checks run, off the core (shell/transfer/worker.py)."""
        self.directory = data_dir / "firmware"
        self._run = run
        self._submit = submit
        self._log = log
        self._limits = Limits(max_bytes=max_bytes)
        self._cancelled: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def download(self, effect: fx.DownloadFirmware) -> None:
        """Start the download off the core, with the runtime's Runner (shell/transfer: no partial file, limits,
        resume)."""
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
            self._run,
        )

    def cancel(self, effect: fx.CancelFirmwareDownload) -> None:
        with self._lock:
            cancelled = self._cancelled.get(effect.request_id)
        if cancelled is not None:
            cancelled.set()
            self._log.event("info", f"firmware request {effect.request_id}: download cancelled")

    def cancel_all(self) -> None:
        """At a stop: the downloads still running end at their next chunk and report nothing the core reads."""
        with self._lock:
            running, self._cancelled = list(self._cancelled.values()), {}
        for cancelled in running:
            cancelled.set()

    def verify(self, effect: fx.VerifyFirmware) -> None:
        """Check the signature off the core (it hashes the whole file); a file whose signature fails is removed."""
        request_id, path = effect.request_id, Path(effect.path)

        def check() -> str | None:
            from chargecore.shell.firmware_signing import signature_problem  # cryptography: on first use

            try:
                problem = signature_problem(path, effect.certificate, effect.signature)
            except OSError as error:
                problem = f"cannot read the firmware file: {error.strerror or error}"
            if problem is not None:
                path.unlink(missing_ok=True)
            return problem

        def verified(problem: str | None) -> None:
            self._log.event("info", f"firmware request {request_id}: signature {problem or 'verified'}")
            self._submit(lambda now: FirmwareVerified(now, request_id, problem))

        name = f"chargecore-firmware-verify-{request_id}"
        self._run(name, guarded(name, check, verified, lambda error: f"internal error: {type(error).__name__}"))

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
