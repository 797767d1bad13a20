"""The one place where inputs enter the core: a thread that feeds `step` one input at a time, in order,
and executes the effects in order.

Other threads (the websocket reader, the operator, the application) only `submit` inputs. An input is
stamped with the time when the core takes it, so the core always sees time moving forward.

The core thread never dies quietly (docs/operating.md):

1. Every hook of the integrator's application is called through `_call_hook`: an exception is logged with its
   traceback, the core hears `HookRaised` (and tells the application with a `HookFailed` event), and the hook's
   effect counts as failed: an energy start as not started, a question as refused. The station goes on.
2. Any other exception on the core thread (in `step`, `next_deadline` or the shell's own code) is a bug, and a
   store that cannot write breaks the promise the core relies on (what it persisted is durable). Either one
   ends the station: log, close the websocket, flush, and hand over to the crash handler, whose default ends the
   process with a non-zero code at once so that a supervisor restarts it.
3. Stopping never waits on the network or on a hook without a bound: closing the websocket runs in a daemon
   thread given CLOSE_SECONDS (a peer that went silent leaves websocket-client's reader holding the lock that
   `close` needs), and `stop`/`wait` give up on what has not ended after STOP_SECONDS.
"""

from __future__ import annotations

import queue
import secrets
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from chargecore.pure import effects as fx
from chargecore.pure.blocks.firmware.model import FirmwareCapabilities
from chargecore.pure.blocks.monitoring.monitors import Monitor
from chargecore.pure.inputs import (
    Answer,
    CertificatesLoaded,
    ConnectorFound,
    HookRaised,
    Input,
    PowerUp,
    Shutdown,
    Tick,
)
from chargecore.pure.state import Station
from chargecore.pure.station import next_deadline, step
from chargecore.shell.application import ChargerApplication
from chargecore.shell.certificates.keys import KeyStore
from chargecore.shell.clock import MonotonicClock
from chargecore.shell.drive import (
    EXIT_BUG,
    EXIT_STORE,
    ConfigurationError,
    StoreWriteFailed,
    after_hook,
    answered_by_store,
    boot_state,
    carry_out_in_shell,
    certificate_store,
    default_application,
    default_log,
    effect_call,
    effect_note,
    exit_process,
    hook_name,
    one_line,
    question_call,
    store_answer,
    store_write_failed,
    tls_credentials,
)
from chargecore.shell.firmware import DEFAULT_MAX_BYTES as DEFAULT_FIRMWARE_BYTES
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import DEFAULT_MAX_FRAME_BYTES, WebSocketLink
from chargecore.shell.station_inputs import InputMaker, StationInputs
from chargecore.shell.storage import StationStore
from chargecore.shell.store_files import StoreUnusable
from chargecore.shell.transfer_jobs import TransferJobs

CrashHandler = Callable[[str, int], None]
"""Called once when the station ends on a bug or a failed store write, with a one-line reason and the exit code
the process should end with; the station has already logged the traceback and closed what it could."""
R = TypeVar("R")

CLOSE_SECONDS = 0.5
"""How long the core thread waits for the websocket to close before it goes on without it."""
STOP_SECONDS = 1.0
"""How long a stop may take in all, from the request to `wait` returning and `stop` having cleaned up."""
_WAIT_SLICE = 0.1
__all__ = [  # the names moved to drive.py stay importable from here
    "EXIT_BUG",
    "EXIT_STORE",
    "ChargingStation",
    "ConfigurationError",
    "StationOptions",
    "StoreWriteFailed",
    "exit_process",
]


utc_now = MonotonicClock()
"""Every station's default clock: read the wall once, then never go back (shell/clock.py)."""


@dataclass(frozen=True)
class StationOptions:
    csms_url: str
    station_id: str
    data_dir: Path
    evse_connectors: tuple[int, ...] = (1,)
    password: str | None = None
    ca_file: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)
    log_file: Path | None = None
    supports_evse_reset: bool = True
    supports_summary_inventory: bool = True
    factory_monitors: tuple[Monitor, ...] = ()
    """Hard-wired and preconfigured variable monitors this charger ships with (block N)."""
    master_pass_ui: bool = False
    """The charger has a user interface where a master pass holder picks the transactions to stop (C16.FR.01)."""
    validates_tokens: bool = False
    """ChargerApplication.validate_token decides presented tokens first (None leaves them to the station)."""
    client_cert: str | None = None
    """The ChargingStationCertificate (PEM) for security profile 3; its commonName is the serial number."""
    client_key: str | None = None
    """The private key (unencrypted PEM) of `client_cert`."""
    serial_number: str | None = None
    """The charger's unique serial number, sent in BootNotification."""
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    """The largest message read from the CSMS; a larger one is refused unread (FormatViolation)."""
    firmware_max_bytes: int = DEFAULT_FIRMWARE_BYTES
    """The largest firmware file downloaded; a larger one fails as DownloadFailed."""
    firmware_capabilities: FirmwareCapabilities = field(default_factory=FirmwareCapabilities)
    """Whether an update can be cancelled, what it may do during a transaction, whether unsigned firmware (L02) is
    taken: the charger's, see docs/firmware.md."""
    publish_host: str = "127.0.0.1"
    """Local controller (L03): the address the published firmware is served on, as the stations behind reach it."""
    publish_port: int = 0
    """Local controller (L03): the port of that file server; 0 takes a free one."""
    log_level: str = "info"
    """The least level of the events logged (shell/logs.py LEVELS); frames count as info."""
    quiet: bool = False
    """No frame or event lines on stdout (the DiagnosticsLog and `log_file` still get them)."""


class ChargingStation(StationInputs):
    """A running station: the pure core driven by real time, a websocket and tinydb."""

    def __init__(
        self,
        options: StationOptions,
        application: ChargerApplication | None = None,
        log: FrameLog | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_crash: CrashHandler = exit_process,
        keys: KeyStore | None = None,
    ) -> None:
        """`keys`: where the private keys live (shell/certificates/keys.py); default: files in the certificate
        store under the data dir."""
        self.options = options
        self.application: ChargerApplication = application or default_application(options)
        self.log = log or default_log(options)
        self._clock = clock
        self._on_crash = on_crash
        self._inbox: queue.Queue[InputMaker] = queue.Queue()
        try:
            self._store = StationStore(options.data_dir)
        except StoreUnusable as refusal:
            raise ConfigurationError(str(refusal)) from None
        self._certificates = certificate_store(options, keys)
        for level, notice in (*self._store.notices, *self._certificates.notices):
            self.log.event(level, notice, "storage")
        self._link = WebSocketLink(
            self.submit, self.log, self._fatal, tls_credentials(self._certificates), options.max_frame_bytes
        )
        self._jobs = TransferJobs(options, self.submit, self.log)
        self.fatal_error: str | None = None
        """Why the station stopped on its own (a CSMS without OCPP 2.0.1, a bug, a failed store write), or None."""
        self._crash_lock = threading.Lock()
        self._crashed = threading.Event()
        self._stopped = threading.Event()
        self._stop_by: float | None = None
        """When a requested stop counts as done even if the core could not finish it (time.monotonic)."""
        self._thread: threading.Thread | None = None
        self._state = self._boot_state()

    # --- public API ---------------------------------------------------------------------------------

    @property
    def state(self) -> Station:
        """The latest immutable state (safe to read from any thread)."""
        return self._state

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="chargecore-core")
        self._thread.start()
        self.submit(lambda now: CertificatesLoaded(now, self._certificates.installed()))
        self.submit(lambda now: PowerUp(now, secrets.token_hex(4), self._connectors_found()))

    def submit_stop(self) -> None:
        """Ask the station to close its connection normally and stop (safe from signal handlers); `wait` returns
        within STOP_SECONDS even if the core cannot finish."""
        self._ask_stop(STOP_SECONDS)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop, waiting at most `timeout` seconds in all (less if a stop was asked for earlier) for the core
        thread and the connection to end; what has not ended by then is left to its daemon threads."""
        deadline = self._ask_stop(timeout)
        self._jobs.stop()
        if self._thread is not None:
            self._thread.join(_left(deadline))
            if self._thread.is_alive():
                self.log.event("warning", "the core thread did not stop in time; stopping without it")
        self._bounded("closing the connection", self._link.close, _left(deadline))
        self._bounded("ending the connection threads", lambda: self._link.join(_left(deadline)), _left(deadline))
        self._store.close()
        self.log.close()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the station has stopped (asked to, or on its own: see `fatal_error`); True when it has. A
        stop that was asked for counts as done once its time is up, even if a hook or the network holds the
        core."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            pause = _WAIT_SLICE if end is None else min(_WAIT_SLICE, _left(end))
            if self._stopped.wait(pause) or (self._stop_by is not None and time.monotonic() >= self._stop_by):
                return True
            if end is not None and time.monotonic() >= end:
                return False

    def report_bug(self, error: BaseException, where: str) -> None:
        """An exception escaped the shell's own code in another thread (`where`): the same end as a bug in the
        core. The CLI routes `threading.excepthook` here."""
        self._crash(f"bug in {where}: {one_line(error)}", EXIT_BUG, error)

    def send_raw(self, text: str) -> None:
        """Put `text` on the websocket as it is, bypassing the core: for a test kit probing a CSMS with garbage
        (chargecore.testing). The core never learns of it and drops a reply to it as one to an unknown message id."""
        self._link.send(text)

    def submit(self, make: InputMaker) -> None:
        self._inbox.put(make)

    def set_network(self, up: bool) -> None:
        """Take the network away (offline) or give it back (online), as if a cable were pulled."""
        self._link.set_network(up)

    # --- the core loop ------------------------------------------------------------------------------

    def _boot_state(self) -> Station:
        version = self._call_hook(self.application.firmware_version, None)
        return boot_state(self.options, self._store, self.log, self._certificates, version)

    def _ask_stop(self, seconds: float) -> float:
        if self._stop_by is None:
            self._stop_by = time.monotonic() + seconds
        self.submit(Shutdown)
        return self._stop_by

    def _loop(self) -> None:
        try:
            while not self._stopped.is_set():
                deadline = next_deadline(self._state)
                timeout = None if deadline is None else max(0.0, (deadline - self._clock()).total_seconds())
                try:
                    make: InputMaker = self._inbox.get(timeout=timeout)
                except queue.Empty:
                    make = Tick
                if self._crashed.is_set():  # another thread found a bug: feed nothing more
                    return
                self._process(make(self._clock()))
                if self._state.connection.phase == "stopped":
                    self._stopped.set()
        except StoreWriteFailed as error:
            self._crash(str(error), EXIT_STORE, error)
        except BaseException as error:  # a bug, or SystemExit from a hook: never a quiet death
            self._crash(f"bug in the core thread: {one_line(error)}", EXIT_BUG, error)

    def _process(self, event: Input) -> None:
        self._state, effects = step(self._state, event)
        for effect in effects:
            if isinstance(effect, fx.PerformReset) and effect.evse_id is None:
                self._reboot(effect.reset_type)
                return
            self._execute(effect)

    def _execute(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.SendFrame):
            self._link.send(effect.text)
        elif isinstance(effect, fx.Connect):
            self._link.connect(effect)
        elif isinstance(effect, fx.Disconnect):
            self._close_link()
        elif isinstance(effect, fx.Persist):
            self._persist(effect.entries)
        elif isinstance(effect, fx.Ask):
            if answered_by_store(effect.question):
                answer = store_answer(self._certificates, effect.question)
            else:
                asked = question_call(self.application, effect.question)
                answer = self._call_hook(asked.hook, asked.failed, *asked.args)
            self._process(Answer(self._clock(), effect.question_id, answer))
        elif (call := effect_call(self.application, effect)) is not None:
            if (note := effect_note(effect)) is not None:
                self.log.event("info", note)
            done = self._call_hook(call.hook, call.failed, *call.args, report=call.report)
            after_hook(effect, done, self.submit, self._jobs)
        else:
            carry_out_in_shell(effect, self.log, self._jobs, self._certificates, self.submit)

    def _call_hook(self, hook: Callable[..., R], failed: R, *args: Any, report: bool = True) -> R:
        """Run one of the application's hooks. If it raises, the traceback goes to the log, the core hears
        HookRaised (unless `report` is False), and the caller gets `failed`: the hook's effect did not happen."""
        try:
            return hook(*args)
        except Exception as error:  # the integrator's code: its failure is a failed effect, not a dead station
            name, text, details = hook_name(hook), one_line(error), traceback.format_exc().rstrip()
            self.log.event("error", f"the application's {name} raised, counted as failed: {details}")
            if report:
                self.submit(lambda now: HookRaised(now, name, text))
            return failed

    def _persist(self, entries: tuple[tuple[str, Any], ...]) -> None:
        try:
            self._store.put(entries)
        except Exception as error:  # OSError (ENOSPC, EACCES, ...) or whatever the store raises: all fatal
            raise store_write_failed(self.options, error) from error

    def _close_link(self) -> None:
        self._bounded("closing the connection", self._link.close, CLOSE_SECONDS)

    def _bounded(self, what: str, action: Callable[[], None], seconds: float) -> None:
        """Run `action` in a daemon thread and wait for it at most `seconds` (at least a moment): the network
        must never hold the station."""
        worker = threading.Thread(target=action, daemon=True, name=f"chargecore-{what.replace(' ', '-')}")
        worker.start()
        worker.join(max(seconds, 0.05))
        if worker.is_alive():
            self.log.event("warning", f"{what} did not finish within {seconds:.1f} s; going on without it")

    def _reboot(self, reset_type: str) -> None:
        """A station reset: drop the connection, rebuild the state from storage, and power up again."""
        self.log.event("info", f"station reset ({reset_type}): rebooting")
        self._call_hook(self.application.reboot, None, reset_type)
        self._close_link()
        self._state = self._boot_state()
        self._process(CertificatesLoaded(self._clock(), self._certificates.installed()))
        self._process(PowerUp(self._clock(), secrets.token_hex(4), self._connectors_found()))

    def _connectors_found(self) -> tuple[ConnectorFound, ...]:
        """The hardware's connectors at power-up (ChargerApplication.connector_states), for PowerUp. A hook that
        fails goes through the one guard like every other hook and finds nothing: every connector empty."""
        return tuple(self._call_hook(self.application.connector_states, ()))

    def _crash(self, message: str, exit_code: int, error: BaseException) -> None:
        """The end of a station that cannot go on: log with the traceback, close the websocket, flush, and hand
        over to the crash handler; each step is bounded, and a failing step does not skip the next ones."""
        with self._crash_lock:
            first = not self._crashed.is_set()
            self._crashed.set()
        if not first:
            with suppress(Exception):
                self.log.event("error", f"after the fatal error, also: {one_line(error)}")
            return
        self.fatal_error = message
        with suppress(Exception):
            details = "".join(traceback.format_exception(error)).rstrip()
            self.log.event("error", f"fatal, the station stops: {message}\n{details}")
        with suppress(Exception):
            self._close_link()
        with suppress(Exception):
            self._store.close()
        with suppress(Exception):
            self.log.close()
        try:
            self._on_crash(message, exit_code)
        finally:
            self._stopped.set()

    def _fatal(self, message: str) -> None:
        self.fatal_error = message
        self.log.event("error", message)
        self.submit(Shutdown)


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
