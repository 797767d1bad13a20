"""docs/examples/test_my_property.py, the tutorial's "property of your own", run as a user runs it (a pytest of
its own in a fresh folder, the plugin found through its entry point): `chargecore csms` answers every near-valid
request with its Part 4 code; the `ocpp` package's CSMS does not (it answers a missing required field
ProtocolError and a too-long string TypeConstraintViolation, among others), and the property says which."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_runs import run_pytest
from test_against_ocpp_package_csms import PackageCsmsServer

from chargecore.tools.csms import LocalCsms

DOCS = Path(__file__).parents[2] / "docs"
EXAMPLE = DOCS / "examples" / "test_my_property.py"


def run_example(folder: Path, csms_url: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(EXAMPLE, folder)
    options = ["--ocpp-csms", csms_url, "--ocpp-id", "PROPERTY1", "--ocpp-answer-timeout", "2"]
    return run_pytest(folder, EXAMPLE.name, *options, "--hypothesis-profile", "ocpp-ci")


@pytest.fixture
def package_csms() -> Iterator[PackageCsmsServer]:
    server = PackageCsmsServer()
    server.start()
    yield server
    server.stop()


def test_the_property_holds_for_chargecore_csms(tmp_path: Path) -> None:
    with LocalCsms(on_log=lambda _line: None) as csms:
        result = run_example(tmp_path, csms.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_property_finds_wrong_codes_of_the_ocpp_package_csms(
    tmp_path: Path, package_csms: PackageCsmsServer
) -> None:
    result = run_example(tmp_path, package_csms.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AssertionError: " in result.stdout and "1 failed" in result.stdout


def test_the_tutorial_shows_the_example_as_it_is() -> None:
    tutorial = (DOCS / "testing_kit.md").read_text()
    shown = tutorial.split("### 3. A property of your own", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert shown == EXAMPLE.read_text().split('"""\n\n', 1)[1]
