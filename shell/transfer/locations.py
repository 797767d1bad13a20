"""A transfer URL taken apart once: scheme, host, port, credentials, path; and its redacted text, the only form of
the URL that may reach a log, a reason or an exception message (`user:password@` becomes `user:***@`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from chargecore.shell.transfer.outcome import Failure, TransferError

SCHEMES = ("http", "https", "ftp", "ftps")
_USERINFO = re.compile(r"//([^/?#@:]*):[^@]*@")
_AUTHORITY = re.compile(r"[^:/?#]*://[^/?#]*")


def redact(url: str) -> str:
    """The URL with the password of its userinfo replaced by `***` (the user name stays, it helps debugging).
    Everything up to the first "@" counts as the password, so an unencoded "/" or "?" in a malformed URL's
    password cannot show its tail (a URL with "@" only in its path is shown mangled, never leaking)."""
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
    shown: str  # how the location appears in details and logs: the URL as given, its password masked

    def scrub(self, text: str) -> str:
        """`text` (e.g. an exception message) with this location's password removed wherever it occurs."""
        text = redact(text)
        return text.replace(self.password, "***") if self.password else text


def parse(url: str) -> Location:
    """Raises TransferError UNSUPPORTED_SCHEME or BAD_URL; the message never holds the password.

    A password with an unencoded "/", "?" or "#" would split the URL inside the password (its tail taken for
    the path and sent to a wrong host): such a URL, where the "@" after a ":" is not in the authority, is a
    BAD_URL, and no library's error text about it is shown."""
    url = url.strip()
    authority = _AUTHORITY.match(url)
    userinfo = _USERINFO.search(url)
    if userinfo is not None and (authority is None or userinfo.end() > authority.end()):
        raise TransferError(Failure.BAD_URL, f"bad url {redact(url)}: the password needs percent-encoding")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TransferError(Failure.BAD_URL, f"bad url {redact(url)}: no valid host and port") from None
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
    return Location(scheme, parts.hostname, port, user, password, path, bare, redact(url))
