"""The report of a probe run, as Markdown (for people) or JSON (for CI dashboards), chosen by file extension."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargecore.testing.rules import RULES, Rule, Violation


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a probe run found: `violations` and `transcript` are those of the shrunk (minimal) failing example."""

    url: str
    stations: int
    examples: int
    seed: int | None
    seconds: float
    frames: int
    violations: tuple[Violation, ...] = ()
    transcript: str = ""
    rules: tuple[Rule, ...] = field(default=RULES)
    error: str | None = None
    """A failure that is no rule violation (the CSMS cannot be reached, the station did not boot), if any."""

    @property
    def passed(self) -> bool:
        return not self.violations and self.error is None

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds > 0 else 0.0


def as_json(result: ProbeResult) -> dict[str, Any]:
    return {
        "url": result.url,
        "passed": result.passed,
        "stations": result.stations,
        "examples": result.examples,
        "seed": result.seed,
        "seconds": round(result.seconds, 3),
        "examples_per_second": round(result.examples_per_second, 2),
        "frames": result.frames,
        "rules": [
            {"id": rule.id, "requirements": list(rule.requirements), "description": rule.description}
            for rule in result.rules
        ],
        "violations": [
            {"rule": violation.rule_id, "message": violation.message, "frames": list(violation.frames)}
            for violation in result.violations
        ],
        "transcript": result.transcript.splitlines(),
        "error": result.error,
    }


def as_markdown(result: ProbeResult) -> str:
    verdict = "no violation" if result.passed else f"{len(result.violations)} violation(s)"
    lines = [
        f"# CSMS probe of {result.url}: {verdict}",
        "",
        f"{result.examples} examples with {result.stations} station(s) in {result.seconds:.1f} s "
        f"({result.examples_per_second:.1f} examples/s, {result.frames} frames), seed {result.seed}.",
        "",
    ]
    if result.error:
        lines += ["## Error", "", result.error, ""]
    if result.violations:
        lines += ["## Violations (shrunk example)", ""]
        lines += [f"- `{violation.rule_id}`: {violation.message}" for violation in result.violations]
        lines += ["", "```", result.transcript, "```", ""]
    lines += ["## Rules checked", "", "| rule | requirements | what |", "| --- | --- | --- |"]
    lines += [f"| `{rule.id}` | {', '.join(rule.requirements)} | {rule.description} |" for rule in result.rules]
    return "\n".join(lines) + "\n"


def write(result: ProbeResult, path: Path) -> None:
    """JSON for a .json file, Markdown for anything else (.md)."""
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(as_json(result), indent=2) + "\n")
    else:
        path.write_text(as_markdown(result))
