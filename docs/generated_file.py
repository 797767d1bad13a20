"""The command line every docs generator shares: write the generated file, or with --check say whether the
committed one is stale (exit 1), so that CI and a person run the same code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path


def write_or_check(
    argv: Sequence[str] | None, description: str, output: Path, generate: Callable[[], str], command: str
) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    args = parser.parse_args(argv)
    text = generate()
    if args.check:
        stale = not output.exists() or output.read_text(encoding="utf-8") != text
        if stale:
            print(f"{output.name} is stale: run {command}", file=sys.stderr)
        return 1 if stale else 0
    output.write_text(text, encoding="utf-8")
    return 0
