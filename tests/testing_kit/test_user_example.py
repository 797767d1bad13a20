"""docs/examples/test_my_csms.py, the ten-line pytest file a CSMS team writes, run as they would run it: a
pytest of its own in a fresh folder, the plugin found through its entry point, the CSMS on loopback. Against the
`ocpp` package's CSMS it fails with the garbage frames that package leaves unanswered; against `chargecore csms`,
which answers every broken frame as Part 4 says, it passes."""

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
EXAMPLE = DOCS / "examples" / "test_my_csms.py"


def run_example(folder: Path, csms_url: str) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("chargecore.testing.strategies", reason="the strategies (branch strategies) are not merged")
    shutil.copy(EXAMPLE, folder)
    options = ["--ocpp-csms", csms_url, "--ocpp-id", "EXAMPLE1", "--ocpp-answer-timeout", "0.5"]
    return run_pytest(folder, EXAMPLE.name, *options, "--hypothesis-profile", "ocpp-ci")


@pytest.fixture
def package_csms() -> Iterator[PackageCsmsServer]:
    server = PackageCsmsServer()
    server.start()
    yield server
    server.stop()


def test_the_example_finds_the_garbage_the_ocpp_package_csms_leaves_unanswered(
    tmp_path: Path, package_csms: PackageCsmsServer
) -> None:
    result = run_example(tmp_path, package_csms.url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AssertionError: unanswered: " in result.stdout
    assert "1 failed" in result.stdout


def test_the_example_passes_against_chargecore_csms(tmp_path: Path) -> None:
    with LocalCsms(on_log=lambda _line: None) as csms:
        result = run_example(tmp_path, csms.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_tutorial_shows_the_example_as_it_is() -> None:
    tutorial = (DOCS / "testing_kit.md").read_text()
    shown = tutorial.split("### 2. From pytest", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    code = EXAMPLE.read_text().split('"""\n\n', 1)[1]  # without its docstring
    assert shown == code
