"""http:// and https:// with urllib3: GET streamed into a `PartFile` (resumed with `Range: bytes=N-`), POST
multipart/form-data or PUT for uploads, the body streamed from the file.

Credentials in the URL become a Basic Authorization header (never part of the requested URL); urllib3 drops
that header on a redirect to another host. https:// verifies the server against `TransferOptions.ca_file` (the
system's store when None). A download follows up to 5 redirects; an upload none (its streamed body cannot be
sent twice, and a log must not be sent where the CSMS did not say): a 3xx answer fails it SERVER_ERROR.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import urllib3
from urllib3.exceptions import (
    HTTPError,
    MaxRetryError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)

from chargecore.shell.transfer.files import Budget, PartFile, local_failure
from chargecore.shell.transfer.locations import Location
from chargecore.shell.transfer.outcome import Failure, TransferError

_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")
_REPLY_BYTES = 64 * 1024  # an upload answer is a line or a small page; more stays unread


def download(location: Location, part: PartFile, budget: Budget) -> None:
    """One attempt: from `part.size` on (a resume) or from the start. DROPPED when the body breaks off."""
    headers = _auth(location)
    if part.size:
        headers["Range"] = f"bytes={part.size}-"
    response = _request(location, budget, "GET", location.url, headers, None)
    try:
        _check_status(response, location, Failure.NOT_FOUND)
        if response.status == 206:
            _continue_at(response, part, location)
        elif part.size:
            part.restart()  # 200 to a Range request: the server cannot resume, it sends everything again
        length = response.headers.get("Content-Length")
        announced = part.size + int(length) if length and length.isdigit() else None
        part.total = part.total or announced
        budget.allow(announced)
        while chunk := response.read1(budget.options.limits.chunk_bytes, decode_content=False):  # the bytes as sent
            part.write(chunk)
    except (HTTPError, OSError) as error:  # urllib3's ProtocolError, ReadTimeoutError, SSLError; a reset socket
        why = location.scrub(_why(error))
        raise TransferError(Failure.DROPPED, f"dropped at byte {part.size} of {location.shown}: {why}") from None
    finally:
        response.close()  # one connection per attempt: nothing is kept open between transfers


def upload(location: Location, path: Path, remote_name: str, budget: Budget, method: str, field: str) -> int:
    """POST multipart/form-data (the file in form field `field`, named `remote_name`) or PUT (the raw file, to
    the URL, plus `remote_name` when the URL ends with "/"). Returns the number of file bytes sent."""
    size = _size_of(path)
    budget.allow(size)
    headers = _auth(location)
    url = location.url
    if method == "PUT":
        url += remote_name if url.endswith("/") else ""
        headers["Content-Type"] = "application/octet-stream"
        head, tail = b"", b""
    else:
        boundary = uuid.uuid4().hex
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{remote_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
    headers["Content-Length"] = str(len(head) + size + len(tail))
    with _open_for_reading(path) as file:
        body = _body(head, file, tail, budget, size)
        response = _request(location, budget, method, url, headers, body)
    try:
        _check_status(response, location, Failure.SERVER_ERROR)
        _read_short_reply(response)
    finally:
        response.close()
    return size


def _read_short_reply(response: urllib3.BaseHTTPResponse) -> None:
    """Read the server's few-byte answer before closing: a socket closed with unread bytes sends a reset,
    which the server sees as a transfer broken off although the upload was stored."""
    with contextlib.suppress(HTTPError, OSError):  # the file was taken (2xx); a lost reply changes nothing
        response.read(_REPLY_BYTES, decode_content=False)


def _request(
    location: Location, budget: Budget, method: str, url: str, headers: dict[str, str], body: Iterator[bytes] | None
) -> urllib3.BaseHTTPResponse:
    budget.check()
    ca = budget.options.ca_file
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=str(ca) if ca else None)
    timeout = budget.socket_timeout()
    redirects = 5 if body is None else 0
    retries = urllib3.Retry(
        total=None, connect=0, read=0, status=0, other=0, redirect=redirects, raise_on_redirect=body is None
    )
    try:
        return pool.request(
            method,
            url,
            headers=headers,
            body=body,
            preload_content=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=retries,
        )
    except MaxRetryError as error:
        raise _connection_failure(error.reason or error, location) from None
    except HTTPError as error:
        raise _connection_failure(error, location) from None


def _connection_failure(error: Exception, location: Location) -> TransferError:
    """What a failure before the response is called; anything not named below (refused, no such host, connect
    timeout: urllib3's ConnectTimeoutError family) is UNREACHABLE."""
    why = location.scrub(_why(error))
    if isinstance(error, SSLError):
        return TransferError(Failure.TLS_FAILED, f"tls failed with {location.shown}: {why}")
    if isinstance(error, ProtocolError | ReadTimeoutError):
        return TransferError(Failure.DROPPED, f"dropped by {location.shown}: {why}")
    if isinstance(error, ResponseError):
        return TransferError(Failure.SERVER_ERROR, f"{location.shown}: {why}")
    return TransferError(Failure.UNREACHABLE, f"unreachable: {location.shown}: {why}")


def _check_status(response: urllib3.BaseHTTPResponse, location: Location, missing: Failure) -> None:
    status = response.status
    if status < 300:
        return
    if status in (404, 410):
        raise TransferError(missing, f"http {status}: {location.shown}", status)
    if status in (401, 403):
        raise TransferError(Failure.ACCESS_DENIED, f"http {status}: {location.shown}", status)
    raise TransferError(Failure.SERVER_ERROR, f"http {status}: {location.shown}", status)


def _continue_at(response: urllib3.BaseHTTPResponse, part: PartFile, location: Location) -> None:
    """A 206 must continue exactly where the part file ends."""
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if match is None or int(match.group(1)) != part.size:
        detail = f"http 206 with a Content-Range that does not continue at byte {part.size}: {location.shown}"
        raise TransferError(Failure.SERVER_ERROR, detail, 206)
    if match.group(2).isdigit():
        part.total = int(match.group(2))


def _auth(location: Location) -> dict[str, str]:
    if location.user is None:
        return {}
    return dict(urllib3.make_headers(basic_auth=f"{location.user}:{location.password or ''}"))


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as error:
        raise local_failure(error, f"reading {path.name}") from None


def _open_for_reading(path: Path) -> BinaryIO:
    try:
        return path.open("rb")
    except OSError as error:
        raise local_failure(error, f"reading {path.name}") from None


def _body(head: bytes, file: BinaryIO, tail: bytes, budget: Budget, size: int) -> Iterator[bytes]:
    """The request body, read chunk by chunk; a local read error is a TransferError (urllib3 would take an
    OSError for a network failure)."""
    yield head
    sent = 0
    while True:
        try:
            chunk = file.read(budget.options.limits.chunk_bytes)
        except OSError as error:
            raise local_failure(error, "reading the file to upload") from None
        if not chunk:
            break
        yield chunk
        sent += len(chunk)
        budget.advance(sent, size)
    yield tail


def _why(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
