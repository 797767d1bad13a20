"""A transfer URL taken apart once: scheme, host, port, credentials, path; and its redacted text, the only form of
the URL that may reach a log, a reason or an exception message (`user:password@` becomes `user:***@`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from chargecore.shell.transfer.outcome import Failure, TransferError

SCHEMES = ("http", "https", "ftp", "ftps")
_USERINFO = re.compile(r"//([^/@:]*):[^/@]*@")


def redact(url: str) -> str:
    """The URL with the password of its userinfo replaced by `***` (the user name stays, it helps debugging)."""
    return _USERINFO.sub(r"//\1:***@", url)


@dataclass(frozen=True)
class Location:
    scheme: str
    host: str
    port: int | None
    user: str | None
    password: str | None
    path: str  # percent-decoded for FTP; kept as written (with the query) for HTTP
    url: str  # without the userinfo: what HTTP requests

    @property
    def shown(self) -> str:
        """How the location appears in details and logs."""
        return redact(self.url)

    def scrub(self, text: str) -> str:
        """`text` (e.g. an exception message) with this location's password removed wherever it occurs."""
        text = redact(text)
        return text.replace(self.password, "***") if self.password else text


def parse(url: str) -> Location:
    """Raises TransferError UNSUPPORTED_SCHEME or BAD_URL; the message never holds the password."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise TransferError(Failure.BAD_URL, f"bad url {redact(url)}: {redact(str(error))}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TransferError(Failure.UNSUPPORTED_SCHEME, f"unsupported scheme {scheme or '(none)'!r} in {redact(url)}")
    if not parts.hostname:
        raise TransferError(Failure.BAD_URL, f"no host in {redact(url)}")
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc += f":{port}" if port is not None else ""
    bare = parts._replace(scheme=scheme, netloc=netloc, fragment="").geturl()
    path = parts.path or "/"
    if scheme.startswith("http"):
        path += f"?{parts.query}" if parts.query else ""
    else:
        path = unquote(path)
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return Location(scheme, parts.hostname, port, user, password, path, bare)
