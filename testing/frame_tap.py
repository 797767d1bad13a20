"""Every frame a test station sends or receives, in order, with the monotonic time it passed the websocket.

A test of a CSMS asks the tap, not the station: what the CSMS answered (`answer_to`), whether something arrived
(`wait_for`), and in what order. Absence is a finding, not an error: both waits return None when nothing came in
time, so the caller decides whether "unanswered" fails its test.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Direction = Literal["sent", "received"]

CALLRESULT = 3
CALLERROR = 4


@dataclass(frozen=True)
class TappedFrame:
    """One websocket text frame as it passed: `at` is `time.monotonic()` when it did."""

    direction: Direction
    text: str
    at: float

    def decoded(self) -> Any:
        """The frame's JSON, or None when it is not JSON (garbage sent on purpose, or a broken peer)."""
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):
            return None

    @property
    def message_type(self) -> int | None:
        """2 (CALL), 3 (CALLRESULT), 4 (CALLERROR), or None when the frame does not say."""
        decoded = self.decoded()
        first = decoded[0] if isinstance(decoded, list) and decoded else None
        return first if type(first) is int else None

    @property
    def message_id(self) -> str | None:
        """The frame's message id, or None when it has no readable one."""
        decoded = self.decoded()
        second = decoded[1] if isinstance(decoded, list) and len(decoded) > 1 else None
        return second if isinstance(second, str) else None

    @property
    def is_reply(self) -> bool:
        return self.message_type in (CALLRESULT, CALLERROR)


class FrameTap:
    """A thread-safe record of frames; the station's reader and core threads write, the test thread waits."""

    def __init__(self) -> None:
        self._frames: list[TappedFrame] = []
        self._changed = threading.Condition()

    def record(self, direction: Direction, text: str) -> TappedFrame:
        frame = TappedFrame(direction, text, time.monotonic())
        with self._changed:
            self._frames.append(frame)
            self._changed.notify_all()
        return frame

    @property
    def frames(self) -> list[TappedFrame]:
        """A copy of everything recorded so far, oldest first."""
        with self._changed:
            return list(self._frames)

    def __len__(self) -> int:
        with self._changed:
            return len(self._frames)

    def since(self, mark: int) -> list[TappedFrame]:
        """The frames recorded after the first `mark` (take `len(tap)` as a mark before acting)."""
        with self._changed:
            return self._frames[mark:]

    def wait_for(
        self, predicate: Callable[[TappedFrame], bool], timeout: float, *, since: int = 0
    ) -> TappedFrame | None:
        """The first frame (from index `since` on) that satisfies `predicate`, waiting up to `timeout` seconds for
        it to arrive; None if none did."""
        deadline = time.monotonic() + timeout
        checked = since
        with self._changed:
            while True:
                for frame in self._frames[checked:]:
                    if predicate(frame):
                        return frame
                checked = max(checked, len(self._frames))  # each frame is tested once
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)

    def answer_to(self, message_id: str, timeout: float, *, since: int = 0) -> TappedFrame | None:
        """The CALLRESULT or CALLERROR received for `message_id` (from index `since` on), or None if none came
        within `timeout` seconds. Answers to unreadable message ids all carry "-1" (Part 4 4.2.3): take a mark
        (`OcppStation.send_raw` returns one) so that an earlier one does not count."""
        return self.wait_for(
            lambda frame: frame.direction == "received" and frame.is_reply and frame.message_id == message_id,
            timeout,
            since=since,
        )
