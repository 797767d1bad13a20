"""The effects a runtime carries out by background work, for both runtimes: the firmware download, its
cancellation and its signature check (L01/L02), the local controller's download, publication and unpublication
(L03/L04), and the log upload and its cancellation (N01); plus the install hook's answer (L01), which the firmware
part reports.

Each outcome comes back as an input through the runtime's `submit`, so the core hears it in order with everything
else. Where the blocking work runs is the runtime's `Runner` (shell/transfer/worker.py): a thread each in the
threaded runtime, an executor in the asyncio one. The parts are built at their first effect, so that a station
that never transfers anything never imports the transfer code (urllib3, ftplib, cryptography).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from chargecore.pure import effects as fx
from chargecore.pure.inputs import Input
from chargecore.shell.frame_log import FrameLog

if TYPE_CHECKING:
    from chargecore.shell.firmware import FirmwareShell
    from chargecore.shell.firmware_publish import PublishShell
    from chargecore.shell.log_upload import LogUploads
    from chargecore.shell.runtime import StationOptions
    from chargecore.shell.transfer.worker import Runner

Submit = Callable[[Callable[[datetime], Input]], None]

TRANSFER_EFFECTS: tuple[type[fx.Effect], ...] = (
    fx.DownloadFirmware,
    fx.CancelFirmwareDownload,
    fx.VerifyFirmware,
    fx.DownloadToPublish,
    fx.PublishFile,
    fx.UnpublishFile,
    fx.UploadLog,
    fx.CancelLogUpload,
)
"""The effects `TransferJobs.carry_out` takes."""


class TransferJobs:
    """The transfer effects of one station; `stop` cancels what still runs and closes the file server."""

    def __init__(self, options: StationOptions, submit: Submit, log: FrameLog, run: Runner | None = None) -> None:
        """`run`: where the blocking work runs (None: a daemon thread per job, `worker.in_thread`)."""
        self._options = options
        self._submit = submit
        self._log = log
        self._given_run = run

    def carry_out(self, effect: fx.Effect) -> None:
        """Start or cancel the work of one of the TRANSFER_EFFECTS; returns at once."""
        if isinstance(effect, fx.DownloadFirmware):
            self._firmware.download(effect)
        elif isinstance(effect, fx.CancelFirmwareDownload):
            self._firmware.cancel(effect)
        elif isinstance(effect, fx.VerifyFirmware):
            self._firmware.verify(effect)
        elif isinstance(effect, fx.DownloadToPublish):
            self._publish.download(effect)
        elif isinstance(effect, fx.PublishFile):
            self._publish.publish(effect)
        elif isinstance(effect, fx.UnpublishFile):
            self._publish.unpublish(effect)
        elif isinstance(effect, fx.UploadLog):
            self._log.event("info", f"uploading {effect.log_type} as {effect.file_name} (attempt {effect.attempt})")
            self._uploads.start(effect)
        elif isinstance(effect, fx.CancelLogUpload):
            self._uploads.cancel(effect.request_id)
        else:
            raise TypeError(f"not a transfer effect: {type(effect).__name__}")

    def installed(self, request_id: int, result: object) -> None:
        """The install hook's answer (InstallFirmware), reported to the core as FirmwareInstalled."""
        self._firmware.installed(request_id, result)

    def stop(self) -> None:
        """Cancel the downloads and log uploads still running and stop serving published files."""
        if "_firmware" in self.__dict__:
            self._firmware.cancel_all()
        if "_uploads" in self.__dict__:
            self._uploads.cancel_all()
        if "_publish" in self.__dict__:
            self._publish.stop()

    @cached_property
    def _run(self) -> Runner:
        from chargecore.shell.transfer.worker import in_thread

        return self._given_run or in_thread

    @cached_property
    def _firmware(self) -> FirmwareShell:
        from chargecore.shell.firmware import FirmwareShell

        options = self._options
        return FirmwareShell(options.data_dir, self._submit, self._log, options.firmware_max_bytes, self._run)

    @cached_property
    def _publish(self) -> PublishShell:
        from chargecore.shell.firmware_publish import PublishShell

        options = self._options
        return PublishShell(
            options.data_dir,
            self._submit,
            self._log,
            options.firmware_max_bytes,
            options.publish_host,
            options.publish_port,
            self._run,
        )

    @cached_property
    def _uploads(self) -> LogUploads:
        from chargecore.shell.log_upload import LogUploads, default_sources

        options = self._options
        ca_file = None if options.ca_file is None else Path(options.ca_file)  # N01.FR.15: the CSMS's trust chain
        sources = default_sources(options.data_dir)
        return LogUploads(options.station_id, options.data_dir, sources, self._submit, ca_file, run=self._run)
