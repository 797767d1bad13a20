"""Loopback file servers for the transfer tests and for the firmware and diagnostics tests that build on them:
an HTTP server (tools/file_server.py's, with faults to inject), its HTTPS variant (the test PKI), an FTP
server (pyftpdlib) and its explicit-FTPS variant (TLS_FTPHandler, needs pyOpenSSL; the test PKI). Each
serves and receives files in one directory and can drop a download halfway.

    def test_x(http_files: HttpFiles) -> None:
        (http_files.directory / "fw.bin").write_bytes(b"...")
        http_files.faults.drop_after, http_files.faults.drops = 1000, 1   # the first GET breaks at byte 1000
        download(http_files.url + "fw.bin", target_dir, "fw.bin")

FTP: user `FTP_USER` with password `FTP_PASSWORD` may read and write; anonymous may only read.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from pki import Pki

from chargecore.tools.file_server import FileServer, FilesHandler

FTP_USER = "station"
FTP_PASSWORD = "s3cret:pa@ss"  # characters that need quoting in a URL
FTP_PASSWORD_IN_URL = "s3cret%3Apa%40ss"


@dataclass
class Faults:
    """What the next requests suffer. `drops`: how many downloads break off after `drop_after` bytes (counted
    from where each starts). `status`: an HTTP status every request gets instead of being served. `ranges`:
    False makes the HTTP server ignore Range (answer 200 with everything) and the FTP server refuse REST (502),
    as many servers do."""

    drop_after: int = 0
    drops: int = 0
    status: int | None = None
    ranges: bool = True
    reply_pause: float = 0.0
    """Seconds the HTTP server waits between a reply's headers and its body, so the client reads them apart."""
    unread_answers: int = 0
    """How many clients closed during that pause, before the body of their answer came."""
    requests: list[str] = field(default_factory=list)
    """What the server was asked: HTTP `GET /path <range>`, `PUT /path`, `POST /path`; FTP the command names
    (`USER`, `PASS`, `RETR`, ...; `REST <offset>` with its offset)."""

    def take_drop(self) -> int | None:
        """The byte count after which this download breaks off, or None when it should complete."""
        if self.drops <= 0:
            return None
        self.drops -= 1
        return self.drop_after


class FaultyHandler(FilesHandler):
    faults: Faults

    def do_GET(self) -> None:
        self.faults.requests.append(f"GET {self.path} {self.headers.get('Range', '')}".strip())
        if self._fault_status():
            return
        if not self.faults.ranges and "Range" in self.headers:
            del self.headers["Range"]
        super().do_GET()

    def do_POST(self) -> None:
        self.faults.requests.append(f"POST {self.path}")
        if not self._fault_status():
            super().do_POST()

    def do_PUT(self) -> None:
        self.faults.requests.append(f"PUT {self.path}")
        if not self._fault_status():
            super().do_PUT()

    def end_headers(self) -> None:
        super().end_headers()
        if self.faults.reply_pause:
            time.sleep(self.faults.reply_pause)
            with contextlib.suppress(BlockingIOError):  # nothing to read: the client still waits for the body
                if self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                    self.faults.unread_answers += 1

    def send_file(self, file: BinaryIO, length: int) -> None:
        cut = self.faults.take_drop()
        if cut is None:
            super().send_file(file, length)
            return
        self.wfile.write(file.read(min(cut, length)))
        self.wfile.flush()
        self.close_connection = True
        self.connection.close()

    def _fault_status(self) -> bool:
        status = self.faults.status
        if status is None:
            return False
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True


@dataclass
class HttpFiles:
    directory: Path
    url: str
    faults: Faults
    announced: list[str]


def _serve_http(directory: Path, tls: Any = None) -> tuple[FileServer, HttpFiles]:
    directory.mkdir(parents=True, exist_ok=True)
    faults, announced = Faults(), []
    handler = type("Handler", (FaultyHandler,), {"faults": faults})
    server = FileServer(directory, announce=announced.append, tls=tls, handler=handler).start()
    return server, HttpFiles(directory, server.url, faults, announced)


@pytest.fixture
def http_files(tmp_path: Path) -> Iterator[HttpFiles]:
    server, files = _serve_http(tmp_path / "http-files")
    yield files
    server.stop()


@pytest.fixture
def https_files(tmp_path: Path, pki: Pki) -> Iterator[HttpFiles]:
    """The same over TLS, certificate for 127.0.0.1 signed by `pki.ca` (pass it as `TransferOptions.ca_file`)."""
    server, files = _serve_http(tmp_path / "https-files", pki.server_context())
    yield files
    server.stop()


def dropping_dtp(faults: Faults, base: type) -> type:
    """pyftpdlib's data-connection handler `base`, closing the connection after `Faults.drop_after` bytes when
    asked."""

    class DroppingDTP(base):  # type: ignore[misc,valid-type]
        _cut: int | None = None
        _decided = False

        def send(self, data: bytes) -> int:
            if not self._decided:  # the first send of this data connection: a RETR (the client never LISTs)
                self._decided, self._cut = True, faults.take_drop()
            if self._cut is not None and self.tot_bytes_sent + len(data) >= self._cut:
                sent = super().send(data[: max(0, self._cut - self.tot_bytes_sent)])
                self.close()
                return int(sent)
            return int(super().send(data))

    return DroppingDTP


@dataclass
class FtpFiles:
    directory: Path
    host: str
    port: int
    faults: Faults
    scheme: str = "ftp"

    def url(self, path: str = "", *, user: bool = True) -> str:
        """`ftp://station:<password>@host:port/<path>` (ftps:// for `ftps_files`); `user=False` for anonymous."""
        credentials = f"{FTP_USER}:{FTP_PASSWORD_IN_URL}@" if user else ""
        return f"{self.scheme}://{credentials}{self.host}:{self.port}/{path}"


def serve_ftp(
    directory: Path, faults: Faults, tls: tuple[Path, Path] | None = None
) -> tuple[str, int, Callable[[], None]]:
    """A pyftpdlib server on loopback for `directory` (FTP_USER reads and writes, anonymous reads), on a thread;
    returns its host, port and the function that stops it. `tls` (certificate, key): explicit FTPS, TLS required
    on the control connection (AUTH TLS before USER) and on the data connections (PROT P before RETR/STOR).
    (pyftpdlib is imported here, not at the top: it warns about asynchat on import, only FTP tests need it.)"""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import DTPHandler, FTPHandler
    from pyftpdlib.servers import FTPServer

    base, dtp_base = FTPHandler, DTPHandler
    if tls is not None:
        from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

        base, dtp_base = TLS_FTPHandler, TLS_DTPHandler

    quiet = logging.getLogger("pyftpdlib")  # a handler of its own keeps pyftpdlib from configuring logging itself
    quiet.setLevel(logging.WARNING)
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    authorizer = DummyAuthorizer()
    authorizer.add_user(FTP_USER, FTP_PASSWORD, str(directory), perm="elradfmw")
    authorizer.add_anonymous(str(directory), perm="elr")

    class Handler(base):  # type: ignore[misc,valid-type]
        def pre_process_command(self, line: str, cmd: str, arg: str) -> None:
            faults.requests.append(f"REST {arg}" if cmd == "REST" else cmd)  # the commands, never an argument
            super().pre_process_command(line, cmd, arg)

        def ftp_REST(self, line: str) -> None:
            if faults.ranges:
                super().ftp_REST(line)
            else:
                self.respond("502 Command not implemented.")

    Handler.authorizer, Handler.dtp_handler, Handler.use_sendfile = authorizer, dropping_dtp(faults, dtp_base), False
    if tls is not None:
        Handler.certfile, Handler.keyfile = str(tls[0]), str(tls[1])
        Handler.tls_control_required = Handler.tls_data_required = True
    server = FTPServer(("127.0.0.1", 0), Handler)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            server.ioloop.loop(timeout=0.05, blocking=False)
        server.close_all()

    thread = threading.Thread(target=serve, name="ftp-server", daemon=True)
    thread.start()
    host, port = server.socket.getsockname()[:2]

    def stop_serving() -> None:
        stop.set()
        thread.join(timeout=5)

    return str(host), int(port), stop_serving


@pytest.fixture
def ftp_files(tmp_path: Path) -> Iterator[FtpFiles]:
    directory = tmp_path / "ftp-files"
    directory.mkdir()
    faults = Faults()
    host, port, stop = serve_ftp(directory, faults)
    yield FtpFiles(directory, host, port, faults)
    stop()


@pytest.fixture
def ftps_files(tmp_path: Path, pki: Pki) -> Iterator[FtpFiles]:
    """The same over explicit FTPS, certificate for 127.0.0.1 signed by `pki.ca` (pass it as `ca_file`)."""
    directory = tmp_path / "ftps-files"
    directory.mkdir()
    faults = Faults()
    host, port, stop = serve_ftp(directory, faults, tls=(pki.server_cert, pki.server_key))
    yield FtpFiles(directory, host, port, faults, scheme="ftps")
    stop()


@pytest.fixture
def unused_port() -> int:
    """A loopback TCP port nothing listens on (bound once and released: a connect to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
