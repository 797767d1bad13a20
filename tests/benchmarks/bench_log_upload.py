"""GetLog's shell side: gathering a full DiagnosticsLog (the current file and its 4 rotated ones, 1 MiB each) for
a one-hour window and for no window, then uploading the result over loopback HTTP (POST multipart) to
tools/file_server.py.

    python tests/benchmarks/bench_log_upload.py [--megabytes-per-file N]

chargecore: `shell.log_upload.gather` then `shell.transfer.upload`. Peer: `shutil.copyfileobj` of the same files
into one (the least any gathering can cost: no line is looked at). Lines are DiagnosticsLog-shaped (~120 bytes, a
UTC timestamp first), one per second of log time.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from chargecore.shell.log_upload import gather
from chargecore.shell.transfer import Done, upload
from chargecore.tools.file_server import FileServer

FILES = 5


def _write_logs(folder: Path, megabytes: int) -> tuple[list[Path], datetime]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    moment, paths = start, []
    for n in range(FILES):
        path = folder / f"diagnostics.log.{FILES - 1 - n}"
        with path.open("w") as out:
            while out.tell() < megabytes * 2**20:
                stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
                out.write(f'{stamp} INFO chargecore.shell.frames: -> [2,"a1b2c3d4-1-{n}","Heartbeat",{{}}] padding\n')
                moment += timedelta(seconds=1)
        paths.append(path)
    return paths, start + (moment - start) / 2


def _timed(action: object) -> float:
    begin = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes-per-file", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths, middle = _write_logs(folder, args.megabytes_per_file)
        target = folder / "out.log"
        window = _timed(lambda: gather(paths, middle, middle + timedelta(hours=1), target, "# bench\n"))
        everything = _timed(lambda: gather(paths, None, None, target, "# bench\n"))

        def copy() -> None:
            with (folder / "copy.log").open("wb") as out:
                for path in paths:
                    with path.open("rb") as source:
                        shutil.copyfileobj(source, out)

        peer = _timed(copy)
        received = folder / "received"
        received.mkdir()
        server = FileServer(received, announce=lambda _: None, max_upload=2**31).start()
        try:
            outcome = None

            def send() -> None:
                nonlocal outcome
                outcome = upload(server.url, target, "out.log")

            sent = _timed(send)
        finally:
            server.stop()
        assert isinstance(outcome, Done), outcome
        size = target.stat().st_size / 2**20
    print(f"python {platform.python_version()} on {platform.machine()}, {FILES} files x {args.megabytes_per_file} MiB")
    print(f"gather one hour: {window * 1000:8.1f} ms")
    print(f"gather all:      {everything * 1000:8.1f} ms   (peer, plain copy: {peer * 1000:.1f} ms)")
    print(f"upload {size:.1f} MiB over loopback HTTP POST: {sent * 1000:8.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
