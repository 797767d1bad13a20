"""The core stays pure: no module under pure/ reaches for I/O, the clock, randomness, threads or the shell.

Checked statically with `ast`, so a forbidden import fails here even if no test ever runs that code path.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from chargecore.pure import lifecycle as lifecycle_tables
from chargecore.pure.lifecycle import Lifecycle

FORBIDDEN_MODULES = frozenset(
    {
        "os", "io", "socket", "ssl", "select", "selectors", "threading", "multiprocessing", "asyncio",
        "subprocess", "logging", "random", "secrets", "uuid", "time", "tempfile", "shutil", "pathlib",
        "urllib", "http", "requests", "websocket", "websockets", "tinydb", "chargecore.shell", "chargecore.aio",
    }
)  # fmt: skip
"""A module is forbidden when it or a package above it is listed (os.path, urllib.parse, chargecore.shell.link)."""

FORBIDDEN_BUILTIN_CALLS = frozenset({"open", "print", "input"})

FORBIDDEN_ATTRIBUTE_CALLS = frozenset(
    {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today")}
)
"""(object, attribute) calls that read the clock; time must come in through inputs."""

PACKAGE_DATA_MODULE = "importlib.resources"
"""Allowed for static package data, read while the module is imported or once per name by a memoised function
(like a lazy import); reading it again at every run-time call would be I/O."""

MEMOISERS = frozenset({"cache", "lru_cache"})
"""functools' decorators: a function under one computes its value once per argument and keeps it."""

PURE_DIR = Path(__file__).resolve().parents[1] / "pure"
PACKAGE = "chargecore.pure"

Functions = ast.FunctionDef | ast.AsyncFunctionDef


def pure_modules() -> list[Path]:
    modules = sorted(PURE_DIR.rglob("*.py"))
    assert len(modules) > 10, f"expected the core's modules under {PURE_DIR}"
    return modules


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, absolute name) of every import; `from x import y` gives x and x.y, relative ones are resolved
    against chargecore.pure."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = PACKAGE.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def is_forbidden(module: str) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:n]) in FORBIDDEN_MODULES for n in range(1, len(parts) + 1))


def forbidden_imports(tree: ast.AST) -> list[str]:
    return sorted({f"line {line}: {module}" for line, module in imported_modules(tree) if is_forbidden(module)})


def forbidden_calls(tree: ast.AST) -> list[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTIN_CALLS:
            found.add(f"line {node.lineno}: {func.id}()")
        elif isinstance(func, ast.Attribute):
            owner = func.value
            name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
            if (name, func.attr) in FORBIDDEN_ATTRIBUTE_CALLS:
                found.add(f"line {node.lineno}: {name}.{func.attr}()")
    return sorted(found)


def reads_package_data(node: ast.AST) -> bool:
    """Uses `resources.<x>` or `importlib.resources`, or imports it."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Attribute) and (
            (isinstance(inner.value, ast.Name) and inner.value.id == "resources") or inner.attr == "resources"
        ):
            return True
        if any(module.startswith(PACKAGE_DATA_MODULE) for _, module in imported_modules(inner)):
            return True
    return False


def called_names(nodes: list[ast.stmt]) -> set[str]:
    return {
        node.func.id
        for statement in nodes
        for node in ast.walk(statement)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def is_memoised(function: Functions) -> bool:
    """Decorated with functools' cache or lru_cache (bare, called, or as `functools.<name>`)."""
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
        if name in MEMOISERS:
            return True
    return False


def package_data_misuse(tree: ast.Module) -> list[str]:
    """Functions may read package data only as loaders: top-level functions that module-level code calls (so
    they run once, at import) and that at run time only memoised functions call, which read each file once."""
    functions = [node for node in tree.body if isinstance(node, Functions)]
    module_level = [node for node in tree.body if not isinstance(node, Functions)]
    problems = [
        f"line {node.lineno}: package data read inside {node.name}()"
        for statement in module_level
        for node in ast.walk(statement)
        if isinstance(node, Functions) and reads_package_data(node)  # methods and nested functions
    ]
    loaders = [function for function in functions if reads_package_data(function) and not is_memoised(function)]
    at_import = called_names(module_level)
    problems += [
        f"{f.name}() reads package data but module level never calls it" for f in loaders if f.name not in at_import
    ]
    run_time_calls = called_names([function for function in functions if not is_memoised(function)])
    problems += [
        f"{f.name}() reads package data and is called at run time" for f in loaders if f.name in run_time_calls
    ]
    return problems


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: p.relative_to(PURE_DIR).as_posix())
def test_no_forbidden_imports(path: Path) -> None:
    bad = forbidden_imports(parse(path))
    assert not bad, f"{path.name} imports I/O, clock, randomness, threads or the shell: {bad}"


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: p.relative_to(PURE_DIR).as_posix())
def test_no_forbidden_calls(path: Path) -> None:
    bad = forbidden_calls(parse(path))
    assert not bad, f"{path.name} does I/O or reads the clock: {bad}"


@pytest.mark.parametrize("path", pure_modules(), ids=lambda p: p.relative_to(PURE_DIR).as_posix())
def test_package_data_is_read_at_import_only(path: Path) -> None:
    bad = package_data_misuse(parse(path))
    assert not bad, f"{path.name}: {bad}"


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("import os.path", True),
        ("import time as clock", True),
        ("from time import monotonic", True),
        ("from urllib.parse import quote", True),
        ("from .. import shell", True),
        ("from ..shell.link import station_url", True),
        ("from chargecore import shell", True),
        ("def f():\n    import random", True),
        ("import osmosis", False),
        ("from . import rpc", False),
        ("from importlib import resources", False),
    ],
)
def test_the_import_check_itself(source: str, forbidden: bool) -> None:
    """Submodules, `from x import y`, relative and function-local imports all count; look-alikes do not."""
    assert bool(forbidden_imports(ast.parse(source))) is forbidden


def test_the_call_check_itself() -> None:
    source = "def f():\n    print(1)\n    return datetime.datetime.now(), date.today(), open('x'), now()\n"
    assert forbidden_calls(ast.parse(source)) == [
        "line 2: print()",
        "line 3: date.today()",
        "line 3: datetime.now()",
        "line 3: open()",
    ]


@pytest.mark.parametrize(
    ("source", "misused"),
    [
        ("from importlib import resources\ndef load():\n    return resources.files('x')\nDATA = load()\n", False),
        ("from importlib import resources\ndef load():\n    return resources.files('x')\n", True),
        (
            "from importlib import resources\ndef load():\n    return resources.files('x')\n"
            "DATA = load()\ndef later():\n    return load()\n",
            True,
        ),
        ("def f():\n    from importlib import resources\n    return resources\nX = f()\ndef g():\n    f()\n", True),
        ("class C:\n    def m(self):\n        return importlib.resources.files('x')\n", True),
        ("from importlib import resources\n@cache\ndef load(name):\n    return resources.files(name)\n", False),
        (
            "from importlib import resources\ndef folder():\n    return resources.files('x')\nNAMES = folder()\n"
            "@functools.lru_cache(maxsize=None)\ndef load(name):\n    return folder().joinpath(name)\n",
            False,
        ),
        (
            "from importlib import resources\ndef folder():\n    return resources.files('x')\nNAMES = folder()\n"
            "@cache\ndef load(name):\n    return folder().joinpath(name)\ndef later(name):\n    return folder()\n",
            True,
        ),
        ("from importlib import resources\n@property\ndef load(name):\n    return resources.files(name)\n", True),
    ],
)
def test_the_package_data_check_itself(source: str, misused: bool) -> None:
    assert bool(package_data_misuse(ast.parse(source))) is misused


LIFECYCLES = [value for value in vars(lifecycle_tables).values() if isinstance(value, Lifecycle)]


def test_every_lifecycle_is_inspected() -> None:
    names = {lifecycle.name for lifecycle in LIFECYCLES}
    assert names == {"connection", "rpc", "registration", "connector", "transaction", "authorization", "firmware"}


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lifecycle: lifecycle.name)
def test_lifecycles_are_lookup_tables_only(lifecycle: Lifecycle) -> None:
    """model=None and auto_transitions=False: no `to_<state>` trigger that jumps anywhere, and no model that
    would hold a current state outside the immutable Station."""
    machine = lifecycle._machine
    assert not [trigger for trigger in lifecycle.triggers() if trigger.startswith("to_")]
    assert machine.auto_transitions is False
    assert machine.models == [], "a bound model keeps state outside the Station"
    for source in lifecycle.states:
        for trigger in lifecycle.triggers():
            assert lifecycle.lookup(source, trigger) in (None, *lifecycle.states)
