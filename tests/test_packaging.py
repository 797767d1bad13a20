"""The wheel `pip install .` builds: only the chargecore packages and the LICENSE, with the metadata an index shows."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_holds_the_chargecore_packages_the_license_and_true_metadata(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(ROOT), "-w", str(tmp_path)],
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
    assert packages == {"chargecore/pure", "chargecore/shell", "chargecore/specs"}
    assert {"chargecore/pure/py.typed", "chargecore/shell/py.typed"} <= set(names)  # "Typing :: Typed" holds
    assert "Apache License" in license_text and "Version 2.0, January 2004" in license_text
    assert metadata["License-Expression"] == "Apache-2.0"
    assert "websockets>=13" in metadata.get_all("Requires-Dist")  # 12 has no websockets.asyncio (shell/csms.py)
    classifiers = metadata.get_all("Classifier")
    assert {"Programming Language :: Python :: 3.11", "Programming Language :: Python :: 3.12"} <= set(classifiers)
    assert metadata["Requires-Python"] == ">=3.11"
