"""`chargecore run` imports only what its path to the BootNotification needs (issue 15: start-up in at most 0.4 s).

A real station process runs against a loopback server; when its BootNotification arrives, the server (before
answering) asks the process, by SIGUSR1, for the modules it has imported so far. The heavy ones that only some
later request needs (firmware signatures, transfers, the published-file server, certificates on a plain ws://
station) and those the station never needs (the `ocpp` package's Python API, the CSMS, the asyncio runtime, the
testing kit) must not be there: this fails as soon as someone puts one of their imports back at module level.
The run with a CA file shows the other side: the certificate store then does import cryptography.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from core_helpers import websocket_server
from pki import Pki
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection

WAIT = 30.0

NOT_ON_THE_RUN_PATH = (
    "ocpp.",  # the package's Python API (ocpp.v201, ocpp.routing, ...); its schema files are read as data
    "cryptography",
    "urllib3",
    "ftplib",
    "http.server",
    "email.parser",
    "chargecore.tools",
    "chargecore.aio",
    "chargecore.testing",
    "chargecore.shell.transfer.http",
    "chargecore.shell.transfer.ftp",
    "chargecore.shell.firmware_signing",
    "chargecore.shell.publish_server",
    "websockets",
    "asyncio",
    "hypothesis",
    "locust",
    "msgspec",  # the frame reader: imported with the first frame read, after the BootNotification went out
)
"""Module name prefixes (a trailing "." means submodules only: the `ocpp` package itself is how the schema
files are found, its __init__ is empty)."""

STATION = """
import json, signal, sys

def dump(*_):
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        json.dump(sorted(sys.modules), out)

signal.signal(signal.SIGUSR1, dump)
from chargecore.shell.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


class _BootProbe:
    """On the first BootNotification, signals the station to write its sys.modules, then waits for the file."""

    def __init__(self, modules_file: Path) -> None:
        self.modules_file = modules_file
        self.process: subprocess.Popen[str] | None = None
        self.done = threading.Event()

    def handle(self, connection: ServerConnection) -> None:
        try:
            frame = json.loads(connection.recv(timeout=WAIT))
            if frame[:1] == [2] and frame[2] == "BootNotification" and self.process is not None:
                self.process.send_signal(signal.SIGUSR1)
                self.done.set()
                for _ in connection:
                    pass
        except (ConnectionClosed, TimeoutError):
            return


def modules_at_boot(tmp_path: Path, *extra: str) -> set[str]:
    modules_file = tmp_path / "modules.json"
    probe = _BootProbe(modules_file)
    with websocket_server(probe.handle, subprotocols=["ocpp2.0.1"]) as port:
        command = [sys.executable, "-c", STATION, str(modules_file), "run", "--csms", f"ws://127.0.0.1:{port}"]
        command += ["--id", "CS-START-1", "--data-dir", str(tmp_path / "data"), "--quiet", *extra]
        with subprocess.Popen(command, stdin=subprocess.PIPE, text=True, stderr=subprocess.PIPE) as process:
            probe.process = process
            try:
                assert probe.done.wait(WAIT), "no BootNotification"
                for _ in _polls():
                    if modules_file.exists() and modules_file.read_text(encoding="utf-8").endswith("]"):
                        break
            finally:
                process.terminate()
                _, errors = process.communicate(timeout=WAIT)
    assert "Traceback" not in errors, errors
    return set(json.loads(modules_file.read_text(encoding="utf-8")))


def _polls() -> Iterator[None]:
    done = threading.Event()
    for _ in range(int(WAIT / 0.05)):
        yield
        done.wait(0.05)


def heavy(modules: set[str]) -> list[str]:
    return sorted(
        module
        for module in modules
        for prefix in NOT_ON_THE_RUN_PATH
        if module.startswith(prefix) and (prefix.endswith(".") or module == prefix or module[len(prefix)] == ".")
    )


def test_a_plain_station_boots_without_the_heavy_modules(tmp_path: Path) -> None:
    modules = modules_at_boot(tmp_path)
    assert "chargecore.shell.link" in modules and "websocket" in modules  # the probe saw a running station
    assert "chargecore.pure.ocppj.schemas" in modules
    assert heavy(modules) == []


def test_a_station_with_a_csms_root_reads_it_with_cryptography(tmp_path: Path, pki: Pki) -> None:
    """The other side of the laziness: a CA file seeds the certificate store, which parses it; the rest of the
    list stays out all the same."""
    modules = modules_at_boot(tmp_path, "--ca-file", str(pki.ca))
    assert "cryptography.x509" in modules
    assert [module for module in heavy(modules) if not module.startswith("cryptography")] == []


@pytest.mark.parametrize(
    ("modules", "found"),
    [
        ({"ocpp", "json"}, []),
        ({"ocpp.v201", "ocpp.v201.call"}, ["ocpp.v201", "ocpp.v201.call"]),
        ({"cryptography", "cryptographyx", "urllib3.util"}, ["cryptography", "urllib3.util"]),
        ({"asyncio.events", "asynciox", "http", "http.server"}, ["asyncio.events", "http.server"]),
    ],
)
def test_the_prefix_check_itself(modules: set[str], found: list[str]) -> None:
    assert heavy(modules) == found
