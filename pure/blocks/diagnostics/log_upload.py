"""The log upload under way (N01), as data: `logs.py` owns the rules; this module only holds the shape, so that
`state.py` can carry it without importing the rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chargecore.pure.effects import LogType


@dataclass(frozen=True, slots=True)
class LogUpload:
    """One GetLog being carried out: its attempts so far, and when the next one starts while it waits."""

    request_id: int
    log_type: LogType
    remote_location: str = field(repr=False)
    """May hold a user and password (N01.FR.17): never in a repr, a log line or a report."""
    file_name: str
    oldest: datetime | None
    """The request's oldestTimestamp on the clock of the log's lines (see `UploadLog`; None: no bound)."""
    latest: datetime | None
    retries_left: int
    retry_interval: int
    """Seconds between a failed attempt and the next."""
    attempt: int = 1
    retry_at: datetime | None = None
    """While waiting for the next attempt: when it starts (None: an attempt is running)."""
