"""One A02 renewal round trip, end to end over loopback TLS: the time from the CSMS's TriggerMessage
SignChargingStationCertificate to the station's CertificateSignedResponse Accepted.

    python tests/benchmarks/bench_renewal.py [--rounds N]

The local CSMS (`tools/csms.py`) with its CA (`tools/csms_ca.py`, --ca-dir) serves wss://; a real station
(`ChargingStation`, security profile 2, the CA as its CSMS root) runs in-process. Each round: TriggerMessage ->
TriggerMessageResponse -> the station makes a P-256 key and a CSR (FileKeyStore, fsynced record file) ->
SignCertificateRequest -> Accepted -> the CA signs -> CertificateSignedRequest -> the station measures the chain,
decides, stores chain and key (fsynced, keeping the previous pair) -> CertificateSignedResponse. Reported: median,
min and max over the rounds (time.perf_counter). A script, not a pytest test.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.tools.csms import LocalCsms, Record
from chargecore.tools.csms_ca import CsmsCa

PASSWORD = "0123456789abcdefABCD"


def _answered(record: Record) -> bool:
    return record.action == "CertificateSigned" and record.kind == "CALLRESULT"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        ca = CsmsCa.open(Path(folder) / "ca")
        with LocalCsms(on_log=lambda _line: None, ca=ca) as csms:
            options = StationOptions(
                station_id="BENCH1",
                csms_url=csms.url,
                ca_file=str(ca.ca_file),
                password=PASSWORD,
                serial_number="BENCH-SN-1",
                data_dir=Path(folder) / "station",
                config={"SecurityCtrlr": {"SecurityProfile": 2}},
            )
            station = ChargingStation(options, SimulatedCharger(), FrameLog("BENCH1", None, io.StringIO()))
            station.start()
            try:
                csms.wait_for("StatusNotification", timeout=10)
                times = []
                for _ in range(args.rounds):
                    mark = len(csms.messages)
                    start = time.perf_counter()
                    assert csms.call("BENCH1", "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
                    record = csms.wait_for(_answered, timeout=10, since=mark)
                    times.append(time.perf_counter() - start)
                    assert record.payload == {"status": "Accepted"}, record.payload
            finally:
                station.stop()
    milliseconds = [t * 1000 for t in times]
    print(
        f"renewal round trip over {args.rounds} rounds: median {statistics.median(milliseconds):.1f} ms, "
        f"min {min(milliseconds):.1f} ms, max {max(milliseconds):.1f} ms "
        f"({sys.platform}, Python {sys.version.split()[0]})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
