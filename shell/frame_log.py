"""Every frame and notable event, as a readable line on stdout and as a JSON line in `--log FILE`, and through the
standard `logging` module (logger `chargecore.shell.<part>`, the station id in the record's `station`) to the
DiagnosticsLog of shell/logs.py when the station has one. `level` hides the events below it (frames count as
info) from stdout, `--log FILE` and the DiagnosticsLog alike; `quiet` leaves stdout to the operator commands.

Writing a line never raises on its text: a CSMS can put anything in a frame, lone surrogates included (a JSON
string may hold `\\ud800`), and a log that raises would take the core thread down with it. Characters the stream
cannot encode are written as backslash escapes; the JSON lines are ASCII (`ensure_ascii`). A line logged after
`close` still goes to the stream.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from chargecore.shell.logs import DiagnosticsLog, level_number


def printable(text: str, encoding: str | None) -> str:
    """`text` with every character `encoding` cannot write (a lone surrogate even in UTF-8) as an escape."""
    codec = encoding or "utf-8"
    return text.encode(codec, "backslashreplace").decode(codec)


class FrameLog:
    def __init__(
        self,
        station_id: str,
        path: Path | None = None,
        stream: TextIO | None = None,
        *,
        diagnostics: Path | None = None,
        level: str = "info",
        quiet: bool = False,
    ) -> None:
        self._station_id = station_id
        self._stream = None if quiet else stream if stream is not None else sys.stdout
        self._level = level_number(level)
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - closed in close()
        self._lock = threading.Lock()
        self._diagnostics = DiagnosticsLog(station_id, diagnostics, level) if diagnostics else None

    def frame(self, direction: str, text: str) -> None:
        """direction: "send" or "recv"."""
        arrow = "->" if direction == "send" else "<-"
        record = {"kind": "frame", "direction": direction, "frame": text}
        self._write("info", "frames", f"{arrow} {text}", record)

    def event(self, level: str, message: str, part: str = "runtime") -> None:
        """`part`: the shell part that speaks (runtime, link, storage, ...), or "core" for the core's Log effects:
        it names the logger (`chargecore.core` for the core, else `chargecore.shell.<part>`)."""
        self._write(level, part, message, {"kind": "event", "level": level, "message": message})

    def _write(self, level: str, part: str, message: str, record: dict[str, Any]) -> None:
        number = level_number(level)
        if number < self._level:
            return
        logger = logging.getLogger("chargecore.core" if part == "core" else f"chargecore.shell.{part}")
        logger.log(number, "%s", message, extra={"station": self._station_id})
        shown = message if record["kind"] == "frame" else f"[{level}] {message}"
        line = f"{self._station_id} {shown}"
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            if self._stream is not None:
                print(printable(f"{stamp[11:23]} {line}", getattr(self._stream, "encoding", None)), file=self._stream)
                self._stream.flush()
            if self._file:
                entry = {"time": stamp, "station": self._station_id, **record}
                self._file.write(json.dumps(entry, ensure_ascii=True) + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None
            if self._diagnostics:
                self._diagnostics.close()
                self._diagnostics = None
