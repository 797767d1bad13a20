"""docs/examples/test_my_csms.py, the ten-line pytest file a CSMS team writes, run as they would run it: a
pytest of its own in a fresh folder, the plugin found through its entry point, the CSMS on loopback. Against the
`ocpp` package's CSMS it fails with the garbage frames that package leaves unanswered; against `chargecore csms`,
which answers every broken frame as Part 4 says, it passes."""

from __future__ import annotations

from pathlib import Path

from pytest_runs import DOCS, run_example, tutorial_code, without_docstring
from test_against_ocpp_package_csms import PackageCsmsServer

from chargecore.tools.csms import LocalCsms

EXAMPLE = DOCS / "examples" / "test_my_csms.py"


def test_the_example_finds_the_garbage_the_ocpp_package_csms_leaves_unanswered(
    tmp_path: Path, package_csms: PackageCsmsServer
) -> None:
    result = run_example(tmp_path, EXAMPLE, package_csms.url, "EXAMPLE1", 0.5)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AssertionError: unanswered: " in result.stdout
    assert "1 failed" in result.stdout


def test_the_example_passes_against_chargecore_csms(tmp_path: Path) -> None:
    with LocalCsms(on_log=lambda _line: None) as csms:
        result = run_example(tmp_path, EXAMPLE, csms.url, "EXAMPLE1", 0.5)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_tutorial_shows_the_example_as_it_is() -> None:
    assert tutorial_code("### 2. From pytest") == without_docstring(EXAMPLE)
