"""Generate `docs/lifecycles.md`: one Mermaid state diagram per lifecycle table of the core.

Usage: `python docs/make_diagrams.py` rewrites the file; `python docs/make_diagrams.py --check` exits 1 when the
committed file differs from what the tables give (tests/test_generated_docs.py does the same check).

The diagrams are drawn from the live `Lifecycle` objects, never from a copy of their edges, so a changed table
only needs this command run again. `lifecycle_tables` is the one place that knows where the tables live.
transitions' own mermaid backend (`GraphMachine(graph_engine="mermaid")`) is not used: it needs a model, paints
the model's current state as "active" and writes a front-matter title that Mermaid does not parse.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generated_file import write_or_check  # docs/ beside this script

from chargecore.pure.lifecycle import Lifecycle

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "docs" / "lifecycles.md"
TABLES_MODULE = "chargecore.pure.lifecycle"
"""Where the lifecycle tables are defined (every module-level `Lifecycle` in it is drawn)."""
COMMAND = "python docs/make_diagrams.py"


@dataclass(frozen=True, slots=True)
class Table:
    constant: str
    lifecycle: Lifecycle
    title: str
    """The banner above the table (e.g. `connection (Part 4 section 5.3)`), else the lifecycle's name."""
    essay: str


BANNER = re.compile(r"^-+\s*(.*?)\s*-*$")
"""A section banner comment, `# --- connection (Part 4 section 5.3) ------`."""


def _comment_above(lines: Sequence[str], first_line: int) -> tuple[str, list[str]]:
    """The banner title and the comment lines above source line `first_line` (1-based), blank lines between."""
    block: list[str] = []
    index = first_line - 2
    while index >= 0 and not lines[index].strip():
        index -= 1
    while index >= 0 and lines[index].lstrip().startswith("#"):
        block.insert(0, lines[index].lstrip()[1:].strip())
        index -= 1
    banner = BANNER.match(block[0]) if block else None
    return (banner.group(1), block[1:]) if banner else ("", block)


def _essays(source: str) -> dict[str, tuple[str, str]]:
    """What the source writes around each module-level table: (banner title, essay), by constant name. The essay
    is the comment block above the assignment and the string literal below it (an attribute docstring)."""
    lines = source.splitlines()
    body = ast.parse(source).body
    found: dict[str, tuple[str, str]] = {}
    for statement, following in itertools.pairwise([*body, None]):
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            continue
        title, essay = _comment_above(lines, statement.lineno)
        if (
            isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            essay.append(inspect.cleandoc(following.value.value))
        found[statement.targets[0].id] = (title, "\n".join(essay))
    return found


def lifecycle_tables() -> list[Table]:
    """Every lifecycle table in definition order, with the essay its source writes around it."""
    module = importlib.import_module(TABLES_MODULE)
    essays = _essays(inspect.getsource(module))
    tables = []
    for name, value in vars(module).items():
        if isinstance(value, Lifecycle):
            title, essay = essays.get(name, ("", ""))
            tables.append(Table(name, value, title or value.name, essay))
    return tables


def edges(lifecycle: Lifecycle) -> list[tuple[str, str, tuple[str, ...]]]:
    """(source, dest, triggers) for every pair of states an edge joins, asked through `lookup` alone."""
    joined: dict[tuple[str, str], list[str]] = {}
    for source in lifecycle.states:
        for trigger in sorted(lifecycle.triggers()):
            dest = lifecycle.lookup(source, trigger)
            if dest is not None:
                joined.setdefault((source, dest), []).append(trigger)
    return [(source, dest, tuple(triggers)) for (source, dest), triggers in joined.items()]


def _node(state: str) -> str:
    """A Mermaid id that cannot collide with a keyword (`end`, `state`, `note`...)."""
    return f"s_{state}"


def mermaid(lifecycle: Lifecycle) -> str:
    lines = ["stateDiagram-v2", "    direction LR"]
    lines += [f'    state "{state}" as {_node(state)}' for state in lifecycle.states]
    lines.append(f"    [*] --> {_node(lifecycle.states[0])}")
    for source, dest, triggers in edges(lifecycle):
        lines.append(f"    {_node(source)} --> {_node(dest)}: {', '.join(triggers)}")
    return "\n".join(lines)


def render(tables: Sequence[Table]) -> str:
    parts = [
        "# Lifecycles",
        "",
        f"Generated by `{COMMAND}` from the `transitions` tables in `{TABLES_MODULE}`; do not edit by hand. "
        "`tests/test_generated_docs.py` fails when this file is stale.",
        "",
        f"The core has {len(tables)} lifecycle tables. Each is consulted as a lookup table: the current state "
        "lives in the immutable `Station`; what a trigger with no edge from that state does is said in "
        "`pure/lifecycle.py`. The first state is the initial one; an arrow carries every trigger that joins the "
        "two states, and each table's essay is the text its source writes around it.",
    ]
    for table in tables:
        parts += ["", f"## {table.title}", "", f"`{table.constant}`", ""]
        if table.essay:
            parts += [table.essay, ""]
        parts += ["```mermaid", mermaid(table.lifecycle), "```"]
    return "\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    return write_or_check(argv, __doc__.splitlines()[0], OUTPUT, lambda: render(lifecycle_tables()), COMMAND)


if __name__ == "__main__":
    sys.exit(main())
