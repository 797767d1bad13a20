"""shell/log_upload.py: which lines of a log go into the uploaded file, and how an attempt is reported back (N01)."""

from __future__ import annotations

import queue
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from transfer_servers import HttpFiles

from chargecore.pure.effects import LogType, UploadLog
from chargecore.pure.inputs import Input, LogUploadEnded
from chargecore.shell.log_upload import MAX_THREADS, UPLOADS_DIR, LogUploads, default_sources, gather, stamp_of
from chargecore.shell.transfer import Limits
from chargecore.testing.csms_double import wait_until

LINES = [
    "no time on the first line",
    "2026-01-01T00:00:00.000Z INFO first",
    "2026-01-01T01:00:00.000Z INFO second",
    "  continuation of the second",
    "2026-01-01T02:00:00 INFO third, no zone: UTC",
    '{"timestamp": "2026-01-01T04:00:00.000+01:00", "type": "X"}',
]


def at(hour: int) -> datetime:
    return datetime(2026, 1, 1, hour, tzinfo=UTC)


def gathered(tmp_path: Path, oldest: datetime | None, latest: datetime | None) -> list[str]:
    source = tmp_path / "source.log"
    source.write_text("\n".join(LINES))  # the last line without its newline
    target = tmp_path / "out.log"
    kept = gather([source], oldest, latest, target, "# header\n")
    lines = target.read_text().splitlines()
    assert lines[0] == "# header" and len(lines) == kept + 1
    return lines[1:]


def test_without_a_window_every_line_is_kept(tmp_path: Path) -> None:
    assert gathered(tmp_path, None, None) == LINES


def test_a_window_keeps_its_lines_and_their_continuations(tmp_path: Path) -> None:
    assert gathered(tmp_path, at(1), at(2)) == LINES[2:5]
    assert gathered(tmp_path, at(2), None) == LINES[4:]
    assert gathered(tmp_path, at(3), at(3)) == LINES[5:], "04:00+01:00 is 03:00 UTC"
    assert gathered(tmp_path, None, at(0)) == LINES[1:2], "an unstamped head goes only when nothing bounds"


def test_the_timestamp_is_looked_for_at_the_head_of_a_line_only() -> None:
    assert stamp_of("2026-01-01T00:00:00Z x") == at(0)
    assert stamp_of("x" * 100 + "2026-01-01T00:00:00Z") is None
    assert stamp_of("2026-13-45T00:00:00Z not a time") is None


def test_rotated_files_come_oldest_first(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    for name in ("diagnostics.log", "diagnostics.log.1", "diagnostics.log.3", "security.log"):
        (logs / name).write_text(name)
    assert [path.name for path in default_sources(tmp_path)("DiagnosticsLog")] == [
        "diagnostics.log.3",
        "diagnostics.log.1",
        "diagnostics.log",
    ]
    assert [path.name for path in default_sources(tmp_path / "nothing")("SecurityLog")] == []


def run(tmp_path: Path, sources: Callable[[LogType], list[Path]], location: str) -> LogUploadEnded:
    """One upload through LogUploads; the input it reports."""
    reported: queue.Queue[Callable[[datetime], Input]] = queue.Queue()
    uploads = LogUploads("CS001", tmp_path, sources, reported.put)
    uploads.start(UploadLog(3, 2, "DiagnosticsLog", location, "CS001-DiagnosticsLog-3.log"))
    event = reported.get(timeout=20)(at(0))
    assert isinstance(event, LogUploadEnded) and (event.request_id, event.attempt) == (3, 2)
    assert list((tmp_path / UPLOADS_DIR).iterdir()) == [], "the gathered file is gone, however it ended"
    return event


def test_an_upload_arrives_with_its_header(tmp_path: Path, http_files: HttpFiles) -> None:
    source = tmp_path / "diagnostics.log"
    source.write_text(LINES[1] + "\n")
    event = run(tmp_path, lambda _: [source], http_files.url)
    assert event.failure is None
    text = (http_files.directory / "CS001-DiagnosticsLog-3.log").read_text()
    assert text.startswith("# CS001 DiagnosticsLog, request 3") and LINES[1] in text


def test_a_log_that_cannot_be_read_fails_the_attempt_without_a_connection(
    tmp_path: Path, http_files: HttpFiles
) -> None:
    unreadable = tmp_path / "a-directory"
    unreadable.mkdir()
    event = run(tmp_path, lambda _: [unreadable], http_files.url)
    assert event.failure == "local i/o error" and "gathering the log" in event.detail
    assert http_files.faults.requests == []


def test_a_password_never_reaches_the_reported_detail(tmp_path: Path, unused_port: int) -> None:
    event = run(tmp_path, lambda _: [], f"http://user:hunter2@127.0.0.1:{unused_port}/")
    assert event.failure == "unreachable" and "hunter2" not in event.detail


def test_cancelled_uploads_report_nothing_and_cannot_pile_up(tmp_path: Path) -> None:
    """N01.FR.12 against a server that takes the connection and never answers: the cancelled uploads end at their
    limits without a word, and meanwhile no more than MAX_THREADS of them live."""
    reported: queue.Queue[Callable[[datetime], Input]] = queue.Queue()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        silent.settimeout(10)
        limits = Limits(socket_seconds=2, total_seconds=3)
        uploads = LogUploads("CS001", tmp_path, lambda _: [], reported.put, limits=limits)
        for n in range(MAX_THREADS):
            uploads.start(UploadLog(n, 1, "DiagnosticsLog", url, f"log-{n}.log"))
        waiting = [silent.accept()[0] for _ in range(MAX_THREADS)]  # every upload now waits for an answer
        for n in range(MAX_THREADS):
            uploads.cancel(n)
        uploads.start(UploadLog(99, 1, "DiagnosticsLog", url, "log-99.log"))
        event = reported.get(timeout=3)(at(0))
        assert isinstance(event, LogUploadEnded) and (event.request_id, event.failure) == (99, "local i/o error")
        wait_until(
            lambda: not any(t.name.startswith("chargecore-log-upload") for t in threading.enumerate()), "ends", 15
        )
        for connection in waiting:
            connection.close()
    assert reported.empty(), "a cancelled upload reports nothing"
