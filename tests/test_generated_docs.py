"""The generated docs are what their scripts give now: docs/lifecycles.md (docs/make_diagrams.py) and
docs/variables.md (docs/make_variables.py). A table or catalogue changed without regenerating fails here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from chargecore.pure.lifecycle import Edge, Lifecycle

REPO = Path(__file__).resolve().parent.parent


def load_script(name: str) -> ModuleType:
    """docs/ is not a package, so load the script by path (registered first, as dataclasses need that), with
    docs/ on the path for what the scripts share."""
    if str(REPO / "docs") not in sys.path:
        sys.path.insert(0, str(REPO / "docs"))
    spec = importlib.util.spec_from_file_location(name, REPO / "docs" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


diagrams = load_script("make_diagrams")
variables = load_script("make_variables")


def test_lifecycle_diagrams_are_current() -> None:
    committed = (REPO / "docs" / "lifecycles.md").read_text(encoding="utf-8")
    assert committed == diagrams.render(diagrams.lifecycle_tables()), "run: python docs/make_diagrams.py"


def test_variables_reference_is_current() -> None:
    committed = (REPO / "docs" / "variables.md").read_text(encoding="utf-8")
    assert committed == variables.generate(), "run: python docs/make_variables.py"


def test_every_table_is_drawn() -> None:
    names = {table.lifecycle.name for table in diagrams.lifecycle_tables()}
    assert {"connection", "rpc", "registration", "connector", "transaction", "authorization"} <= names


def test_a_diagram_draws_every_edge_from_the_initial_state() -> None:
    lifecycle = Lifecycle(
        "door",
        ["shut", "open", "end"],
        [
            Edge("open", "shut", "open"),
            Edge("close", "open", "shut"),
            Edge("slam", "open", "shut"),
            Edge("break", "shut", "end"),
        ],
    )
    assert diagrams.mermaid(lifecycle).splitlines() == [
        "stateDiagram-v2",
        "    direction LR",
        '    state "shut" as s_shut',
        '    state "open" as s_open',
        '    state "end" as s_end',
        "    [*] --> s_shut",
        "    s_shut --> s_end: break",
        "    s_shut --> s_open: open",
        "    s_open --> s_shut: close, slam",
    ]


def test_a_changed_table_changes_the_diagram() -> None:
    tables = diagrams.lifecycle_tables()
    grown = Lifecycle("connection", tables[0].lifecycle.states, [Edge("power_up", "off", "connecting")])
    changed = [diagrams.Table(tables[0].constant, grown, tables[0].title, tables[0].essay), *tables[1:]]
    assert diagrams.render(changed) != diagrams.render(tables)


def test_the_essay_is_the_comment_above_a_table_and_the_docstring_below() -> None:
    source = """\
# --- door (house rules 1.2) ------------
# `shut` until opened.
# A missing edge is refused.

DOOR = Lifecycle("door", ["shut"], [])
\"\"\"Slamming counts as closing.\"\"\"

WINDOW = Lifecycle("window", ["shut"], [])
"""
    assert diagrams._essays(source) == {
        "DOOR": (
            "door (house rules 1.2)",
            "`shut` until opened.\nA missing edge is refused.\nSlamming counts as closing.",
        ),
        "WINDOW": ("", ""),
    }


def test_a_variable_is_used_by_name_alone_only_when_one_component_has_it() -> None:
    keys = [("AuthCtrlr", "Enabled"), ("AuthCacheCtrlr", "Enabled"), ("TxCtrlr", "TxStartPoint")]
    uses = [
        variables.Use(frozenset({"Enabled", "TxStartPoint"}), frozenset(), frozenset({"E01.FR.01"})),
        variables.Use(frozenset({"AuthCacheCtrlr", "Enabled"}), frozenset(), frozenset({"C10.FR.01"})),
        variables.Use(frozenset(), frozenset({("AuthCtrlr", "Enabled")}), frozenset({"C01.FR.02"})),
    ]
    assert variables.requirements_by_key(keys, uses) == {
        ("TxCtrlr", "TxStartPoint"): {"E01.FR.01"},
        ("AuthCacheCtrlr", "Enabled"): {"C10.FR.01"},
        ("AuthCtrlr", "Enabled"): {"C01.FR.02"},
    }


def test_the_firmware_diagram_is_the_firmware_table() -> None:
    """docs/firmware.md shows FIRMWARE_LIFECYCLE as make_diagrams draws it (copy it from docs/lifecycles.md)."""
    from chargecore.pure.lifecycle import FIRMWARE_LIFECYCLE

    committed = (REPO / "docs" / "firmware.md").read_text(encoding="utf-8")
    assert f"```mermaid\n{diagrams.mermaid(FIRMWARE_LIFECYCLE)}\n```" in committed
