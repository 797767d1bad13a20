"""Downloads and uploads over ftps:// (explicit FTPS: AUTH TLS, PROT P) against a loopback pyftpdlib server that
requires TLS on the control and the data connections (tests/transfer_servers.py), verified against the test CA."""

from __future__ import annotations

from pathlib import Path

from pki import Pki
from transfer_servers import FtpFiles

from chargecore.shell.transfer import Done, Failed, Failure, TransferOptions, download, upload

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


def test_download(ftps_files: FtpFiles, tmp_path: Path, pki: Pki) -> None:
    (ftps_files.directory / "fw.bin").write_bytes(PAYLOAD)
    outcome = download(ftps_files.url("fw.bin"), tmp_path, "fw.bin", TransferOptions(ca_file=pki.ca))
    assert outcome == Done(tmp_path / "fw.bin", len(PAYLOAD), 0)
    assert (tmp_path / "fw.bin").read_bytes() == PAYLOAD
    assert ftps_files.faults.requests[:2] == ["AUTH", "USER"] and "PROT" in ftps_files.faults.requests


def test_upload(ftps_files: FtpFiles, tmp_path: Path, pki: Pki) -> None:
    log = tmp_path / "diagnostics.log"
    log.write_bytes(PAYLOAD)
    outcome = upload(ftps_files.url(""), log, "station.log", TransferOptions(ca_file=pki.ca))
    assert outcome == Done(log, len(PAYLOAD))
    assert (ftps_files.directory / "station.log").read_bytes() == PAYLOAD


def test_an_untrusted_server_fails_tls_before_the_password_is_sent(
    ftps_files: FtpFiles, tmp_path: Path, pki: Pki
) -> None:
    (ftps_files.directory / "fw.bin").write_bytes(PAYLOAD)
    target = tmp_path / "target"
    target.mkdir()
    outcome = download(ftps_files.url("fw.bin"), target, "fw.bin", TransferOptions(ca_file=pki.other_ca))
    assert isinstance(outcome, Failed) and outcome.reason is Failure.TLS_FAILED
    assert "PASS" not in ftps_files.faults.requests
    assert list(target.iterdir()) == []
