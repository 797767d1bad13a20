"""The CSMS's file server (`chargecore csms --files-dir DIR`): a small HTTP endpoint next to the websocket that
serves firmware files from DIR and receives uploaded logs into DIR, one printed line per transfer.

GET/HEAD serve a file of DIR (with `Range: bytes=N-` so that a dropped download resumes); POST takes a
multipart/form-data body (the part named `file`, else the first part with a filename) and PUT a raw body,
stored under the uploaded file's own name (its last path segment, never outside DIR), written to a temporary
file and renamed when complete. Uploads above `max_upload` bytes are refused (413). Tests subclass
`FilesHandler` to drop a connection halfway or answer an error (tests/transfer_servers.py).
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import os
import re
import ssl
import sys
import tempfile
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

MAX_UPLOAD = 64 * 1024 * 1024  # a log bundle; POST bodies are parsed in memory
MAX_PORT = 65535
_RANGE = re.compile(r"bytes=(\d+)-")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[FilesHandler], files: FileServer) -> None:
        super().__init__(address, handler)
        self.files = files

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that goes away mid-transfer is its own business: one line, no traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError | ssl.SSLError):
            self.files.announce(f"files: transfer with {client_address} broke off: {type(error).__name__}")
        else:
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class FilesHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self._serve(with_body=False)

    def do_GET(self) -> None:
        self._serve(with_body=True)

    def do_PUT(self) -> None:
        body = self._read_body()
        if body is not None:
            self._store(self._name_in(self.path), body)

    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            return
        header = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
        parts = [part for part in message.iter_parts() if part.get_filename()] if message.is_multipart() else []
        named = [part for part in parts if part.get_param("name", header="content-disposition") == "file"]
        if not parts:
            self._answer(HTTPStatus.BAD_REQUEST, "expected multipart/form-data with a file part")
            return
        part = (named or parts)[0]
        content = part.get_payload(decode=True)
        self._store(self._name_in(part.get_filename() or ""), content if isinstance(content, bytes) else b"")

    def send_file(self, file: BinaryIO, length: int) -> None:
        """Write `length` bytes of `file` to the client; tests override it to drop the connection halfway."""
        while length > 0 and (chunk := file.read(min(length, 64 * 1024))):
            self.wfile.write(chunk)
            length -= len(chunk)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: `FileServer.announce` prints one line per transfer instead of one per request."""

    def _serve(self, *, with_body: bool) -> None:
        path = self._existing(self.path)
        if path is None:
            self._answer(HTTPStatus.NOT_FOUND, "no such file")
            return
        size = path.stat().st_size
        match = _RANGE.fullmatch(self.headers.get("Range", "").strip())
        start = int(match.group(1)) if match else 0
        if start > size:
            self._answer(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, "range beyond the end")
            return
        self.send_response(HTTPStatus.PARTIAL_CONTENT if match else HTTPStatus.OK)
        if match:
            self.send_header("Content-Range", f"bytes {start}-{max(start, size - 1)}/{size}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        if with_body:
            with path.open("rb") as file:
                file.seek(start)
                self.send_file(file, size - start)
            self.server.files.announce(f"files: sent {path.name} ({size - start} bytes from {start}) to {self._peer}")

    def _read_body(self) -> bytes | None:
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            self._answer(HTTPStatus.LENGTH_REQUIRED, "Content-Length required")
            return None
        if int(length) > self.server.files.max_upload:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "upload too large")
            return None
        body = self.rfile.read(int(length))
        if len(body) < int(length):  # the client went away mid-upload: nothing of it is stored
            self.server.files.announce(f"files: upload from {self._peer} broke off after {len(body)} bytes")
            self.close_connection = True
            return None
        return body

    def _store(self, name: str | None, content: bytes) -> None:
        if name is None:
            self._answer(HTTPStatus.BAD_REQUEST, "no file name")
            return
        directory = self.server.files.directory
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, directory / name)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            self._answer(HTTPStatus.INTERNAL_SERVER_ERROR, "could not store the upload")
            return
        self.server.files.announce(f"files: received {name} ({len(content)} bytes) from {self._peer}")
        self._answer(HTTPStatus.CREATED, "stored")

    def _existing(self, url_path: str) -> Path | None:
        name = self._name_in(url_path)
        path = self.server.files.directory / name if name else None
        return path if path is not None and path.is_file() else None

    @staticmethod
    def _name_in(text: str) -> str | None:
        """The last path segment, if it is a plain file name (no way out of DIR, no hidden part files)."""
        name = unquote(urlsplit(text).path).replace("\\", "/").rsplit("/", 1)[-1]
        return name if name and not name.startswith(".") else None

    def _answer(self, status: HTTPStatus, text: str) -> None:
        body = f"{text}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    @property
    def _peer(self) -> str:
        return str(self.client_address[0])


class FileServer:
    """`FileServer(DIR).start()` serves on `url` (loopback, a free port by default) until `stop()`."""

    def __init__(
        self,
        directory: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        announce: Callable[[str], None] = print,
        tls: ssl.SSLContext | None = None,
        handler: type[FilesHandler] = FilesHandler,
        max_upload: int = MAX_UPLOAD,
    ) -> None:
        self.directory = directory
        self.announce = announce
        self.max_upload = max_upload
        self._server = _Server((host, port), handler, self)
        if tls is not None:
            self._server.socket = tls.wrap_socket(  # the handshake runs in the request's thread
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._scheme = "https" if tls is not None else "http"
        self._thread = threading.Thread(target=self._server.serve_forever, name="file-server", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, ending with "/": `url + name` downloads DIR/name, `url` takes uploads."""
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host!s}:{port}/"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def add_options(parser: argparse.ArgumentParser, port: Callable[[str], int]) -> None:
    """`chargecore csms --files-dir DIR [--files-port P]`; `port` parses a port number as --port does."""
    parser.add_argument("--files-dir", help="serve firmware files from DIR and receive uploads into DIR over HTTP")
    parser.add_argument(
        "--files-port", type=port, help="the file server's port (default: the websocket port + 1; 0 = any)"
    )


def start_from(args: argparse.Namespace) -> FileServer | None:
    """The file server `chargecore csms` asked for, started and announced, or None. Raises UsageError for a
    --files-dir that is no directory and OSError when the port cannot be had."""
    if args.files_dir is None:
        return None
    directory = Path(args.files_dir)
    if not directory.is_dir():
        raise UsageError(f"--files-dir {directory} is not a directory")
    port = args.files_port if args.files_port is not None else (args.port + 1 if args.port else 0)
    if not 0 <= port <= MAX_PORT:
        raise UsageError(f"--port {args.port} leaves no port next to it: give --files-port")
    server = FileServer(directory, args.host, port, announce=lambda line: print(line, flush=True)).start()
    print(f"files served on {server.url} from {directory} (GET; uploads by POST multipart or PUT)", flush=True)
    return server


class UsageError(ValueError):
    """A bad --files-dir or --files-port."""
