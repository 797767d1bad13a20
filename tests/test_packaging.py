"""The wheel `pip install .` builds: only the chargecore packages and the LICENSE, with the metadata an index shows."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_the_chargecore_packages_the_license_and_true_metadata(tmp_path: Path) -> None:
    """Built from a copy of what the project's configuration reads, so the build leaves the checkout alone."""
    source = tmp_path / "source"
    for directory in ("chargecore", "pure", "shell", "aio", "testing", "tools", "specs"):
        shutil.copytree(ROOT / directory, source / directory, ignore=shutil.ignore_patterns("__pycache__"))
    for file in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / file, source / file)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("chargecore-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = Parser().parsestr(archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode())
        license_text = archive.read(next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))).decode()
    packages = {name.rsplit("/", 1)[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    inits = [
        *ROOT.glob("pure/**/__init__.py"),
        *ROOT.glob("shell/*/**/__init__.py"),
        *ROOT.glob("tools/*/**/__init__.py"),
    ]
    sub_packages = {f"chargecore/{init.parent.relative_to(ROOT).as_posix()}" for init in inits}
    runtimes = {"chargecore/shell", "chargecore/aio", "chargecore/testing"}
    assert packages == {"chargecore", *sub_packages, *runtimes, "chargecore/tools", "chargecore/specs"}
    typed = {f"chargecore/{package}/py.typed" for package in ("pure", "shell", "aio", "testing")}
    assert typed <= set(names)  # "Typing :: Typed" holds
    from_the_wheel = "import sys; sys.path.insert(0, sys.argv[1]); import chargecore; print(chargecore.__version__)"
    shown = subprocess.run(  # -I -S: nothing but the wheel can answer, neither the checkout nor site-packages
        [sys.executable, "-I", "-S", "-c", from_the_wheel, str(wheel)], check=True, capture_output=True, text=True
    )
    assert shown.stdout.strip() == metadata["Version"]
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert metadata["License-Expression"] == "Apache-2.0"
    assert "websockets>=15" in metadata.get_all("Requires-Dist")  # the asyncio client passes proxy=, new in 15
    classifiers = metadata.get_all("Classifier")
    assert {"Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12"} <= set(classifiers)
    assert metadata["Requires-Python"] == ">=3.11"
