"""The frame log never raises on the text of a frame or an event, whatever the CSMS put in it: a lone surrogate
(valid in a JSON string as `\\ud800`, not encodable in UTF-8) is escaped on the stream and kept in the JSON lines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from chargecore.shell.frame_log import FrameLog

SURROGATE = "boom \ud800"


def strict_stream(encoding: str) -> io.TextIOWrapper:
    """Like sys.stdout on a pipe: encoding errors raise."""
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict")


def written(stream: io.TextIOWrapper) -> str:
    stream.flush()
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode(stream.encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_a_lone_surrogate_is_escaped_on_the_stream_and_kept_in_the_json_lines(tmp_path: Path, encoding: str) -> None:
    stream, path = strict_stream(encoding), tmp_path / "frames.jsonl"
    log = FrameLog("CS", path, stream)
    frame = json.dumps([4, "1", "GenericError", SURROGATE, {}], ensure_ascii=False)
    log.frame("recv", frame)
    log.event("warning", f"Heartbeat answered GenericError: {SURROGATE}")
    log.close()
    lines = written(stream).splitlines()
    assert lines[0].endswith("CS <- " + frame.replace("\ud800", "\\ud800"))
    assert lines[1].endswith("CS [warning] Heartbeat answered GenericError: boom \\ud800")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [records[0]["frame"], records[1]["message"]] == [frame, f"Heartbeat answered GenericError: {SURROGATE}"]


def test_what_the_stream_can_encode_is_written_as_it_is() -> None:
    stream = strict_stream("utf-8")
    FrameLog("CS", stream=stream).event("info", "Zählerstand 42 ⚡")
    assert written(stream).rstrip().endswith("CS [info] Zählerstand 42 ⚡")


def test_a_line_logged_after_close_still_reaches_the_stream(tmp_path: Path) -> None:
    """Another thread (the link's reader) may log while the station stops."""
    stream, path = strict_stream("utf-8"), tmp_path / "frames.jsonl"
    log = FrameLog("CS", path, stream)
    log.close()
    log.event("info", "late")
    assert "late" in written(stream) and path.read_text(encoding="utf-8") == ""
