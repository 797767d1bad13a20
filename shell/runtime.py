"""The one place where inputs enter the core: a thread that feeds `step` one input at a time, in order,
and executes the effects in order.

Other threads (the websocket reader, the operator, the application) only `submit` inputs. An input is
stamped with the time when the core takes it, so the core always sees time moving forward.
"""

from __future__ import annotations

import queue
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from returns.result import Failure

from chargecore.pure import effects as fx
from chargecore.pure.device_model import build_device_model
from chargecore.pure.inputs import (
    Answer,
    ChangeVariable,
    ChargingStateChanged,
    ConnectorChange,
    ConnectorChanged,
    EvState,
    Input,
    MasterPassChoice,
    MeterReading,
    ParkingBayChanged,
    PowerPathChanged,
    PowerUp,
    SecurityEventRaised,
    SendDataTransfer,
    Shutdown,
    Tick,
    TokenPresented,
    VariableReported,
)
from chargecore.pure.monitors import Monitor
from chargecore.pure.network_profiles import CLIENT_CERTIFICATE_PROFILE, security_level
from chargecore.pure.state import MeasuredValue, Station, StationIdentity
from chargecore.pure.station import initial_station, next_deadline, step
from chargecore.shell.application import ChargerApplication, SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.link import (
    DEFAULT_MAX_FRAME_BYTES,
    ClientCertificate,
    WebSocketLink,
    client_certificate_problem,
)
from chargecore.shell.storage import StationStore

InputMaker = Callable[[datetime], Input]


def utc_now() -> datetime:
    return datetime.now(UTC)


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


class ConfigurationError(Exception):
    """The station cannot start with this configuration; the message names the problem."""


class ChargingStation:
    """A running station: the pure core driven by real time, a websocket and tinydb."""

    def __init__(
        self,
        options: StationOptions,
        application: ChargerApplication | None = None,
        log: FrameLog | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.options = options
        self.application: ChargerApplication = application or SimulatedCharger()
        self.log = log or FrameLog(options.station_id, options.log_file)
        self._clock = clock
        self._inbox: queue.Queue[InputMaker] = queue.Queue()
        self._store = StationStore(options.data_dir)
        self._link = WebSocketLink(
            self.submit,
            self.log,
            self._fatal,
            options.ca_file,
            _client_certificate(options),
            options.max_frame_bytes,
        )
        self.fatal_error: str | None = None
        self._stopped = threading.Event()
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
        self.submit(lambda now: PowerUp(now, secrets.token_hex(4)))

    def submit_stop(self) -> None:
        """Ask the station to close its connection normally and stop (safe from signal handlers)."""
        self.submit(Shutdown)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop and wait until the core thread and the connection have ended."""
        self.submit(Shutdown)
        if self._thread is not None:
            self._thread.join(timeout)
        self._link.join(timeout)
        self._store.close()
        self.log.close()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopped.wait(timeout)

    def submit(self, make: InputMaker) -> None:
        self._inbox.put(make)

    def connector(self, evse_id: int, connector_id: int | None, change: ConnectorChange) -> None:
        self.submit(lambda now: ConnectorChanged(now, evse_id, connector_id, change))

    def send_data_transfer(self, vendor_id: str, message_id: str | None = None, data: Any = None) -> None:
        self.submit(lambda now: SendDataTransfer(now, vendor_id, message_id, data))

    def change_variable(self, component: str, variable: str, value: str, **where: Any) -> None:
        self.submit(lambda now: ChangeVariable(now, component, variable, value, **where))

    def report_variable(self, component: str, variable: str, value: str, **where: Any) -> None:
        """A hardware reading of a value the station measures (ReadOnly allowed), e.g. EVSE Power; the monitors
        on it are evaluated."""
        self.submit(lambda now: VariableReported(now, component, variable, value, **where))

    def present_token(self, id_token: str, token_type: str = "ISO14443", evse_id: int | None = None) -> None:
        self.submit(lambda now: TokenPresented(now, {"idToken": id_token, "type": token_type}, evse_id))

    def master_pass_choice(self, evse_ids: tuple[int, ...] | None = None) -> None:
        """The master pass holder's choice on the user interface: stop the transactions on these EVSEs (None: all)."""
        self.submit(lambda now: MasterPassChoice(now, evse_ids))

    def ev_state(self, evse_id: int, state: EvState) -> None:
        self.submit(lambda now: ChargingStateChanged(now, evse_id, state))

    def meter(
        self, evse_id: int, energy_wh: float, power_w: float | None = None, measured: tuple[MeasuredValue, ...] = ()
    ) -> None:
        self.submit(lambda now: MeterReading(now, evse_id, energy_wh, power_w, measured))

    def set_network(self, up: bool) -> None:
        """Take the network away (offline) or give it back (online), as if a cable were pulled."""
        self._link.set_network(up)

    def parking_bay(self, evse_id: int, occupied: bool) -> None:
        self.submit(lambda now: ParkingBayChanged(now, evse_id, occupied))

    def security_event(self, event_type: str, tech_info: str | None = None) -> None:
        """Something the charger saw that belongs in the security log (A04, Part 2 Appendix 1), e.g.
        TamperDetectionActivated or MaintenanceLoginFailed; the critical ones also go to the CSMS."""
        self.submit(lambda now: SecurityEventRaised(now, event_type, tech_info))

    # --- the core loop ------------------------------------------------------------------------------

    def _boot_state(self) -> Station:
        persisted = self._store.load()
        config = {name: dict(values) for name, values in self.options.config.items()}
        if self.options.password:
            config.setdefault("SecurityCtrlr", {})["BasicAuthPassword"] = self.options.password
        built = build_device_model(self.options.evse_connectors, config, _strings(persisted))
        if isinstance(built, Failure):
            raise ConfigurationError(str(built.failure()))
        model = built.unwrap()
        if security_level(model) == CLIENT_CERTIFICATE_PROFILE and self.options.client_cert is None:
            raise ConfigurationError("security profile 3 needs a client certificate (--client-cert, --client-key)")
        identity = StationIdentity(
            station_id=self.options.station_id,
            csms_url=self.options.csms_url,
            evse_connectors=self.options.evse_connectors,
            supports_evse_reset=self.options.supports_evse_reset,
            supports_summary_inventory=self.options.supports_summary_inventory,
            factory_monitors=self.options.factory_monitors,
            master_pass_ui=self.options.master_pass_ui,
            validates_tokens=self.options.validates_tokens,
            serial_number=self.options.serial_number,
            has_client_certificate=self.options.client_cert is not None,
        )
        return initial_station(identity, model, persisted)

    def _loop(self) -> None:
        while not self._stopped.is_set():
            deadline = next_deadline(self._state)
            timeout = None if deadline is None else max(0.0, (deadline - self._clock()).total_seconds())
            try:
                make: InputMaker = self._inbox.get(timeout=timeout)
            except queue.Empty:
                make = Tick
            self._process(make(self._clock()))
            if self._state.connection.phase == "stopped":
                self._stopped.set()

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
            self._link.close()
        elif isinstance(effect, fx.Persist):
            self._store.put(effect.entries)
        elif isinstance(effect, fx.Ask):
            self._process(Answer(self._clock(), effect.question_id, self._ask(effect.question)))
        elif isinstance(effect, fx.PerformReset):
            assert effect.evse_id is not None
            self.application.reset_evse(effect.evse_id, effect.reset_type)
        elif isinstance(effect, fx.Notify):
            self.application.on_event(effect.event)
        elif isinstance(effect, fx.ApplyChargingLimit):
            self.log.event("info", f"EVSE {effect.evse_id} limited to {effect.limit:.1f} {effect.unit}")
            self.application.apply_charging_limit(effect.evse_id, effect.limit, effect.unit, effect.phases)
        elif isinstance(effect, fx.Log):
            self.log.event(effect.level, effect.message)
        elif isinstance(effect, fx.InternalError):
            self.log.event("error", f"internal error: {effect.message}")
        elif isinstance(effect, fx.StartEnergyTransfer | fx.StopEnergyTransfer):
            self._switch_energy(effect.evse_id, isinstance(effect, fx.StartEnergyTransfer))
        elif isinstance(effect, fx.UnlockConnector):
            self.application.unlock_connector(effect.evse_id, effect.connector_id)

    def _switch_energy(self, evse_id: int, closed: bool) -> None:
        """The hook answers whether the power path moved; the core hears it as the next input."""
        hook = self.application.start_energy_transfer if closed else self.application.stop_energy_transfer
        if hook(evse_id):
            self.submit(lambda now: PowerPathChanged(now, evse_id, closed))

    def _ask(self, question: fx.Question) -> Any:
        if isinstance(question, fx.ResetQuestion):
            return self.application.is_reset_allowed(question.reset_type, question.evse_id)
        if isinstance(question, fx.NetworkProfileQuestion):
            return self._validate_network_profile(question)
        if isinstance(question, fx.UnlockQuestion):
            return self.application.unlock_connector(question.evse_id, question.connector_id)
        if isinstance(question, fx.TokenQuestion):
            return self.application.validate_token(question.id_token, question.evse_id)
        return self.application.handle_data_transfer(question.vendor_id, question.message_id, question.data)

    def _validate_network_profile(self, question: fx.NetworkProfileQuestion) -> bool | None:
        """None (answered Failed, B09.FR.03) when the application could not take the profile."""
        try:
            return self.application.validate_network_profile(question.slot, question.profile)
        except Exception as error:  # the integrator's code: any failure of it is a Failed, not a crash
            self.log.event("error", f"validate_network_profile failed: {error!r}")
            return None

    def _reboot(self, reset_type: str) -> None:
        """A station reset: drop the connection, rebuild the state from storage, and power up again."""
        self.log.event("info", f"station reset ({reset_type}): rebooting")
        self.application.reboot(reset_type)
        self._link.close()
        self._state = self._boot_state()
        self._process(PowerUp(self._clock(), secrets.token_hex(4)))

    def _fatal(self, message: str) -> None:
        self.fatal_error = message
        self.log.event("error", message)
        self.submit(Shutdown)


def _client_certificate(options: StationOptions) -> ClientCertificate | None:
    """The certificate and key for security profile 3, checked now so that a bad file stops the start."""
    if options.client_cert is None and options.client_key is None:
        return None
    if options.client_cert is None or options.client_key is None:
        raise ConfigurationError("a client certificate needs both --client-cert and --client-key")
    problem = client_certificate_problem(options.client_cert, options.client_key)
    if problem is not None:
        raise ConfigurationError(problem)
    return options.client_cert, options.client_key


def _strings(persisted: Mapping[str, Any]) -> dict[str, str]:
    """Device-model values are strings; other persisted keys belong to other parts of the core."""
    return {key: value for key, value in persisted.items() if isinstance(value, str)}
