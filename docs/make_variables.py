"""Generate `docs/variables.md`: every device-model variable of `specs/device_model.json` and who uses it.

Usage: `python docs/make_variables.py` rewrites the file; `python docs/make_variables.py --check` exits 1 when the
committed file is stale (tests/test_generated_docs.py does the same check).

The catalogue gives the default, mutability and limits. It names no requirement ids, so they are gathered from
the code, by one rule written down in the generated file: a function *uses* a variable when it names it. Ids
are read from the functions of `pure/` that use it (their docstrings and comments) and from the
`@pytest.mark.requirements` markers of the tests that use it, so the list only says what the code says.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generated_file import write_or_check  # docs/ beside this script

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "specs" / "device_model.json"
OUTPUT = REPO / "docs" / "variables.md"
CODE_DIRS = (REPO / "pure",)
TEST_DIRS = (REPO / "tests", REPO / "property_tests")
COMMAND = "python docs/make_variables.py"
REQUIREMENT_ID = re.compile(r"\b[A-P]\d\d\.FR\.\d+\b")

Key = tuple[str, str]
"""(component, variable) as the catalogue names them."""


@dataclass(frozen=True, slots=True)
class Use:
    """A function that names some variables, and the requirement ids it carries."""

    names: frozenset[str]
    keys: frozenset[Key]
    requirements: frozenset[str]


def _functions(tree: ast.Module) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, tuple[ast.ClassDef, ...]]]:
    """Top-level functions and the methods of top-level classes, with the class they sit in."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, ()
        elif isinstance(node, ast.ClassDef):
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield member, (node,)


def _strings(node: ast.AST) -> frozenset[str]:
    return frozenset(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _variable_key_constants(tree: ast.Module) -> dict[str, Key]:
    """`NAME = VariableKey("Component", "Variable", ...)` at module level."""
    found: dict[str, Key] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        call = node.value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == "VariableKey"
            and len(call.args) >= 2
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in call.args[:2])
        ):
            component, variable = (a.value for a in call.args[:2])  # type: ignore[attr-defined]
            found[node.targets[0].id] = (component, variable)
    return found


def _marker_ids(decorators: Iterable[ast.expr]) -> set[str]:
    ids: set[str] = set()
    for decorator in decorators:
        for node in ast.walk(decorator):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "requirements":
                ids |= {a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return ids


def _module_marker_ids(tree: ast.Module) -> set[str]:
    return _marker_ids(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets)
    )


def _sources(dirs: Sequence[Path]) -> Iterator[tuple[str, ast.Module]]:
    for folder in dirs:
        for path in sorted(folder.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            yield text, ast.parse(text)


def code_uses(dirs: Sequence[Path]) -> list[Use]:
    """Functions of the core: the ids are those quoted in the function's own text."""
    modules = list(_sources(dirs))
    constants: dict[str, Key] = {}
    for _, tree in modules:
        constants |= _variable_key_constants(tree)
    uses = []
    for text, tree in modules:
        local = constants | _variable_key_constants(tree)
        for function, _ in _functions(tree):
            names = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
            keys = frozenset(local[name] for name in names if name in local)
            segment = ast.get_source_segment(text, function) or ""
            uses.append(Use(_strings(function), keys, frozenset(REQUIREMENT_ID.findall(segment))))
    return uses


def test_uses(dirs: Sequence[Path]) -> list[Use]:
    """Test functions: the ids are those of their requirements markers (function, class and module)."""
    uses = []
    for _, tree in _sources(dirs):
        module_ids = _module_marker_ids(tree)
        for function, classes in _functions(tree):
            if not function.name.startswith("test"):
                continue
            ids = module_ids | _marker_ids(function.decorator_list)
            for cls in classes:
                ids |= _marker_ids(cls.decorator_list)
            if ids:
                uses.append(Use(_strings(function), frozenset(), frozenset(ids)))
    return uses


def requirements_by_key(catalogue_keys: Iterable[Key], uses: Iterable[Use]) -> dict[Key, set[str]]:
    """A use names (component, variable) by a `VariableKey` constant, or by the variable's name as a string
    literal: alone when only one component has a variable of that name, else beside the component's name."""
    keys = set(catalogue_keys)
    owners: dict[str, set[str]] = defaultdict(set)
    for component, variable in keys:
        owners[variable].add(component)
    found: dict[Key, set[str]] = defaultdict(set)
    for use in uses:
        named = set(use.keys) & keys
        for variable in use.names & owners.keys():
            components = owners[variable]
            if len(components) == 1:
                named.add((next(iter(components)), variable))
            else:
                named |= {(component, variable) for component in components & use.names}
        for key in named:
            found[key] |= use.requirements
    return found


def _cell(value: Any) -> str:
    if value is None or value == "":
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _limits(characteristics: Mapping[str, Any]) -> str:
    low, high = characteristics.get("minLimit"), characteristics.get("maxLimit")
    if low is None and high is None:
        return ""
    return f"{'' if low is None else low}..{'' if high is None else high}"


def _type(characteristics: Mapping[str, Any]) -> str:
    text = characteristics["dataType"]
    if characteristics.get("unit"):
        text += f" ({characteristics['unit']})"
    if characteristics.get("valuesList"):
        text += ": " + ", ".join(characteristics["valuesList"])
    return text


def _per_attribute(attributes: Mapping[str, Mapping[str, Any]], show: Any) -> str:
    """The Actual attribute plainly; the others (Target, MaxSet) named."""
    parts = []
    for name, attribute in attributes.items():
        text = show(attribute)
        if text:
            parts.append(text if name == "Actual" else f"{name}: {text}")
    return "; ".join(_cell(p) for p in parts)


def _mutability(attribute: Mapping[str, Any]) -> str:
    return str(attribute["mutability"]) + (", persistent" if attribute.get("persistent") else "")


def _ids(ids: Iterable[str]) -> str:
    return ", ".join(sorted(ids, key=lambda i: (i[:3], int(i.rsplit(".", 1)[1]))))


def render(catalogue: Mapping[str, Any], code: Mapping[Key, set[str]], tests: Mapping[Key, set[str]]) -> str:
    components = catalogue["components"]
    count = sum(len(c["variables"]) for c in components)
    parts = [
        "# Device-model variables",
        "",
        f"Generated by `{COMMAND}` from `specs/device_model.json`; do not edit by hand. "
        "`tests/test_generated_docs.py` fails when this file is stale.",
        "",
        f"{count} variables in {len(components)} components. *Limits* are the catalogue's minLimit..maxLimit "
        "(for a string or list type, its length). The catalogue names no requirement ids, so they are collected "
        "from the code by one rule: a function uses a variable when it names it (through a `VariableKey` "
        "constant, or the variable's name as a string literal: alone when no other component has a variable of "
        "that name, else with its component's name; the instances of a variable share its ids). *In pure/* "
        "lists the ids quoted in the functions of `pure/` that use the variable; *tested* lists the "
        "`@pytest.mark.requirements` ids of the tests that use it. "
        "An empty cell means no function names it that way, not that no requirement applies.",
        "",
        "How values are set and kept: [device_model.md](device_model.md).",
    ]
    for component in components:
        parts += [
            "",
            f"## {component['name']} ({component['scope']})",
            "",
            "| variable | type | default | mutability | limits | in pure/ | tested | what it is |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for variable in component["variables"]:
            key = (component["name"], variable["name"])
            label = variable["name"] + (f"[{variable['instance']}]" if variable["instance"] else "")
            if variable.get("required"):
                label += " (required)"
            if variable.get("rebootRequired"):
                label += " (reboot)"
            characteristics = variable["characteristics"]
            row = [
                f"`{label}`",
                _cell(_type(characteristics)),
                _per_attribute(variable["attributes"], lambda a: "" if a["default"] is None else f"`{a['default']}`"),
                _per_attribute(variable["attributes"], _mutability),
                _limits(characteristics),
                _ids(code.get(key, ())),
                _ids(tests.get(key, ())),
                _cell(variable["description"]),
            ]
            parts.append("| " + " | ".join(row) + " |")
    return "\n".join(parts) + "\n"


def generate() -> str:
    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    keys = [(c["name"], v["name"]) for c in catalogue["components"] for v in c["variables"]]
    code = requirements_by_key(keys, code_uses(CODE_DIRS))
    tests = requirements_by_key(keys, test_uses(TEST_DIRS))
    return render(catalogue, code, tests)


def main(argv: Sequence[str] | None = None) -> int:
    return write_or_check(argv, __doc__.splitlines()[0], OUTPUT, generate, COMMAND)


if __name__ == "__main__":
    sys.exit(main())
