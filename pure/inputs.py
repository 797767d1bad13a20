"""Everything that can happen to a station, as immutable values. Each input carries the current time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from chargecore.pure.blocks.security.certificate_store import InstalledCertificate
from chargecore.pure.state import MeasuredValue

ConnectorChange = Literal["plug", "unplug", "fault", "recover"]


@dataclass(frozen=True, slots=True)
class ConnectorFound:
    """What the hardware finds on one connector when the station powers up: a cable plugged in, a fault."""

    evse_id: int
    connector_id: int
    plugged: bool = False
    faulted: bool = False


@dataclass(frozen=True, slots=True)
class PowerUp:
    """The station starts. `nonce` is a random token drawn by the shell; it makes message ids unique even if
    the persisted restart counter is lost. `connectors` is the physical state the hardware reports before any
    status goes out (an EV still plugged in after a reset is Occupied at boot, TC_B_21/TC_B_22); a connector
    not listed is empty and sound."""

    now: datetime
    nonce: str
    connectors: tuple[ConnectorFound, ...] = ()


@dataclass(frozen=True, slots=True)
class CertificatesLoaded:
    """What the certificate store holds (shell/certificates/): fed before PowerUp and after every change the core
    did not ask for itself (a renewal, an operator), so the core's list is never stale."""

    now: datetime
    installed: tuple[InstalledCertificate, ...]


@dataclass(frozen=True, slots=True)
class Connected:
    now: datetime


DialLayer = Literal["tls", "http", "other"]
"""Where a connection attempt failed: the TLS handshake, the HTTP upgrade (a status other than 101), or elsewhere
(the network, a timeout, a malformed handshake)."""


@dataclass(frozen=True, slots=True)
class DialFailure:
    """Why a connection attempt failed, as the link saw it: facts, which the core judges (A00, A04)."""

    layer: DialLayer
    code: str
    """tls: OpenSSL's reason (`ssl.SSLError.reason`: CERTIFICATE_VERIFY_FAILED, TLSV1_ALERT_UNKNOWN_CA, ...), "" when
    OpenSSL gave none; http: the status code of the refused upgrade ("401"); other: ""."""
    text: str
    """What the link saw: OpenSSL's message, the HTTP status line; a security event's techInfo."""


@dataclass(frozen=True, slots=True)
class ConnectionLost:
    """The websocket closed or a connection attempt failed. `jitter` in [0, 1) is the shell's random draw for
    the reconnect back-off (Part 4 5.3, RetryBackOffRandomRange). `failure` says why an attempt failed (None for a
    connection that was up, or a failure the link could not describe)."""

    now: datetime
    jitter: float
    failure: DialFailure | None = None


@dataclass(frozen=True, slots=True)
class FrameReceived:
    now: datetime
    text: str


@dataclass(frozen=True, slots=True)
class OversizedFrameReceived:
    """A message of `size` bytes arrived, more than the `limit` the shell reads (StationOptions.max_frame_bytes):
    its text never reaches the core."""

    now: datetime
    size: int
    limit: int


@dataclass(frozen=True, slots=True)
class Tick:
    """Time has reached `next_deadline`; the core runs whatever timers are due."""

    now: datetime


@dataclass(frozen=True, slots=True)
class ConnectorChanged:
    """Hardware: a cable was plugged or unplugged, or a fault raised or cleared. `connector_id` None means
    every connector of the EVSE."""

    now: datetime
    evse_id: int
    connector_id: int | None
    change: ConnectorChange


@dataclass(frozen=True, slots=True)
class Answer:
    """The application's answer to an `Ask` effect."""

    now: datetime
    question_id: int
    value: Any


@dataclass(frozen=True, slots=True)
class SendDataTransfer:
    """The application sends a vendor-specific DataTransfer to the CSMS (P02)."""

    now: datetime
    vendor_id: str
    message_id: str | None = None
    data: Any = None


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Stop the station: close the connection normally and open no new one."""

    now: datetime


@dataclass(frozen=True, slots=True)
class ChangeVariable:
    """The application or operator sets a device-model value (attribute Actual unless given)."""

    now: datetime
    component: str
    variable: str
    value: str
    attribute: str = "Actual"
    evse_id: int | None = None
    connector_id: int | None = None
    component_instance: str | None = None
    variable_instance: str | None = None


@dataclass(frozen=True, slots=True)
class VariableReported:
    """Hardware: a reading of a device-model value the station measures (Actual attribute, ReadOnly allowed),
    e.g. EVSE Power; monitors on it are evaluated (block N)."""

    now: datetime
    component: str
    variable: str
    value: str
    evse_id: int | None = None
    connector_id: int | None = None
    component_instance: str | None = None
    variable_instance: str | None = None


@dataclass(frozen=True, slots=True)
class LocalReset:
    """The operator resets the station at the station itself (boot reason LocalReset)."""

    now: datetime


@dataclass(frozen=True, slots=True)
class ExternalLimit:
    """A local controller (EMS, SO = grid operator, Other) limits an EVSE, or the station (EVSE 0), from now on
    (K11-K13); `limit` None releases its limit."""

    now: datetime
    evse_id: int
    limit: float | None
    unit: str = "A"
    source: str = "EMS"
    grid_critical: bool | None = None


@dataclass(frozen=True, slots=True)
class EVChargingNeeds:
    """ISO 15118 (K15, K17): the EV on this EVSE stated its charging needs (a ChargingNeedsType payload)."""

    now: datetime
    evse_id: int
    charging_needs: dict[str, Any]
    max_schedule_tuples: int | None = None


@dataclass(frozen=True, slots=True)
class EVChargingSchedule:
    """ISO 15118 (K15): the EV chose this charging schedule (a ChargingScheduleType payload)."""

    now: datetime
    evse_id: int
    charging_schedule: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TokenPresented:
    """A driver presented an idToken (RFID card, app, key code...) at this EVSE, or at the station (None)."""

    now: datetime
    id_token: dict[str, Any]
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class MasterPassChoice:
    """C16.FR.01: on the user interface, the master pass holder chose the transactions to stop by EVSE (None: all
    of them; empty: none)."""

    now: datetime
    evse_ids: tuple[int, ...] | None = None


EvState = Literal["Charging", "SuspendedEV", "SuspendedEVSE", "EVConnected"]


@dataclass(frozen=True, slots=True)
class ChargingStateChanged:
    """The EV (or the EVSE) changed its charging state on this EVSE."""

    now: datetime
    evse_id: int
    state: EvState


StopReason = Literal[
    "EmergencyStop",
    "EnergyLimitReached",
    "GroundFault",
    "Local",
    "LocalOutOfCredit",
    "Other",
    "OvercurrentFault",
    "PowerLoss",
    "PowerQuality",
    "SOCLimitReached",
    "StoppedByEV",
    "TimeLimitReached",
]
"""The stoppedReasons (ReasonEnumType) only the hardware or the application knows; the others the station decides
itself (Remote, DeAuthorized, EVDisconnected, Timeout, MasterPass, ImmediateReset, Reboot)."""


@dataclass(frozen=True, slots=True)
class TransactionFinished:
    """The application ended the transaction on this EVSE for `reason` (libocpp's on_transaction_finished): an
    emergency stop, a ground fault, the EV's SOC limit, a stop button... The station sends Ended at once."""

    now: datetime
    evse_id: int
    reason: StopReason


@dataclass(frozen=True, slots=True)
class PowerPathChanged:
    """The power path (contactor) of this EVSE closed or opened, e.g. after StartEnergyTransfer."""

    now: datetime
    evse_id: int
    closed: bool


@dataclass(frozen=True, slots=True)
class MeterReading:
    """The latest reading of this EVSE's meter: Energy.Active.Import.Register (Wh) and Power.Active.Import (W),
    and any other measurands the meter reports (signed ones with their signature)."""

    now: datetime
    evse_id: int
    energy_wh: float
    power_w: float | None = None
    measured: tuple[MeasuredValue, ...] = ()


@dataclass(frozen=True, slots=True)
class ParkingBayChanged:
    """A parking bay sensor saw an EV arrive or leave (TxStartPoint/TxStopPoint ParkingBayOccupancy)."""

    now: datetime
    evse_id: int
    occupied: bool


@dataclass(frozen=True, slots=True)
class SecurityEventRaised:
    """A security event the application or the shell saw (A04, Part 2 Appendix 1): a tamper switch, a login to
    the maintenance interface, a CSMS certificate or TLS version the link refused..."""

    now: datetime
    event_type: str
    tech_info: str | None = None


@dataclass(frozen=True, slots=True)
class EVCertificateRequested:
    """M01/M02: the ISO 15118 stack passes on an EV's CertificateInstallationReq or CertificateUpdateReq (EXI,
    base64) for the CSMS; the answer comes back as `effects.EVCertificateAnswered`."""

    now: datetime
    iso15118_schema_version: str
    action: Literal["Install", "Update"]
    exi_request: str


@dataclass(frozen=True, slots=True)
class CertificateStatusRequested:
    """M06: the OCSP status of a certificate (an EV's contract certificate) is needed; the shell computed the
    OCSPRequestDataType (hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber, responderURL) from it."""

    now: datetime
    ocsp_request_data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HookRaised:
    """A hook of the integrator's application raised instead of answering; the shell has logged the traceback and
    counted the hook's effect as failed (an energy start as not started, a question as refused)."""

    now: datetime
    hook: str
    error: str


@dataclass(frozen=True, slots=True)
class FirmwareDownloaded:
    """The shell's download of an UpdateFirmware's file ended (L01): stored whole at `path`, or not at all and
    `error` says why (unreachable, 404, too large, unsupported scheme, cancelled...)."""

    now: datetime
    request_id: int
    path: str | None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FirmwareVerified:
    """The shell checked the downloaded file's signature against its signing certificate (L01.FR.03): `problem` is
    None when it holds, else why not (the shell has removed the file)."""

    now: datetime
    request_id: int
    problem: str | None


FirmwareInstallResult = Literal["Installed", "InstallVerificationFailed", "InstallationFailed"]


@dataclass(frozen=True, slots=True)
class FirmwareInstalled:
    """The application's install_firmware hook answered: Installed (activated at the next boot) or why not."""

    now: datetime
    request_id: int
    result: FirmwareInstallResult


@dataclass(frozen=True, slots=True)
class PublishDownloaded:
    """The shell's download of a PublishFirmware's file ended (L03): stored whole at `path` with the MD5 it
    measured (`md5`, lowercase hex), or not at all and `error` says why."""

    now: datetime
    request_id: int
    path: str | None
    md5: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FilePublished:
    """The shell serves the checked file (L03): the URIs the stations behind it download it from, or `error`."""

    now: datetime
    request_id: int
    uris: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class LogUploadEnded:
    """The upload an `UploadLog` effect started ended: `failure` None when the file arrived, else the transfer's
    reason as a fact ("unreachable", "access denied", "not found", "unsupported scheme", "bad url", "cancelled",
    ...: the names of shell/transfer), `detail` its text for the log (never a password)."""

    now: datetime
    request_id: int
    attempt: int
    failure: str | None = None
    detail: str = ""


Input = (
    PowerUp
    | Connected
    | ConnectionLost
    | FrameReceived
    | OversizedFrameReceived
    | Tick
    | ConnectorChanged
    | Answer
    | SendDataTransfer
    | Shutdown
    | ChangeVariable
    | LocalReset
    | ExternalLimit
    | EVChargingNeeds
    | EVChargingSchedule
    | VariableReported
    | TokenPresented
    | MasterPassChoice
    | ChargingStateChanged
    | TransactionFinished
    | PowerPathChanged
    | MeterReading
    | ParkingBayChanged
    | SecurityEventRaised
    | EVCertificateRequested
    | CertificateStatusRequested
    | HookRaised
    | FirmwareDownloaded
    | FirmwareVerified
    | FirmwareInstalled
    | PublishDownloaded
    | FilePublished
    | CertificatesLoaded
    | LogUploadEnded
)
