"""How damage is told: one warning line per damaged or missing file, naming what was wrong, how many records
were lost and where the file was set aside (rules 1, 2 and 4 of journal_storage.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from chargecore.shell.store_records import Scan


def describe_problem(raw: bytes, scan: Scan) -> str:
    if not raw:
        return "empty"
    found = [f"{scan.damaged_lines} damaged line{'s' * (scan.damaged_lines != 1)}"] if scan.damaged_lines else []
    found += ["a partial last line"] if scan.tail else []
    return ", ".join(found) or "records missing"


def describe_loss(lost: int, total: int | None) -> str:
    if total is not None:
        return f"{lost} of {total} records lost"
    return f"at least {lost} records lost" if lost else "an unknown number of records lost"


def damaged_label() -> str:
    """The suffix under which a damaged file is kept: `damaged-<UTC time>`."""
    return "damaged-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Damage:
    """One damaged or missing file: its warning line reads `<path>: <problem>, <loss>; <what was done>`."""

    path: Path
    problem: str
    loss: str
    kept: int
    present: bool
    """The file exists (and is moved aside); False: it is missing."""

    def line(self, aside: Path | None) -> str:
        done = f"moved aside to {aside.name}, its {self.kept} intact records kept" if aside else "nothing to move"
        return f"{self.path}: {self.problem}, {self.loss}; {done}"
