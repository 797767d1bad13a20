"""The shell's side of GetLog (N01): gather the lines the core asked for into a file and upload it, off the core
thread, and report how it ended as a `LogUploadEnded` input. It decides nothing: which log, which time window,
where to, how often and when to give up are the core's (`pure/blocks/diagnostics/logs.py`).

- The lines come from the log's files, oldest first (the rotated ones, then the current one). A line is kept
  when the first timestamp in its head (`2026-12-04T01:02:03.456Z`, as the DiagnosticsLog begins its lines and
  the SecurityLog's JSON carries) lies within the window; a line without one (a traceback's continuation)
  follows the line before it. A timestamp without a zone counts as UTC.
- The file starts with one line naming the station, the log and the window, so that an empty window still
  uploads a file that says what it is.
- It is written to a directory of its own under `<data dir>/uploads/` and removed once the upload ended, however
  it ended. A failure to gather (an unreadable log, a full disk) ends the attempt as a transfer failure would
  ("local i/o error", "permission denied", "disk full").
- `cancel` stops a running upload (N01.FR.12); it reports nothing afterwards. At most MAX_THREADS upload threads
  live at once (a cancelled upload to a server that never answers ends only at the transfer's limits): one more
  attempt fails at once, so that a CSMS cannot pile up threads.
"""

from __future__ import annotations

import errno
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from chargecore.pure.effects import LogType, UploadLog
from chargecore.pure.inputs import Input, LogUploadEnded
from chargecore.shell.logs import diagnostics_log, log_files, security_log
from chargecore.shell.transfer import Done, Failed, Failure, Limits, Outcome, TransferOptions, start, upload
from chargecore.shell.transfer.worker import Runner, in_thread

LogSources = Callable[[LogType], Sequence[Path]]
"""The files of a log, oldest first."""
UPLOADS_DIR = "uploads"
MAX_THREADS = 4
"""Uploads at once, cancelled ones still ending included; one more fails at once ("local i/o error")."""
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?")
_HEAD = 80
"""How far into a line its timestamp is looked for."""


def default_sources(data_dir: Path) -> LogSources:
    """The station's own logs under its data dir (shell/logs.py): the rotated files, then the current one."""
    paths = {"DiagnosticsLog": diagnostics_log(data_dir), "SecurityLog": security_log(data_dir)}
    return lambda log_type: log_files(paths[log_type])


class LogUploads:
    """The uploads under way, by request id; `start` and `cancel` are called from the core thread."""

    def __init__(
        self,
        station_id: str,
        data_dir: Path,
        sources: LogSources,
        submit: Callable[[Callable[[datetime], Input]], None],
        ca_file: Path | None = None,
        limits: Limits | None = None,
        run: Runner = in_thread,
    ) -> None:
        """`run`: where gathering and uploading run, off the core (shell/transfer/worker.py)."""
        self._station_id = station_id
        self._run = run
        self._work_dir = data_dir / UPLOADS_DIR
        self._sources = sources
        self._submit = submit
        self._ca_file = ca_file
        self._limits = limits or Limits()
        self._lock = threading.Lock()
        self._running: dict[int, threading.Event] = {}
        self._threads = 0
        """Upload threads alive, cancelled ones still ending included (a hung server holds one up to its limits)."""

    def start(self, effect: UploadLog) -> None:
        """Start the upload; a cancelled one reports nothing (the core has moved on, and a CSMS that reuses the
        requestId must not get the old upload's end as the new one's)."""
        options = TransferOptions(self._limits, self._ca_file)
        with self._lock:
            crowded = self._threads >= MAX_THREADS
            if not crowded:
                self._threads += 1
                self._running[effect.request_id] = options.cancel

        def deliver(outcome: Outcome) -> None:
            with self._lock:
                self._threads -= 0 if crowded else 1
                if self._running.get(effect.request_id) is options.cancel:
                    del self._running[effect.request_id]
            if options.cancel.is_set():
                return
            failure, detail = (None, "") if isinstance(outcome, Done) else (str(outcome.reason), outcome.detail)
            self._submit(lambda now: LogUploadEnded(now, effect.request_id, effect.attempt, failure, detail))

        if crowded:  # a CSMS that cancels upload after upload to a server that never answers
            deliver(Failed(Failure.LOCAL_IO, f"{MAX_THREADS} earlier uploads are still ending"))
            return
        name = f"chargecore-log-upload-{effect.request_id}"
        start(name, lambda: self._gather_and_upload(effect, options), deliver, self._run)

    def cancel(self, request_id: int) -> None:
        with self._lock:
            cancel = self._running.pop(request_id, None)
        if cancel is not None:
            cancel.set()

    def cancel_all(self) -> None:
        with self._lock:
            running, self._running = list(self._running.values()), {}
        for cancel in running:
            cancel.set()

    def _gather_and_upload(self, effect: UploadLog, options: TransferOptions) -> Outcome:
        try:
            self._work_dir.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=f"log-{effect.request_id}-", dir=self._work_dir))
        except OSError as error:
            return _local_failure(error)
        try:
            path = folder / effect.file_name
            try:
                gather(self._sources(effect.log_type), effect.oldest, effect.latest, path, self._header(effect))
            except OSError as error:
                return _local_failure(error)
            return upload(effect.remote_location, path, effect.file_name, options)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _header(self, effect: UploadLog) -> str:
        window = " to ".join(
            "..." if moment is None else moment.isoformat() for moment in (effect.oldest, effect.latest)
        )
        return f"# {self._station_id} {effect.log_type}, request {effect.request_id}, lines from {window}\n"


def gather(sources: Sequence[Path], oldest: datetime | None, latest: datetime | None, target: Path, header: str) -> int:
    """Write `header` and the lines of `sources` stamped within [oldest, latest] to `target`; the lines kept."""
    kept = 0
    keep = oldest is None and latest is None  # lines before the first stamped one
    with target.open("w", encoding="utf-8") as out:
        out.write(header)
        for source in sources:
            with source.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    stamp = stamp_of(line) if oldest is not None or latest is not None else None
                    if stamp is not None:
                        keep = (oldest is None or stamp >= oldest) and (latest is None or stamp <= latest)
                    if keep:
                        out.write(line if line.endswith("\n") else line + "\n")
                        kept += 1
    return kept


def stamp_of(line: str) -> datetime | None:
    found = _STAMP.search(line, 0, _HEAD)
    if found is None:
        return None
    try:
        moment = datetime.fromisoformat(found.group().replace("Z", "+00:00"))
    except ValueError:  # 2026-13-45...: not a time after all
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _local_failure(error: OSError) -> Failed:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return Failed(Failure.DISK_FULL, "disk full while gathering the log")
    reason = Failure.PERMISSION_DENIED if error.errno in (errno.EACCES, errno.EPERM) else Failure.LOCAL_IO
    return Failed(reason, f"{reason} while gathering the log: {error.strerror or error}")
