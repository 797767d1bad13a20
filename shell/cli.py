"""`chargecore run | csms | demo`: the command line of the station, the local CSMS and the demo."""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, get_args

from chargecore.pure.blocks.availability.availability import STATION, connector_status, is_operative
from chargecore.pure.blocks.firmware.model import DURING_TRANSACTION, FirmwareCapabilities
from chargecore.pure.blocks.provisioning.network_profiles import csms_url_problem
from chargecore.pure.blocks.security.certificate_store import Certificates
from chargecore.pure.device_model.model import get_int
from chargecore.pure.inputs import ConnectorChange, EvState, ExternalLimit, LocalReset, StopReason
from chargecore.pure.state import Station
from chargecore.shell.application import SimulatedCharger, describe_cost
from chargecore.shell.firmware import DEFAULT_MAX_BYTES as DEFAULT_FIRMWARE_BYTES
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import DEFAULT_MAX_FRAME_BYTES
from chargecore.shell.logs import LEVELS, security_log
from chargecore.shell.reservation_view import describe_reservation, describe_reservations
from chargecore.shell.runtime import ChargingStation, ConfigurationError, StationOptions
from chargecore.shell.store_files import adopt_shared_files, station_data_dir

OPERATOR_HELP = """commands:
  help                          this list
  status                        registration, connection and every connector's status
  availability                  what the CSMS set Inoperative and each connector's effective state
  plug EVSE [CONNECTOR]         an EV cable is plugged in
  unplug EVSE [CONNECTOR]       the cable is removed
  fault EVSE [CONNECTOR]        the hardware reports a fault (all connectors of the EVSE if none given);
                                a transaction goes on until `stop` ends it
  recover EVSE [CONNECTOR]      the fault is cleared
  stop EVSE REASON              the charger ends the EVSE's transaction: EmergencyStop, GroundFault,
                                OvercurrentFault, PowerQuality, PowerLoss, SOCLimitReached, EnergyLimitReached,
                                TimeLimitReached, StoppedByEV, LocalOutOfCredit, Local or Other
  auth TOKEN [EVSE]             a driver presents an idToken (ISO14443) at the station or at an EVSE
  meter EVSE WH [W]             the EVSE's meter reads WH watt-hours (and W watts)
  ev-suspend EVSE               the EV pauses charging (SuspendedEV)
  ev-resume EVSE                the EV charges again
  datatransfer VENDOR [MESSAGE_ID] [JSON_DATA]   send a DataTransfer to the CSMS
  set COMPONENT VARIABLE VALUE  change a device-model value
  limits                        the charging limit each EVSE obeys now, and the installed charging profiles
  reservations                  every reservation: EVSE (or any), idToken, expiry
  reserve EVSE                  the reservation of one EVSE and the status of its connectors
  certificates                  the installed certificates (CA roots, the station's own) and their expiry dates
  display                       what each EVSE's display shows: messages in order, and the driver's cost
  external EVSE AMPS|clear [EMS|SO|Other]   a local controller limits an EVSE (0: the station) or releases it
  offline                       the network goes away (events queue with offline: true)
  online                        the network is back (the station reconnects and sends what it queued)
  security-event TYPE [TECHINFO]   a security event, e.g. TamperDetectionActivated (critical ones go to the CSMS)
  reset                         reset the station here (boot reason LocalReset)
  quit                          close the connection and stop"""


class UsageError(Exception):
    """A bad command line or config file: one line, exit code 2."""


MAX_EVSES = 256
MAX_CONNECTORS_PER_EVSE = 16
"""Bounds on the station's shape: far above any charger built, low enough that the device model and the boot
StatusNotifications stay small (an unbounded --evses 100000 once made the start hang)."""
MAX_FRAME_BYTES = 64 * 1024 * 1024
"""The most --max-frame-bytes may allow: websocket-client holds a whole message in memory before it is measured."""
MAX_FIRMWARE_BYTES = 16 * 1024 * 1024 * 1024
"""The most --firmware-max-bytes may allow (16 GiB): beyond any charger image, below any arithmetic trouble."""


def _count(most: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to `most`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"{text!r} must be from 1 to {most}")
        return value

    return parse


MAX_IDENTITY_LENGTH = 48
"""OCPP-J (Part 4 3.1.1): the identity is an identifierString of at most 48 characters, without ':'."""


def _station_identity(text: str) -> str:
    """The identity goes into the connection URL and is the Basic-auth user name, where ':' ends it (Part 4 3.1.1)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the station identity must not be empty")
    if len(text) > MAX_IDENTITY_LENGTH:
        raise argparse.ArgumentTypeError(f"{text!r} is longer than {MAX_IDENTITY_LENGTH} characters (OCPP-J 3.1.1)")
    if ":" in text or not text.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} holds ':' or a control character (OCPP-J 3.1.1)")
    return text


def _check_paths(data_dir: Path, log: Path | None) -> None:
    """The station creates the data dir and appends to the log; say so now if it cannot, not in a traceback."""
    if data_dir.exists() and not data_dir.is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a directory")
    if log is not None and log.is_dir():
        raise UsageError(f"--log {log} is a directory")
    if log is not None and not log.parent.is_dir():
        raise UsageError(f"--log {log}: the folder {log.parent} does not exist")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def run_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chargecore run", description="Run a charging station against a CSMS.")
    parser.add_argument("--csms", required=True, help="CSMS websocket URL, e.g. ws://127.0.0.1:9000")
    parser.add_argument(
        "--id", required=True, dest="station_id", type=_station_identity, help="charging station identity"
    )
    parser.add_argument("--password", help="HTTP Basic password (security profile 1/2)")
    parser.add_argument(
        "--ca-file", help="CSMS root CA bundle for wss://, copied into the certificate store at the first start"
    )
    parser.add_argument(
        "--client-cert",
        help="the station's certificate, PEM (security profile 3), copied into the store at the first start",
    )
    parser.add_argument("--client-key", help="the private key of --client-cert, unencrypted PEM")
    parser.add_argument("--serial-number", help="the charger's serial number (the CN of --client-cert)")
    parser.add_argument(
        "--data-dir", help="where state survives restarts (default ./data/STATION_ID, the id percent-encoded)"
    )
    parser.add_argument(
        "--evses", type=_count(MAX_EVSES), default=1, help=f"number of EVSEs, 1-{MAX_EVSES} (default 1)"
    )
    parser.add_argument(
        "--connectors-per-evse",
        type=_count(MAX_CONNECTORS_PER_EVSE),
        default=1,
        help=f"connectors per EVSE, 1-{MAX_CONNECTORS_PER_EVSE} (default 1)",
    )
    parser.add_argument("--config", help="JSON file of initial device-model values")
    parser.add_argument("--log", help="also write every frame as JSON lines to this file")
    parser.add_argument(
        "--log-level",
        choices=LEVELS,
        default="info",
        help="the least level of the events shown and logged (default info; frames count as info)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no frame or event lines on stdout (DIR/logs/diagnostics.log keeps them)"
    )
    parser.add_argument(
        "--without-summary-inventory",
        action="store_true",
        help="answer GetBaseReport SummaryInventory NotSupported (the report is optional, TC_B_15)",
    )
    parser.add_argument(
        "--max-frame-bytes",
        type=_count(MAX_FRAME_BYTES),
        default=DEFAULT_MAX_FRAME_BYTES,
        help=f"refuse larger messages from the CSMS unread (default {DEFAULT_MAX_FRAME_BYTES})",
    )
    parser.add_argument(
        "--firmware-max-bytes",
        type=_count(MAX_FIRMWARE_BYTES),
        default=DEFAULT_FIRMWARE_BYTES,
        help=f"a larger firmware file fails its download, DownloadFailed (default {DEFAULT_FIRMWARE_BYTES})",
    )
    parser.add_argument(
        "--firmware-no-cancel",
        action="store_true",
        help="a new UpdateFirmware is Rejected while an update runs (default: it cancels one not yet installing)",
    )
    parser.add_argument(
        "--firmware-during-transaction",
        choices=DURING_TRANSACTION,
        default=FirmwareCapabilities().during_transaction,
        help="what a firmware update may do while a transaction runs (default download: install after it ends)",
    )
    parser.add_argument(
        "--firmware-unsigned",
        action="store_true",
        help="take UpdateFirmware without signature and signing certificate (L02, non-secure; default Rejected)",
    )
    parser.add_argument(
        "--local-controller",
        action="store_true",
        help="publish firmware for the stations behind this one (PublishFirmware, UnpublishFirmware: L03/L04)",
    )
    parser.add_argument(
        "--publish-host", default="127.0.0.1", help="address the published firmware is served on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--publish-port", type=_count(65535), default=None, help="port of that file server (default: a free one)"
    )
    return parser


def load_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read config file {path}: {error.strerror}") from None
    except ValueError as error:
        raise UsageError(f"config file {path} is not valid JSON: {error}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise UsageError(f"config file {path} must map component names to objects of variable values")
    return data


DEFAULT_DATA_ROOT = Path("data")


def _adopt_earlier_default(options: StationOptions) -> None:
    """Before per-station data dirs the default data dir was `./data` itself: its files move to the station's."""
    said = adopt_shared_files(DEFAULT_DATA_ROOT, options.data_dir)
    if said:
        log = FrameLog(options.station_id, options.log_file)
        for line in said:
            log.event("info", line)
        log.close()


def options_from(args: argparse.Namespace) -> StationOptions:
    problem = csms_url_problem(args.csms)
    if problem is not None:
        raise UsageError(f"--csms {problem}")
    if args.ca_file and not Path(args.ca_file).is_file():
        raise UsageError(f"--ca-file {args.ca_file} does not exist")
    data_dir = Path(args.data_dir) if args.data_dir else station_data_dir(DEFAULT_DATA_ROOT, args.station_id)
    _check_paths(data_dir, Path(args.log) if args.log else None)
    return StationOptions(
        csms_url=args.csms,
        station_id=args.station_id,
        data_dir=data_dir,
        evse_connectors=(args.connectors_per_evse,) * args.evses,
        password=args.password,
        ca_file=args.ca_file,
        config=load_config(args.config),
        log_file=Path(args.log) if args.log else None,
        client_cert=args.client_cert,
        client_key=args.client_key,
        serial_number=args.serial_number,
        supports_summary_inventory=not args.without_summary_inventory,
        max_frame_bytes=args.max_frame_bytes,
        firmware_max_bytes=args.firmware_max_bytes,
        firmware_capabilities=FirmwareCapabilities(
            cancellable=not args.firmware_no_cancel,
            during_transaction=args.firmware_during_transaction,
            unsigned=args.firmware_unsigned,
            local_controller=args.local_controller,
        ),
        publish_host=args.publish_host,
        publish_port=args.publish_port or 0,
        log_level=args.log_level,
        quiet=args.quiet,
    )


def describe(station: ChargingStation) -> str:
    state = station.state
    lines = [
        f"station {state.identity.station_id}: connection {state.connection.phase}, "
        f"registration {state.registration.status}, heartbeat every "
        f"{get_int(state.device_model, 'OCPPCommCtrlr', 'HeartbeatInterval', default=0)}s",
    ]
    lines += [f"  EVSE {c.evse_id} connector {c.connector_id}: {connector_status(state, c)}" for c in state.connectors]
    return "\n".join(lines)


def describe_availability(state: Station) -> str:
    """The ChangeAvailability settings (G03/G04) and what they make of each connector."""
    inoperative = state.availability.inoperative

    def setting(component: tuple[int, int]) -> str:
        return "Inoperative" if component in inoperative else "Operative"

    lines = [f"station: {setting(STATION)}"]
    for evse_id in sorted({c.evse_id for c in state.connectors}):
        lines.append(f"  EVSE {evse_id}: {setting((evse_id, 0))}")
        lines += [
            f"    connector {c.connector_id}: {setting((evse_id, c.connector_id))}, effectively "
            f"{'Operative' if is_operative(state, c) else 'Inoperative'}, status {connector_status(state, c)}"
            for c in state.connectors
            if c.evse_id == evse_id
        ]
    return "\n".join(lines)


def describe_certificates(certificates: Certificates) -> str:
    """What the certificate store holds (security/certificate_store.py), with each certificate's validity."""
    if not certificates.installed:
        return "certificates: none installed"
    lines = ["certificates:"]
    for entry in certificates.installed:
        for depth, facts in enumerate((entry.certificate, *entry.chain)):
            label = entry.use if depth == 0 else "  sub-CA"
            lines.append(
                f"  {label}: CN={facts.subject_common_name or '-'}, issuer CN={facts.issuer_common_name or '-'}, "
                f"serial {facts.hash_data.serial_number}, valid {facts.not_before:%Y-%m-%d %H:%M} to "
                f"{facts.not_after:%Y-%m-%d %H:%M} UTC"
            )
    return "\n".join(lines)


def describe_display(state: Station) -> str:
    """Blocks O and I: each EVSE's display list (as the last ShowMessages gave it) and its driver's cost."""
    shown = dict(state.display.shown)
    costs = {view.evse_id: view.cost for view in state.tariff_cost.views if view.cost is not None}
    lines = []
    for evse_id in range(1, len(state.identity.evse_connectors) + 1):
        messages = " | ".join(f"[{m.priority}] {m.content.text}" for m in shown.get(evse_id, ())) or "(nothing)"
        lines.append(f"  EVSE {evse_id}: {messages}")
        if evse_id in costs:
            lines.append(f"    cost: {describe_cost(costs[evse_id])}")
    return "\n".join(lines)


def describe_limits(station: ChargingStation) -> str:
    """What the smart-charging block applies now (the EVSE maximum until a profile limits it)."""
    state = station.state.smart_charging
    applied = {limit.evse_id: limit for limit in state.applied}
    lines = []
    for evse_id in range(1, len(station.state.identity.evse_connectors) + 1):
        limit = applied.get(evse_id)
        told = (
            "its maximum (no limit applied)"
            if limit is None
            else f"{limit.limit:.1f} {limit.unit} on {limit.phases} phases"
        )
        lines.append(f"  EVSE {evse_id}: {told}")
    if state.next_change is not None:
        lines.append(f"  next change at {state.next_change.isoformat(timespec='seconds')}")
    lines += [
        f"  profile {p.profile_id}: {p.purpose} on EVSE {p.evse_id}, {p.kind}, stack level {p.stack_level}"
        for p in state.profiles
    ]
    return "\n".join(["charging limits:", *lines])


def _external(station: ChargingStation, words: list[str]) -> None:
    usage = "usage: external EVSE AMPS|clear [EMS|SO|Other]"
    if len(words) not in (2, 3) or not words[0].isdigit():
        raise UsageError(usage)
    try:
        limit = None if words[1] == "clear" else float(words[1])
    except ValueError:
        raise UsageError(usage) from None
    evse_id, source = int(words[0]), words[2] if len(words) == 3 else "EMS"
    station.submit(lambda now: ExternalLimit(now, evse_id, limit, "A", source))


def _connector_command(station: ChargingStation, change: ConnectorChange) -> Callable[[list[str]], None]:
    """The operator plays the simulated charger's hardware: it keeps the change (a reset finds the cable still
    plugged in) and reports it to the station."""

    def run(words: list[str]) -> None:
        if len(words) not in (1, 2) or not all(w.isdigit() for w in words):
            raise UsageError(f"usage: {change} EVSE [CONNECTOR]")
        evse_id, connector_id = int(words[0]), int(words[1]) if len(words) == 2 else None
        application = station.application
        if isinstance(application, SimulatedCharger):
            for number in _connectors_named(station.options.evse_connectors, evse_id, connector_id):
                application.hardware_change(evse_id, number, change)
        station.connector(evse_id, connector_id, change)

    return run


def _connectors_named(counts: tuple[int, ...], evse_id: int, connector_id: int | None) -> tuple[int, ...]:
    """The connectors of the EVSE that a command names and the charger has: one, or all of them (None)."""
    present = tuple(range(1, counts[evse_id - 1] + 1)) if 1 <= evse_id <= len(counts) else ()
    return present if connector_id is None else tuple(n for n in present if n == connector_id)


def _data_transfer(station: ChargingStation, words: list[str]) -> None:
    if not words:
        raise UsageError("usage: datatransfer VENDOR [MESSAGE_ID] [JSON_DATA]")
    data = None
    if len(words) > 2:
        try:
            data = json.loads(" ".join(words[2:]))
        except ValueError:
            raise UsageError("datatransfer: JSON_DATA is not valid JSON") from None
    station.send_data_transfer(words[0], words[1] if len(words) > 1 else None, data)


def _set(station: ChargingStation, words: list[str]) -> None:
    if len(words) != 3:
        raise UsageError("usage: set COMPONENT VARIABLE VALUE")
    station.change_variable(words[0], words[1], words[2])


def _auth(station: ChargingStation, words: list[str]) -> None:
    if len(words) not in (1, 2) or (len(words) == 2 and not words[1].isdigit()):
        raise UsageError("usage: auth TOKEN [EVSE]")
    station.present_token(words[0], evse_id=int(words[1]) if len(words) == 2 else None)


def _reserve(station: ChargingStation, words: list[str]) -> str:
    if len(words) != 1 or not words[0].isdigit():
        raise UsageError("usage: reserve EVSE")
    return describe_reservation(station.state, int(words[0]))


def _meter(station: ChargingStation, words: list[str]) -> None:
    try:
        numbers = [float(word) for word in words[1:]]
    except ValueError:
        raise UsageError("usage: meter EVSE WH [W]") from None
    if len(words) not in (2, 3) or not words[0].isdigit():
        raise UsageError("usage: meter EVSE WH [W]")
    if not all(map(math.isfinite, numbers)):
        raise UsageError("meter: WH and W must be finite numbers, not nan or inf")
    station.meter(int(words[0]), numbers[0], numbers[1] if len(numbers) == 2 else None)


def _stop(station: ChargingStation, words: list[str]) -> None:
    if len(words) != 2 or not words[0].isdigit() or words[1] not in get_args(StopReason):
        raise UsageError(f"usage: stop EVSE REASON (one of {', '.join(get_args(StopReason))})")
    station.stop_transaction(int(words[0]), words[1])  # type: ignore[arg-type]


def _security_event(station: ChargingStation, words: list[str]) -> None:
    if not words:
        raise UsageError("usage: security-event TYPE [TECHINFO]")
    station.security_event(words[0], " ".join(words[1:]) or None)


def _ev_command(station: ChargingStation, state: EvState) -> Callable[[list[str]], None]:
    def run(words: list[str]) -> None:
        if len(words) != 1 or not words[0].isdigit():
            raise UsageError("usage: ev-suspend|ev-resume EVSE")
        station.ev_state(int(words[0]), state)

    return run


def operator_loop(station: ChargingStation, lines: Any, out: Any = sys.stdout) -> None:
    """Read operator commands until `quit`; end of input leaves the station running."""
    commands: dict[str, Callable[[list[str]], None]] = {
        "help": lambda _: print(OPERATOR_HELP, file=out, flush=True),
        "status": lambda _: print(describe(station), file=out, flush=True),
        "availability": lambda _: print(describe_availability(station.state), file=out, flush=True),
        "plug": _connector_command(station, "plug"),
        "unplug": _connector_command(station, "unplug"),
        "fault": _connector_command(station, "fault"),
        "recover": _connector_command(station, "recover"),
        "stop": lambda words: _stop(station, words),
        "auth": lambda words: _auth(station, words),
        "meter": lambda words: _meter(station, words),
        "ev-suspend": _ev_command(station, "SuspendedEV"),
        "ev-resume": _ev_command(station, "Charging"),
        "datatransfer": lambda words: _data_transfer(station, words),
        "set": lambda words: _set(station, words),
        "offline": lambda _: station.set_network(False),
        "online": lambda _: station.set_network(True),
        "security-event": lambda words: _security_event(station, words),
        "reset": lambda _: station.submit(LocalReset),
        "limits": lambda _: print(describe_limits(station), file=out, flush=True),
        "reservations": lambda _: print(describe_reservations(station.state), file=out, flush=True),
        "reserve": lambda words: print(_reserve(station, words), file=out, flush=True),
        "certificates": lambda _: print(describe_certificates(station.state.certificates), file=out, flush=True),
        "display": lambda _: print(describe_display(station.state), file=out, flush=True),
        "external": lambda words: _external(station, words),
    }
    for line in lines:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            station.submit_stop()
            return
        command = commands.get(words[0])
        if command is None:
            print(f"unknown command {words[0]!r}; type help", file=out, flush=True)
            continue
        try:
            command(words[1:])
        except UsageError as error:
            print(error, file=out, flush=True)


def run(argv: list[str]) -> int:
    args = run_parser().parse_args(argv)
    try:
        options = options_from(args)
        if not args.data_dir:
            _adopt_earlier_default(options)
        station = ChargingStation(
            options,
            SimulatedCharger(say=lambda line: print(line, flush=True), security_log=security_log(options.data_dir)),
        )
    except (UsageError, ConfigurationError) as error:
        print(f"chargecore run: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # the data dir or the log cannot be created, e.g. read-only or permission denied
        print(f"chargecore run: error: cannot use {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: station.submit_stop())
    threading.excepthook = lambda failed: _thread_failed(station, failed)
    station.start()
    threading.Thread(target=operator_loop, args=(station, sys.stdin), daemon=True, name="operator").start()
    while not station.wait(0.2):
        pass
    station.stop()
    if station.fatal_error:
        print(f"chargecore run: error: {station.fatal_error}", file=sys.stderr)
        return 1
    return 0


def _thread_failed(station: ChargingStation, failed: threading.ExceptHookArgs) -> None:
    """An exception that escaped any thread of the station (the link's reader, the operator) is a bug: it ends
    the station like one in the core, never leaving a thread quietly dead."""
    if failed.exc_value is not None and not isinstance(failed.exc_value, SystemExit):
        station.report_bug(failed.exc_value, f"thread {failed.thread.name if failed.thread else '?'}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"run": run, "csms": _csms, "demo": _demo, "fleet": _fleet, "probe-csms": probe_csms}
    if not argv or argv[0] not in commands:
        print(
            "usage: chargecore {run,csms,demo,fleet,probe-csms} [options]  (chargecore COMMAND --help for details)",
            file=sys.stderr,
        )
        return 0 if argv and argv[0] in ("-h", "--help") else 2
    return commands[argv[0]](argv[1:])


def _csms(argv: list[str]) -> int:
    from chargecore.tools.csms import main as csms_main

    return csms_main(argv)


def _demo(argv: list[str]) -> int:
    from chargecore.tools.demo import main as demo_main

    return demo_main(argv)


def _fleet(argv: list[str]) -> int:
    from chargecore.tools.fleet.cli import main as fleet_main

    return fleet_main(argv)


MAX_PROBE_STATIONS = 64
MAX_PROBE_EXAMPLES = 1_000_000
REPORT_FORMATS = (".md", ".json")


def _csms_url(text: str) -> str:
    if not text.startswith(("ws://", "wss://")):
        raise argparse.ArgumentTypeError(f"{text!r} is not a ws:// or wss:// URL")
    return text


def _existing_file(text: str) -> Path:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file")
    return Path(text)


def _report_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() not in REPORT_FORMATS:
        raise argparse.ArgumentTypeError(f"{text!r}: the report is Markdown (.md) or JSON (.json)")
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r}: the folder {path.parent} does not exist")
    return path


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def probe_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chargecore probe-csms",
        description="Probe a CSMS with real chargecore stations driven by hypothesis and check it against OCPP "
        "rules; exit 0 when nothing was violated, 1 with the shrunk transcript otherwise.",
    )
    parser.add_argument("url", type=_csms_url, help="CSMS websocket URL, e.g. ws://127.0.0.1:9000")
    parser.add_argument(
        "--id", required=True, dest="station_id", type=_station_identity, help="identity of the (first) station"
    )
    parser.add_argument("--password", help="HTTP Basic password of the stations (security profile 1/2)")
    parser.add_argument("--ca-file", type=_existing_file, help="CSMS root CA bundle for wss://")
    parser.add_argument(
        "--stations",
        type=_count(MAX_PROBE_STATIONS),
        default=1,
        help=f"stations probing at once, 1-{MAX_PROBE_STATIONS} (default 1; the others are ID-2, ID-3...)",
    )
    parser.add_argument(
        "--examples", type=_count(MAX_PROBE_EXAMPLES), default=100, help="hypothesis examples to run (default 100)"
    )
    parser.add_argument("--seed", type=_seed, help="seed for a reproducible run")
    parser.add_argument("--report", type=_report_path, help="write a report: FILE.md (Markdown) or FILE.json")
    parser.add_argument(
        "--no-garbage",
        action="store_true",
        help="send no near-valid or broken frames: to look past a CSMS's known trouble with them",
    )
    return parser


def probe_csms(argv: list[str]) -> int:
    """`chargecore probe-csms`: the testing kit imported only here, so `chargecore run` never pays for hypothesis."""
    args = probe_parser().parse_args(argv)
    try:
        from chargecore.testing.csms_prober import ProbeSettings
        from chargecore.testing.probe_report import write
        from chargecore.testing.probe_run import run_probe
    except ImportError as missing:
        print(
            f"chargecore probe-csms: error: {missing}; install the kit: pip install 'chargecore[testing]'",
            file=sys.stderr,
        )
        return 2
    settings = ProbeSettings(
        args.url,
        args.station_id,
        password=args.password,
        ca_file=args.ca_file,
        stations=args.stations,
        garbage=not args.no_garbage,
    )
    result = run_probe(settings, examples=args.examples, seed=args.seed)
    if args.report is not None:
        write(result, args.report)
    rate = f"{result.examples} examples in {result.seconds:.1f} s ({result.examples_per_second:.1f}/s)"
    if result.passed:
        print(f"chargecore probe-csms: no violation: {rate}, {len(result.rules)} rules checked")
        return 0
    if result.error:
        print(f"chargecore probe-csms: error: {result.error} ({rate})")
        return 1
    print(f"chargecore probe-csms: {len(result.violations)} violation(s) after {rate}; shrunk example:")
    for violation in result.violations:
        print(f"  [{violation.rule_id}] {violation.message}")
    print(result.transcript)
    return 1
