"""The time of one firmware round trip over loopback, the whole station (shell and core) against a CSMS built with
the `ocpp` package and the standard library's `http.server`.

    python tests/benchmarks/bench_firmware.py [--size BYTES] [--runs N]

Per run: a fresh station (SimulatedCharger, its own data dir) boots against the CSMS, which installs a
ManufacturerRootCertificate; then the clock starts as the CSMS sends UpdateFirmware for an image of `--size`
bytes signed with RSA-2048/SHA-256, and stops when the CSMS receives FirmwareStatusNotification Installed, i.e.
after download, signature check, install hook, InstallRebooting, the reboot, a new connection, BootNotification
(reason FirmwareUpdate) and the connector statuses. The median and the spread of `--runs` runs are reported. The
station's frame log goes to a file, not stdout. This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from firmware_kit import image, issue
from ocpp_firmware_csms import FirmwareCsmsServer, plain_http_server

from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import ChargingStation, StationOptions


def one_round_trip(size: int, folder: Path, request_id: int) -> float:
    root = issue("Manufacturer Root", ca=True)
    signer = issue("Firmware Signer", root, rsa_key=True)
    data = image(f"9.{request_id}.0", size=size)
    files = folder / "www"
    files.mkdir()
    (files / "fw.bin").write_bytes(data)
    csms = FirmwareCsmsServer().start()
    log = FrameLog("BENCH", folder / "frames.log", stream=open(folder / "stdout.log", "w"))  # noqa: SIM115
    station = ChargingStation(
        StationOptions(csms.url, "BENCH", folder / "data", config={"OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 1}}),
        SimulatedCharger(),
        log,
    )
    try:
        station.start()
        csms.wait_for(lambda: csms.of("StatusNotification"), "the boot")
        assert csms.install_manufacturer_root(root.pem) == "Accepted"
        with plain_http_server(files) as base:
            began = time.perf_counter()
            assert csms.update_firmware(request_id, base + "fw.bin", signer.pem, signer.sign(data)) == "Accepted"
            csms.wait_for(
                lambda: any(s.fields["status"] == "Installed" for s in csms.of("FirmwareStatusNotification")),
                "Installed",
                timeout=60,
            )
            return time.perf_counter() - began
    finally:
        station.stop(timeout=5)
        csms.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=8 * 1024 * 1024, help="image size in bytes (default 8 MiB)")
    parser.add_argument("--runs", type=int, default=5, help="round trips to time (default 5)")
    args = parser.parse_args()
    times = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as folder:
            times.append(one_round_trip(args.size, Path(folder), run))
    print(f"firmware round trip, {args.size} bytes, {args.runs} runs over loopback:")
    median, low, high = (round(value * 1000) for value in (statistics.median(times), min(times), max(times)))
    print(f"  median {median} ms, min {low} ms, max {high} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
