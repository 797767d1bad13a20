"""docs/examples/test_my_property.py, the tutorial's "property of your own", run as a user runs it (a pytest of
its own in a fresh folder, the plugin found through its entry point): `chargecore csms` answers every near-valid
request with its Part 4 code; the `ocpp` package's CSMS does not (it answers a missing required field
ProtocolError and a too-long string TypeConstraintViolation, among others), and the property says which."""

from __future__ import annotations

from pathlib import Path

from pytest_runs import DOCS, run_example, tutorial_code, without_docstring
from test_against_ocpp_package_csms import PackageCsmsServer

from chargecore.tools.csms import LocalCsms

EXAMPLE = DOCS / "examples" / "test_my_property.py"


def test_the_property_holds_for_chargecore_csms(tmp_path: Path) -> None:
    with LocalCsms(on_log=lambda _line: None) as csms:
        result = run_example(tmp_path, EXAMPLE, csms.url, "PROPERTY1", 2)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_property_finds_wrong_codes_of_the_ocpp_package_csms(
    tmp_path: Path, package_csms: PackageCsmsServer
) -> None:
    result = run_example(tmp_path, EXAMPLE, package_csms.url, "PROPERTY1", 2)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "AssertionError: " in result.stdout and "1 failed" in result.stdout


def test_the_tutorial_shows_the_example_as_it_is() -> None:
    assert tutorial_code("### 3. A property of your own") == without_docstring(EXAMPLE)
