"""Run pytest as a user of the kit would: a process of its own in a folder of its own (no repository conftest,
no repository settings), the plugin found through its installed entry point."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"


def run_pytest(folder: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout, check=False)


def run_example(
    folder: Path, example: Path, csms_url: str, station_id: str, answer_timeout: float
) -> subprocess.CompletedProcess[str]:
    """One of docs/examples/ copied into `folder` and run against `csms_url` with the CI profile."""
    shutil.copy(example, folder)
    options = ["--ocpp-csms", csms_url, "--ocpp-id", station_id, "--ocpp-answer-timeout", str(answer_timeout)]
    return run_pytest(folder, example.name, *options, "--hypothesis-profile", "ocpp-ci")


def tutorial_code(heading: str) -> str:
    """The first Python block under `heading` in docs/testing_kit.md: what the tutorial shows of an example."""
    tutorial = (DOCS / "testing_kit.md").read_text()
    return tutorial.split(heading, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def without_docstring(example: Path) -> str:
    return example.read_text().split('"""\n\n', 1)[1]
