"""A password in a URL the CSMS sends (UpdateFirmware's location) never reaches the frame log."""

from __future__ import annotations

import json

import pytest

from chargecore.pure.device_model.redaction import redact_frame


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("ftp://station:s3cret%3Apa%40ss@127.0.0.1:21/fw.bin", "ftp://station:***@127.0.0.1:21/fw.bin"),
        ("ftps://u:p@files.example/fw.bin", "ftps://u:***@files.example/fw.bin"),
        ("https://files.example/fw.bin", "https://files.example/fw.bin"),
        ("https://files.example/a@b", "https://files.example/a@b"),
        ("ftp://anonymous@files.example/fw.bin", "ftp://anonymous@files.example/fw.bin"),
    ],
)
def test_a_url_password_is_masked_and_nothing_else(url: str, logged: str) -> None:
    frame = json.dumps([2, "1", "UpdateFirmware", {"requestId": 1, "firmware": {"location": url}}])
    assert json.loads(redact_frame(frame))[3]["firmware"]["location"] == logged
