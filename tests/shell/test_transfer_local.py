"""The local side of a transfer (shell/transfer/files.py, worker.py, locations.py): a full disk and a refused
file system through the `open_file` seam, the time limit, cancellation, progress, a crashing job, and URLs
whose password must never be shown. Nothing partial is left behind in any of them."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest
from transfer_servers import HttpFiles

from chargecore.shell.transfer import Done, Failed, Failure, Limits, Outcome, TransferOptions, download, redact, start
from chargecore.shell.transfer.files import Budget, PartFile
from chargecore.shell.transfer.outcome import TransferError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _FailingFile:
    """A part file whose writes fail with `code` once `room` bytes are written."""

    def __init__(self, path: Path, room: int, code: int) -> None:
        self._file = path.open("r+b")
        self._room, self._code = room, code

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            raise OSError(self._code, "injected")
        self._room -= len(data)
        return self._file.write(data)

    def __getattr__(self, name: str) -> object:
        return getattr(self._file, name)


def failing_after(room: int, code: int) -> TransferOptions:
    def open_file(path: Path) -> BinaryIO:
        return _FailingFile(path, room, code)  # type: ignore[return-value]

    return TransferOptions(open_file=open_file)


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "target"
    folder.mkdir()
    return folder


@pytest.fixture
def firmware(http_files: HttpFiles) -> str:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    return http_files.url + "fw.bin"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_fails_disk_full_and_removes_the_part_file(firmware: str, target: Path, code: int) -> None:
    outcome = download(firmware, target, "fw.bin", failing_after(200_000, code))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.DISK_FULL
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_a_refused_write_is_permission_denied(firmware: str, target: Path, code: int) -> None:
    outcome = download(firmware, target, "fw.bin", failing_after(0, code))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.PERMISSION_DENIED
    assert list(target.iterdir()) == []


def test_a_refused_open_is_permission_denied(firmware: str, target: Path) -> None:
    def refuse(path: Path) -> BinaryIO:
        raise PermissionError(errno.EACCES, "injected")

    outcome = download(firmware, target, "fw.bin", TransferOptions(open_file=refuse))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.PERMISSION_DENIED
    assert list(target.iterdir()) == []


def test_a_missing_target_directory_is_a_local_error(firmware: str, tmp_path: Path) -> None:
    outcome = download(firmware, tmp_path / "nowhere", "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.LOCAL_IO


@pytest.mark.parametrize("name", ["../fw.bin", "a/b", "", ".."])
def test_the_target_name_must_be_a_plain_file_name(firmware: str, target: Path, name: str) -> None:
    outcome = download(firmware, target, name)
    assert isinstance(outcome, Failed) and outcome.reason is Failure.LOCAL_IO
    assert list(target.iterdir()) == [] and not (target.parent / "fw.bin").exists()


def test_bytes_over_the_limit_stop_a_download_whose_size_was_not_announced(tmp_path: Path) -> None:
    part = PartFile(tmp_path, "fw.bin", Budget(TransferOptions(Limits(max_bytes=100))))
    part.write(b"x" * 100)
    with pytest.raises(TransferError) as raised:
        part.write(b"x")
    assert raised.value.failed.reason is Failure.TOO_LARGE
    part.discard()
    assert list(tmp_path.iterdir()) == []


def test_the_total_time_limit(firmware: str, target: Path) -> None:
    outcome = download(firmware, target, "fw.bin", TransferOptions(Limits(total_seconds=0)))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.TIMED_OUT
    assert list(target.iterdir()) == []


def test_cancelling_mid_download_stops_it_and_leaves_nothing(firmware: str, target: Path) -> None:
    cancel = threading.Event()
    seen: list[tuple[int, int | None]] = []

    def progress(done: int, total: int | None) -> None:
        seen.append((done, total))
        cancel.set()

    outcome = download(firmware, target, "fw.bin", TransferOptions(cancel=cancel, progress=progress))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.CANCELLED
    assert seen[0][1] == len(PAYLOAD) and 0 < seen[0][0] < len(PAYLOAD)
    assert list(target.iterdir()) == []


def test_progress_reaches_the_total(firmware: str, target: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    download(firmware, target, "fw.bin", TransferOptions(progress=lambda done, total: seen.append((done, total))))
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))


def test_start_delivers_the_outcome_from_its_thread(firmware: str, target: Path) -> None:
    delivered: list[Outcome] = []
    threads: list[threading.Thread] = []

    def run(name: str, work: Callable[[], None]) -> None:
        threads.append(threading.Thread(target=work, name=name))
        threads[-1].start()

    start("firmware", lambda: download(firmware, target, "fw.bin"), delivered.append, run)
    threads[0].join(timeout=30)
    assert delivered == [Done(target / "fw.bin", len(PAYLOAD), 0)]


def test_a_crashing_job_is_delivered_as_internal_error_not_a_silent_death(caplog: pytest.LogCaptureFixture) -> None:
    def job() -> Outcome:
        raise ZeroDivisionError

    delivered: list[Outcome] = []
    start("transfer broken", job, delivered.append, lambda _name, work: work())
    assert [getattr(o, "reason", None) for o in delivered] == [Failure.INTERNAL]
    assert "transfer broken crashed" in caplog.text and "ZeroDivisionError" in caplog.text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ftp://user:p%40ss@host/x", "ftp://user:***@host/x"),
        ("https://u:secret@h:8443/a?b=c", "https://u:***@h:8443/a?b=c"),
        ("http://:only-password@h/", "http://:***@h/"),
        ("http://h/no-credentials", "http://h/no-credentials"),
    ],
)
def test_redact_hides_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_a_bad_port_does_not_show_the_password(target: Path) -> None:
    outcome = download("ftp://user:secret@host:99999/x", target, "x")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.BAD_URL
    assert "secret" not in outcome.detail


@pytest.mark.parametrize(
    "url", ["ftp://user:pa/ss@host/fw.bin", "http://user:/secret@host/x", "https://u:12?tail@host/x"]
)
def test_a_password_that_splits_the_url_is_refused_unshown(target: Path, url: str) -> None:
    """The URL parser would take the password's tail for a path (and its head for a host or port)."""
    outcome = download(url, target, "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.BAD_URL
    assert "pa/ss" not in outcome.detail and "secret" not in outcome.detail and "tail" not in outcome.detail
