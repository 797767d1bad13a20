"""What a file transfer costs over loopback: a download (HTTP and FTP) into a part file renamed into place, one
resumed after a drop at half the file, and a POST multipart upload, for a firmware-sized file.

    python tests/benchmarks/bench_transfer.py [--megabytes M] [--repeats R]

Servers: tools/file_server.py (HTTP) and pyftpdlib (FTP) on 127.0.0.1, as the tests start them. Timing:
time.perf_counter per transfer, `--repeats` runs, the median reported with the throughput. A script, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))  # pki, which transfer_servers needs

from transfer_servers import FTP_PASSWORD_IN_URL, FTP_USER, Faults, FaultyHandler, serve_ftp

from chargecore.shell.transfer import Done, Outcome, download, upload
from chargecore.tools.file_server import FileServer


def timed(run: Callable[[], Outcome], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        outcome = run()
        times.append(time.perf_counter() - started)
        assert isinstance(outcome, Done), outcome
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        served, target = root / "served", root / "target"
        served.mkdir()
        target.mkdir()
        size = args.megabytes * 1024 * 1024
        (served / "fw.bin").write_bytes(bytes(range(256)) * (size // 256))
        faults = Faults()
        handler = type("Handler", (FaultyHandler,), {"faults": faults})
        http = FileServer(served, announce=lambda _line: None, handler=handler).start()
        host, port, stop_ftp = serve_ftp(served, Faults())
        ftp_url = f"ftp://{host}:{port}/"
        ftp_user_url = f"ftp://{FTP_USER}:{FTP_PASSWORD_IN_URL}@{host}:{port}/"

        def dropped_once() -> Outcome:
            faults.drop_after, faults.drops = size // 2, 1
            return download(http.url + "fw.bin", target, "fw.bin")

        rows = {
            "http download": lambda: download(http.url + "fw.bin", target, "fw.bin"),
            "http download, dropped at half and resumed": dropped_once,
            "ftp download": lambda: download(ftp_url + "fw.bin", target, "fw.bin"),
            "http upload (POST multipart)": lambda: upload(http.url, served / "fw.bin", "up.bin"),
            "http upload (PUT)": lambda: upload(http.url, served / "fw.bin", "up.bin", method="PUT"),
            "ftp upload (STOR)": lambda: upload(ftp_user_url, served / "fw.bin", "up.bin"),
        }
        for name, run in rows.items():
            seconds = timed(run, args.repeats)
            print(f"{name:45} {args.megabytes} MiB  {seconds * 1000:8.1f} ms  {args.megabytes / seconds:7.1f} MiB/s")
        http.stop()
        stop_ftp()


if __name__ == "__main__":
    main()
