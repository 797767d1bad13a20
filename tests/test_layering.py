"""Imports point down the layers only (docs/architecture.md): the OCPP-J session knows no functional block and no
device-model rule, the device model knows no block, a block never reaches up into station.py, and nothing in the
core imports the shell or the tools.

Checked statically with `ast`, like the purity test, so a stray import fails here even if no test runs it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PURE_DIR = Path(__file__).resolve().parents[1] / "pure"
PURE = "chargecore.pure"
OCPPJ = f"{PURE}.ocppj"
DEVICE_MODEL = f"{PURE}.device_model"
BLOCKS = f"{PURE}.blocks"

DEVICE_MODEL_RULES = (f"{DEVICE_MODEL}.value_rules", f"{DEVICE_MODEL}.redaction")
"""Device-model modules that decide something about values; OCPP-J may read and write values, not judge them."""

LAYER_RULES: tuple[tuple[str, str, str], ...] = (
    (OCPPJ, BLOCKS, "ocppj/ imports no functional block"),
    *((OCPPJ, rule, "ocppj/ imports no device-model rule") for rule in DEVICE_MODEL_RULES),
    (DEVICE_MODEL, BLOCKS, "device_model/ imports no functional block"),
    (BLOCKS, f"{PURE}.station", "a block never imports station.py"),
    (PURE, "chargecore.shell", "pure/ never imports shell/"),
    (PURE, "chargecore.tools", "pure/ never imports tools/"),
    (PURE, "chargecore.aio", "pure/ never imports aio/"),
    (PURE, "chargecore.testing", "pure/ never imports the testing kit"),
)
"""(importer, imported, rule): a module at or under `importer` may not import `imported` or anything under it."""


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def module_name(path: Path) -> str:
    parts = path.relative_to(PURE_DIR).with_suffix("").parts
    return ".".join((PURE, *(parts[:-1] if parts[-1] == "__init__" else parts)))


def imported_modules(tree: ast.AST, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, absolute name) of every import; `from x import y` gives x.y, so that `from chargecore.pure import
    station` counts as importing station.py; relative imports are resolved against `module`'s package."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def layering_violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every import of `source` (the text of `module`) that breaks a layer rule, named with its line and rule."""
    first_found: dict[tuple[int, str], str] = {}  # one finding per line and rule: `from x import a, b` names x.a
    for line, imported in imported_modules(ast.parse(source), module, is_package):
        for importer, forbidden, rule in LAYER_RULES:
            if within(module, importer) and within(imported, forbidden):
                first_found[line, rule] = first_found.get((line, rule), imported)
    return sorted(f"line {line}: {imported} ({rule})" for (line, rule), imported in first_found.items())


def pure_modules() -> list[Path]:
    modules = sorted(PURE_DIR.rglob("*.py"))
    assert {path.parent.name for path in modules} >= {"ocppj", "device_model", "blocks"}
    return modules


@pytest.mark.parametrize("path", pure_modules(), ids=lambda path: path.relative_to(PURE_DIR).as_posix())
def test_imports_point_down_the_layers(path: Path) -> None:
    bad = layering_violations(path.read_text(encoding="utf-8"), module_name(path), path.name == "__init__.py")
    assert not bad, f"{path.relative_to(PURE_DIR)} imports against the layers: {bad}"


@pytest.mark.parametrize(
    ("module", "source", "violation"),
    [
        (f"{OCPPJ}.rpc", "from chargecore.pure.blocks.authorization import authorization", "functional block"),
        (f"{OCPPJ}.rpc", "from chargecore.pure.blocks import data_transfer", "functional block"),
        (f"{OCPPJ}.rpc", "def f():\n    import chargecore.pure.blocks.monitoring.monitors", "functional block"),
        (f"{OCPPJ}.rpc", "from ..blocks.availability import availability", "functional block"),
        (f"{OCPPJ}.frames", "from chargecore.pure.device_model.redaction import mask_frame", "device-model rule"),
        (f"{DEVICE_MODEL}.model", "from chargecore.pure.blocks.provisioning import variables", "functional block"),
        (f"{BLOCKS}.remote_control", "from chargecore.pure import station", "station.py"),
        (f"{BLOCKS}.monitoring.monitors", "from chargecore.pure.station import step", "station.py"),
        (f"{BLOCKS}.monitoring.monitors", "from ...station import step", "station.py"),
        (f"{PURE}.state", "from chargecore.shell.storage import Storage", "shell/"),
        (f"{PURE}.ocppj.lane", "from chargecore import tools", "tools/"),
        (f"{PURE}.station", "from chargecore.tools.csms import LocalCsms", "tools/"),
        (f"{PURE}.station", "from chargecore.aio import AsyncChargingStation", "aio/"),
    ],
)
def test_a_planted_bad_import_is_named(module: str, source: str, violation: str) -> None:
    (found,) = layering_violations(source, module)
    assert found.startswith(f"line {source.count(chr(10)) + 1}: ") and violation in found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        (f"{OCPPJ}.rpc", "from chargecore.pure.device_model.model import get_int"),
        (f"{OCPPJ}.rpc", "from chargecore.pure.state import Station"),
        (f"{DEVICE_MODEL}.redaction", "from chargecore.pure.device_model.model import CATALOGUE"),
        (f"{BLOCKS}.remote_control", "from chargecore.pure.blocks.transactions import sessions"),
        (f"{BLOCKS}.remote_control", "from chargecore.pure import stationery"),
        (f"{PURE}.station", "from chargecore.pure.blocks import remote_control"),
        (f"{PURE}.state", "import chargecore.shellfish"),
    ],
)
def test_imports_down_the_layers_pass(module: str, source: str) -> None:
    assert layering_violations(source, module) == []
