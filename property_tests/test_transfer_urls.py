"""Whatever URL a CSMS sends in UpdateFirmware or GetLog, taking it apart (shell/transfer/locations.py) ends in a
Location or a named failure, never another exception, and no text shown of it holds its password."""

from __future__ import annotations

from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from chargecore.shell.transfer import Failure
from chargecore.shell.transfer.locations import parse, redact
from chargecore.shell.transfer.outcome import TransferError

SCHEMES = st.sampled_from(["http", "https", "ftp", "ftps", "HTTP", "sftp", "file", ""])
PASSWORDS = st.text(min_size=6, max_size=20).filter(lambda p: "*" not in p)


@given(st.text(max_size=200))
def test_any_text_parses_or_fails_with_a_named_reason(text: str) -> None:
    try:
        location = parse(text)
    except TransferError as error:
        assert error.failed.reason in {Failure.UNSUPPORTED_SCHEME, Failure.BAD_URL}
    else:
        assert location.scheme in {"http", "https", "ftp", "ftps"} and location.host


@given(SCHEMES, st.text(alphabet="abcdefgh", min_size=1, max_size=8), PASSWORDS, st.text(max_size=30))
def test_the_password_is_never_shown(scheme: str, user: str, password: str, path: str) -> None:
    url = f"{scheme}://{user}:{quote(password, safe='')}@host.example:21/{quote(path)}"
    assert redact(url) == f"{scheme}://{user}:***@host.example:21/{quote(path)}"
    try:
        location = parse(url)
    except TransferError as error:
        assert f":{quote(password, safe='')}@" not in error.failed.detail and ":***@" in error.failed.detail
    else:
        assert location.password == password
        assert password not in location.scrub(f"login failed for {password}") and "@" not in location.url


@given(SCHEMES, PASSWORDS.filter(lambda p: "@" not in p))
def test_an_unencoded_password_is_not_shown_either(scheme: str, password: str) -> None:
    """A CSMS may send `ftp://user:pa/ss?w#rd@host/` without percent-encoding; whatever part of it the URL
    parser takes for the path, the text shown of it has no piece of the password."""
    url = f"{scheme}://user:{password}@host.example/fw.bin"
    shown = f"{scheme}://user:***@host.example/fw.bin"
    assert redact(url) == shown
    try:
        location = parse(url)
    except TransferError as error:
        assert password not in error.failed.detail.replace(shown, "")
    else:
        assert password not in location.shown
