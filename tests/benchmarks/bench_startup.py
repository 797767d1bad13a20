"""Start-up: `chargecore run` from process start to its BootNotification arriving at a loopback CSMS, and what
the first requests after boot cost now that schema validators compile on first use.

    python tests/benchmarks/bench_startup.py [--runs N] [--baseline REV]

A small websocket server (websockets' synchronous server, subprotocol ocpp2.0.1) listens on 127.0.0.1; each run
starts `chargecore run --csms ws://127.0.0.1:PORT --id ... --data-dir <fresh temp dir> --quiet` as a new process
and measures, in this process, from just before Popen to the moment the server has read the BootNotification
CALL (wall, time.perf_counter), and the CPU time the station process had used by then (user + system from
/proc/PID/stat, 10 ms ticks). The server then accepts the boot and sends two GetVariables, timing each from
CALL sent to CALLRESULT read: the first pays for compiling the GetVariables request and response validators
(pure/ocppj/schemas.py compiles each schema on first use), the second is the steady state.

Side by side, in the same interleaved loop: a bare `python -c pass` (the interpreter's own start-up) and
`python -c "import ocpp.v201"` (the `ocpp` package's import, what the station once paid to locate its schema
files). With `--baseline REV` (a commit, e.g. `main` or `HEAD~3`) the station of that commit runs in the same loop
too: its tree is exported with `git archive` and laid out as installed, following its pyproject's package-dir
mapping (symlinks), as is this working tree, so both columns start the same way. The sources are compiled to
bytecode first, as an installed package is (a machine with PYTHONDONTWRITEBYTECODE would otherwise compile them
at every start). Medians and minima of N runs; the VM is shared and noisy (the load average is printed before and
after), so the minimum is the figure closest to the cost itself and CPU time the least disturbed by other jobs.
Goal (issue 15): at most 0.4 s to BootNotification sent.

One run, `--runs 15 --baseline 80a96c6` (the commit before the lazy imports), load average 3.8 to 6.5 on the
shared 2-core VM; median / min:

    wall to BootNotification (s)       this tree 1.025 / 0.500    80a96c6 1.381 / 0.846
    CPU to BootNotification (s)        this tree 0.38  / 0.34     80a96c6 0.49  / 0.46
    first GetVariables after boot (ms) this tree 14.6  / 7.0      80a96c6 12.7  / 3.1
    second GetVariables (ms)           this tree 3.8   / 0.8      80a96c6 1.5   / 0.9

The goal is not met under that load; what the rest of the time is: README.md, Performance.
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

GOAL_SECONDS = 0.4
ROOT = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")
WAIT = 30.0
STATION = "from chargecore.shell.cli import main; raise SystemExit(main())"
HEARTBEAT_INTERVAL = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
GET_VARIABLES = {"getVariableData": [HEARTBEAT_INTERVAL]}
BOOT_ACCEPTED = {"currentTime": "2025-01-01T00:00:00Z", "interval": 300, "status": "Accepted"}


@dataclass
class StationRun:
    wall: float
    cpu: float
    first_get_variables: float
    second_get_variables: float
    import_cpu: float = math.nan
    """CPU of `python -c "import chargecore.shell.cli"` for the same tree: the import alone, no network."""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process so far (fields 14 and 15 of /proc/PID/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class _Csms:
    """Times one station per connection: its BootNotification's arrival (and the station's CPU by then), then two
    GetVariables round trips; every other frame of the station is read and left unanswered."""

    def __init__(self) -> None:
        self.started = 0.0
        self.pid = 0
        self.run: StationRun | None = None
        self.done = threading.Event()

    def expect(self, started: float, pid: int) -> None:
        self.started, self.pid, self.run = started, pid, None
        self.done.clear()

    def handle(self, connection: ServerConnection) -> None:
        try:
            frame = json.loads(connection.recv(timeout=WAIT))
            wall = time.perf_counter() - self.started
            cpu = _cpu_seconds(self.pid)
            if frame[0] != 2 or frame[2] != "BootNotification":
                return
            connection.send(json.dumps([3, frame[1], BOOT_ACCEPTED]))
            first, second = (self._get_variables(connection, f"gv-{n}") for n in (1, 2))
            self.run = StationRun(wall, cpu, first, second)
        except (ConnectionClosed, TimeoutError, OSError, ValueError):
            return  # a run that died or timed out: its measurement fails in _station_once, not here
        finally:
            self.done.set()

    @staticmethod
    def _get_variables(connection: ServerConnection, message_id: str) -> float:
        sent = time.perf_counter()
        connection.send(json.dumps([2, message_id, "GetVariables", GET_VARIABLES]))
        while True:
            frame = json.loads(connection.recv(timeout=WAIT))
            if frame[0] in (3, 4) and frame[1] == message_id:
                return time.perf_counter() - sent if frame[0] == 3 else math.nan


def _station_once(tree: Path, port: int, csms: _Csms, run: int) -> StationRun:
    with tempfile.TemporaryDirectory() as data_dir:
        command = [sys.executable, "-c", STATION, "run", "--csms", f"ws://127.0.0.1:{port}", "--id", f"CS{run}"]
        command += ["--data-dir", data_dir, "--quiet"]
        environment = {**os.environ, "PYTHONPATH": str(tree)}
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=environment,
            cwd=tree,  # `python -c` puts the working directory first: the repository's own chargecore/ would win
        )
        csms.expect(started, process.pid)
        csms.done.wait(WAIT)
        process.terminate()
        process.wait(10)
    if csms.run is None:
        raise SystemExit(f"run {run} of {tree}: no BootNotification and GetVariables answers within {WAIT} s")
    return csms.run


def _import_cpu(tree: Path) -> float:
    code = "import time, chargecore.shell.cli as cli; print(time.process_time(), cli.__file__)"
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environment, cwd=tree
    )
    cpu, imported = out.stdout.split()
    if not imported.startswith(str(tree)):
        raise SystemExit(f"the station under {tree} imported {imported}: the columns would measure the same code")
    return float(cpu)


def _python_once(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def _installed_layout(source: Path, into: Path) -> Path:
    """A folder on which `import chargecore` finds the tree at `source` as its pyproject installs it: the
    top-level package copied, every other package-dir entry a symlink to its folder; each compiled to bytecode
    (compileall does not follow symlinks, so every folder on its own)."""
    pyproject = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = pyproject.get("tool", {}).get("setuptools", {}).get("package-dir", {"chargecore": "chargecore"})
    shutil.copytree(source / mapping["chargecore"], into / "chargecore", ignore=shutil.ignore_patterns("__pycache__"))
    compileall.compile_dir(into, quiet=1)
    for package, folder in sorted(mapping.items()):
        if package != "chargecore":
            (into / Path(*package.split("."))).symlink_to(source / folder, target_is_directory=True)
            compileall.compile_dir(source / folder, quiet=1)
    return into


@contextmanager
def _tree_at(revision: str) -> Iterator[Path]:
    """This repository's tree at `revision`, exported (not checked out), laid out as installed."""
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        source = Path(folder) / "source"
        source.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
        yield _installed_layout(source, Path(folder) / "layout")


def _load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def _row(name: str, values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    return f"median {statistics.median(values) * scale:7.{digits}f}  min {min(values) * scale:7.{digits}f}"


def _print(figures: dict[str, list[float]], stations: dict[str, list[StationRun]], runs: int) -> None:
    print(f"{runs} interleaved runs each; shared VM, noisy: the minimum is the cost, the median the typical wait")
    print("process start to exit (s)")
    for name, times in figures.items():
        print(f"  {name:<44} {_row(name, times)}")
    for name, measured in stations.items():
        print(f"{name}")
        print(f"  {'wall to BootNotification (s)':<44} {_row(name, [m.wall for m in measured])}")
        print(f"  {'CPU to BootNotification (s)':<44} {_row(name, [m.cpu for m in measured])}")
        print(f"  {'CPU of importing chargecore.shell.cli (s)':<44} {_row(name, [m.import_cpu for m in measured])}")
        first = [m.first_get_variables for m in measured]
        second = [m.second_get_variables for m in measured]
        print(f"  {'first GetVariables after boot (ms)':<44} {_row(name, first, 1000, 2)}")
        print(f"  {'second GetVariables (ms)':<44} {_row(name, second, 1000, 2)}")
    for name, measured in stations.items():
        median = statistics.median(m.wall for m in measured)
        print(f"goal: at most {GOAL_SECONDS} s to BootNotification ({name}, median {median:.3f} s): ", end="")
        print("met" if median <= GOAL_SECONDS else "NOT met")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--baseline", metavar="REV", help="also run the station of this git revision, side by side")
    arguments = parser.parse_args()
    figures: dict[str, list[float]] = {"python -c pass": [], "python -c 'import ocpp.v201'": []}
    print(_load(), "(before)")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder, _tree_or_none(arguments.baseline) as base:
        trees = {"chargecore run (this tree)": _installed_layout(ROOT, Path(folder))}
        if base is not None:
            trees[f"chargecore run ({arguments.baseline})"] = base
        stations: dict[str, list[StationRun]] = {name: [] for name in trees}
        csms = _Csms()
        with serve(csms.handle, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"]) as server:
            threading.Thread(target=server.serve_forever, daemon=True).start()
            port = server.socket.getsockname()[1]
            for run in range(arguments.runs):  # interleaved: a noisy moment of the VM hits every column alike
                figures["python -c pass"].append(_python_once("pass"))
                figures["python -c 'import ocpp.v201'"].append(_python_once("import ocpp.v201"))
                for name, tree in trees.items():
                    measured = _station_once(tree, port, csms, run)
                    measured.import_cpu = _import_cpu(tree)
                    stations[name].append(measured)
            server.shutdown()
    _print(figures, stations, arguments.runs)
    print(_load(), "(after)")


@contextmanager
def _tree_or_none(revision: str | None) -> Iterator[Path | None]:
    if revision is None:
        yield None
        return
    with _tree_at(revision) as tree:
        yield tree


if __name__ == "__main__":
    main()
