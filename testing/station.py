"""A real chargecore station for test code: pointed at a CSMS, played by the test, every frame on a tap.

It is the threaded `ChargingStation` of shell/runtime.py with the simulated charger (shell/application.py), so a
CSMS under test meets the same station that runs in production, not a mock of one. The test plays the hardware
and the driver (plug, badge, meter, the network cable) and reads what crossed the wire from `tap`. `send_raw`
puts any text on the websocket behind the core's back, to probe how a CSMS answers garbage; the core never sent
that message id, so it drops whatever reply comes to it and goes on (pure/station.py `_frame_received`).

A station that crashes (a bug, a store that cannot write) never ends the test process: the crash is kept in
`fatal_error` and every wait raises on it.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from chargecore.pure.inputs import ConnectorChange
from chargecore.pure.state import Station
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.logs import diagnostics_log, security_log
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.testing.frame_tap import FrameTap

QUICK_RECONNECT: Mapping[str, Mapping[str, Any]] = {
    "OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 1, "RetryBackOffRandomRange": 0},
}
"""A test that takes the network away waits one second, not the default back-off, for the station to come back."""
STOP_SECONDS = 5.0
_POLL_SECONDS = 0.01


class StationNotBooted(TimeoutError):
    """The CSMS did not accept the station's BootNotification in time."""


class StationStopped(RuntimeError):
    """The station stopped on its own while a test waited on it: see the message (`fatal_error`)."""


class _TappingFrameLog(FrameLog):
    """The station's frame log, which also hands every frame to the tap. The shell logs each frame it sends just
    before sending it and each frame it reads before the core sees it, so the tap holds the wire's order; like the
    log, it sees secrets masked (pure/device_model/redaction.py)."""

    def __init__(self, tap: FrameTap, station_id: str, data_dir: Path) -> None:
        super().__init__(station_id, diagnostics=diagnostics_log(data_dir), quiet=True)
        self._tap = tap

    def frame(self, direction: str, text: str) -> None:
        self._tap.record("sent" if direction == "send" else "received", text)
        super().frame(direction, text)


class OcppStation:
    """A chargecore station at `url` (the CSMS's base URL; the station id is appended) for tests of that CSMS."""

    def __init__(
        self,
        url: str,
        station_id: str,
        *,
        password: str | None = None,
        ca_file: str | None = None,
        evses: int = 1,
        data_dir: Path | None = None,
        config: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """`evses`: how many EVSEs, one connector each. `data_dir`: where the station keeps its state (default:
        a temporary directory removed at `stop`). `config`: device-model values laid over QUICK_RECONNECT, e.g.
        `{"OCPPCommCtrlr": {"MessageTimeout[Default]": 5}}`."""
        if evses < 1:
            raise ValueError(f"a station has at least one EVSE, not {evses}")
        self.url = url
        self._own_dir = data_dir is None
        self.data_dir = Path(tempfile.mkdtemp(prefix="chargecore-station-")) if data_dir is None else data_dir
        self.tap = FrameTap()
        self.charger = SimulatedCharger(security_log=security_log(self.data_dir))
        """The simulated hardware and application: what the CSMS made it do (limits, resets, displays...)."""
        settings = {section: dict(values) for section, values in QUICK_RECONNECT.items()}
        for section, values in (config or {}).items():
            settings.setdefault(section, {}).update(values)
        options = StationOptions(
            csms_url=url,
            station_id=station_id,
            data_dir=self.data_dir,
            evse_connectors=(1,) * evses,
            password=password,
            ca_file=ca_file,
            config=settings,
            quiet=True,
        )
        self.crashes: list[str] = []
        self._started = False
        try:
            self._station = ChargingStation(
                options,
                self.charger,
                log=_TappingFrameLog(self.tap, station_id, self.data_dir),
                on_crash=lambda message, _code: self.crashes.append(message),
            )
        except BaseException:  # e.g. a ca_file that is not PEM (ConfigurationError): leave no directory behind
            self.stop()
            raise

    # --- life -------------------------------------------------------------------------------------------

    def __enter__(self) -> OcppStation:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Power up: the station dials the CSMS and sends BootNotification."""
        self._started = True
        self._station.start()

    def stop(self) -> None:
        """Close the connection normally and stop; the temporary data dir goes too. Safe to call twice."""
        if self._started:
            self._started = False
            self._station.stop(timeout=STOP_SECONDS)
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    @property
    def fatal_error(self) -> str | None:
        """Why the station stopped on its own (a CSMS refusing OCPP 2.0.1, a bug), or None."""
        return self._station.fatal_error

    @property
    def state(self) -> Station:
        """The core's latest immutable state (registration, connectors, transactions, queued messages)."""
        return self._station.state

    def wait_booted(self, timeout: float = 10.0) -> None:
        """Wait until the CSMS has accepted the BootNotification; raises StationNotBooted saying where it stands
        instead (no connection, Pending, Rejected), StationStopped if it crashed."""
        try:
            self._wait(lambda: self.state.registration.status == "Accepted", "the boot", timeout)
        except TimeoutError:
            status, phase = self.state.registration.status, self.state.connection.phase
            raise StationNotBooted(
                f"not booted by {self.url} after {timeout} s: registration {status}, connection {phase}, "
                f"{len(self.tap)} frames on the tap"
            ) from None

    # --- the operator, the driver and the hardware --------------------------------------------------------

    def plug(self, evse: int = 1) -> None:
        """An EV cable is plugged into the EVSE."""
        self._connector(evse, "plug")

    def unplug(self, evse: int = 1) -> None:
        self._connector(evse, "unplug")

    def badge(self, id_token: str, kind: str = "ISO14443", evse: int | None = None) -> None:
        """A driver presents an idToken of type `kind` (IdTokenEnumType), at an EVSE or at the station."""
        self._station.present_token(id_token, kind, evse)

    def meter(self, energy_wh: float, power_w: float | None = None, *, evse: int = 1) -> None:
        """The EVSE's meter reads `energy_wh` (and `power_w`)."""
        self._station.meter(evse, energy_wh, power_w)

    def go_offline(self, timeout: float = 5.0) -> None:
        """The network goes away without a close handshake. Returns once the station has seen the loss, so what
        the test does next is queued (TransactionEvents with offline: true), not lost on a dead socket."""
        self._station.set_network(False)
        self._wait(lambda: self.state.connection.phase != "up", "the station to see the network gone", timeout)

    def go_online(self, timeout: float | None = None) -> None:
        """The network is back: the station reconnects (within a second, QUICK_RECONNECT) and replays what it
        queued. With `timeout`, returns once the connection is up again."""
        self._station.set_network(True)
        if timeout is not None:
            self._wait(lambda: self.state.connection.phase == "up", "the station to reconnect", timeout)

    def send_raw(self, text: str, timeout: float = 10.0) -> int:
        """Put `text` on the websocket as one text frame, bypassing the core (garbage, near-valid frames). The
        frame and the CSMS's answer reach the tap; the core drops that answer (a message id it never sent).

        Waits up to `timeout` seconds for the connection to be up first (a CSMS may have closed it after an
        earlier frame; the station reconnects). Returns the tap's length before the frame: the `since` mark for
        `tap.answer_to`."""
        self._wait(lambda: self.state.connection.phase == "up", "the connection to the CSMS", timeout)
        mark = len(self.tap)
        self._station.send_raw(text)
        return mark

    def _wait(self, done: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if self.fatal_error is not None:
                raise StationStopped(f"the station stopped: {self.fatal_error}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(_POLL_SECONDS)

    def _connector(self, evse: int, change: ConnectorChange) -> None:
        """The simulated hardware keeps the change (a reboot finds the cable still in), then the station hears it."""
        self.charger.hardware_change(evse, 1, change)
        self._station.connector(evse, None, change)
