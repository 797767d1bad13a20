"""The asyncio runtime: the same pure core as shell/runtime.py, driven by one task on an event loop, so that many
stations share one thread (chargecore fleet) and the core embeds in an asyncio application.

One task takes inputs from the inbox one at a time, in order, stamps each with the clock, feeds it to `step` and
carries out the effects in order; when nothing arrives before `next_deadline` it feeds a Tick. Anything may
`submit` an input from the loop or from another thread. What the effects mean is shared with the threaded runtime
(shell/drive.py): the hook each one calls, what a hook that raised counts as, the boot state, the exit codes.
Only the waiting differs:

- a `Persist` is written on an executor thread (`run_in_executor`) and awaited, so it is durable before the next
  effect (a frame that depends on it) goes out, while the loop serves every other task meanwhile; as a station
  has at most one write in flight, its writes stay in order on a shared executor (the loop's default one unless
  `writer` names another), so a thousand stations do not need a thousand threads;
- the transfer effects (firmware, publication, log upload: shell/transfer_jobs.py, shared with the threaded
  runtime) run their blocking work, downloads, uploads, signature checks, on the `transfers` executor
  (`run_in_executor`), and their outcomes come back through `submit` as inputs, in the one inbox;
- a hook may be `async def`: its awaitable is awaited; a plain hook runs on the loop and must not block;
- a hook that raises is logged with its traceback, the core hears HookRaised, and its effect counts as failed;
- an exception in the core task or a failed store write ends the station: log, close, and the crash handler.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import secrets
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import suppress
from datetime import datetime
from typing import Any

from chargecore.aio.link import AsyncLink
from chargecore.pure import effects as fx
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
from chargecore.shell.drive import (
    EXIT_BUG,
    EXIT_STORE,
    ConfigurationError,
    HookCall,
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
    sync_firmware_version,
    tls_credentials,
)
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import STOP_SECONDS, CrashHandler, StationOptions, utc_now
from chargecore.shell.station_inputs import InputMaker, StationInputs
from chargecore.shell.storage import StationStore
from chargecore.shell.store_files import StoreUnusable
from chargecore.shell.transfer_jobs import TransferJobs

TRANSFER_WORKERS = 8
"""The threads of the executor the stations of a process share for their transfers unless given their own."""


@functools.cache
def shared_transfer_executor() -> Executor:
    """The default `transfers` executor: one small pool for every station of the process, made at first use."""
    return ThreadPoolExecutor(TRANSFER_WORKERS, thread_name_prefix="chargecore-transfer")


class AsyncChargingStation(StationInputs):
    """A running station on the event loop: `await start()`, operator methods from anywhere, `await stop()`."""

    def __init__(
        self,
        options: StationOptions,
        application: ChargerApplication | Any | None = None,
        log: FrameLog | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_crash: CrashHandler = exit_process,
        writer: Executor | None = None,
        keys: KeyStore | None = None,
        transfers: Executor | None = None,
    ) -> None:
        """`writer`: where the store writes run (None: the loop's default executor); `transfers`: where the
        blocking work of transfers runs, downloads, uploads, signature checks (None: `shared_transfer_executor`)."""
        self.options = options
        self.application: Any = application or default_application(options)
        """A ChargerApplication whose hooks may also be `async def`."""
        self.log = log or default_log(options)
        self._clock = clock
        self._on_crash = on_crash
        try:
            self._store = StationStore(options.data_dir)
        except StoreUnusable as refusal:
            raise ConfigurationError(str(refusal)) from None
        try:
            self._certificates = certificate_store(options, keys)
            for level, notice in (*self._store.notices, *self._certificates.notices):
                self.log.event(level, notice, "storage")
            version = sync_firmware_version(self.application, self.log)
            self._state = boot_state(options, self._store, self.log, self._certificates, version)
        except BaseException:  # release the data dir, so that a corrected configuration can use it at once
            self._store.close()
            raise
        self._link = AsyncLink(
            self.submit, self.log, self._fatal, tls_credentials(self._certificates), options.max_frame_bytes
        )
        self._writer = writer
        self._transfers = transfers
        self._jobs = TransferJobs(options, self.submit, self.log, self._run_off_loop)
        self._writing: asyncio.Future[None] | None = None
        """The store write in flight, if any: the store is closed only after it."""
        self.fatal_error: str | None = None
        """Why the station stopped on its own (a CSMS without OCPP 2.0.1, a bug, a failed store write), or None."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: asyncio.Queue[InputMaker] = asyncio.Queue()
        self._early: list[InputMaker] = []
        """Inputs submitted before `start` bound the station to its loop."""
        self._lock = threading.Lock()
        self._core: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._crashed = False
        self._closed = False

    # --- public API ---------------------------------------------------------------------------------

    @property
    def state(self) -> Station:
        """The latest immutable state (safe to read from any thread)."""
        return self._state

    async def start(self) -> None:
        """Power up on the running loop: the core task starts and dials the CSMS."""
        loop = asyncio.get_running_loop()
        connectors = await self._connectors_found()
        with self._lock:
            self._loop = loop
            early, self._early = self._early, []
        for make in early:
            self._inbox.put_nowait(make)
        self._core = loop.create_task(self._run(), name=f"chargecore-core-{self.options.station_id}")
        self.submit(lambda now: CertificatesLoaded(now, self._certificates.installed()))
        self.submit(lambda now: PowerUp(now, secrets.token_hex(4), connectors))

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Close the connection normally and stop, waiting at most `timeout` seconds for the core; what has not
        ended by then is cancelled. Stopping twice, or a station that crashed, is harmless."""
        if self._core is not None and not self._core.done():
            self.submit(Shutdown)
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._stopped.wait()), timeout)
            if not self._core.done():
                self.log.event("warning", "the core task did not stop in time; stopping without it")
                self._core.cancel()
                with suppress(asyncio.CancelledError, Exception):
                    await self._core
        await self._close()

    async def wait(self) -> None:
        """Until the station has stopped (asked to, or on its own: see `fatal_error`)."""
        await self._stopped.wait()

    def submit(self, make: InputMaker) -> None:
        """Queue an input; safe from the loop and from any other thread."""
        with self._lock:
            loop = self._loop
            if loop is None:
                self._early.append(make)
                return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._inbox.put_nowait(make)
        else:
            with suppress(RuntimeError):  # a loop that has closed takes nothing more
                loop.call_soon_threadsafe(self._inbox.put_nowait, make)

    def set_network(self, up: bool) -> None:
        """Take the network away (offline) or give it back (online), as if a cable were pulled."""
        loop = self._loop
        if loop is None:
            self._link.set_network(up)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._link.set_network(up)
        else:
            loop.call_soon_threadsafe(self._link.set_network, up)

    # --- the core task ------------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._stopped.is_set():
                deadline = next_deadline(self._state)
                make: InputMaker
                if not self._inbox.empty():
                    make = self._inbox.get_nowait()
                elif deadline is None:
                    make = await self._inbox.get()
                else:
                    try:
                        async with asyncio.timeout(max(0.0, (deadline - self._clock()).total_seconds())):
                            make = await self._inbox.get()
                    except TimeoutError:
                        make = Tick
                await self._process(make(self._clock()))
                if self._state.connection.phase == "stopped":
                    self._stopped.set()
        except StoreWriteFailed as error:
            await self._crash(str(error), EXIT_STORE, error)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # a bug, or SystemExit from a hook: never a quiet death
            await self._crash(f"bug in the core task: {one_line(error)}", EXIT_BUG, error)

    async def _process(self, event: Input) -> None:
        self._state, effects = step(self._state, event)
        for effect in effects:
            if isinstance(effect, fx.PerformReset) and effect.evse_id is None:
                await self._reboot(effect.reset_type)
                return
            await self._execute(effect)

    async def _execute(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.SendFrame):
            await self._link.send(effect.text)
        elif isinstance(effect, fx.Connect):
            self._link.connect(effect)
        elif isinstance(effect, fx.Disconnect):
            await self._link.close()
        elif isinstance(effect, fx.Persist):
            await self._persist(effect.entries)
        elif isinstance(effect, fx.Ask):
            if answered_by_store(effect.question):  # the certificate store, on the loop (small local files)
                answer = store_answer(self._certificates, effect.question)
            else:
                answer = await self._call_hook(question_call(self.application, effect.question))
            await self._process(Answer(self._clock(), effect.question_id, answer))
        elif (call := effect_call(self.application, effect)) is not None:
            if (note := effect_note(effect)) is not None:
                self.log.event("info", note)
            done = await self._call_hook(call)
            after_hook(effect, done, self.submit, self._jobs)
        else:  # transfers: the blocking work runs on the `transfers` executor
            carry_out_in_shell(effect, self.log, self._jobs, self._certificates, self.submit)

    async def _call_hook(self, call: HookCall) -> Any:
        """Run one hook, awaiting it if it is `async def`. If it raises, the traceback goes to the log, the core
        hears HookRaised (unless the call says not to), and the caller gets the call's `failed` value."""
        try:
            result = call.hook(*call.args)
            return await result if inspect.isawaitable(result) else result
        except Exception as error:  # the integrator's code: its failure is a failed effect, not a dead station
            name, text, details = hook_name(call.hook), one_line(error), traceback.format_exc().rstrip()
            self.log.event("error", f"the application's {name} raised, counted as failed: {details}")
            if call.report:
                self.submit(lambda now: HookRaised(now, name, text))
            return call.failed

    def _run_off_loop(self, name: str, work: Callable[[], None]) -> None:
        """The `Runner` of this station's transfer jobs (shell/transfer/worker.py): `work` never raises and hands
        its result to `submit`, so the core hears it through the inbox, in order."""
        asyncio.get_running_loop().run_in_executor(self._transfers or shared_transfer_executor(), work)

    async def _persist(self, entries: tuple[tuple[str, Any], ...]) -> None:
        """Durable when it returns; the writer thread does the fsync, so the loop never waits on the disk."""
        self._writing = asyncio.get_running_loop().run_in_executor(self._writer, self._store.put, entries)
        try:
            await asyncio.shield(self._writing)  # a stop that cancels the core still lets the write finish
        except Exception as error:  # OSError (ENOSPC, EACCES, ...) or whatever the store raises: all fatal
            raise store_write_failed(self.options, error) from error

    async def _reboot(self, reset_type: str) -> None:
        """A station reset: drop the connection, rebuild the state from storage, and power up again."""
        self.log.event("info", f"station reset ({reset_type}): rebooting")
        await self._call_hook(HookCall(self.application.reboot, None, (reset_type,)))
        await self._link.close()
        version = await self._call_hook(HookCall(self.application.firmware_version, None, ()))
        self._state = boot_state(self.options, self._store, self.log, self._certificates, version)
        await self._process(CertificatesLoaded(self._clock(), self._certificates.installed()))
        connectors = await self._connectors_found()
        await self._process(PowerUp(self._clock(), secrets.token_hex(4), connectors))

    async def _connectors_found(self) -> tuple[ConnectorFound, ...]:
        """The hardware's connectors at power-up; a hook that fails finds nothing: every connector empty."""
        return tuple(await self._call_hook(HookCall(self.application.connector_states, (), ())))

    async def _crash(self, message: str, exit_code: int, error: BaseException) -> None:
        """The end of a station that cannot go on: log with the traceback, close what it can, and hand over to
        the crash handler; a failing step does not skip the next ones."""
        if self._crashed:
            return
        self._crashed = True
        self.fatal_error = message
        with suppress(Exception):
            details = "".join(traceback.format_exception(error)).rstrip()
            self.log.event("error", f"fatal, the station stops: {message}\n{details}")
        try:
            with suppress(Exception):
                await self._close()
            self._on_crash(message, exit_code)
        finally:
            self._stopped.set()

    async def _close(self) -> None:
        """Close the connection, end its tasks, let the writer finish and release the store; once."""
        if self._closed:
            return
        self._closed = True
        with suppress(Exception):  # stopping the file server waits for its thread: not on the loop
            await asyncio.wait_for(asyncio.to_thread(self._jobs.stop), STOP_SECONDS)
        with suppress(Exception):
            await self._link.close()
        with suppress(Exception):
            await self._link.join(STOP_SECONDS)
        if self._writing is not None:
            with suppress(Exception):
                await asyncio.wait([self._writing], timeout=STOP_SECONDS)
        with suppress(Exception):
            self._store.close()
        with suppress(Exception):
            self.log.close()
        self._stopped.set()

    def _fatal(self, message: str) -> None:
        self.fatal_error = message
        self.log.event("error", message)
        self.submit(Shutdown)
