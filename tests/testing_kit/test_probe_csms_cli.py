"""`chargecore probe-csms`: exit 0 and a report against chargecore csms, exit 1 and the shrunk transcript against a
broken CSMS, and the kit never loaded by the commands that do not need it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from broken_csms import IntervalAsTextCsms
from test_against_ocpp_package_csms import PackageCsmsServer

from chargecore.shell.cli import main
from chargecore.tools.csms import LocalCsms


def test_a_clean_csms_exits_0_and_writes_a_markdown_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "probe.md"
    with LocalCsms(heartbeat_interval=300, on_log=lambda _line: None) as csms:
        url = csms.url
        code = main(["probe-csms", url, "--id", "CLI-OK", "--examples", "5", "--seed", "3", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "no violation" in out
    text = report.read_text()
    assert text.startswith(f"# CSMS probe of {url}: no violation")
    assert "| `transaction-token` | E01.FR.03" in text


def test_a_broken_csms_exits_1_with_the_transcript_and_a_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "probe.json"
    with PackageCsmsServer(IntervalAsTextCsms) as server:
        code = main(["probe-csms", server.url, "--id", "CLI-BAD", "--examples", "5", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 1
    assert "[boot-answer]" in out and "!!" in out and '"interval":"300"' in out
    written = json.loads(report.read_text())
    assert written["passed"] is False
    assert {"boot-answer", "answer-schema"} <= {violation["rule"] for violation in written["violations"]}
    assert any('"interval":"300"' in line for line in written["transcript"])


def test_only_probe_csms_loads_hypothesis() -> None:
    code = "import sys, chargecore.shell.cli; print('hypothesis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
