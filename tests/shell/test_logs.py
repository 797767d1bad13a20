"""The station's log files under its data dir (shell/logs.py): the DiagnosticsLog has what the shell logs, per
station, at the chosen level, also when stdout is quiet; the default application keeps the SecurityLog; both
rotate, and `log_files` lists them oldest first for GetLog."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import boot

from chargecore.pure.effects import SecurityEventLogged
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.logs import SecurityLog, diagnostics_log, log_files, security_log
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.testing.csms_double import CsmsDouble, wait_until

UTC_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR) chargecore\.[a-z.]+: ")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


@pytest.fixture
def csms() -> Iterator[CsmsDouble]:
    with CsmsDouble() as double:
        yield double


def test_a_default_station_keeps_both_logs_in_its_data_dir(
    csms: CsmsDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"
    options = StationOptions(csms_url=csms.url, station_id="CS-LOGS", data_dir=data_dir, quiet=True)
    station = ChargingStation(options)
    station.start()
    try:
        boot(station, csms)
        station.security_event("TamperDetectionActivated", "lid opened")
        wait_until(lambda: "Tamper" in read(security_log(data_dir)), "the event in the security log")
    finally:
        station.stop()
    lines = diagnostics_log(data_dir).read_text(encoding="utf-8").splitlines()
    assert all(UTC_LINE.match(line) for line in lines if not line.startswith((" ", "Traceback")))
    assert any("chargecore.shell.frames: -> [2," in line and '"BootNotification"' in line for line in lines)
    assert any("chargecore.shell.link: connected to" in line for line in lines)
    events = [json.loads(line) for line in read(security_log(data_dir)).splitlines()]
    assert [event["type"] for event in events] == ["StartupOfTheDevice", "TamperDetectionActivated"]
    assert (events[1]["techInfo"], events[1]["critical"]) == ("lid opened", True)
    assert "BootNotification" not in capsys.readouterr().out  # --quiet: stdout is the operator's


def test_each_station_logs_only_its_own_records(tmp_path: Path) -> None:
    one = FrameLog("CS-1", stream=io.StringIO(), diagnostics=tmp_path / "one.log")
    two = FrameLog("CS-2", stream=io.StringIO(), diagnostics=tmp_path / "two.log")
    one.event("info", "from one", "link")
    two.event("warning", "from two")
    logging.getLogger("chargecore.shell.transfer").info("a transfer thread's line")
    one.close()
    two.close()
    one.event("info", "after close")
    first, second = (tmp_path / "one.log").read_text(), (tmp_path / "two.log").read_text()
    assert "chargecore.shell.link: from one" in first and "from two" not in first and "after close" not in first
    assert "WARNING chargecore.shell.runtime: from two" in second and "from one" not in second
    assert "a transfer thread's line" in first and "a transfer thread's line" in second


def test_the_level_hides_lower_events_everywhere_and_quiet_only_stdout(tmp_path: Path) -> None:
    stream = io.StringIO()
    log = FrameLog("CS", tmp_path / "frames.jsonl", stream, diagnostics=tmp_path / "d.log", level="warning")
    log.event("info", "routine")
    log.frame("send", "[2,\"1\",\"Heartbeat\",{}]")
    log.event("warning", "odd")
    log.close()
    for text in (stream.getvalue(), (tmp_path / "frames.jsonl").read_text(), (tmp_path / "d.log").read_text()):
        assert "odd" in text and "routine" not in text and "Heartbeat" not in text
    quiet = FrameLog("CS", stream=(silent := io.StringIO()), diagnostics=tmp_path / "q.log", quiet=True)
    quiet.event("error", "still logged")
    quiet.close()
    assert silent.getvalue() == ""
    assert "ERROR chargecore.shell.runtime: still logged" in (tmp_path / "q.log").read_text()


def test_the_core_log_effects_have_their_own_logger(tmp_path: Path) -> None:
    log = FrameLog("CS", stream=io.StringIO(), diagnostics=tmp_path / "d.log")
    log.event("warning", "refused input", "core")
    log.close()
    assert "WARNING chargecore.core: refused input" in (tmp_path / "d.log").read_text()


def test_the_security_log_rotates_and_log_files_lists_it_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "security.log"
    log = SecurityLog(path, max_bytes=300)
    for n in range(12):
        log.record(SecurityEventLogged("SettingSystemTime", f"2026-12-04T00:00:{n:02d}Z", None, critical=True))
    files = log_files(path)
    assert files[-1] == path and len(files) >= 3 and files[0].name.startswith("security.log.")
    events = [json.loads(line) for file in files for line in file.read_text().splitlines()]
    stamps = [event["timestamp"] for event in events]
    assert stamps == sorted(stamps) and stamps[-1] == "2026-12-04T00:00:11Z"
    assert all("techInfo" not in event for event in events)


def test_log_files_of_nothing_is_empty(tmp_path: Path) -> None:
    assert log_files(tmp_path / "diagnostics.log") == ()
