"""Generate `docs/conformance.md`: which OCPP 2.0.1 Charging Station test cases the test suite automates.

Usage: `python docs/make_conformance.py [--junit FILE] [--cases FILE] [--output FILE]`.

Without `--junit` it runs the test suite itself and reads the junit xml that pytest writes; the ids come from
the `test_case` / `requirement` properties that the root `conftest.py` records (see its docstring for the
naming conventions). The output is sorted and carries no timestamp, so the file only changes when results do.
"""

from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CASES = REPO.parent / "shared" / "ocpp-2.0.1" / "cs-test-cases.csv"
DEFAULT_OUTPUT = REPO / "docs" / "conformance.md"
PYTEST_ARGS = ("tests", "property_tests", "-q", "-p", "no:cacheprovider")

BLOCKS = {
    "A": "Security",
    "B": "Provisioning",
    "C": "Authorization",
    "D": "LocalAuthorizationListManagement",
    "E": "Transactions",
    "F": "RemoteControl",
    "G": "Availability",
    "H": "Reservation",
    "I": "TariffAndCost",
    "J": "MeterValues",
    "K": "SmartCharging",
    "L": "FirmwareManagement",
    "M": "ISO15118CertificateManagement",
    "N": "Diagnostics",
    "O": "DisplayMessage",
    "P": "DataTransfer",
}
PROFILES = ("Core", "Advanced Security")
PASSING, FAILING, SKIPPED = "passing", "failing", "skipped"


class ReportError(Exception):
    """The inputs cannot give a truthful report."""


@dataclass(frozen=True, slots=True)
class CaseSpec:
    """One row of cs-test-cases.csv."""

    id: str
    title: str
    block: str
    requirements: tuple[str, ...]
    profile: str
    mandatory: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """One test (a junit testcase, its duplicate entries merged) and the ids it carries."""

    function: str
    result: str
    test_cases: frozenset[str]
    requirements: frozenset[str]


def natural_key(text: str) -> tuple[int | str, ...]:
    """Sort A00.FR.51 before A00.FR.508; split() puts the digit runs at odd positions, so types line up."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(re.split(r"(\d+)", text)))


def combine(results: Iterable[str]) -> str:
    """Failing if any failed or errored, passing if all passed, otherwise (some or all skipped) skipped."""
    seen = set(results)
    if FAILING in seen:
        return FAILING
    return PASSING if seen == {PASSING} else SKIPPED


def read_cases(path: Path) -> dict[str, CaseSpec]:
    """Read the Part 6 CS test cases, keyed by id."""
    with path.open(newline="", encoding="utf-8") as f:
        return {
            row["id"]: CaseSpec(
                id=row["id"],
                title=row["title"],
                block=row["block"],
                requirements=tuple(row["requirements"].split()),
                profile=row["profile"],
                mandatory=row["mandatory"],
            )
            for row in csv.DictReader(f)
        }


def read_junit(path: Path) -> list[Outcome]:
    """Read pytest's junit xml; a test reported twice (call failure plus teardown error) counts once."""
    results: dict[tuple[str, str], list[str]] = defaultdict(list)
    props: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for case in ET.parse(path).getroot().iter("testcase"):
        key = (case.get("classname", ""), case.get("name", ""))
        tags = {child.tag for child in case}
        if any(e.get("message") == "collection failure" for e in case.iter("error")):
            raise ReportError(
                f"{path}: {key[1]} failed to collect, so its tests are missing from the results"
            )
        results[key].append(
            FAILING if tags & {"failure", "error"} else SKIPPED if "skipped" in tags else PASSING
        )
        props[key].update((p.get("name", ""), p.get("value", "")) for p in case.iter("property"))
    return [
        Outcome(
            function=f"{classname}.{name.split('[', 1)[0]}",
            result=combine(results[classname, name]),
            test_cases=frozenset(v for k, v in props[classname, name] if k == "test_case"),
            requirements=frozenset(v for k, v in props[classname, name] if k == "requirement"),
        )
        for classname, name in results
    ]


def cell(text: str) -> str:
    """Keep a value inside its markdown table cell."""
    return text.replace("|", "\\|")


def tally(ids: Iterable[str], results: dict[str, str]) -> str:
    """`passing / automated / total` for a set of test case ids."""
    every = list(ids)
    automated = [i for i in every if i in results]
    return f"{sum(results[i] == PASSING for i in automated)} / {len(automated)} / {len(every)}"


def render(cases: dict[str, CaseSpec], tests: Sequence[Outcome]) -> str:
    """The markdown report for these test cases and test outcomes."""
    by_case: dict[str, list[Outcome]] = defaultdict(list)
    by_requirement: dict[str, list[Outcome]] = defaultdict(list)
    for test in tests:
        for tc in test.test_cases:
            by_case[tc].append(test)
        for req in test.requirements:
            by_requirement[req].append(test)
    results = {tc: combine(t.result for t in by_case[tc]) for tc in cases if tc in by_case}
    ordered = sorted(cases.values(), key=lambda c: natural_key(c.id))

    lines = [
        "# OCPP 2.0.1 Charging Station conformance",
        "",
        "Generated by `python docs/make_conformance.py` from the results of `pytest tests property_tests` "
        "and `shared/ocpp-2.0.1/cs-test-cases.csv`; do not edit by hand. "
        f"CS test cases automated and passing / automated / total: **{tally(cases, results)}**.",
        "",
        "A test case is *automated* when a test's name contains its id (see the root `conftest.py`). "
        "Result: *passing* when every test carrying the id passed, *failing* when any failed or errored, "
        "*skipped* otherwise (none failed, some or all skipped).",
        "",
        "| Profile | Mandatory (M) | Conditional (C) | All |",
        "|---|---:|---:|---:|",
    ]
    profiles = list(PROFILES) + sorted({c.profile for c in ordered} - set(PROFILES))
    for profile in profiles:
        in_profile = [c for c in ordered if c.profile == profile]
        lines.append(
            f"| {profile} | {tally((c.id for c in in_profile if c.mandatory == 'M'), results)} "
            f"| {tally((c.id for c in in_profile if c.mandatory == 'C'), results)} "
            f"| {tally((c.id for c in in_profile), results)} |"
        )

    lines += ["", "Counts are passing / automated / total.", "", "## Test cases per functional block"]
    for block, name in BLOCKS.items():
        in_block = [c for c in ordered if c.block == block]
        lines += [
            "",
            f"### {block} {name}",
            "",
            f"Passing / automated / total: {tally((c.id for c in in_block), results)}.",
        ]
        named = sorted((r for r in by_requirement if r[0] == block), key=natural_key)
        if named:
            verdicts = {r: combine(t.result for t in by_requirement[r]) for r in named}
            lines += [
                "",
                f"Requirements named by tests, passing / named: {sum(v == PASSING for v in verdicts.values())} / "
                f"{len(named)}: " + ", ".join(r if verdicts[r] == PASSING else f"{r} ({verdicts[r]})" for r in named)
                + ".",
            ]
        rows = [c for c in in_block if c.id in results]
        if rows:
            lines += [
                "",
                "| Test case | Title | Profile | M/C | Result | Tests |",
                "|---|---|---|---|---|---|",
            ]
        for c in rows:
            functions = "<br>".join(f"`{f}`" for f in sorted({t.function for t in by_case[c.id]}))
            lines.append(
                f"| {c.id} | {cell(c.title)} | {c.profile} | {c.mandatory} | {results[c.id]} | {functions} |"
            )

    lines += ["", "## Requirements named by tests", ""]
    if by_requirement:
        lines += ["| Requirement | Tests | Result |", "|---|---:|---|"]
        lines += [
            f"| {req} | {len(by_requirement[req])} | {combine(t.result for t in by_requirement[req])} |"
            for req in sorted(by_requirement, key=natural_key)
        ]
    else:
        lines.append("None.")

    gaps: dict[str, set[str]] = defaultdict(set)
    for c in ordered:
        if c.id in results:
            for req in c.requirements:
                if req not in by_requirement:
                    gaps[req].add(c.id)
    lines += ["", "## Requirements of automated test cases that no test names", ""]
    if gaps:
        lines += ["| Requirement | Listed by |", "|---|---|"]
        lines += [
            f"| {req} | {', '.join(sorted(gaps[req], key=natural_key))} |"
            for req in sorted(gaps, key=natural_key)
        ]
    else:
        lines.append("None.")

    unknown = sorted(set(by_case) - set(cases), key=natural_key)
    lines += ["", "## Test case ids in test names that are not CS test cases in the CSV", ""]
    lines += [f"- {tc}: " + ", ".join(sorted({f"`{t.function}`" for t in by_case[tc]})) for tc in unknown]
    if not unknown:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def build_report(junit: Path, cases: Path) -> str:
    """The markdown report for a junit xml file and the test case CSV."""
    return render(read_cases(cases), read_junit(junit))


def run_pytest(junit: Path) -> None:
    """Run the suite into `junit`; failing tests are fine (the report shows them), a broken run is not."""
    command = [sys.executable, "-m", "pytest", *PYTEST_ARGS, "--junitxml", str(junit)]
    returncode = subprocess.run(command, cwd=REPO, check=False).returncode
    if returncode not in (0, 1, 5):  # 5: no tests collected
        raise ReportError(f"pytest stopped with exit code {returncode}: the results are incomplete")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, help="read this junit xml instead of running pytest")
    parser.add_argument("--cases", type=Path, default=DEFAULT_CASES, help="cs-test-cases.csv")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the markdown file to write")
    args = parser.parse_args(argv)
    try:
        if args.junit is not None:
            report = build_report(args.junit, args.cases)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                junit = Path(tmp) / "junit.xml"
                run_pytest(junit)
                report = build_report(junit, args.cases)
    except (ReportError, OSError, ET.ParseError) as e:
        print(f"make_conformance: {e}; {args.output} left unchanged", file=sys.stderr)
        return 1
    args.output.write_text(report, encoding="utf-8", newline="\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
