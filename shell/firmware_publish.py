"""Block L03/L04 in the shell: the local controller's firmware publication carried out, each outcome an input.

The download runs on a worker thread through `shell/transfer` into `<data dir>/published/<checksum>.bin` (whole
or nothing) and its MD5 is measured there; the core judges it. Publishing starts (once) a read-only file server
on `StationOptions.publish_host`/`publish_port` over that folder; its URI is what the core reports. Unpublishing
removes the file, so the server answers 404 for it from then on.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from chargecore.pure import effects as fx
from chargecore.pure.inputs import FilePublished, Input, PublishDownloaded
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.transfer import Done, Limits, Outcome, TransferOptions, download, redact, start
from chargecore.shell.transfer.worker import Runner, in_thread

if TYPE_CHECKING:
    from chargecore.tools.file_server import FileServer

Submit = Callable[[Callable[[datetime], Input]], None]
CHUNK = 1024 * 1024


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class PublishShell:
    """The publication effects of one station; the file server lives from the first publication to `stop`."""

    def __init__(
        self,
        data_dir: Path,
        submit: Submit,
        log: FrameLog,
        max_bytes: int,
        host: str = "127.0.0.1",
        port: int = 0,
        run: Runner = in_thread,
    ) -> None:
        """`run`: where the downloads and their MD5 run, off the core (shell/transfer/worker.py)."""
        self.directory = data_dir / "published"
        self._run = run
        self._submit = submit
        self._log = log
        self._limits = Limits(max_bytes=max_bytes)
        self._address = (host, port)
        self._server: FileServer | None = None
        self._lock = threading.Lock()

    def download(self, effect: fx.DownloadToPublish) -> None:
        request_id = effect.request_id
        try:
            self.directory.mkdir(mode=0o700, exist_ok=True)
        except OSError as error:
            reason = f"cannot create {self.directory}: {error.strerror}"
            self._submit(lambda now: PublishDownloaded(now, request_id, None, None, reason))
            return
        self._log.event("info", f"publish firmware request {request_id}: downloading {redact(effect.location)}")
        name = f"{effect.checksum}.bin"
        options = TransferOptions(self._limits)
        start(
            f"chargecore-publish-{request_id}",
            lambda: download(effect.location, self.directory, name, options),
            lambda outcome: self._downloaded(request_id, outcome),
            self._run,
        )

    def _downloaded(self, request_id: int, outcome: Outcome) -> None:
        """Off the core, after the download: the core hears how the download ended, with the MD5 of a whole file."""
        if isinstance(outcome, Done):
            try:
                md5 = md5_of(outcome.path)
            except OSError as error:
                reason = f"cannot read {outcome.path.name}: {error.strerror}"
                self._submit(lambda now: PublishDownloaded(now, request_id, None, None, reason))
                return
            path = str(outcome.path)
            self._log.event("info", f"publish firmware request {request_id}: downloaded {outcome.size} bytes")
            self._submit(lambda now: PublishDownloaded(now, request_id, path, md5))
            return
        reason = f"{outcome.reason}: {outcome.detail}"
        self._log.event("warning", f"publish firmware request {request_id}: download failed: {reason}")
        self._submit(lambda now: PublishDownloaded(now, request_id, None, None, reason))

    def publish(self, effect: fx.PublishFile) -> None:
        request_id = effect.request_id
        try:
            with self._lock:
                if self._server is None:
                    from chargecore.shell.publish_server import serve_published

                    host, port = self._address
                    self._server = serve_published(self.directory, host, port, self._announce)
                uri = self._server.url + Path(effect.path).name
        except OSError as error:
            problem = f"cannot serve on {self._address[0]}:{self._address[1]}: {error.strerror}"
            self._submit(lambda now: FilePublished(now, request_id, (), problem))
            return
        self._log.event("info", f"publish firmware request {request_id}: published at {uri}")
        self._submit(lambda now: FilePublished(now, request_id, (uri,)))

    def unpublish(self, effect: fx.UnpublishFile) -> None:
        (self.directory / f"{effect.checksum}.bin").unlink(missing_ok=True)
        self._log.event("info", f"publish firmware: {effect.checksum} no longer published")

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def _announce(self, line: str) -> None:
        self._log.event("info", f"published files: {line}")
