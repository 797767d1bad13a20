"""`chargecore fleet` against the `ocpp`-package CSMS of tests/tools/test_fleet_ocpp_csms.py, at the issue's scale:

    python tests/benchmarks/fleet_ocpp_package.py [--stations 200] [--duration 60]

The CSMS runs on its own loop thread in this process, the fleet on the main thread; the fleet's JSON summary is
printed (booted, transactions started and ended with rising energy, CALLERRORs). A script, not a test.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

from test_fleet_ocpp_csms import Server

from chargecore.tools.fleet.cli import main as fleet


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args()
    server = Server()
    url = server.start()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            out = io.StringIO()
            argv = ["--csms", url, "--stations", str(args.stations), "--duration", str(args.duration)]
            fleet([*argv, "--data-dir", data_dir, "--ramp", "50"], out)
            print(out.getvalue()[out.getvalue().index("{") :])
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
