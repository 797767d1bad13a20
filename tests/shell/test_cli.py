"""The `chargecore` command in a real subprocess: argument errors, a station run against the embedded CSMS
(operator commands, end of stdin, SIGTERM, quit, --log, security events), a CSMS without OCPP 2.0.1, and the
demo."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from core_helpers import idle_handler, websocket_server
from pki import Pki

from chargecore.pure.blocks.firmware.model import FirmwareCapabilities
from chargecore.shell.cli import _station_identity, options_from, run_parser
from chargecore.testing.csms_double import wait_until
from chargecore.tools.csms import LocalCsms, Record

CHARGECORE = [sys.executable, "-c", "from chargecore.shell.cli import main; raise SystemExit(main())"]
STATION_ID = "CS-CLI-1"
WAIT = 10.0
TYPE_IDS = {"CALL": 2, "CALLRESULT": 3, "CALLERROR": 4}


def chargecore(*args: str, cwd: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHARGECORE, *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout
    )


def run_args(tmp_path: Path, *extra: str, csms: str = "ws://127.0.0.1:9") -> list[str]:
    return ["run", "--csms", csms, "--id", STATION_ID, "--data-dir", str(tmp_path / "data"), *extra]


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "station-config.json"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- bad command lines ----------------------------------------------------------------------------------------


def assert_usage_error(result: subprocess.CompletedProcess[str], *named: str) -> None:
    """Exit 2 and one line on stderr that names the problem."""
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in named:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


def test_missing_csms_url(tmp_path: Path) -> None:
    assert_usage_error(chargecore("run", "--id", STATION_ID, cwd=tmp_path), "--csms")


def test_zero_evses(tmp_path: Path) -> None:
    assert_usage_error(chargecore(*run_args(tmp_path, "--evses", "0"), cwd=tmp_path), "--evses", "0")


@pytest.mark.parametrize(
    ("option", "count", "most"), [("--evses", "100000", "256"), ("--connectors-per-evse", "17", "16")]
)
def test_a_station_shape_beyond_the_bounds(tmp_path: Path, option: str, count: str, most: str) -> None:
    """Bounded numbers: a shape no charger has is a usage error at once, not a start that hangs building it."""
    assert_usage_error(chargecore(*run_args(tmp_path, option, count), cwd=tmp_path), option, count, most)


def test_a_csms_url_that_is_not_a_websocket(tmp_path: Path) -> None:
    assert_usage_error(chargecore(*run_args(tmp_path, csms="http://x"), cwd=tmp_path), "--csms", "http://x")


@pytest.mark.parametrize(
    ("url", "named"),
    [("ws://127.0.0.1:99999", "port 99999"), ("ws://127.0.0.1:0", "port 0"), ("ws://:9000", "with a host")],
)
def test_a_csms_url_that_cannot_be_dialled(tmp_path: Path, url: str, named: str) -> None:
    """Refused at once: before, port 99999 killed the link thread and the station hung, connected to nothing."""
    assert_usage_error(chargecore(*run_args(tmp_path, csms=url), cwd=tmp_path, timeout=10), "--csms", url, named)


def test_an_unreadable_config_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.json")
    assert_usage_error(chargecore(*run_args(tmp_path, "--config", missing), cwd=tmp_path), missing)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{not json", ["not valid JSON"]),
        ('["OCPPCommCtrlr"]', ["must map component names"]),
        ('{"NoSuchController": {"HeartbeatInterval": 30}}', ["NoSuchController", "HeartbeatInterval"]),
        ('{"OCPPCommCtrlr": {"NoSuchVariable": 30}}', ["OCPPCommCtrlr", "NoSuchVariable"]),
        ('{"OCPPCommCtrlr": {"HeartbeatInterval": "soon"}}', ["OCPPCommCtrlr", "HeartbeatInterval", "soon"]),
        ('{"OCPPCommCtrlr": {"HeartbeatInterval": [1]}}', ["OCPPCommCtrlr", "HeartbeatInterval", "[1]", "integer"]),
        ('{"HeartbeatInterval": [1]}', ["must map component names"]),
        ('{"OCPPCommCtrlr": {"HeartbeatInterval": 0}}', ["OCPPCommCtrlr", "HeartbeatInterval", "minLimit"]),
        (
            '{"OCPPCommCtrlr": {"HeartbeatInterval": 999999999999}}',
            ["OCPPCommCtrlr", "HeartbeatInterval", "maxLimit 86400"],
        ),
        ('{"EVSE[1]": {"Power": {"MaxSet": "lots"}}}', ["EVSE[1]", "Power", "MaxSet", "lots", "decimal"]),
        ('{"AuthCacheCtrlr": {"Policy": "LIFO"}}', ["AuthCacheCtrlr", "Policy", "LIFO", "LRU,LFU"]),
        ('{"Connector[1,9]": {"ConnectorType": "sType2"}}', ["Connector[1,9]", "ConnectorType", "no such"]),
    ],
)
def test_a_config_file_that_cannot_be_used(tmp_path: Path, text: str, named: list[str]) -> None:
    path = config_file(tmp_path, text)
    assert_usage_error(chargecore(*run_args(tmp_path, "--config", path), cwd=tmp_path), *named)


def test_a_password_the_station_refuses_is_not_echoed(tmp_path: Path) -> None:
    result = chargecore(*run_args(tmp_path, "--password", "tiny-secret"), cwd=tmp_path)
    assert_usage_error(result, "BasicAuthPassword", "minLimit")
    assert "tiny-secret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("files", "named"),
    [
        (["--client-cert", "{client_cert}"], ["--client-cert", "--client-key"]),
        (["--client-cert", "{missing}", "--client-key", "{client_key}"], ["cannot read", "{missing}"]),
        (["--client-cert", "{client_key}", "--client-key", "{client_key}"], ["{client_key}", "not a PEM certificate"]),
        (["--client-cert", "{client_cert}", "--client-key", "{client_cert}"], ["{client_cert}", "private key"]),
        (["--client-cert", "{client_cert}", "--client-key", "{server_key}"], ["{server_key}", "does not belong"]),
        (["--config", "{profile_3}"], ["security profile 3", "--client-cert"]),
    ],
)
def test_a_client_certificate_that_cannot_be_used(tmp_path: Path, pki: Pki, files: list[str], named: list[str]) -> None:
    paths = {
        "client_cert": str(pki.client_cert),
        "client_key": str(pki.client_key),
        "server_key": str(pki.server_key),
        "missing": str(tmp_path / "nowhere.pem"),
        "profile_3": config_file(tmp_path, '{"SecurityCtrlr": {"SecurityProfile": 3}}'),
    }
    args = [arg.format(**paths) for arg in files]
    result = chargecore(*run_args(tmp_path, *args, csms="wss://127.0.0.1:9"), cwd=tmp_path)
    assert_usage_error(result, *(word.format(**paths) for word in named))


@pytest.mark.parametrize(
    ("identity", "named"),
    [("", "empty"), ("   ", "empty"), ("CS:1", "':'"), ("CS\n1", "control character"), ("C" * 49, "48")],
)
def test_an_identity_ocpp_j_cannot_carry(tmp_path: Path, identity: str, named: str) -> None:
    """Part 4 3.1.1: the identity is the last segment of the URL and the Basic-auth user (where ':' ends it), at
    most 48 characters."""
    result = chargecore("run", "--csms", "ws://127.0.0.1:9", "--id", identity, cwd=tmp_path)
    assert_usage_error(result, "--id", named)


@pytest.mark.parametrize("identity", ["CS001", "RDAM 123", "C" * 48])
def test_an_identity_ocpp_j_can_carry(identity: str) -> None:
    assert _station_identity(identity) == identity


def test_a_data_dir_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("not a directory", encoding="utf-8")
    assert_usage_error(chargecore(*run_args(tmp_path), cwd=tmp_path), "--data-dir", "data", "not a directory")


def test_a_data_dir_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    args = ["run", "--csms", "ws://127.0.0.1:9", "--id", STATION_ID, "--data-dir", "file/data"]
    assert_usage_error(chargecore(*args, cwd=tmp_path), "file/data", "Not a directory")


@pytest.mark.parametrize(("log", "named"), [("nowhere/frames.jsonl", "does not exist"), (".", "is a directory")])
def test_a_log_file_that_cannot_be_written(tmp_path: Path, log: str, named: str) -> None:
    assert_usage_error(chargecore(*run_args(tmp_path, "--log", log), cwd=tmp_path), "--log", log, named)


@pytest.mark.parametrize("port", ["99999", "-1", "x"])
def test_the_csms_on_a_port_that_does_not_exist(tmp_path: Path, port: str) -> None:
    assert_usage_error(chargecore("csms", "--port", port, cwd=tmp_path), "--port", port)


def test_the_csms_on_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        assert_usage_error(chargecore("csms", "--port", port, cwd=tmp_path), "cannot listen", port)


@pytest.mark.parametrize(("extra", "supported"), [([], True), (["--without-summary-inventory"], False)])
def test_summary_inventory_is_supported_unless_switched_off(extra: list[str], supported: bool) -> None:
    """SummaryInventory is optional: the CLI station has it unless told otherwise (then TC_B_15 applies)."""
    args = run_parser().parse_args(["--csms", "ws://127.0.0.1:9", "--id", STATION_ID, *extra])
    assert options_from(args).supports_summary_inventory is supported


@pytest.mark.parametrize(
    ("extra", "capabilities"),
    [
        ([], FirmwareCapabilities()),
        (
            ["--firmware-no-cancel", "--firmware-during-transaction", "install", "--firmware-unsigned"],
            FirmwareCapabilities(cancellable=False, during_transaction="install", unsigned=True),
        ),
    ],
)
def test_firmware_capabilities_are_the_operators_choice(extra: list[str], capabilities: FirmwareCapabilities) -> None:
    args = run_parser().parse_args(["--csms", "ws://127.0.0.1:9", "--id", STATION_ID, *extra])
    assert options_from(args).firmware_capabilities == capabilities


def test_a_local_controller_publishes_on_the_address_and_port_given() -> None:
    argv = ["--local-controller", "--publish-host", "10.0.0.2", "--publish-port", "8081"]
    options = options_from(run_parser().parse_args(["--csms", "ws://127.0.0.1:9", "--id", STATION_ID, *argv]))
    assert options.firmware_capabilities.local_controller
    assert (options.publish_host, options.publish_port) == ("10.0.0.2", 8081)
    default = options_from(run_parser().parse_args(["--csms", "ws://127.0.0.1:9", "--id", STATION_ID]))
    assert not default.firmware_capabilities.local_controller and default.publish_port == 0


def test_an_unknown_firmware_capability_is_a_usage_error(tmp_path: Path) -> None:
    result = chargecore(
        "run", "--csms", "ws://127.0.0.1:9", "--id", "X", "--firmware-during-transaction", "x", cwd=tmp_path
    )
    assert result.returncode == 2 and "firmware-during-transaction" in result.stderr


@pytest.mark.parametrize("argv", [[], ["start"]])
def test_no_or_an_unknown_command(tmp_path: Path, argv: list[str]) -> None:
    result = chargecore(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert "usage: chargecore" in result.stderr


# --- a station against the embedded CSMS ----------------------------------------------------------------------


@contextmanager
def local_csms(heartbeat_interval: int) -> Iterator[LocalCsms]:
    with LocalCsms(heartbeat_interval=heartbeat_interval, on_log=lambda _line: None) as csms:
        yield csms


class Station:
    """`chargecore run` in a subprocess, with its stdout collected line by line."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [*CHARGECORE, *args],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def close_stdin(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()

    def printed(self, text: str) -> str:
        return wait_until(lambda: next((line for line in list(self.lines) if text in line), None), repr(text), WAIT)

    def exit_code(self) -> int:
        return self.process.wait(WAIT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(WAIT)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@contextmanager
def station(csms: LocalCsms, tmp_path: Path, *extra: str) -> Iterator[Station]:
    running = Station(run_args(tmp_path, *extra, csms=csms.url), tmp_path)
    try:
        yield running
    finally:
        running.stop()


def booted(csms: LocalCsms) -> None:
    """The CSMS accepted the boot and heard the first StatusNotification."""
    csms.wait_for("BootNotification", WAIT)
    csms.wait_for("StatusNotification", WAIT)


def disconnected(csms: LocalCsms) -> None:
    wait_until(lambda: STATION_ID not in csms.stations(), "the CSMS to see the station disconnect", WAIT)


def station_sees_the_loss(running: Station) -> None:
    """Like a pulled cable, `offline` is known to the core only once the link has reported the loss: until then
    an event is sent (and fails) as if online, so a test of offline queuing waits for the core's own view."""

    def offline() -> bool:
        running.command("status")
        return any(": connection " in line and "connection up" not in line for line in list(running.lines)[-5:])

    wait_until(offline, "the station to see the connection lost", WAIT)


def occupied(record: Record) -> bool:
    return record.action == "StatusNotification" and record.payload.get("connectorStatus") == "Occupied"


def test_the_station_boots_takes_operator_commands_and_quits(tmp_path: Path) -> None:
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.command("status")
        assert "registration Accepted" in running.printed(f"station {STATION_ID}:")
        running.command("plug 1")
        csms.wait_for(occupied, WAIT)
        running.command("quit")
        assert running.exit_code() == 0
        disconnected(csms)


def statuses_of(csms: LocalCsms, evse_id: int) -> list[str]:
    return [
        r.payload["connectorStatus"]
        for r in csms.messages
        if r.kind == "CALL" and r.action == "StatusNotification" and r.payload.get("evseId") == evse_id
    ]


def test_a_cable_the_operator_plugged_in_is_still_there_after_a_reset(tmp_path: Path) -> None:
    """The operator plays the simulated hardware: after the CSMS resets the station, the boot statuses say
    Occupied for the cable nobody pulled out (TC_B_21/TC_B_22), Available for the one that was pulled."""
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path, "--evses", "2") as running:
        booted(csms)
        running.command("plug 1")
        running.command("plug 2")
        running.command("unplug 2")
        wait_until(lambda: len(statuses_of(csms, 2)) == 3, "EVSE 2: Available at boot, Occupied, Available", WAIT)
        since = len(csms.messages)
        assert csms.call(STATION_ID, "Reset", {"type": "Immediate"}) == {"status": "Accepted"}
        csms.wait_for("BootNotification", WAIT, since=since)
        after_boot = len(csms.messages)
        for evse_id, status in ((1, "Occupied"), (2, "Available")):
            csms.wait_for(
                lambda r, evse_id=evse_id, status=status: (
                    r.action == "StatusNotification"
                    and r.payload.get("evseId") == evse_id
                    and r.payload.get("connectorStatus") == status
                ),
                WAIT,
                since=after_boot,
            )
        running.command("quit")
        assert running.exit_code() == 0


def test_end_of_stdin_does_not_stop_the_station_but_sigterm_does(tmp_path: Path) -> None:
    with local_csms(heartbeat_interval=1) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.close_stdin()
        since = len(csms.messages)
        csms.wait_for("Heartbeat", WAIT, since=since)
        csms.wait_for("Heartbeat", WAIT, since=len(csms.messages))
        assert running.process.poll() is None
        running.process.send_signal(signal.SIGTERM)
        assert running.exit_code() == 0
        disconnected(csms)


def frame_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [record for record in records if record["kind"] == "frame"]


def heartbeat_answered(csms: LocalCsms) -> bool:
    return any(r.action == "Heartbeat" and r.kind == "CALLRESULT" for r in csms.messages)


def test_log_writes_every_frame_as_json_lines(tmp_path: Path) -> None:
    log = tmp_path / "frames.jsonl"
    with local_csms(heartbeat_interval=3600) as csms, station(csms, tmp_path, "--log", str(log)) as running:
        booted(csms)
        assert csms.call(STATION_ID, "TriggerMessage", {"requestedMessage": "Heartbeat"}) == {"status": "Accepted"}
        wait_until(lambda: heartbeat_answered(csms), "the CSMS to answer the Heartbeat", WAIT)
        seen = [r for r in csms.messages if r.station_id == STATION_ID]
        expected = sorted(("send" if r.direction == "in" else "recv", TYPE_IDS[r.kind], r.message_id) for r in seen)
        wait_until(lambda: len(frame_records(log)) >= len(expected), "every frame in the log", WAIT)
        running.command("quit")
        assert running.exit_code() == 0
    logged = frame_records(log)
    assert all(record["station"] == STATION_ID and record["time"] for record in logged)
    frames = [(record["direction"], json.loads(record["frame"])) for record in logged]
    assert sorted((direction, frame[0], frame[1]) for direction, frame in frames) == expected
    assert {"BootNotification", "StatusNotification", "TriggerMessage", "Heartbeat"} <= {
        frame[2] for _, frame in frames if frame[0] == 2
    }


@pytest.mark.parametrize("offer", ["none", "ocpp1.6"])
def test_a_csms_that_refuses_ocpp_2_0_1_stops_the_station(tmp_path: Path, offer: str) -> None:
    """Retrying cannot help when the CSMS does not speak OCPP 2.0.1: exit 1 and say why."""
    options: dict[str, Any] = {} if offer == "none" else {"select_subprotocol": lambda _conn, _offered: offer}
    with websocket_server(idle_handler, **options) as port:
        result = chargecore(*run_args(tmp_path, csms=f"ws://127.0.0.1:{port}"), cwd=tmp_path, timeout=WAIT)
    assert result.returncode == 1
    (error,) = result.stderr.strip().splitlines()
    assert "subprotocol" in error and "ocpp2.0.1" in error and offer in error


def test_demo(tmp_path: Path) -> None:
    result = chargecore("demo", cwd=tmp_path, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "BootNotification" in result.stdout
    assert "delivered in order" in result.stdout
    assert "demo finished" in result.stdout


@pytest.mark.parametrize("moment", ["local CSMS listening", "=== an EV plugs into EVSE 1", "=== the network goes away"])
def test_ctrl_c_ends_the_demo_in_one_line(tmp_path: Path, moment: str) -> None:
    demo = subprocess.Popen(
        [*CHARGECORE, "demo"], cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert demo.stdout is not None
        assert any(moment in line for line in map(bytes.decode, demo.stdout)), "the demo never got there"
        demo.send_signal(signal.SIGINT)
        _, err = demo.communicate(timeout=WAIT)
    finally:
        demo.kill()
        demo.wait()
    assert_usage_error(subprocess.CompletedProcess(demo.args, demo.returncode, "", err.decode()), "interrupted")


def test_a_charging_session_from_the_operator_commands(tmp_path: Path) -> None:
    """auth, meter, ev-suspend, ev-resume and unplug against the embedded CSMS: one transaction, in order."""
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.command("plug 1")
        csms.wait_for(occupied, WAIT)
        running.command("meter 1 1500 7200")
        running.command("auth CARD1 1")
        csms.wait_for(lambda r: r.action == "Authorize" and r.payload["idToken"]["idToken"] == "CARD1", WAIT)
        started = csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("eventType") == "Started")
        assert started.payload["meterValue"][0]["sampledValue"][0]["value"] == 1500
        running.command("ev-suspend 1")
        csms.wait_for(lambda r: r.action == "TransactionEvent" and _charging(r) == "SuspendedEV", WAIT)
        running.command("ev-resume 1")
        csms.wait_for(lambda r: r.action == "TransactionEvent" and _charging(r) == "Charging" and r.payload["seqNo"])
        running.command("auth nonsense 1 2")
        assert "usage: auth TOKEN [EVSE]" in running.printed("usage: auth")
        running.command("unplug 1")
        ended = csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("eventType") == "Ended")
        assert ended.payload["seqNo"] == 3
        running.command("quit")
        assert running.exit_code() == 0


def test_offline_and_online_queue_the_events_and_deliver_them_on_reconnect(tmp_path: Path) -> None:
    """`offline` drops the connection and keeps the station from dialling; what happens meanwhile is queued with
    offline: true and goes out after `online`."""
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.command("set OCPPCommCtrlr RetryBackOffRandomRange 0")
        running.command("plug 1")
        running.command("auth CARD1 1")
        csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("eventType") == "Started", WAIT)
        running.command("offline")
        disconnected(csms)
        station_sees_the_loss(running)
        running.command("ev-suspend 1")
        running.command("online")
        queued = csms.wait_for(lambda r: r.action == "TransactionEvent" and _charging(r) == "SuspendedEV", WAIT)
        assert queued.payload["offline"] is True and queued.payload["seqNo"] == 1
        running.command("quit")
        assert running.exit_code() == 0


def test_a_fault_then_stop_ends_the_transaction_with_the_reason(tmp_path: Path) -> None:
    """`fault` leaves the transaction running; `stop EVSE REASON` ends it (AbnormalCondition, GroundFault); a
    reason the station decides itself prints the usage."""
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.command("plug 1")
        running.command("auth CARD1 1")
        csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("eventType") == "Started", WAIT)
        running.command("fault 1")
        csms.wait_for(lambda r: r.action == "StatusNotification" and r.payload["connectorStatus"] == "Faulted", WAIT)
        running.command("stop 1 Remote")
        assert "GroundFault" in running.printed("usage: stop EVSE REASON")
        running.command("stop 1 GroundFault")
        ended = csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("eventType") == "Ended")
        assert ended.payload["triggerReason"] == "AbnormalCondition" and ended.payload["seqNo"] == 1
        assert ended.payload["transactionInfo"]["stoppedReason"] == "GroundFault"
        running.command("quit")
        assert running.exit_code() == 0


def _charging(record: Record) -> str | None:
    state: str | None = record.payload.get("transactionInfo", {}).get("chargingState")
    return state


def test_security_event_logs_and_sends_a_critical_event(tmp_path: Path) -> None:
    """`security-event TYPE [TECHINFO]`: a critical event reaches the CSMS with its techInfo; a bad line prints
    the usage."""
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.command("security-event")
        assert "usage: security-event TYPE [TECHINFO]" in running.printed("usage: security-event")
        running.command("security-event TamperDetectionActivated lid opened")
        tamper = csms.wait_for(
            lambda r: r.action == "SecurityEventNotification" and r.payload["type"] == "TamperDetectionActivated", WAIT
        )
        assert tamper.payload["techInfo"] == "lid opened"
        running.command("quit")
        assert running.exit_code() == 0


@pytest.mark.parametrize("reading", ["meter 1 nan 7000", "meter 1 1600 inf", "meter 1 -inf"])
def test_a_meter_reading_that_is_not_a_finite_number_is_refused_and_the_transaction_still_ends(
    tmp_path: Path, reading: str
) -> None:
    with local_csms(heartbeat_interval=60) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.command("plug 1")
        running.command("meter 1 1500 7200")
        running.command("auth CARD1 1")
        csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("eventType") == "Started", WAIT)
        running.command(reading)
        assert "finite" in running.printed("meter: ")
        running.command("unplug 1")
        ended = csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("eventType") == "Ended")
        samples = [sample for value in ended.payload["meterValue"] for sample in value["sampledValue"]]
        assert [s["value"] for s in samples if s["context"] == "Transaction.End"] == [1500]
        running.command("quit")
        assert running.exit_code() == 0


# --- chargecore probe-csms: bad command lines (the runs are in tests/testing_kit/test_probe_csms_cli.py) -----


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--id", "X"], "url"),
        (["ws://127.0.0.1:9"], "--id"),
        (["http://127.0.0.1:9", "--id", "X"], "ws://"),
        (["ws://127.0.0.1:9", "--id", "a:b"], "':'"),
        (["ws://127.0.0.1:9", "--id", "X", "--stations", "0"], "--stations"),
        (["ws://127.0.0.1:9", "--id", "X", "--examples", "many"], "--examples"),
        (["ws://127.0.0.1:9", "--id", "X", "--seed", "1.5"], "--seed"),
        (["ws://127.0.0.1:9", "--id", "X", "--report", "out.txt"], "Markdown (.md) or JSON (.json)"),
        (["ws://127.0.0.1:9", "--id", "X", "--report", "no/such/dir/r.md"], "does not exist"),
        (["ws://127.0.0.1:9", "--id", "X", "--ca-file", "missing.pem"], "not a file"),
    ],
)
def test_a_bad_probe_csms_command_line_is_a_usage_error(tmp_path: Path, args: list[str], named: str) -> None:
    assert_usage_error(chargecore("probe-csms", *args, cwd=tmp_path), named)
