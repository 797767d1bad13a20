"""Downloads and uploads over ftp:// against a loopback pyftpdlib server (tests/transfer_servers.py): passive
mode, credentials from the URL, REST resume, and the failures named as the HTTP ones are."""

from __future__ import annotations

from pathlib import Path

import pytest
from transfer_servers import FTP_PASSWORD, FtpFiles

from chargecore.shell.transfer import Done, Failed, Failure, Limits, TransferOptions, download, upload

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def target(tmp_path: Path) -> Path:
    folder = tmp_path / "target"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("user", [True, False], ids=["user", "anonymous"])
def test_download(ftp_files: FtpFiles, target: Path, user: bool) -> None:
    (ftp_files.directory / "fw.bin").write_bytes(PAYLOAD)
    outcome = download(ftp_files.url("fw.bin", user=user), target, "fw.bin")
    assert outcome == Done(target / "fw.bin", len(PAYLOAD), 0)
    assert (target / "fw.bin").read_bytes() == PAYLOAD


def test_a_dropped_download_resumes_with_rest(ftp_files: FtpFiles, target: Path) -> None:
    (ftp_files.directory / "fw.bin").write_bytes(PAYLOAD)
    ftp_files.faults.drop_after, ftp_files.faults.drops = 300_000, 2
    outcome = download(ftp_files.url("fw.bin"), target, "fw.bin")
    assert isinstance(outcome, Done) and outcome.resumed == 2
    assert (target / "fw.bin").read_bytes() == PAYLOAD
    assert [r for r in ftp_files.faults.requests if r.startswith("REST")] == ["REST 300000", "REST 600000"]


def test_a_server_that_refuses_rest_makes_the_resume_start_over(ftp_files: FtpFiles, target: Path) -> None:
    (ftp_files.directory / "fw.bin").write_bytes(PAYLOAD)
    ftp_files.faults.drop_after, ftp_files.faults.drops, ftp_files.faults.ranges = 300_000, 1, False
    outcome = download(ftp_files.url("fw.bin"), target, "fw.bin")
    assert isinstance(outcome, Done) and outcome.resumed == 1
    assert (target / "fw.bin").read_bytes() == PAYLOAD
    retrievals = [r for r in ftp_files.faults.requests if r.startswith(("REST", "RETR"))]
    assert retrievals == ["RETR", "REST 300000", "RETR"]


def test_a_download_that_keeps_dropping_fails_dropped(ftp_files: FtpFiles, target: Path) -> None:
    (ftp_files.directory / "fw.bin").write_bytes(PAYLOAD)
    ftp_files.faults.drop_after, ftp_files.faults.drops = 1000, 10
    outcome = download(ftp_files.url("fw.bin"), target, "fw.bin", TransferOptions(Limits(resumes=1)))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.DROPPED
    assert list(target.iterdir()) == []


def test_a_missing_file_is_not_found(ftp_files: FtpFiles, target: Path) -> None:
    outcome = download(ftp_files.url("missing.bin"), target, "fw.bin")
    assert isinstance(outcome, Failed) and (outcome.reason, outcome.status) == (Failure.NOT_FOUND, 550)
    assert list(target.iterdir()) == []


def test_a_wrong_password_is_access_denied_and_not_shown(ftp_files: FtpFiles, target: Path) -> None:
    url = ftp_files.url("fw.bin").replace("s3cret", "wrong")
    outcome = download(url, target, "fw.bin")
    assert isinstance(outcome, Failed) and (outcome.reason, outcome.status) == (Failure.ACCESS_DENIED, 530)
    assert "wrong" not in outcome.detail and FTP_PASSWORD not in outcome.detail


def test_a_file_over_the_limit_is_refused_by_its_size(ftp_files: FtpFiles, target: Path) -> None:
    (ftp_files.directory / "fw.bin").write_bytes(PAYLOAD)
    outcome = download(ftp_files.url("fw.bin"), target, "fw.bin", TransferOptions(Limits(max_bytes=1000)))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.TOO_LARGE
    assert list(target.iterdir()) == []


def test_an_unreachable_server(target: Path, unused_port: int) -> None:
    outcome = download(f"ftp://127.0.0.1:{unused_port}/fw.bin", target, "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.UNREACHABLE


def test_upload_stores_into_the_directory_url(ftp_files: FtpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(PAYLOAD)
    outcome = upload(ftp_files.url(""), log, "station.log")
    assert outcome == Done(log, len(PAYLOAD))
    assert (ftp_files.directory / "station.log").read_bytes() == PAYLOAD


def test_upload_progress_reaches_the_size(ftp_files: FtpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(PAYLOAD)
    seen: list[tuple[int, int | None]] = []
    options = TransferOptions(progress=lambda *done_total: seen.append(done_total))
    assert isinstance(upload(ftp_files.url(""), log, options=options), Done)
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and seen[0][0] < len(PAYLOAD)


def test_upload_to_a_file_url_uses_that_name(ftp_files: FtpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"line\n")
    assert isinstance(upload(ftp_files.url("named.log"), log, "ignored.log"), Done)
    assert (ftp_files.directory / "named.log").read_bytes() == b"line\n"


def test_an_upload_the_server_does_not_permit_is_access_denied(ftp_files: FtpFiles, tmp_path: Path) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(b"line\n")
    outcome = upload(ftp_files.url("", user=False), log)  # anonymous may only read
    assert isinstance(outcome, Failed) and outcome.reason is Failure.ACCESS_DENIED
    assert not (ftp_files.directory / "diagnostics.log").exists()


def test_ftps_to_a_server_without_tls_fails_before_the_password_is_sent(ftp_files: FtpFiles, target: Path) -> None:
    (ftp_files.directory / "fw.bin").write_bytes(PAYLOAD)
    outcome = download(ftp_files.url("fw.bin").replace("ftp://", "ftps://"), target, "fw.bin")
    assert isinstance(outcome, Failed) and outcome.reason is Failure.TLS_FAILED
    assert "AUTH" in ftp_files.faults.requests and "PASS" not in ftp_files.faults.requests
    assert list(target.iterdir()) == []
