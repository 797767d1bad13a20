"""The conformance report: the root conftest's junit properties and `docs/make_conformance.py`."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


def load_script() -> ModuleType:
    """docs/ is not a package, so load the script by path (registered first, as dataclasses need that)."""
    spec = importlib.util.spec_from_file_location("make_conformance", REPO / "docs" / "make_conformance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


mc = load_script()

CASES = """\
id,title,block,use_cases,requirements,profile,mandatory,condition
TC_A_01_CS,Basic Authentication,A,A00,A00.FR.202,Core,M,
TC_A_07_CS,TLS - client-side certificate,A,A00,A00.FR.508,Advanced Security,M,
TC_B_01_CS,Cold Boot Charging Station - Accepted,B,B01,B01.FR.01 B01.FR.05 B01.FR.09,Core,M,
TC_B_02_CS,Cold Boot Charging Station - Pending,B,B02,B02.FR.01 B02.FR.02,Core,C,Supports it
TC_C_02_CS,Authorization using Start button,C,C01,C01.FR.51 C01.FR.508,Advanced Security,C,
"""

JUNIT = """\
<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="7">
<testcase classname="tests.test_boot" name="test_TC_B_01_CS_cold_boot" time="0.01"><properties>
  <property name="test_case" value="TC_B_01_CS"/><property name="requirement" value="B01.FR.01"/>
  <property name="requirement" value="B01.FR.05"/></properties></testcase>
<testcase classname="tests.test_boot" name="test_TC_B_02_CS_pending[a]" time="0.01"><properties>
  <property name="test_case" value="TC_B_02_CS"/><property name="requirement" value="B01.FR.01"/>
  </properties></testcase>
<testcase classname="tests.test_boot" name="test_TC_B_02_CS_pending[b]" time="0.01"><properties>
  <property name="test_case" value="TC_B_02_CS"/><property name="requirement" value="B02.FR.02"/>
  </properties><failure message="assert False">assert False</failure></testcase>
<testcase classname="tests.test_auth" name="test_TC_C_02_CS_start_button" time="0.01"><properties>
  <property name="test_case" value="TC_C_02_CS"/></properties>
  <skipped type="pytest.skip" message="no button">skipped</skipped></testcase>
<testcase classname="tests.test_auth" name="test_TC_C_99_CS_typo" time="0.01"><properties>
  <property name="test_case" value="TC_C_99_CS"/></properties></testcase>
<testcase classname="property_tests.test_frames" name="test_roundtrip" time="0.01"><properties>
  <property name="requirement" value="B01.FR.05"/><property name="requirement" value="A00.FR.51"/>
  </properties><failure message="boom">boom</failure></testcase>
<testcase classname="property_tests.test_frames" name="test_roundtrip" time="0.01"><properties>
  <property name="requirement" value="B01.FR.05"/><property name="requirement" value="A00.FR.51"/>
  </properties><error message="failed on teardown">boom</error></testcase>
</testsuite></testsuites>
"""


@pytest.fixture
def report(tmp_path: Path) -> str:
    (tmp_path / "junit.xml").write_text(JUNIT, encoding="utf-8")
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    text: str = mc.build_report(tmp_path / "junit.xml", tmp_path / "cases.csv")
    return text


def table_rows(report: str, heading: str) -> list[str]:
    """The body rows of the table under a `##` heading."""
    text = report.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return text.strip().splitlines()[2:]


def test_totals_per_profile_and_block(report: str) -> None:
    assert "CS test cases automated and passing / automated / total: **1 / 3 / 5**." in report
    assert "| Core | 1 / 1 / 2 | 0 / 1 / 1 | 1 / 2 / 3 |" in report
    assert "| Advanced Security | 0 / 0 / 1 | 0 / 1 / 1 | 0 / 1 / 2 |" in report
    assert "### B Provisioning\n\nPassing / automated / total: 1 / 2 / 2." in report
    assert "### O DisplayMessage\n\nPassing / automated / total: 0 / 0 / 0." in report


def test_rows(report: str) -> None:
    assert (
        "| TC_B_01_CS | Cold Boot Charging Station - Accepted | Core | M | passing "
        "| `tests.test_boot.test_TC_B_01_CS_cold_boot` |" in report
    )
    # one failing parametrized case fails the test case; the function is listed once
    assert (
        "| TC_B_02_CS | Cold Boot Charging Station - Pending | Core | C | failing "
        "| `tests.test_boot.test_TC_B_02_CS_pending` |" in report
    )
    assert "| TC_C_02_CS | Authorization using Start button | Advanced Security | C | skipped |" in report
    assert "| TC_A_01_CS |" not in report


def test_requirements_per_block(report: str) -> None:
    """Blocks without Part 6 cases (H, I, O) show their coverage only this way (issue 14)."""
    assert "### A Security\n\nPassing / automated / total: 0 / 0 / 2.\n\nRequirements named by tests, passing / " \
        "named: 0 / 1: A00.FR.51 (failing).\n" in report
    assert "Requirements named by tests, passing / named: 1 / 3: B01.FR.01, B01.FR.05 (failing), " \
        "B02.FR.02 (failing).\n" in report
    assert "### C Authorization\n\nPassing / automated / total: 0 / 1 / 1.\n\n| Test case" in report


def test_requirements_named_by_tests(report: str) -> None:
    assert table_rows(report, "Requirements named by tests") == [
        "| A00.FR.51 | 1 | failing |",
        "| B01.FR.01 | 2 | passing |",
        "| B01.FR.05 | 2 | failing |",
        "| B02.FR.02 | 1 | failing |",
    ]


def test_gaps(report: str) -> None:
    assert table_rows(report, "Requirements of automated test cases that no test names") == [
        "| B01.FR.09 | TC_B_01_CS |",
        "| B02.FR.01 | TC_B_02_CS |",
        "| C01.FR.51 | TC_C_02_CS |",
        "| C01.FR.508 | TC_C_02_CS |",
    ]
    assert "- TC_C_99_CS: `tests.test_auth.test_TC_C_99_CS_typo`" in report


def test_collection_error_is_refused(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text(
        '<testsuites><testsuite><testcase classname="" name="tests.test_broken">'
        '<error message="collection failure">ImportError</error></testcase></testsuite></testsuites>',
        encoding="utf-8",
    )
    with pytest.raises(mc.ReportError, match=r"tests\.test_broken"):
        mc.read_junit(tmp_path / "junit.xml")


SAMPLE_TESTS = """\
import pytest

pytestmark = pytest.mark.requirements("B01.FR.01")


@pytest.mark.requirements("B01.FR.05", "B01.FR.09")
def test_TC_B_01_CS_cold_boot() -> None:
    pass


@pytest.mark.parametrize("case", ["TC_B_02_CS"])
def test_boot(case: str) -> None:
    assert False


def test_TC_B_01_CSMS_is_not_a_cs_id() -> None:
    pass
"""


def run_sample(tmp_path: Path, tests: str) -> subprocess.CompletedProcess[str]:
    shutil.copy(REPO / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(tests, encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--strict-markers", "--junitxml"]
    return subprocess.run(
        [*command, "junit.xml", "--rootdir", str(tmp_path)], cwd=tmp_path, capture_output=True, text=True
    )


def test_conftest_records_ids_as_junit_properties(tmp_path: Path) -> None:
    assert run_sample(tmp_path, SAMPLE_TESTS).returncode == 1
    outcomes = {o.function: o for o in mc.read_junit(tmp_path / "junit.xml")}
    assert outcomes["test_sample.test_TC_B_01_CS_cold_boot"] == mc.Outcome(
        "test_sample.test_TC_B_01_CS_cold_boot",
        "passing",
        frozenset({"TC_B_01_CS"}),
        frozenset({"B01.FR.01", "B01.FR.05", "B01.FR.09"}),
    )
    assert outcomes["test_sample.test_boot"].test_cases == {"TC_B_02_CS"}
    assert outcomes["test_sample.test_boot"].result == "failing"
    assert outcomes["test_sample.test_TC_B_01_CSMS_is_not_a_cs_id"].test_cases == frozenset()


def test_conftest_rejects_malformed_requirement_ids(tmp_path: Path) -> None:
    result = run_sample(tmp_path, 'import pytest\n\n@pytest.mark.requirements("B01-FR-01")\ndef test_x(): pass\n')
    assert result.returncode == pytest.ExitCode.USAGE_ERROR
    assert "B01-FR-01" in result.stderr
