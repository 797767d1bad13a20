"""The pytest plugin as its users meet it: test files of their own, run by a pytest of their own (pytest_runs.py)
with the plugin loaded through its entry point."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_runs import run_pytest

from chargecore.tools.csms import LocalCsms


@pytest.fixture(scope="module")
def csms() -> Iterator[LocalCsms]:
    with LocalCsms(on_log=lambda _line: None) as server:
        yield server


def write(folder: Path, text: str) -> None:
    (folder / "test_user.py").write_text(text)


def test_importing_the_plugin_imports_neither_the_station_nor_hypothesis() -> None:
    """It is loaded by every pytest run once installed: it must cost nothing there."""
    heavy = ("hypothesis", "chargecore.shell.runtime", "chargecore.testing.station")
    code = f"import sys, chargecore.testing.plugin\nprint([m for m in {heavy!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_run_that_does_not_use_the_plugin_is_untouched(tmp_path: Path) -> None:
    write(tmp_path, "import sys\n\ndef test_plain():\n    assert 'chargecore.testing.station' not in sys.modules\n")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_without_a_csms_the_station_tests_skip_naming_the_option(tmp_path: Path) -> None:
    write(tmp_path, "def test_needs_a_csms(ocpp_station):\n    raise AssertionError('ran without a CSMS')\n")
    result = run_pytest(tmp_path, "-rs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "--ocpp-csms URL" in result.stdout


def test_a_bad_answer_timeout_is_a_usage_error(tmp_path: Path) -> None:
    write(tmp_path, "def test_nothing():\n    pass\n")
    result = run_pytest(tmp_path, "--ocpp-answer-timeout", "0")
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "--ocpp-answer-timeout must be a positive number" in result.stderr


HYPOTHESIS_USER = """
from pathlib import Path

from hypothesis import given, strategies as st


@given(st.integers())
def test_many_examples_one_station(ocpp_station, ocpp_station_config, number):
    assert ocpp_station.state.registration.status == "Accepted"
    assert ocpp_station_config.station_id == "PLUGIN1" and ocpp_station_config.answer_timeout == 2.5
    with Path("examples.txt").open("a") as seen:
        print(id(ocpp_station), file=seen)


def test_the_same_station_in_the_module(ocpp_station):
    mark = ocpp_station.send_raw('[2,"plugin-1","Heartbeat",{}]')
    assert ocpp_station.tap.answer_to("plugin-1", 5, since=mark).message_type == 3
"""


@pytest.mark.parametrize(("profile", "examples"), [("ocpp-ci", 25), ("ocpp-nightly", 2000)])
def test_the_station_serves_a_given_test_under_each_profile(
    tmp_path: Path, csms: LocalCsms, profile: str, examples: int
) -> None:
    write(tmp_path, HYPOTHESIS_USER)
    options = ["--ocpp-csms", csms.url, "--ocpp-id", "PLUGIN1", "--ocpp-answer-timeout", "2.5"]
    result = run_pytest(tmp_path, *options, "--hypothesis-profile", profile)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    stations = (tmp_path / "examples.txt").read_text().split()
    assert len(stations) == examples  # no health check refused the fixture, and the profile set the count
    assert len(set(stations)) == 1  # one station (module scope) for every example


OCPP_CSMS_USER = """
from chargecore.testing.station import OcppStation


def test_my_station_boots(ocpp_csms, tmp_path):
    with OcppStation(ocpp_csms.url, "MINE1", data_dir=tmp_path) as station:
        boot = ocpp_csms.answer_boot()
        assert boot.payload["reason"] == "PowerUp"
        station.wait_booted(5)
        reply = ocpp_csms.call("GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                                               "variable": {"name": "NoSuchVariable"}}]})
        assert reply.payload["getVariableResult"][0]["attributeStatus"] == "UnknownVariable"


def test_each_test_gets_a_fresh_double(ocpp_csms):
    assert ocpp_csms.attempts == [] and ocpp_csms.calls() == []
"""


def test_the_csms_double_serves_a_station_teams_tests(tmp_path: Path) -> None:
    write(tmp_path, OCPP_CSMS_USER)
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
