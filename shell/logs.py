"""The station's logs as files under its data dir, rotated, for GetLog (N01) to upload:

- the DiagnosticsLog, `logs/diagnostics.log`: everything the shell logs through the standard `logging` module
  (one logger per shell part: `chargecore.shell.runtime`, `.link`, `.storage`, `.frames`, `.transfer`, and
  `chargecore.core` for the core's `Log` effects), one line per record, its UTC time first;
- the SecurityLog, `logs/security.log`: the security events (`SecurityEventLogged`, A04), one JSON object per
  line, which the default application keeps (Part 2 Appendix 1: every event implemented is logged).

Both rotate at `ROTATE_BYTES` keeping `BACKUPS` older files (`diagnostics.log.1` is the newest of those);
`log_files` lists what exists, oldest first. Secrets never get here: frames arrive redacted (WriteOnly
values masked) and transfer URLs without their passwords.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import time
from pathlib import Path
from typing import Final

from chargecore.pure.effects import SecurityEventLogged

LOGS_DIR: Final = "logs"
ROTATE_BYTES: Final = 1024 * 1024
BACKUPS: Final = 4
LEVELS: Final = ("debug", "info", "warning", "error")
"""The names `--log-level` takes, and the levels of the core's `Log` effects."""

logging.getLogger("chargecore").addHandler(logging.NullHandler())  # a library: no lastResort lines on stderr


def diagnostics_log(data_dir: Path) -> Path:
    return data_dir / LOGS_DIR / "diagnostics.log"


def security_log(data_dir: Path) -> Path:
    return data_dir / LOGS_DIR / "security.log"


def log_files(path: Path) -> tuple[Path, ...]:
    """The current file and its rotated predecessors that exist, oldest first (what GetLog puts in its file)."""
    older = (path.with_name(f"{path.name}.{n}") for n in range(BACKUPS, 0, -1))
    return tuple(file for file in (*older, path) if file.is_file())


def level_number(name: str) -> int:
    """"warning" -> logging.WARNING; an unknown name counts as INFO."""
    number = logging.getLevelName(name.upper())
    return number if isinstance(number, int) else logging.INFO


class _UtcFormatter(logging.Formatter):
    """ISO 8601 UTC times (`2026-12-04T01:16:39.062Z`), so that GetLog can cut the file by timestamp."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class DiagnosticsLog:
    """The rotating file handler on the `chargecore` logger for one station. It takes the records of that station
    (`extra={"station": id}`, as the FrameLog sends them) and those of no station (a transfer thread's); another
    station in the same process (tests, the demo) keeps its own file."""

    def __init__(self, station_id: str, path: Path, level: str = "info") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=ROTATE_BYTES, backupCount=BACKUPS, encoding="utf-8", errors="backslashreplace"
        )
        self._handler.setLevel(level_number(level))
        self._handler.setFormatter(_UtcFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._handler.addFilter(lambda record: getattr(record, "station", station_id) == station_id)
        root = logging.getLogger("chargecore")
        if root.level == logging.NOTSET or root.level > self._handler.level:  # let the records through to us
            root.setLevel(self._handler.level)
        root.addHandler(self._handler)

    def close(self) -> None:
        logging.getLogger("chargecore").removeHandler(self._handler)
        self._handler.close()


class SecurityLog:
    """The security log file: one JSON line per event, rotated like the DiagnosticsLog; thread-safe (the
    handler's lock). The file is open only while a line is written: security events are rare."""

    def __init__(self, path: Path, max_bytes: int = ROTATE_BYTES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=BACKUPS, encoding="utf-8", delay=True
        )

    def record(self, event: SecurityEventLogged) -> None:
        line = {"timestamp": event.timestamp, "type": event.event_type, "critical": event.critical}
        if event.tech_info is not None:
            line["techInfo"] = event.tech_info
        text = json.dumps(line, ensure_ascii=True)
        self._handler.handle(logging.makeLogRecord({"msg": text, "levelno": logging.INFO, "levelname": "INFO"}))
        self._handler.close()  # the next line opens the file again (mode "a")
