"""Timing of OCPP calls for load tools: a frame log that pairs each CALL with its CALLRESULT or CALLERROR and hands
the timing to a callback with Locust's request-event signature. Kept apart from `chargecore.locust`, which imports
Locust (and so gevent's monkey-patching), so that it can be used and tested without that."""

from __future__ import annotations

import json
import time
from typing import Any

from chargecore.shell.frame_log import FrameLog

_CALL, _RESULT, _ERROR = 2, 3, 4


class LocustFrameLog(FrameLog):
    """A frame log that prints nothing and turns request/answer pairs into Locust request events."""

    def __init__(self, station_id: str, fire: Any) -> None:
        super().__init__(station_id, None)
        self._fire = fire
        self._outbound: dict[str, tuple[str, float]] = {}
        self._inbound: dict[str, tuple[str, float]] = {}

    def frame(self, direction: str, text: str) -> None:
        now = time.perf_counter()
        try:
            message = json.loads(text)
            kind, message_id = message[0], str(message[1])
        except (ValueError, TypeError, IndexError, KeyError):
            return  # not an OCPP frame: the station answers it, nothing to time
        mine, theirs = (self._outbound, self._inbound) if direction == "send" else (self._inbound, self._outbound)
        if kind == _CALL and len(message) > 2:
            mine[message_id] = (str(message[2]), now)
        elif kind in (_RESULT, _ERROR) and message_id in theirs:
            action, started = theirs.pop(message_id)
            failed = RuntimeError(f"CALLERROR {message[2]}") if kind == _ERROR and len(message) > 2 else None
            self._fire(
                request_type="OCPP" if theirs is self._outbound else "CSMS",
                name=action,
                response_time=(now - started) * 1000,
                response_length=len(text),
                exception=failed,
                context={"station": self._station_id},
            )

    def event(self, level: str, message: str, part: str = "runtime") -> None:
        """The station's own log lines are not load statistics; errors already show as failed requests."""
