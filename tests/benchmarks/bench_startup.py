"""Start-up: `chargecore run` from process start to its BootNotification arriving at a loopback CSMS.

    python tests/benchmarks/bench_startup.py [--runs N]

A small websocket server (websockets' synchronous server, subprotocol ocpp2.0.1) listens on 127.0.0.1; each run
starts `chargecore run --csms ws://127.0.0.1:PORT --id ... --data-dir <fresh temp dir>` as a new process and
measures, with time.perf_counter in this process, from just before Popen to the moment the server has read the
BootNotification CALL. Side by side, in the same interleaved loop: a bare `python -c pass` (the interpreter's
own start-up) and `python -c "import ocpp.v201"` (the `ocpp` package's import, what the station used to pay just
to locate its schema files). Medians and minima of N runs each; the VM is shared and noisy, so the minimum is
the figure closest to the cost itself. Goal (issue 15): at most 0.4 s to BootNotification sent. The sources are
compiled to bytecode first, as an installed package is (a machine with PYTHONDONTWRITEBYTECODE would otherwise
compile them at every start).
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from websockets.sync.server import ServerConnection, serve

GOAL_SECONDS = 0.4
ROOT = Path(__file__).resolve().parents[2]


class _BootListener:
    """Sets `booted` when a connection's first frame is a BootNotification CALL; answers nothing else."""

    def __init__(self) -> None:
        self.booted = threading.Event()

    def handle(self, connection: ServerConnection) -> None:
        try:
            frame = json.loads(connection.recv(timeout=30))
        except Exception:  # a run that died or timed out: its measurement fails below, not here
            return
        if frame[0] == 2 and frame[2] == "BootNotification":
            self.booted.set()
            connection.send(
                json.dumps(
                    [3, frame[1], {"currentTime": "2025-01-01T00:00:00Z", "interval": 300, "status": "Accepted"}]
                )
            )


def _station_once(chargecore: Path, port: int, listener: _BootListener, run: int) -> float:
    listener.booted.clear()
    with tempfile.TemporaryDirectory() as data_dir:
        command = [
            str(chargecore),
            "run",
            "--csms",
            f"ws://127.0.0.1:{port}",
            "--id",
            f"CS{run}",
            "--data-dir",
            data_dir,
        ]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        booted = listener.booted.wait(30)
        elapsed = time.perf_counter() - started
        process.terminate()
        process.wait(10)
    if not booted:
        raise SystemExit(f"run {run}: no BootNotification within 30 s")
    return elapsed


def _python_once(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    for folder in ("chargecore", "pure", "shell", "tools"):  # as installed: PYTHONDONTWRITEBYTECODE may be set here
        compileall.compile_dir(ROOT / folder, quiet=1)
    chargecore = Path(sys.executable).parent / "chargecore"
    listener = _BootListener()
    figures: dict[str, list[float]] = {
        "python -c pass": [],
        "python -c 'import ocpp.v201'": [],
        "chargecore run to BootNotification": [],
    }
    with serve(listener.handle, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"]) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.socket.getsockname()[1]
        for run in range(runs):  # interleaved, so that a noisy moment of the VM hits every column alike
            figures["python -c pass"].append(_python_once("pass"))
            figures["python -c 'import ocpp.v201'"].append(_python_once("import ocpp.v201"))
            figures["chargecore run to BootNotification"].append(_station_once(chargecore, port, listener, run))
        server.shutdown()
    print(
        f"{runs} interleaved runs each (seconds; shared VM, noisy: the minimum is the cost, the median the "
        "typical wait)"
    )
    for name, times in figures.items():
        print(f"  {name:<38} median {statistics.median(times):6.3f}   min {min(times):6.3f}")
    station = statistics.median(figures["chargecore run to BootNotification"])
    print(f"goal: at most {GOAL_SECONDS} s to BootNotification: {'met' if station <= GOAL_SECONDS else 'NOT met'}")


if __name__ == "__main__":
    main()
