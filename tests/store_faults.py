"""Faults for the storage tests: a station process that dies mid-life, and a kernel that refuses a file."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from chargecore.shell.storage import StationStore


def written_then_crashed(data_dir: Path, batches: Iterable[list[tuple[str, Any]]]) -> None:
    """A station process puts `batches` and dies without closing the store, as power loss or SIGKILL would:
    the kernel releases its lock, and no clean close is recorded."""
    child = os.fork()
    if child == 0:  # pragma: no cover - the child never returns
        status = 1
        try:
            store = StationStore(data_dir)
            for batch in batches:
                store.put(batch)
            status = 0
        finally:
            os._exit(status)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the crashing writer failed before its crash"


def refuse_open(monkeypatch: pytest.MonkeyPatch, error: int, refused: Callable[[str, int], bool]) -> None:
    """os.open fails with `error` where `refused(path, flags)`: what the kernel says to a process that is not
    root (the tests run as root, for whom chmod 000 and a read-only mode change nothing)."""
    real_open = os.open

    def open_or_refuse(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if refused(os.fspath(path), flags):
            raise OSError(error, os.strerror(error), os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_or_refuse)


WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT
"""The flags of an os.open that writes."""
