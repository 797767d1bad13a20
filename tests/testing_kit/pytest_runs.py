"""Run pytest as a user of the kit would: a process of its own in a folder of its own (no repository conftest,
no repository settings), the plugin found through its installed entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_pytest(folder: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout, check=False)
