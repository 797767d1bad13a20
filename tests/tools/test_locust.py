"""Locust stations (issue 15, item 3): a master and two local workers run the example locustfile against
`chargecore csms` on loopback, and every station boots; the frame log's timing is checked on its own. Nothing here
imports locust (see the first test)."""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chargecore.tools.locust_frames import LocustFrameLog

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "docs" / "examples" / "locustfile.py"
BIN = Path(sys.executable).parent
STATIONS = 4
"""At most tools/csms.py's QUIET_ABOVE: with more connected the CSMS prints a summary line instead of each frame."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _locust(*args: str) -> subprocess.Popen[str]:
    command = [str(BIN / "locust"), "-f", str(LOCUSTFILE), *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)


@pytest.mark.skipif(
    importlib.util.find_spec("locust") is None, reason="locust is an optional extra: pip install 'chargecore[locust]'"
)
def test_a_master_and_two_workers_boot_every_station(tmp_path: Path) -> None:
    """Locust runs in its own processes only: importing it here would monkey-patch this whole pytest process with
    gevent (threads become greenlets) and hang other tests' threads."""
    csms = subprocess.Popen(
        [str(BIN / "chargecore"), "csms", "--port", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
    )
    workers: list[subprocess.Popen[str]] = []
    try:
        assert csms.stdout is not None
        url = re.search(r"(ws://\S+)/<station-id>", csms.stdout.readline())
        assert url is not None, "the CSMS did not say where it listens"
        port = str(_free_port())
        master = _locust(
            "--headless", "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port,
            "--expect-workers", "2", "--expect-workers-max-wait", "60",
            "-u", str(STATIONS), "-r", str(STATIONS), "--run-time", "12s", "--host", url.group(1), "--json",
        )  # fmt: skip
        workers = [_locust("--worker", "--master-host", "127.0.0.1", "--master-port", port) for _ in range(2)]
        out, err = master.communicate(timeout=120)
        assert master.returncode == 0, err[-2000:]
    finally:
        for worker in workers:
            worker.wait(30)
        seen = csms.communicate("quit\n", timeout=30)[0]

    stats = {(entry["method"], entry["name"]): entry for entry in json.loads(out)}
    boots = stats[("OCPP", "BootNotification")]
    assert boots["num_requests"] == STATIONS
    assert boots["num_failures"] == 0
    assert stats[("OCPP", "StatusNotification")]["num_requests"] >= STATIONS
    booted = set(re.findall(r"csms -> (LOCUST-\w+) BootNotification\.result .*\"Accepted\"", seen))
    assert len(booted) == STATIONS, seen[-3000:]
    assert "worker" in err.lower() and all(worker.returncode == 0 for worker in workers)


def _recording() -> tuple[LocustFrameLog, list[dict[str, Any]]]:
    fired: list[dict[str, Any]] = []
    return LocustFrameLog("CS1", lambda **event: fired.append(event)), fired


def test_a_callresult_reports_the_station_call_by_action() -> None:
    log, fired = _recording()
    log.frame("send", '[2,"7","Heartbeat",{}]')
    assert fired == []
    log.frame("recv", '[3,"7",{"currentTime":"2025-01-01T00:00:00Z"}]')
    (event,) = fired
    assert (event["request_type"], event["name"], event["exception"]) == ("OCPP", "Heartbeat", None)
    assert event["response_time"] >= 0


def test_a_callerror_counts_as_a_failure_and_csms_calls_are_timed_to_the_answer() -> None:
    log, fired = _recording()
    log.frame("send", '[2,"8","Authorize",{"idToken":{"idToken":"A","type":"ISO14443"}}]')
    log.frame("recv", '[4,"8","InternalError","",{}]')
    log.frame("recv", '[2,"x1","GetVariables",{"getVariableData":[]}]')
    log.frame("send", '[3,"x1",{"getVariableResult":[]}]')
    assert [(e["request_type"], e["name"]) for e in fired] == [("OCPP", "Authorize"), ("CSMS", "GetVariables")]
    assert "InternalError" in str(fired[0]["exception"]) and fired[1]["exception"] is None


def test_frames_that_answer_nothing_report_nothing() -> None:
    """A result for an unknown id, a result in the wrong direction, and text that is not OCPP-J are ignored."""
    log, fired = _recording()
    log.frame("send", '[2,"9","Heartbeat",{}]')
    log.frame("send", '[3,"9",{}]')
    log.frame("recv", '[3,"nope",{}]')
    log.frame("recv", "not json")
    log.frame("recv", "[]")
    assert fired == []
