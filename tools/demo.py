"""`chargecore demo`: the embedded CSMS on a free loopback port, a station against it, and a scripted session
with every capability the station has, printed as the CSMS sees it."""

from __future__ import annotations

import io
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import NoReturn

from chargecore.pure.inputs import EvState
from chargecore.shell.application import describe_cost
from chargecore.shell.cli import _Parser
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.logs import diagnostics_log
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.tools.csms import LocalCsms, Record
from chargecore.tools.csms_ca import CsmsCa
from chargecore.tools.file_server import FileServer
from chargecore.tools.tariff import Tariff

STATION_ID = "DEMO-CS-001"
DEMO_PASSWORD = "demo-password-0123"
"""Basic auth at security profile 2 (16 to 40 characters); the local CSMS checks no password."""
STEP_TIMEOUT = 8.0
RECONNECT_QUICKLY = {"OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 1, "RetryBackOffRandomRange": 0}}
DEMO_TARIFF = Tariff("EUR", Decimal("0.30"), Decimal("0.05"))
"""The local CSMS answers every TransactionEvent with the running totalCost at these prices (tools/tariff.py)."""
"""The offline stretch should not wait out the default reconnect back-off."""


def _status(status: str, evse_id: int | None = None) -> Callable[[Record], bool]:
    def matches(record: Record) -> bool:
        payload = record.payload
        return (
            record.kind == "CALL"
            and record.action == "StatusNotification"
            and payload.get("connectorStatus") == status
            and evse_id in (None, payload.get("evseId"))
        )

    return matches


class _Script:
    """Each step waits only for messages that arrive after it started."""

    def __init__(self, csms: LocalCsms, station: ChargingStation, files: str) -> None:
        self.csms = csms
        self.station = station
        self.files = files
        """The upload URL of the CSMS's file server."""
        self.mark = 0

    def step(self, title: str) -> None:
        print(f"\n=== {title}", flush=True)
        self.mark = len(self.csms.messages)

    def expect(self, match: str | Callable[[Record], bool]) -> Record:
        return self.csms.wait_for(match, STEP_TIMEOUT, since=self.mark)

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"never happened: {what}")
            time.sleep(0.05)

    def limit(self, evse_id: int, expected: float) -> None:
        """Wait until the simulated hardware of the EVSE obeys `expected` amperes."""
        limits = getattr(self.station.application, "limits", {})
        self.until(lambda: limits.get(evse_id, (None,))[0] == expected, f"EVSE {evse_id} applies {expected} A")
        print(f"    EVSE {evse_id} hardware now limited to {expected} A", flush=True)

    def displays(self, evse_id: int, text: str) -> None:
        """Wait until the simulated display of the EVSE shows `text` (blocks O and I)."""
        displays = getattr(self.station.application, "displays", {})
        self.until(lambda: text in [m.content.text for m in displays.get(evse_id, ())], f"EVSE {evse_id} shows {text}")
        print(f"    EVSE {evse_id} display: {' | '.join(m.content.text for m in displays[evse_id])}", flush=True)

    def final_cost(self, evse_id: int) -> None:
        """Wait until the simulated display of the EVSE shows a final cost, and print it."""
        costs = getattr(self.station.application, "costs", {})
        self.until(lambda: bool(costs.get(evse_id)) and costs[evse_id][-1].final, f"EVSE {evse_id} final cost")
        print(f"    EVSE {evse_id} cost: {describe_cost(costs[evse_id][-1])}", flush=True)

    def call(self, action: str, payload: dict[str, object]) -> None:
        answer = self.csms.call(STATION_ID, action, payload)
        print(f"    {action} answered {answer}", flush=True)


def _play(script: _Script) -> None:
    script.step("the station boots: BootNotification, then a StatusNotification for every connector")
    script.expect(lambda r: r.action == "BootNotification" and r.payload.get("reason") == "PowerUp")
    script.expect(_status("Available", 2))

    script.step("an EV plugs into EVSE 1: its connector becomes Occupied")
    script.station.connector(1, 1, "plug")
    script.expect(_status("Occupied", 1))

    script.step("the EV leaves: Available again")
    script.station.connector(1, 1, "unplug")
    script.expect(_status("Available", 1))

    script.step("EVSE 2 reports a hardware fault, then recovers")
    script.station.connector(2, None, "fault")
    script.expect(_status("Faulted", 2))
    script.station.connector(2, None, "recover")
    script.expect(_status("Available", 2))

    script.step("a Heartbeat at the interval the CSMS set in its BootNotificationResponse (2 s)")
    script.expect("Heartbeat")

    script.step("the CSMS triggers a StatusNotification for EVSE 2")
    script.call("TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 2}})
    script.expect(_status("Available", 2))

    script.step("the station sends a DataTransfer; the CSMS knows no such vendor")
    script.station.send_data_transfer("com.example.demo", "hello", {"greeting": "hi"})
    script.expect("DataTransfer")

    script.step("the CSMS sends a DataTransfer no application handler knows")
    script.call("DataTransfer", {"vendorId": "com.example.unknown"})

    script.step("the CSMS puts a message on every display (SetDisplayMessage, InFront)")
    message = {"format": "UTF8", "content": "Free parking while charging"}
    script.call("SetDisplayMessage", {"message": {"id": 1, "priority": "InFront", "message": message}})
    script.displays(1, "Free parking while charging")

    script.step("the CSMS limits EVSE 1 to 10 A now and 6 A from 3 s on (TxDefaultProfile); the station obeys")
    start = datetime.now(UTC) - timedelta(seconds=1)
    profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": start.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}, {"startPeriod": 4, "limit": 6.0}],
            }
        ],
    }
    script.call("SetChargingProfile", {"evseId": 1, "chargingProfile": profile})
    script.call("GetCompositeSchedule", {"evseId": 1, "duration": 10, "chargingRateUnit": "A"})
    script.limit(1, 10.0)
    script.limit(1, 6.0)
    _charge(script)
    _log_upload(script)

    _certificate(script)

    script.step("the CSMS resets the station: it reboots and connects at security profile 3 with its new certificate")
    script.call("Reset", {"type": "Immediate"})
    script.expect(lambda r: r.action == "BootNotification" and r.payload.get("reason") == "RemoteReset")
    script.expect(_status("Available", 2))
    script.until(lambda: script.station.state.network.slot == 2, "the connection through slot 2 (profile 3)")


def _event(event_type: str, trigger: str) -> Callable[[Record], bool]:
    def matches(record: Record) -> bool:
        payload = record.payload
        return (
            record.kind == "CALL"
            and record.action == "TransactionEvent"
            and (payload.get("eventType"), payload.get("triggerReason")) == (event_type, trigger)
        )

    return matches


def _certificate(script: _Script) -> None:
    """A02: the CSMS's CA (--ca-dir) signs the station's CSR; the station moves to security profile 3 with it."""
    script.step("the CSMS asks for a station certificate: SignCertificate, its CA signs the CSR, CertificateSigned")
    script.call("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    csr = script.expect("SignCertificate").payload["csr"]
    print(f"    CSR of a new key, {len(csr)} characters of PEM", flush=True)
    script.expect(lambda r: r.action == "CertificateSigned" and r.kind == "CALLRESULT")

    script.step("the CSMS stores a security profile 3 connection in slot 2 and makes it the first choice")
    url = script.csms.url
    data = {"ocppVersion": "OCPP20", "ocppTransport": "JSON", "ocppCsmsUrl": url, "messageTimeout": 30}
    profile = {**data, "securityProfile": 3, "ocppInterface": "Wired0"}
    script.call("SetNetworkProfile", {"configurationSlot": 2, "connectionData": profile})
    priority = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NetworkConfigurationPriority"}}
    script.call("SetVariables", {"setVariableData": [{**priority, "attributeValue": "2,1"}]})


def _charge(script: _Script) -> None:
    """A driver's whole session; the core decides when the transaction starts and ends."""
    script.step("a driver plugs into EVSE 1 and badges: Authorize, then the power path closes: Started")
    script.station.meter(1, 12000.0, 0.0)
    script.station.connector(1, 1, "plug")
    script.station.present_token("04A2B3C4", evse_id=1)
    script.expect("Authorize")
    script.expect(_event("Started", "ChargingStateChanged"))

    script.step("the EV pauses and resumes charging: Updated events with the new chargingState")
    script.station.meter(1, 13500.0, 7200.0)
    script.station.ev_state(1, "SuspendedEV")
    script.expect(_event("Updated", "ChargingStateChanged"))
    script.until(lambda: not script.station.state.rpc.lane, "the CSMS's answer to reach the station")
    _offline_stretch(script)

    script.step("the driver badges again: the transaction ends (StopAuthorized, Local); the EV unplugs: Available")
    script.station.meter(1, 15000.0, 0.0)
    script.station.present_token("04A2B3C4", evse_id=1)
    script.expect(_event("Ended", "StopAuthorized"))
    script.final_cost(1)  # the CSMS's tariff priced the session (0.30 EUR/kWh, 0.05 EUR/min)
    script.station.connector(1, 1, "unplug")
    script.expect(_status("Available", 1))


def _log_upload(script: _Script) -> None:
    """N01 and N09/N10: the CSMS fetches the station's DiagnosticsLog into its file server, then asks for and
    clears what the station holds about the driver's token (its authorization cache entry)."""
    script.step("the CSMS asks for the diagnostics log: the station uploads it to the CSMS's file server")
    script.call("GetLog", {"logType": "DiagnosticsLog", "requestId": 1, "log": {"remoteLocation": script.files}})
    script.expect(lambda r: r.action == "LogStatusNotification" and r.payload.get("status") == "Uploaded")

    script.step("the CSMS asks what the station holds about the driver's token, and has it cleared")
    token = {"idToken": "04A2B3C4", "type": "ISO14443"}
    script.call("CustomerInformation", {"requestId": 2, "report": True, "clear": True, "idToken": token})
    script.expect("NotifyCustomerInformation")


def _offline_stretch(script: _Script) -> None:
    """E11/E12: events of a transaction go into the persistent lane while the network is away, and out in order,
    still marked offline, once it is back."""
    script.step("the network goes away mid-transaction: the EV resumes, pauses and resumes; the events queue")
    script.station.set_network(False)
    script.until(lambda: script.station.state.connection.phase != "up", "the station sees the connection lost")
    states: tuple[tuple[float, EvState], ...] = ((13600.0, "Charging"), (14200.0, "SuspendedEV"), (14300.0, "Charging"))
    for energy, state in states:
        script.station.meter(1, energy, 7200.0 if state == "Charging" else 0.0)
        script.station.ev_state(1, state)
    script.until(lambda: len(script.station.state.rpc.lane) >= 3, "3 TransactionEvents queued")
    print(f"    {len(script.station.state.rpc.lane)} TransactionEvents wait in the persistent lane", flush=True)

    script.step("the network is back: the station reconnects and delivers them in order, with offline: true")
    script.station.set_network(True)

    def delivered() -> list[Record]:
        return [
            record
            for record in script.csms.messages[script.mark :]
            if record.kind == "CALL" and record.action == "TransactionEvent" and record.payload.get("offline")
        ]

    script.until(lambda: len(delivered()) >= 3, "the 3 queued TransactionEvents delivered")
    seq_nos = [record.payload["seqNo"] for record in delivered()]
    if seq_nos != sorted(seq_nos):
        raise TimeoutError(f"queued events delivered out of order: {seq_nos}")
    print(f"    delivered in order: seqNo {seq_nos}", flush=True)


def _interrupted(_signum: int, _frame: FrameType | None) -> NoReturn:
    """The first Ctrl-C ends the demo; later ones must not break off its clean-up with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    _Parser(prog="chargecore demo", description=__doc__).parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()  # only it may set handlers
    previous = signal.signal(signal.SIGINT, _interrupted) if in_main_thread else None
    try:
        return _run()
    except KeyboardInterrupt:
        print("chargecore demo: error: interrupted before the demo finished", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _run() -> int:
    with tempfile.TemporaryDirectory(prefix="chargecore-demo-") as folder:
        return _run_in(Path(folder))


def _run_in(folder: Path) -> int:
    ca = CsmsCa.open(folder / "csms-ca")
    csms = LocalCsms(
        heartbeat_interval=2, on_log=lambda line: print(f"    {line}", flush=True), ca=ca, tariff=DEMO_TARIFF
    )
    csms.start()
    try:
        print(f"local CSMS listening on {csms.url} with its own CA; station {STATION_ID} with 2 EVSEs connects to it")
        started = time.monotonic()
        with tempfile.TemporaryDirectory(dir=folder) as data_dir:
            options = StationOptions(
                csms_url=csms.url,
                station_id=STATION_ID,
                data_dir=Path(data_dir),
                evse_connectors=(1, 1),
                config={**RECONNECT_QUICKLY, "SecurityCtrlr": {"SecurityProfile": 2}},
                ca_file=str(ca.ca_file),
                password=DEMO_PASSWORD,
                serial_number="DEMO-SN-001",
            )
            frames = FrameLog(STATION_ID, stream=io.StringIO(), diagnostics=diagnostics_log(Path(data_dir)))
            station = ChargingStation(options, log=frames)
            uploads = Path(data_dir) / "csms-files"
            uploads.mkdir()
            files = FileServer(uploads, announce=lambda line: print(f"    {line}", flush=True)).start()
            try:
                station.start()
                _play(_Script(csms, station, files.url))
            except TimeoutError as error:
                print(f"demo failed: {error}", file=sys.stderr)
                return 1
            finally:
                station.stop()
                files.stop()
    finally:
        csms.stop()
    print(f"\n=== demo finished in {time.monotonic() - started:.1f} s", flush=True)
    return 0
