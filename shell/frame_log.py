"""Every frame and notable event, as a readable line on stdout and as a JSON line in `--log FILE`."""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO


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
        with self._lock:
            print(f"{stamp[11:23]} {line}", file=self._stream, flush=True)
            if self._file:
                self._file.write(json.dumps({"time": stamp, "station": self._station_id, **record}) + "\n")
                self._file.flush()

    def close(self) -> None:
        if self._file:
            self._file.close()
