"""`chargecore fleet` against `chargecore csms` on loopback: a few stations for a short run boot, transact with
rising energy and end cleanly with a summary, and no CALLERROR either way; a bad command line or scenario says
what is wrong; the seed makes the scenario's decisions reproducible."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from chargecore.testing.csms_double import wait_until
from chargecore.tools import csms as csms_module
from chargecore.tools.csms import LocalCsms
from chargecore.tools.fleet.cli import main
from chargecore.tools.fleet.plan import Fault, Visit, evse_plan, network_plan
from chargecore.tools.fleet.scenario import Scenario, ScenarioError, load_scenario, scenario_from

FLEET = "import sys; from chargecore.tools.fleet.cli import main; sys.exit(main(sys.argv[1:]))"
FAST = """
arrival_mean_s = 1.0
charge_s = [2.0, 4.0]
meter_interval_s = 1.0
pause_share = 0.5
pause_s = [0.5, 1.0]
stay_s = [0.2, 0.5]
plug_to_badge_s = [0.1, 0.3]
invalid_share = 0.2
fault_mean_s = 20.0
fault_s = [0.5, 1.0]
network_drop_share = 0.0
"""


def _energies(transaction_event: dict[str, Any]) -> list[float]:
    return [
        float(sampled["value"])
        for meter_value in transaction_event.get("meterValue", [])
        for sampled in meter_value["sampledValue"]
        if sampled.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
    ]


def test_a_short_fleet_boots_transacts_with_rising_energy_and_writes_its_summary(tmp_path: Path) -> None:
    scenario = tmp_path / "fast.toml"
    scenario.write_text(FAST)
    out = io.StringIO()
    with LocalCsms(on_log=lambda _line: None) as csms:
        csms.set_token("FLEETBAD1", "Invalid")
        argv = ["--csms", csms.url, "--stations", "4", "--evses", "2", "--duration", "12", "--ramp", "0"]
        code = main([*argv, "--scenario", str(scenario), "--data-dir", str(tmp_path / "data")], out)
        messages = csms.messages
    assert code == 0
    summary = json.loads((tmp_path / "data" / "summary.json").read_text())
    assert summary == json.loads(out.getvalue()[out.getvalue().index("{") :])
    assert summary["booted"] == summary["started"] == 4
    assert summary["transactions_started"] >= 4
    assert summary["transactions_ended"] >= 2
    assert summary["transactions_ended_with_energy"] == summary["transactions_ended"]
    assert summary["energy_kwh"] > 0
    assert summary["callerrors_from_csms"] == summary["callerrors_from_stations"] == 0
    assert summary["badges_refused"].get("Invalid", 0) >= 1  # the CSMS refused the scenario's invalid token
    assert summary["stations_crashed"] == summary["errors"] == 0
    assert sorted(p.name for p in (tmp_path / "data").iterdir() if p.is_dir()) == [f"FLEET0000{i}" for i in range(1, 5)]
    assert not [m for m in messages if m.kind == "CALLERROR"]
    # what the CSMS saw: every ended transaction's register rose from its start
    registers: dict[str, list[float]] = defaultdict(list)
    ended = set()
    for message in messages:
        if message.kind == "CALL" and message.action == "TransactionEvent":
            transaction_id = message.payload["transactionInfo"]["transactionId"]
            registers[transaction_id] += _energies(message.payload)
            if message.payload["eventType"] == "Ended":
                ended.add(transaction_id)
    assert ended
    for transaction_id in ended:
        values = registers[transaction_id]
        assert values == sorted(values) and values[-1] > values[0], (transaction_id, values)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("charge_s = [5, 1]", "charge_s must be a range [low, high] with low <= high"),
        ("pause_share = 1.5", "pause_share must be a number from 0 to 1"),
        ("arrival_mean_s = -3", "arrival_mean_s must be a number from 0 to 86400"),
        ("arrival_mean_s = 0", "arrival_mean_s must be above 0"),
        ("evse_max_kw = 'fast'", "evse_max_kw must be a number"),
        ("valid_tokens = []", "valid_tokens must name at least one token"),
        ("arival_mean_s = 3", "unknown scenario key 'arival_mean_s'"),
        ("charge_s = ", "is not valid TOML"),
    ],
)
def test_a_scenario_with_a_bad_value_is_refused_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, message: str
) -> None:
    scenario = tmp_path / "bad.toml"
    scenario.write_text(line + "\n")
    code = main(["--csms", "ws://127.0.0.1:9", "--stations", "1", "--scenario", str(scenario)], io.StringIO())
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_json_scenario_is_read_too_and_a_missing_file_is_named(tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"charge_s": [1, 2], "invalid_tokens": ["X"]}))
    assert load_scenario(scenario) == Scenario(charge_s=(1.0, 2.0), invalid_tokens=("X",))
    with pytest.raises(ScenarioError, match="cannot read the scenario file"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ScenarioError, match="invalid_share is above 0 but invalid_tokens is empty"):
        scenario_from({"invalid_tokens": []})


@pytest.mark.parametrize(
    "argv",
    [
        ["--csms", "ws://127.0.0.1:9", "--stations", "0"],
        ["--csms", "ws://127.0.0.1:9", "--stations", "1", "--duration", "-1"],
        ["--csms", "ws://127.0.0.1:9", "--stations", "1", "--id-prefix", "A:B"],
        ["--csms", "ws://127.0.0.1:9", "--stations", "1", "--ramp", "many"],
    ],
)
def test_bad_options_exit_2_with_a_message(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv, io.StringIO())
    assert exited.value.code == 2
    assert "chargecore fleet: error:" in capsys.readouterr().err


def test_a_bad_csms_url_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--csms", "http://x", "--stations", "1"], io.StringIO()) == 2
    assert "--csms" in capsys.readouterr().err


def _first(plan: Any, count: int) -> list[Visit | Fault]:
    return [next(plan) for _ in range(count)]


def test_the_seed_makes_every_scenario_decision_reproducible() -> None:
    scenario = scenario_from({"fault_mean_s": 30.0, "network_drop_share": 1.0})
    same = _first(evse_plan(scenario, 7, "FLEET00001", 1), 50)
    assert same == _first(evse_plan(scenario, 7, "FLEET00001", 1), 50)
    assert same != _first(evse_plan(scenario, 8, "FLEET00001", 1), 50)
    assert same != _first(evse_plan(scenario, 7, "FLEET00002", 1), 50)  # stations do not move in lockstep
    assert {type(step) for step in same} == {Visit, Fault}
    assert {visit.token_valid for visit in same if isinstance(visit, Visit)} == {True, False}
    outages = _first(network_plan(scenario, 7, "FLEET00001"), 5)
    assert outages == _first(network_plan(scenario, 7, "FLEET00001"), 5)


def test_only_the_share_of_stations_has_network_drops() -> None:
    scenario = scenario_from({"network_drop_share": 0.25})
    dropping = sum(next(network_plan(scenario, 1, f"S{i}"), None) is not None for i in range(400))
    assert 60 < dropping < 140
    assert next(network_plan(scenario_from({"network_drop_share": 0.0}), 1, "S1"), None) is None


def _boots_answered(csms: LocalCsms) -> int:
    return sum(m.kind == "CALLRESULT" and m.action == "BootNotification" for m in csms.messages)


def test_ctrl_c_stops_every_station_cleanly_and_still_writes_the_summary(tmp_path: Path) -> None:
    with LocalCsms(on_log=lambda _line: None) as csms:
        fleet = subprocess.Popen(
            [sys.executable, "-c", FLEET, "--csms", csms.url, "--stations", "5", "--duration", "600"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_until(lambda: _boots_answered(csms) == 5, "five BootNotifications answered", timeout=30)
            time.sleep(0.5)  # the answers reach the stations
            fleet.send_signal(signal.SIGINT)
            out, err = fleet.communicate(timeout=30)
        finally:
            fleet.kill()
        closes = [m for m in csms.messages if m.kind == "CALLERROR"]
        wait_until(lambda: not csms.stations(), "every station closed its connection", timeout=10)
    assert fleet.returncode == 0, err
    assert "Traceback" not in err
    summary = json.loads((tmp_path / "fleet-data" / "summary.json").read_text())
    assert summary["booted"] == 5 and summary["seconds"] < 600
    assert summary == json.loads(out[out.index("{") :])
    assert closes == []


def test_a_station_whose_data_dir_cannot_be_used_is_counted_and_the_others_go_on(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "FLEET00002").write_text("a file where the station's folder should be")
    with LocalCsms(on_log=lambda _line: None) as csms:
        argv = ["--csms", csms.url, "--stations", "3", "--duration", "3", "--ramp", "0", "--data-dir", str(data)]
        assert main(argv, io.StringIO()) == 0
    summary = json.loads((data / "summary.json").read_text())
    assert summary["booted"] == 2 and summary["stations_crashed"] == 1
    assert summary["first_errors"] == [f"FLEET00002: data dir {data / 'FLEET00002'} is not a directory"]


@pytest.mark.parametrize("quiet", [True, False])
def test_the_csms_prints_a_summary_line_instead_of_every_message_when_quiet_or_serving_a_fleet(
    quiet: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(csms_module, "SUMMARY_EVERY_S", 0.5)
    if not quiet:
        monkeypatch.setattr(csms_module, "QUIET_ABOVE", 1)  # "more than a handful" of stations, made small
    lines: list[str] = []
    with LocalCsms(on_log=lines.append, quiet=quiet, keep_messages=False) as csms:
        argv = ["--csms", csms.url, "--stations", "3", "--duration", "3", "--ramp", "0"]
        assert main([*argv, "--data-dir", str(tmp_path)], io.StringIO()) == 0
        assert csms.messages == []  # nothing kept
    summaries = [line for line in lines if "stations connected" in line]
    assert any(line.startswith("csms: 3 stations connected, ") and "0 CALLERRORs" in line for line in summaries)
    per_message = [line for line in lines if line.startswith(("csms <-", "csms ->"))]
    assert per_message == [] if quiet else len(per_message) < 10  # only before the second station connected


def test_the_csms_token_option_sets_the_answer_and_refuses_a_bad_status(capsys: pytest.CaptureFixture[str]) -> None:
    assert csms_module._parser().parse_args(["--token", "FLEETBAD1=Invalid"]).token == [("FLEETBAD1", "Invalid")]
    with pytest.raises(SystemExit):
        csms_module._parser().parse_args(["--token", "FLEETBAD1=Maybe"])
    assert "must be ID=STATUS" in capsys.readouterr().err
