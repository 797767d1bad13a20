"""Every frame and notable event, as a readable line on stdout and as a JSON line in `--log FILE`.

Writing a line never raises on its text: a CSMS can put anything in a frame, lone surrogates included (a JSON
string may hold `\\ud800`), and a log that raises would take the core thread down with it. Characters the stream
cannot encode are written as backslash escapes; the JSON lines are ASCII (`ensure_ascii`). A line logged after
`close` still goes to the stream.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


def printable(text: str, encoding: str | None) -> str:
    """`text` with every character `encoding` cannot write (a lone surrogate even in UTF-8) as an escape."""
    codec = encoding or "utf-8"
    return text.encode(codec, "backslashreplace").decode(codec)


class FrameLog:
    def __init__(self, station_id: str, path: Path | None = None, stream: TextIO | None = None) -> None:
        self._station_id = station_id
        self._stream = stream if stream is not None else sys.stdout
        self._file = open(path, "a", encoding="utf-8") if path else None  # noqa: SIM115 - closed in close()
        self._lock = threading.Lock()

    def frame(self, direction: str, text: str) -> None:
        """direction: "send" or "recv"."""
        arrow = "->" if direction == "send" else "<-"
        self._write(f"{self._station_id} {arrow} {text}", {"kind": "frame", "direction": direction, "frame": text})

    def event(self, level: str, message: str) -> None:
        self._write(f"{self._station_id} [{level}] {message}", {"kind": "event", "level": level, "message": message})

    def _write(self, line: str, record: dict[str, Any]) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        text = printable(f"{stamp[11:23]} {line}", getattr(self._stream, "encoding", None))
        with self._lock:
            print(text, file=self._stream, flush=True)
            if self._file:
                entry = {"time": stamp, "station": self._station_id, **record}
                self._file.write(json.dumps(entry, ensure_ascii=True) + "\n")
                self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None
