"""`chargecore csms --files-dir DIR` (tools/file_server.py): serves DIR with Range, takes uploads by POST multipart
and PUT into DIR, one printed line per transfer; and refuses what would leave DIR or overflow it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import urllib3
from transfer_servers import HttpFiles

from chargecore.shell.transfer import Done, download, upload
from chargecore.tools.file_server import FileServer

CHARGECORE = [sys.executable, "-c", "import sys; from chargecore.shell.cli import main; sys.exit(main(sys.argv[1:]))"]


def test_range_requests_continue_where_asked(http_files: HttpFiles) -> None:
    (http_files.directory / "fw.bin").write_bytes(b"0123456789")
    answer = urllib3.request("GET", http_files.url + "fw.bin", headers={"Range": "bytes=4-"})
    assert (answer.status, answer.data, answer.headers["Content-Range"]) == (206, b"456789", "bytes 4-9/10")
    assert urllib3.request("GET", http_files.url + "fw.bin", headers={"Range": "bytes=11-"}).status == 416


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/.hidden.part", "/"])
def test_nothing_outside_the_directory_or_hidden_is_served(http_files: HttpFiles, path: str) -> None:
    (http_files.directory.parent / "secret.txt").write_text("no")
    (http_files.directory / ".hidden.part").write_text("no")
    assert urllib3.request("GET", http_files.url.rstrip("/") + path).status == 404


def test_a_put_lands_under_its_last_path_segment_only(http_files: HttpFiles) -> None:
    answer = urllib3.request("PUT", http_files.url + "..%2F..%2Fescape.txt", body=b"data")
    assert answer.status == 201
    assert (http_files.directory / "escape.txt").read_bytes() == b"data"
    assert not (http_files.directory.parent / "escape.txt").exists()


def test_a_post_without_a_file_part_is_refused(http_files: HttpFiles) -> None:
    answer = urllib3.request("POST", http_files.url, fields={"note": "no file here"})
    assert answer.status == 400 and list(http_files.directory.iterdir()) == []


def test_an_upload_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    announced: list[str] = []
    server = FileServer(tmp_path, announce=announced.append, max_upload=10).start()
    try:
        assert urllib3.request("PUT", server.url + "big.bin", body=b"x" * 11).status == 413
    finally:
        server.stop()
    assert list(tmp_path.iterdir()) == [] and announced == []


def test_csms_files_dir_serves_and_receives_and_prints_each_transfer(tmp_path: Path, unused_port: int) -> None:
    files = tmp_path / "files"
    files.mkdir()
    (files / "fw.bin").write_bytes(b"firmware")
    csms = subprocess.Popen(
        [*CHARGECORE, "csms", "--port", "0", "--files-dir", str(files), "--files-port", str(unused_port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert csms.stdout is not None
        lines = [csms.stdout.readline(), csms.stdout.readline()]
        assert lines[1].startswith(f"files served on http://127.0.0.1:{unused_port}/ from {files}")
        url = f"http://127.0.0.1:{unused_port}/"
        assert isinstance(download(url + "fw.bin", tmp_path, "got.bin"), Done)
        log = tmp_path / "station.log"
        log.write_text("log line\n")
        assert isinstance(upload(url, log), Done)
        assert (files / "station.log").read_text() == "log line\n"
        printed = [csms.stdout.readline().strip(), csms.stdout.readline().strip()]
        assert printed == [
            "files: sent fw.bin (8 bytes from 0) to 127.0.0.1",
            "files: received station.log (9 bytes) from 127.0.0.1",
        ]
    finally:
        csms.communicate("quit\n", timeout=10)
    assert csms.returncode == 0


def test_csms_refuses_a_files_dir_that_is_no_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [*CHARGECORE, "csms", "--port", "0", "--files-dir", str(tmp_path / "missing")],
        input="",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "--files-dir" in done.stderr and "is not a directory" in done.stderr
