"""Downloads and uploads over http:// and https:// against the loopback file server (tests/transfer_servers.py):
the happy path next to every failure a CSMS's URL or the network can cause; nothing partial is left behind."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from pki import Pki
from transfer_servers import HttpFiles

from chargecore.shell.transfer import Done, Failed, Failure, Limits, TransferOptions, download, upload
from chargecore.tools.file_server import FileServer

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "target"
    folder.mkdir()
    return folder


def test_download_lands_complete_under_its_name(http_files: HttpFiles, target: Path) -> None:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    outcome = download(http_files.url + "fw.bin", target, "firmware.bin")
    assert outcome == Done(target / "firmware.bin", len(PAYLOAD), 0)
    assert (target / "firmware.bin").read_bytes() == PAYLOAD
    assert leftovers(target) == ["firmware.bin"]


def test_a_dropped_download_resumes_with_range(http_files: HttpFiles, target: Path) -> None:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    http_files.faults.drop_after, http_files.faults.drops = 300_000, 2
    outcome = download(http_files.url + "fw.bin", target, "fw.bin")
    assert isinstance(outcome, Done) and outcome.resumed == 2
    assert (target / "fw.bin").read_bytes() == PAYLOAD
    assert http_files.faults.requests == ["GET /fw.bin", "GET /fw.bin bytes=300000-", "GET /fw.bin bytes=600000-"]


def test_a_server_without_ranges_makes_the_resume_start_over(http_files: HttpFiles, target: Path) -> None:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    http_files.faults.drop_after, http_files.faults.drops, http_files.faults.ranges = 300_000, 1, False
    outcome = download(http_files.url + "fw.bin", target, "fw.bin")
    assert isinstance(outcome, Done) and outcome.resumed == 1
    assert (target / "fw.bin").read_bytes() == PAYLOAD


def test_a_download_that_keeps_dropping_fails_dropped_and_leaves_nothing(http_files: HttpFiles, target: Path) -> None:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    (target / "fw.bin").write_bytes(b"the installed one")
    http_files.faults.drop_after, http_files.faults.drops = 1000, 10
    outcome = download(http_files.url + "fw.bin", target, "fw.bin", TransferOptions(Limits(resumes=2)))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.DROPPED
    assert len(http_files.faults.requests) == 3
    assert leftovers(target) == ["fw.bin"] and (target / "fw.bin").read_bytes() == b"the installed one"


def test_404_is_not_found(http_files: HttpFiles, target: Path) -> None:
    outcome = download(http_files.url + "missing.bin", target, "fw.bin")
    assert outcome == Failed(Failure.NOT_FOUND, f"http 404: {http_files.url}missing.bin", 404)
    assert leftovers(target) == []


@pytest.mark.parametrize(("status", "reason"), [(403, Failure.ACCESS_DENIED), (500, Failure.SERVER_ERROR)])
def test_error_statuses_are_named(http_files: HttpFiles, target: Path, status: int, reason: Failure) -> None:
    http_files.faults.status = status
    outcome = download(http_files.url + "fw.bin", target, "fw.bin")
    assert isinstance(outcome, Failed) and (outcome.reason, outcome.status) == (reason, status)
    assert leftovers(target) == []


def test_an_unreachable_server(target: Path, unused_port: int) -> None:
    outcome = download(f"http://127.0.0.1:{unused_port}/fw.bin", target, "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.UNREACHABLE
    assert leftovers(target) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "sftp://host/fw.bin", "fw.bin", "gopher://h/x"])
def test_unsupported_schemes(target: Path, url: str) -> None:
    outcome = download(url, target, "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.UNSUPPORTED_SCHEME
    assert leftovers(target) == []


@pytest.mark.parametrize("url", ["http:///fw.bin", "http://host:port/fw.bin", "http://host:99999/x"])
def test_urls_without_a_usable_host_or_port(target: Path, url: str) -> None:
    outcome = download(url, target, "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.BAD_URL


def test_a_file_over_the_limit_is_refused_by_its_announced_size(http_files: HttpFiles, target: Path) -> None:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    outcome = download(http_files.url + "fw.bin", target, "fw.bin", TransferOptions(Limits(max_bytes=1000)))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.TOO_LARGE
    assert leftovers(target) == []


def test_the_password_never_reaches_the_reason(http_files: HttpFiles, target: Path) -> None:
    http_files.faults.status = 401
    url = http_files.url.replace("http://", "http://operator:hunter2@") + "fw.bin"
    outcome = download(url, target, "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.ACCESS_DENIED
    assert "hunter2" not in outcome.detail


def test_https_verifies_the_server_against_the_given_ca(https_files: HttpFiles, target: Path, pki: Pki) -> None:
    (https_files.directory / "fw.bin").write_bytes(PAYLOAD)
    assert isinstance(download(https_files.url + "fw.bin", target, "fw.bin", TransferOptions(ca_file=pki.ca)), Done)
    untrusted = download(https_files.url + "fw.bin", target, "other.bin", TransferOptions(ca_file=pki.other_ca))
    assert isinstance(untrusted, Failed) and untrusted.reason is Failure.TLS_FAILED
    assert leftovers(target) == ["fw.bin"]


def test_post_uploads_multipart_with_the_file_field(http_files: HttpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(PAYLOAD)
    outcome = upload(http_files.url, log, "station-log.txt")
    assert outcome == Done(log, len(PAYLOAD))
    assert (http_files.directory / "station-log.txt").read_bytes() == PAYLOAD
    assert http_files.announced == [f"files: received station-log.txt ({len(PAYLOAD)} bytes) from 127.0.0.1"]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_an_upload_reads_the_answer_before_closing_so_the_server_sees_no_reset(
    http_files: HttpFiles, tmp_path: Path, method: str
) -> None:
    """The answer's body arrives after its headers: closing with it unread would reset the connection, and the
    server would report the stored upload as broken off."""
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"line\n")
    http_files.faults.reply_pause = 0.2
    assert isinstance(upload(http_files.url, log, "station-log.txt", method=method), Done)
    time.sleep(0.3)  # past the server's pause, however early the client returned
    assert http_files.faults.unread_answers == 0
    assert http_files.announced == ["files: received station-log.txt (5 bytes) from 127.0.0.1"]


def test_put_uploads_the_raw_file_to_the_directory_url(http_files: HttpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"line\n")
    assert isinstance(upload(http_files.url + "logs/", log, method="PUT"), Done)
    assert (http_files.directory / "diagnostics.log").read_bytes() == b"line\n"


def test_an_upload_refused_by_the_server(http_files: HttpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"line\n")
    http_files.faults.status = 403
    outcome = upload(http_files.url, log)
    assert isinstance(outcome, Failed) and outcome.reason is Failure.ACCESS_DENIED


def test_uploading_a_missing_file_is_a_local_error(http_files: HttpFiles, tmp_path: Path) -> None:
    outcome = upload(http_files.url, tmp_path / "nothing.log")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.LOCAL_IO
    assert http_files.faults.requests == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only directory")
def test_an_unwritable_target_directory_is_permission_denied(http_files: HttpFiles, target: Path) -> None:
    (http_files.directory / "fw.bin").write_bytes(PAYLOAD)
    target.chmod(0o500)
    try:
        outcome = download(http_files.url + "fw.bin", target, "fw.bin")
    finally:
        target.chmod(0o700)
    assert isinstance(outcome, Failed) and outcome.reason is Failure.PERMISSION_DENIED
    assert leftovers(target) == []


def test_a_silent_server_cannot_hold_the_download_past_its_time_limit(target: Path) -> None:
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/fw.bin"
        started = time.monotonic()
        outcome = download(url, target, "fw.bin", TransferOptions(Limits(total_seconds=1.0)))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.TIMED_OUT
    assert time.monotonic() - started < 3
    assert list(target.iterdir()) == []


def test_https_upload(https_files: HttpFiles, tmp_path: Path, pki: Pki) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(PAYLOAD)
    assert isinstance(upload(https_files.url, log, options=TransferOptions(ca_file=pki.ca)), Done)
    assert (https_files.directory / "diagnostics.log").read_bytes() == PAYLOAD


def test_upload_progress_and_cancelling_mid_upload(http_files: HttpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(PAYLOAD)
    seen: list[tuple[int, int | None]] = []
    assert isinstance(upload(http_files.url, log, options=TransferOptions(progress=lambda *p: seen.append(p))), Done)
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and len(seen) > 1
    cancel = threading.Event()
    options = TransferOptions(cancel=cancel, progress=lambda _done, _total: cancel.set())
    outcome = upload(http_files.url, log, "second.log", options=options)
    assert isinstance(outcome, Failed) and outcome.reason is Failure.CANCELLED
    assert not (http_files.directory / "second.log").exists()


def test_an_upload_over_the_limit_is_not_sent(http_files: HttpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(PAYLOAD)
    outcome = upload(http_files.url, log, options=TransferOptions(Limits(max_bytes=1000)))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.TOO_LARGE
    assert http_files.faults.requests == []


def test_a_cancelled_upload_is_not_sent(http_files: HttpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"line\n")
    options = TransferOptions()
    options.cancel.set()
    outcome = upload(http_files.url, log, options=options)
    assert isinstance(outcome, Failed) and outcome.reason is Failure.CANCELLED
    assert http_files.faults.requests == []


def test_an_upload_the_server_refuses_as_too_large_is_a_server_error(tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"twelve bytes")
    server = FileServer(tmp_path / "files", announce=lambda _line: None, max_upload=10).start()
    try:
        outcome = upload(server.url, log)
    finally:
        server.stop()
    assert isinstance(outcome, Failed) and (outcome.reason, outcome.status) == (Failure.SERVER_ERROR, 413)


@pytest.mark.parametrize("status", [301, 307])
def test_an_upload_does_not_follow_a_redirect(http_files: HttpFiles, tmp_path: Path, status: int) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"line\n")
    http_files.faults.status = status
    outcome = upload(http_files.url, log)
    assert isinstance(outcome, Failed) and (outcome.reason, outcome.status) == (Failure.SERVER_ERROR, status)
    assert http_files.faults.requests == ["POST /"]
