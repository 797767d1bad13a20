"""What every runtime that drives the core shares (the threaded `shell/runtime.py` and the asyncio `aio/station.py`):
the boot state built from options and storage, which application hook an effect or a question calls and what
counts as its failure, and the rules for the end of a station (exit codes, the default crash handler). Keeping
them in one place is what keeps the two runtimes from drifting apart; each runtime only decides how to wait.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from returns.result import Failure

from chargecore.pure import effects as fx
from chargecore.pure.blocks.provisioning.network_profiles import check_client_certificate
from chargecore.pure.boot import boot_station, dropped_records
from chargecore.pure.device_model.model import persisted_values, refused_persisted
from chargecore.pure.inputs import CertificatesLoaded, PowerPathChanged
from chargecore.pure.state import Station, StationIdentity
from chargecore.shell.application import ChargerApplication, SimulatedCharger, describe_cost
from chargecore.shell.certificates import renewal
from chargecore.shell.certificates.keys import KeyStore, KeyStoreError
from chargecore.shell.certificates.renewal import SIGNING_QUESTIONS
from chargecore.shell.certificates.store import CERTIFICATE_QUESTIONS, CertificateStore
from chargecore.shell.frame_log import FrameLog, printable
from chargecore.shell.link import Credentials, TlsCredentials, client_certificate_problem
from chargecore.shell.logs import diagnostics_log, security_log
from chargecore.shell.storage import StationStore
from chargecore.shell.transfer_jobs import TRANSFER_EFFECTS, TransferJobs

if TYPE_CHECKING:
    from chargecore.shell.runtime import StationOptions
    from chargecore.shell.station_inputs import InputMaker

EXIT_BUG = 70
"""EX_SOFTWARE (sysexits.h): an exception in the core or in the shell's own code."""
EXIT_STORE = 74
"""EX_IOERR (sysexits.h): the store could not write (disk full, permission, ...)."""
DATA_TRANSFER_REFUSED = {"status": "Rejected"}
"""The answer to a CSMS DataTransfer when the application's handler raised."""


class ConfigurationError(Exception):
    """The station cannot start with this configuration; the message names the problem."""


class StoreWriteFailed(Exception):
    """The store could not write what the core asked to persist. The core already counts it as durable (it may
    have answered the CSMS), so the station cannot go on as if it were."""


def exit_process(message: str, exit_code: int) -> None:
    """The default crash handler: one line on stderr, then end the process at once (other threads may be blocked
    on the network, so no interpreter shutdown), so that a supervisor such as systemd or docker restarts it."""
    with suppress(Exception):
        sys.stdout.flush()
        sys.stderr.write(printable(f"chargecore: fatal: {message}\n", sys.stderr.encoding))
        sys.stderr.flush()
    os._exit(exit_code)


def one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def store_write_failed(options: StationOptions, error: Exception) -> StoreWriteFailed:
    return StoreWriteFailed(f"cannot write the station's data in {options.data_dir}: {one_line(error)}")


def default_log(options: StationOptions) -> FrameLog:
    """A station's log when the integrator passes none: stdout (unless quiet), `log_file`, and the DiagnosticsLog
    under the data dir that GetLog uploads (shell/logs.py)."""
    return FrameLog(
        options.station_id,
        options.log_file,
        diagnostics=diagnostics_log(options.data_dir),
        level=options.log_level,
        quiet=options.quiet,
    )


def default_application(options: StationOptions) -> SimulatedCharger:
    """A station's application when the integrator passes none: the simulated charger, keeping the SecurityLog
    under the data dir that GetLog uploads."""
    return SimulatedCharger(security_log=security_log(options.data_dir))


def certificate_store(options: StationOptions, keys: KeyStore | None) -> CertificateStore:
    """The certificate store, seeded at the first start from --ca-file and --client-cert/--client-key, which are
    checked now so that a bad file stops the start."""
    if (options.client_cert is None) != (options.client_key is None):
        raise ConfigurationError("a client certificate needs both --client-cert and --client-key")
    if options.client_cert is not None and options.client_key is not None:
        problem = client_certificate_problem(options.client_cert, options.client_key)
        if problem is not None:
            raise ConfigurationError(problem)
    try:
        store = CertificateStore(options.data_dir, keys)
        store.seed(options.ca_file, options.client_cert, options.client_key)
    except (ValueError, OSError, KeyStoreError) as problem:
        raise ConfigurationError(f"certificate store: {one_line(problem)}") from None
    return store


def tls_credentials(certificates: CertificateStore) -> Credentials:
    """The CSMS roots an attempt trusts (those its Connect names) and the station certificate of the store, read
    when it is dialled."""

    def credentials(effect: fx.Connect) -> TlsCredentials:
        return TlsCredentials(certificates.csms_roots_pem(effect.csms_roots), certificates.client_certificate())

    return credentials


DEFAULT_FIRMWARE_VERSION = "0.1.0"
"""The version sent in BootNotification when the firmware_version hook gives none."""


def boot_state(
    options: StationOptions,
    store: StationStore,
    log: FrameLog,
    certificates: CertificateStore,
    firmware_version: str | None = None,
) -> Station:
    """The station's state at power-up: the options and config laid over what the store kept. `firmware_version`
    is the application's firmware_version hook's answer, which each runtime calls its own way (None: the default)."""
    persisted = store.load()
    config = {name: dict(values) for name, values in options.config.items()}
    if options.password:
        config.setdefault("SecurityCtrlr", {})["BasicAuthPassword"] = options.password
    identity = StationIdentity(
        station_id=options.station_id,
        csms_url=options.csms_url,
        evse_connectors=options.evse_connectors,
        supports_evse_reset=options.supports_evse_reset,
        supports_summary_inventory=options.supports_summary_inventory,
        factory_monitors=options.factory_monitors,
        master_pass_ui=options.master_pass_ui,
        validates_tokens=options.validates_tokens,
        firmware_capabilities=options.firmware_capabilities,
        serial_number=options.serial_number,
        has_client_certificate=certificates.client_certificate() is not None,
        firmware_version=firmware_version or DEFAULT_FIRMWARE_VERSION,
    )
    booted = boot_station(identity, config, persisted)
    if isinstance(booted, Failure):
        raise ConfigurationError(str(booted.failure()))
    station = booted.unwrap()
    for refusal in refused_persisted(station.device_model, persisted_values(persisted)):
        log.event("warning", f"{refusal}; the config or default value is used instead")
    for dropped in dropped_records(station, persisted):
        log.event("warning", dropped)
    usable = check_client_certificate(station.device_model, identity)
    if isinstance(usable, Failure):
        raise ConfigurationError(f"{usable.failure()} (--client-cert, --client-key)")
    return station


@dataclass(frozen=True)
class HookCall:
    """One call of an application hook: `failed` is what the hook's effect counts as when it raises; `report`
    False keeps a failing on_event from being reported through on_event again."""

    hook: Callable[..., Any]
    failed: Any
    args: tuple[Any, ...]
    report: bool = True


def answered_by_store(question: fx.Question) -> bool:
    """The certificate questions, which the certificate store answers, not a hook."""
    return isinstance(question, (*CERTIFICATE_QUESTIONS, *SIGNING_QUESTIONS))


def store_answer(certificates: CertificateStore, question: fx.Question) -> Any:
    """The certificate store's answer to a question `answered_by_store`."""
    if isinstance(question, CERTIFICATE_QUESTIONS):
        return certificates.answer(question)
    assert isinstance(question, SIGNING_QUESTIONS)
    return renewal.answer(certificates, question)


def own_certificate(
    certificates: CertificateStore, effect: fx.CommitCertificate | fx.RevertCertificate, log: FrameLog
) -> bool:
    """Drop or restore the previous own certificate (renewal.py); True when the store's certificates changed, so
    that the core must hear `CertificatesLoaded`. A store that fails keeps what it has; the next renewal tries
    again."""
    try:
        if isinstance(effect, fx.CommitCertificate):
            certificates.drop_previous(effect.use)
            return False
        return certificates.restore_previous(effect.use)
    except (OSError, KeyStoreError) as error:
        log.event("error", f"certificate store: {effect.use}: {one_line(error)}")
        return False


def question_call(app: ChargerApplication, question: fx.Question) -> HookCall:
    """The hook that answers a question; a hook that raised answers as a refusal (Rejected, Failed, UnlockFailed),
    or leaves a token to the station's own authorization."""
    if isinstance(question, fx.ResetQuestion):
        return HookCall(app.is_reset_allowed, False, (question.reset_type, question.evse_id))
    if isinstance(question, fx.NetworkProfileQuestion):  # None answers Failed (B09.FR.03)
        return HookCall(app.validate_network_profile, None, (question.slot, question.profile))
    if isinstance(question, fx.UnlockQuestion):
        return HookCall(app.unlock_connector, False, (question.evse_id, question.connector_id))
    if isinstance(question, fx.TokenQuestion):
        return HookCall(app.validate_token, None, (question.id_token, question.evse_id))
    if isinstance(question, fx.CustomerDataQuestion):  # None answers Rejected

        def customer_information(kind: fx.CustomerReference, reference: Any, clear: bool) -> tuple[str, ...]:
            """Read in full here, so that a generator that raises counts as the hook failing."""
            return tuple(str(line) for line in app.customer_information(kind, reference, clear))

        customer_information.__name__ = "customer_information"
        return HookCall(customer_information, None, (question.kind, question.reference, question.clear))
    return HookCall(
        app.handle_data_transfer, DATA_TRANSFER_REFUSED, (question.vendor_id, question.message_id, question.data)
    )


def effect_call(app: ChargerApplication, effect: fx.Effect) -> HookCall | None:
    """The hook an effect is carried out by, for the effects that are only a hook call; None for the others."""
    if isinstance(effect, fx.PerformReset) and effect.evse_id is not None:
        return HookCall(app.reset_evse, None, (effect.evse_id, effect.reset_type))
    if isinstance(effect, fx.Notify):
        return HookCall(app.on_event, None, (effect.event,), report=not isinstance(effect.event, fx.HookFailed))
    if isinstance(effect, fx.ApplyChargingLimit):
        return HookCall(app.apply_charging_limit, None, (effect.evse_id, effect.limit, effect.unit, effect.phases))
    if isinstance(effect, fx.UnlockConnector):
        return HookCall(app.unlock_connector, False, (effect.evse_id, effect.connector_id))
    if isinstance(effect, fx.StartEnergyTransfer | fx.StopEnergyTransfer):
        closing = isinstance(effect, fx.StartEnergyTransfer)
        hook = app.start_energy_transfer if closing else app.stop_energy_transfer
        return HookCall(hook, False, (effect.evse_id,))
    if isinstance(effect, fx.ShowMessages):
        return HookCall(app.show_messages, None, (effect.evse_id, effect.messages))
    if isinstance(effect, fx.ShowCost):
        return HookCall(app.show_cost, None, (effect.evse_id, effect.cost))
    if isinstance(effect, fx.InstallFirmware):  # the runtime's firmware shell hands the answer to the core
        return HookCall(app.install_firmware, "InstallationFailed", (effect.path, effect.request_id))
    return None


def after_hook(effect: fx.Effect, done: Any, submit: Callable[[InputMaker], None], jobs: TransferJobs) -> None:
    """What the answer `done` of an `effect_call` hook starts: a power path that moved is the core's next input,
    an installation's outcome goes to the firmware job (which reports FirmwareInstalled)."""
    if isinstance(effect, fx.StartEnergyTransfer | fx.StopEnergyTransfer) and done:
        evse_id, closed = effect.evse_id, isinstance(effect, fx.StartEnergyTransfer)
        submit(lambda now: PowerPathChanged(now, evse_id, closed))
    elif isinstance(effect, fx.InstallFirmware):
        jobs.installed(effect.request_id, done)


def carry_out_in_shell(
    effect: fx.Effect,
    log: FrameLog,
    jobs: TransferJobs,
    certificates: CertificateStore,
    submit: Callable[[InputMaker], None],
) -> None:
    """The effects both runtimes carry out alike, without I/O of their own to await: the core's log lines, the
    transfers (started on the runtime's jobs), the own certificate kept or restored after a renewal; any other
    effect has no branch in the runtime, a bug that is logged."""
    if isinstance(effect, fx.Log):
        log.event(effect.level, effect.message, "core")
    elif isinstance(effect, fx.InternalError):
        log.event("error", f"internal error: {effect.message}")
    elif isinstance(effect, TRANSFER_EFFECTS):
        jobs.carry_out(effect)
    elif isinstance(effect, fx.CommitCertificate | fx.RevertCertificate):
        if own_certificate(certificates, effect, log):
            submit(lambda now: CertificatesLoaded(now, certificates.installed()))
    else:
        log.event("error", no_branch(effect))


def effect_note(effect: fx.Effect) -> str | None:
    """The operator's line logged (info) before the hook of an `effect_call` effect runs; None for most."""
    if isinstance(effect, fx.ApplyChargingLimit):
        return f"EVSE {effect.evse_id} limited to {effect.limit:.1f} {effect.unit}"
    if isinstance(effect, fx.ShowMessages):
        shown = " | ".join(message.content.text for message in effect.messages) or "(nothing)"
        return f"EVSE {effect.evse_id} display: {shown}"
    if isinstance(effect, fx.ShowCost):
        return f"EVSE {effect.evse_id} cost: {describe_cost(effect.cost)}"
    return None


def no_branch(effect: fx.Effect) -> str:
    """What a runtime logs (an error: a bug of the runtime) for an effect it has no branch for."""
    return f"internal error: the runtime has no branch that carries out {type(effect).__name__}"


def sync_firmware_version(app: ChargerApplication, log: FrameLog) -> str | None:
    """The firmware_version hook called outside a runtime's hook guard (a boot that cannot await): a hook that
    raises, or answers anything but a string (an `async def` one), counts as None, the default version."""
    try:
        version = app.firmware_version()
    except Exception as error:  # the integrator's code: the default version, not a dead station
        log.event("error", f"the application's firmware_version raised, counted as failed: {one_line(error)}")
        return None
    if inspect.iscoroutine(version):
        version.close()
        log.event("warning", "the application's firmware_version is async; the default version is sent")
        return None
    return version if isinstance(version, str) else None


def hook_name(hook: Callable[..., Any]) -> str:
    return getattr(hook, "__name__", repr(hook))
