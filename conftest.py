"""Traceability from tests to OCPP 2.0.1, for `docs/make_conformance.py`.

It sits at the repository root so that both `tests/` and `property_tests/` see it.

Conventions:
- A conformance test is a test whose name contains a Part 6 Charging Station test case id
  (`TC_<block>_<nr>_CS`), e.g. `def test_TC_B_01_CS_cold_boot_accepted(...)`. Parametrize ids count as
  part of the name, so `test_boot[TC_B_01_CS]` works too; several tests may carry the same id.
- Any test (conformance, unit or property) names the OCPP requirement ids it checks with
  `@pytest.mark.requirements("B01.FR.01", "B01.FR.05")`; on a class or as `pytestmark` it applies to every
  test inside. Ids look like `B01.FR.01` or `A00.FR.508`; anything else is a usage error, so a typo cannot
  silently leave a requirement uncovered.

Each test records one junit-xml property per id (`test_case` and `requirement`), so `--junitxml` output
says what every result proves.
"""

from __future__ import annotations

import re

import pytest

TEST_CASE_ID = re.compile(r"(?<![A-Za-z0-9])TC_[A-P]_\d+_CS(?![A-Za-z0-9])")
REQUIREMENT_ID = re.compile(r"[A-P]\d{2}\.FR\.\d{2,3}")


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so that `--strict-markers` accepts it."""
    config.addinivalue_line(
        "markers", "requirements(*ids): the OCPP 2.0.1 requirement ids (e.g. B01.FR.01) this test checks"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Attach the ids as user properties, which the junit-xml writer emits per test."""
    for item in items:
        requirements: set[str] = set()
        for marker in item.iter_markers("requirements"):
            bad = [r for r in marker.args if not isinstance(r, str) or not REQUIREMENT_ID.fullmatch(r)]
            if bad or not marker.args:
                raise pytest.UsageError(
                    f"{item.nodeid}: requirements marker needs ids like 'B01.FR.01', got {marker.args!r}"
                )
            requirements.update(marker.args)
        item.user_properties.extend(("test_case", tc) for tc in sorted(set(TEST_CASE_ID.findall(item.name))))
        item.user_properties.extend(("requirement", r) for r in sorted(requirements))
