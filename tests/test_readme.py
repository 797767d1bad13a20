"""README.md is executable: its code blocks run as written, and what it says of the command line is what the
command line does.

How each block runs (in a fresh directory, with this test's interpreter and its virtual environment):

- `python` blocks run as a script. The only change: the CSMS URL `ws://127.0.0.1:9000` becomes the URL of a
  local CSMS (`LocalCsms` on a free loopback port) started for the block. A block that builds a
  `ChargingStation` must get a transaction started at that CSMS; a block that drives `step` itself must print
  a TransactionEvent Started frame.
- `sh` blocks run line by line (`#` comments dropped). The only changes: `.venv/bin/` becomes the directory of
  this test's interpreter, and port `9000` a free loopback port. Not run: creating the virtual environment and
  `pip install` (the suite runs inside the result), and `python -m pytest` (the suite itself; `.ci/run` runs
  that line). Per command:
  - `chargecore csms`: started, and must print "csms listening"; it serves the later lines of its block;
  - `chargecore run`: started against that CSMS (or a `LocalCsms` when the block has none), must print the
    BootNotification frame it sends, then gets `quit` and must exit 0;
  - `chargecore demo`: must finish (exit 0, "demo finished");
  - a script under `tests/benchmarks/`: too slow for the suite, so it runs with `--help` (exit 0) and must
    know every option the README line gives it;
  - anything else (e.g. `echo ... > station.json`) must exit 0.
"""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from chargecore.shell.cli import OPERATOR_HELP, probe_parser, run_parser
from chargecore.testing.csms_double import wait_until
from chargecore.tools.csms import LocalCsms
from chargecore.tools.csms import _parser as csms_parser
from chargecore.tools.fleet.cli import fleet_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_PORT = "9000"
README_URL = f"ws://127.0.0.1:{README_PORT}"
VENV_BIN = ".venv/bin/"
WAIT = 30.0
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.language})"


def blocks(language: str) -> list[Block]:
    return [
        Block(m["language"], textwrap.dedent(m["body"]), README.count("\n", 0, m.start()) + 1)
        for m in FENCE.finditer(README)
        if m["language"] == language
    ]


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


# --- python blocks --------------------------------------------------------------------------------------------


def started(csms: LocalCsms) -> bool:
    return any(r.action == "TransactionEvent" and r.payload.get("eventType") == "Started" for r in csms.messages)


@pytest.mark.parametrize("block", blocks("python"), ids=str)
def test_a_python_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    with LocalCsms(on_log=lambda _line: None) as csms:
        code = block.code.replace(README_URL, csms.url)
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=2 * WAIT
        )
        assert result.returncode == 0, result.stderr
        if "ChargingStation(" in code:
            assert started(csms), f"{block}: no TransactionEvent Started reached the CSMS"
        elif "step(" in code:
            assert re.search(r'"TransactionEvent",\{"eventType":"Started"', result.stdout), result.stdout


def test_the_readme_shows_both_ways_to_embed() -> None:
    codes = [block.code for block in blocks("python")]
    assert any("ChargingStation(" in code for code in codes)
    assert any("step(" in code for code in codes)


# --- sh blocks ------------------------------------------------------------------------------------------------


class Server:
    """A long-running command of a block, its output collected line by line."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        self.lines.extend(self.process.stdout)

    def printed(self, text: str) -> None:
        wait_until(lambda: any(text in line for line in list(self.lines)) or None, repr(text), WAIT)

    def quit(self) -> int:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        return self.process.wait(WAIT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


COMMENT = re.compile(r"(^|\s+)#\s.*$")


def command_lines(block: Block) -> Iterator[str]:
    for line in block.code.replace("\\\n", " ").splitlines():
        command = COMMENT.sub("", line).strip()
        if command:
            yield command


def runnable(part: str) -> bool:
    """Creating the environment and installing into it already happened; the suite does not run itself."""
    return not (part.startswith("python3 -m venv") or "/pip install" in part or part.endswith("python -m pytest"))


class BlockRun:
    """One sh block's commands, in order, in one directory; servers stay up until the block ends."""

    def __init__(self, cwd: Path, port: str, stack: ExitStack) -> None:
        self.cwd, self.port, self.stack = cwd, port, stack
        self.csms_started = False

    def run(self, part: str) -> None:
        text = re.sub(rf"\b{README_PORT}\b", self.port, part.replace(VENV_BIN, str(Path(sys.executable).parent) + "/"))
        argv = shlex.split(text)
        script = next((word for word in argv if word.startswith("tests/benchmarks/")), None)
        if script is not None:
            self.benchmark(argv, script)
        elif argv[0].endswith("chargecore") and argv[1] == "csms":
            self.csms(argv)
        elif argv[0].endswith("chargecore") and argv[1] == "run":
            self.station(argv)
        elif argv[0].endswith("chargecore") and argv[1] == "demo":
            result = subprocess.run(argv, cwd=self.cwd, capture_output=True, text=True, timeout=2 * WAIT)
            assert result.returncode == 0, result.stderr
            assert "demo finished" in result.stdout
        else:
            result = subprocess.run(["bash", "-c", text], cwd=self.cwd, capture_output=True, timeout=WAIT)
            assert result.returncode == 0, (part, result.stderr)

    def csms(self, argv: list[str]) -> None:
        server = self.stack.enter_context(serving(argv, self.cwd))
        server.printed("csms listening")
        self.csms_started = True

    def station(self, argv: list[str]) -> None:
        if not self.csms_started:
            csms = self.stack.enter_context(LocalCsms(port=int(self.port), on_log=lambda _line: None))
            assert csms.url.endswith(f":{self.port}")
            self.csms_started = True
        with serving(argv, self.cwd) as station:
            station.printed('"BootNotification"')
            assert station.quit() == 0, "".join(station.lines)

    def benchmark(self, argv: list[str], script: str) -> None:
        """The command line must name a script and options that exist."""
        python = argv[: argv.index(script)]
        result = subprocess.run([*python, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=WAIT)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("usage:")
        for option in (word for word in argv if word.startswith("--")):
            assert option in result.stdout, f"{script} has no {option}"


@contextmanager
def serving(argv: list[str], cwd: Path) -> Iterator[Server]:
    server = Server(argv, cwd)
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("block", blocks("sh"), ids=str)
def test_a_command_line_block_runs_as_written(block: Block, tmp_path: Path) -> None:
    with ExitStack() as stack:
        commands = BlockRun(tmp_path, free_port(), stack)
        for line in command_lines(block):
            for part in filter(runnable, (part.strip() for part in line.split("&&"))):
                commands.run(part)


# --- what the README says of the command line --------------------------------------------------------------------

OTHER_TOOLS_OPTIONS = {"--strict"}  # mypy --strict
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def parser_options(parser: argparse.ArgumentParser) -> set[str]:
    options = {option for action in parser._actions for option in action.option_strings}
    return {option for option in options if option.startswith("--")} - {"--help"}


def benchmark_options() -> set[str]:
    scripts = {word for block in blocks("sh") for word in block.code.split() if word.startswith("tests/benchmarks/")}
    options: set[str] = set()
    for script in sorted(scripts):
        result = subprocess.run(
            [sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=WAIT, check=True
        )
        options |= set(OPTION.findall(result.stdout))
    return options - {"--help"}


def test_every_option_the_readme_names_exists_and_every_station_option_is_in_the_readme() -> None:
    run_options, csms_options = parser_options(run_parser()), parser_options(csms_parser())
    fleet_options, probe_options = parser_options(fleet_parser()), parser_options(probe_parser())
    named = set(OPTION.findall(README))
    known = run_options | csms_options | fleet_options | probe_options | benchmark_options() | OTHER_TOOLS_OPTIONS
    assert named - known == set()
    assert run_options - named == set(), "chargecore run options the README does not mention"
    assert csms_options - named == set(), "chargecore csms options the README does not mention"
    assert fleet_options - named == set(), "chargecore fleet options the README does not mention"
    assert probe_options - named == set(), "chargecore probe-csms options the README does not mention"


def test_the_readme_lists_every_operator_command() -> None:
    entries = (re.match(r"  (\S+)", line) for line in OPERATOR_HELP.splitlines())  # a wrapped line starts deeper
    commands = {entry.group(1) for entry in entries if entry}
    paragraph = README[README.index("reads operator commands from stdin") :]
    paragraph = paragraph[: paragraph.index("\n- ")]
    listed = set(re.findall(r"`([a-z][a-z-]*)[ `]", paragraph))  # `offline: true` is a field, not a command
    assert commands == listed
