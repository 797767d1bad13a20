"""`chargecore run --quiet` and `--log-level`: what stdout shows, while the DiagnosticsLog under the data dir keeps
the frames and the security log the events (shell/logs.py)."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli import STATION_ID, WAIT, booted, local_csms, station

from chargecore.shell.logs import diagnostics_log, security_log


def test_quiet_leaves_stdout_to_the_operator_and_the_logs_keep_everything(tmp_path: Path) -> None:
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path, "--quiet") as running:
        booted(csms)
        running.command("security-event TamperDetectionActivated lid opened")
        csms.wait_for(lambda r: r.payload.get("type") == "TamperDetectionActivated", WAIT)
        running.command("status")
        running.printed(f"station {STATION_ID}:")
        running.command("quit")
        assert running.exit_code() == 0
    assert not any("BootNotification" in line or "[info]" in line for line in running.lines)
    data_dir = tmp_path / "data"
    assert '"BootNotification"' in diagnostics_log(data_dir).read_text(encoding="utf-8")
    types = [json.loads(line)["type"] for line in security_log(data_dir).read_text(encoding="utf-8").splitlines()]
    assert "TamperDetectionActivated" in types


def test_log_level_warning_hides_frames_and_info_events(tmp_path: Path) -> None:
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path, "--log-level", "warning") as running:
        booted(csms)
        running.command("set OCPPCommCtrlr NoSuchVariable 1")  # a warning the operator must still see
        assert "[warning]" in running.printed("variable not changed")
        running.command("quit")
        assert running.exit_code() == 0
    assert not any("BootNotification" in line or "[info]" in line for line in running.lines)
    logged = diagnostics_log(tmp_path / "data").read_text(encoding="utf-8")
    assert "BootNotification" not in logged and "WARNING chargecore.core: variable not changed" in logged
