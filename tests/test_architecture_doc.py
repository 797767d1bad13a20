"""docs/architecture.md names every module of pure/, shell/ and tools/, every input and every effect, so that a
new one cannot be added without the map showing it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from chargecore.pure.effects import Effect, Question
from chargecore.pure.inputs import Input

REPO = Path(__file__).resolve().parent.parent
TEXT = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
NAMED = {code for line in TEXT.splitlines() if not line.startswith("```") for code in re.findall(r"`([^`]+)`", line)}


def mentioned(name: str) -> bool:
    """Named in backticks, alone or as the start of a call (`Ask(...)`)."""
    return any(code == name or code.startswith(f"{name}(") for code in NAMED)


def test_every_module_is_on_the_map() -> None:
    folders = [REPO / "pure", REPO / "shell", REPO / "aio", REPO / "tools"]
    modules = {path.name for folder in folders if folder.exists() for path in folder.rglob("*.py")}
    assert sorted(m for m in modules - {"__init__.py"} if not re.search(rf"\b{re.escape(m)}\b", TEXT)) == []


def test_every_input_and_effect_is_named() -> None:
    kinds = [*get_args(Input), *get_args(Effect), *get_args(Question)]
    assert sorted(kind.__name__ for kind in kinds if not mentioned(kind.__name__)) == []
