"""What the core asks the outside world to do, as immutable values. The shell executes them in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from chargecore.pure.device_model.catalogue import VariableKey


@dataclass(frozen=True, slots=True)
class Connect:
    """Dial `url`/`station_id` with exactly these credentials: the station's client certificate in the TLS
    handshake or not, and HTTP Basic auth as `station_id` with `basic_auth_password` (None: no Authorization
    header). The core decides them from `security_profile`, the profile of this attempt (`dialling.connect_at`)."""

    url: str
    station_id: str
    security_profile: int
    basic_auth_password: str | None
    ping_interval: int = 0
    """Seconds between the station's websocket pings on this connection, 0 for none (WebSocketPingInterval)."""
    client_certificate: bool = False


@dataclass(frozen=True, slots=True)
class Disconnect:
    """Close the websocket normally (code 1000)."""


@dataclass(frozen=True, slots=True)
class SendFrame:
    text: str


@dataclass(frozen=True, slots=True)
class Persist:
    """Write these key/value pairs durably before executing the next effect. A value of None deletes."""

    entries: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ResetQuestion:
    """May the station (evse_id None) or this EVSE be reset now? Answer: bool."""

    reset_type: str
    evse_id: int | None


@dataclass(frozen=True, slots=True)
class DataTransferQuestion:
    """A DataTransfer from the CSMS (P01). Answer: a DataTransferResponse payload, or None when no handler."""

    vendor_id: str
    message_id: str | None
    data: Any


@dataclass(frozen=True, slots=True)
class NetworkProfileQuestion:
    """Can the charger use this NetworkConnectionProfile (B09.FR.01/02), e.g. its APN, VPN or interface?
    Answer: bool, or None when the application failed to take it (B09.FR.03)."""

    slot: int
    profile: dict[str, Any]


@dataclass(frozen=True, slots=True)
class UnlockQuestion:
    """F05: unlock this connector now. Answer: True when it unlocked."""

    evse_id: int
    connector_id: int


@dataclass(frozen=True, slots=True)
class TokenQuestion:
    """A token presented to start a session on this EVSE (StationIdentity.validates_tokens). Answer: the
    idTokenInfo the application decides, or None to let the station decide (local list, cache, Authorize)."""

    id_token: dict[str, Any]
    evse_id: int


@dataclass(frozen=True, slots=True)
class CheckCertificateQuestion:
    """What are the certificates of this PEM text (leaf first), do they verify each other, and which certificate
    signed the last one: itself, or an installed one of `use`? Answer: certificate_store.CertificateCheck."""

    use: str
    pem: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class StoreCertificateQuestion:
    """Install this PEM certificate durably as `use` (the core has decided it may). Answer:
    certificate_store.StoreChanged, with `problem` set when the write failed."""

    use: str
    pem: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RemoveCertificateQuestion:
    """Delete the installed certificate of `use` with this fingerprint durably. Answer:
    certificate_store.StoreChanged."""

    use: str
    fingerprint: str


Question = (
    ResetQuestion
    | DataTransferQuestion
    | NetworkProfileQuestion
    | UnlockQuestion
    | TokenQuestion
    | CheckCertificateQuestion
    | StoreCertificateQuestion
    | RemoveCertificateQuestion
)


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask the application; the shell feeds the reply back as `inputs.Answer` before any other input."""

    question_id: int
    question: Question


@dataclass(frozen=True, slots=True)
class PerformReset:
    """Reset the whole station (evse_id None: reboot, then PowerUp again) or one EVSE."""

    reset_type: str
    evse_id: int | None


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    status: str


@dataclass(frozen=True, slots=True)
class ConnectorStatusChanged:
    evse_id: int
    connector_id: int
    status: str


@dataclass(frozen=True, slots=True)
class OperativeChanged:
    """A connector became effectively Operative or Inoperative (G03/G04): the hardware enables or disables it."""

    evse_id: int
    connector_id: int
    operative: bool


@dataclass(frozen=True, slots=True)
class DataTransferAnswered:
    """The CSMS answered (or failed to answer: response None) a DataTransfer the application sent."""

    vendor_id: str
    message_id: str | None
    response: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class VariableChanged:
    """A device-model value changed, set by the CSMS (SetVariables) or by the station (ChangeVariable).
    WriteOnly values (BasicAuthPassword) are included: the application may need them; the repr leaves the value
    out, so a log line or traceback that shows the event shows no secret."""

    key: VariableKey
    attribute: str
    value: str = field(repr=False)
    source: Literal["CSMS", "station"]


@dataclass(frozen=True, slots=True)
class TxProfileForEV:
    """ISO 15118 (K15, K16): a TxProfile was installed for this EVSE's transaction; offer its chargingSchedules
    to the EV (renegotiating if one was offered before)."""

    evse_id: int
    transaction_id: str | None
    charging_profile: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EVChargingNeedsAnswered:
    """The CSMS's status for a NotifyEVChargingNeeds (None: it gave no usable answer)."""

    evse_id: int
    status: str | None


@dataclass(frozen=True, slots=True)
class EVChargingScheduleAnswered:
    """The CSMS's status for a NotifyEVChargingSchedule (None: it gave no usable answer)."""

    evse_id: int
    status: str | None


@dataclass(frozen=True, slots=True)
class AuthorizationDecided:
    """A presented idToken was accepted or refused (C01); `status` is the idTokenInfo status."""

    evse_id: int | None
    id_token: dict[str, Any]
    status: str


@dataclass(frozen=True, slots=True)
class TransactionChanged:
    """A TransactionEvent was queued for the CSMS (E01-E15)."""

    evse_id: int
    transaction_id: str
    event_type: str
    trigger_reason: str


@dataclass(frozen=True, slots=True)
class RemoteStartAccepted:
    """F01/F02: the CSMS started a session; `charging_profile` is its TxProfile, if any."""

    evse_id: int
    id_token: dict[str, Any]
    remote_start_id: int
    charging_profile: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class TransactionEventAnswered:
    """The CSMS answered a TransactionEvent (response None: given up after MessageAttempts)."""

    transaction_id: str
    seq_no: int
    response: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class MasterPassAccepted:
    """C16.FR.01: a master pass was accepted; the user interface lets its holder choose which of the transactions
    running on `evse_ids` to stop and answers with `inputs.MasterPassChoice`."""

    id_token: dict[str, Any]
    evse_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SecurityEventLogged:
    """A security event for the security log, which the application keeps (A04; Part 2 Appendix 1: every event
    implemented is logged, the critical ones also go to the CSMS)."""

    event_type: str
    timestamp: str
    tech_info: str | None
    critical: bool


@dataclass(frozen=True, slots=True)
class HookFailed:
    """One of the application's own hooks raised `error` (the shell's log has the traceback); what it should have
    done counts as not done."""

    hook: str
    error: str


Event = (
    RegistrationChanged
    | ConnectorStatusChanged
    | OperativeChanged
    | DataTransferAnswered
    | VariableChanged
    | TxProfileForEV
    | EVChargingNeedsAnswered
    | EVChargingScheduleAnswered
    | AuthorizationDecided
    | TransactionChanged
    | RemoteStartAccepted
    | TransactionEventAnswered
    | MasterPassAccepted
    | SecurityEventLogged
    | HookFailed
)


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell the application something happened; nothing is expected back."""

    event: Event


@dataclass(frozen=True, slots=True)
class ApplyChargingLimit:
    """Smart charging (block K): from now on the EVSE may draw at most `limit` (unit "A" per phase or "W") on
    `phases` phases; 0 means pause. Emitted only when the EVSE's effective limit changes."""

    evse_id: int
    limit: float
    unit: str
    phases: int


@dataclass(frozen=True, slots=True)
class StartEnergyTransfer:
    """Hook: close the power path of this EVSE (authorized and EV connected). The application reports the result
    with `inputs.PowerPathChanged`."""

    evse_id: int


@dataclass(frozen=True, slots=True)
class StopEnergyTransfer:
    """Hook: open the power path of this EVSE."""

    evse_id: int


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    """Hook: release the cable of this connector (UnlockOnEVSideDisconnect, E09)."""

    evse_id: int
    connector_id: int


@dataclass(frozen=True, slots=True)
class DownloadFirmware:
    """Fetch `location` into the data dir in the background; the outcome comes back as `inputs.FirmwareDownloaded`
    (whole file or nothing left behind)."""

    request_id: int
    location: str


@dataclass(frozen=True, slots=True)
class CancelFirmwareDownload:
    """Stop the download of this request and remove what it stored (a new UpdateFirmware replaced it, L01.FR.24)."""

    request_id: int


@dataclass(frozen=True, slots=True)
class VerifyFirmware:
    """Verify `signature` (base64) over the file at `path` with the key of `certificate` (PEM); the outcome comes
    back as `inputs.FirmwareVerified`."""

    request_id: int
    path: str
    certificate: str
    signature: str


@dataclass(frozen=True, slots=True)
class InstallFirmware:
    """Hook: install the verified file at `path`; the result comes back as `inputs.FirmwareInstalled`."""

    request_id: int
    path: str


@dataclass(frozen=True, slots=True)
class Log:
    level: Literal["debug", "info", "warning", "error"]
    message: str


@dataclass(frozen=True, slots=True)
class InternalError:
    """The core caught itself about to break the protocol (e.g. an outbound payload failed its schema) and
    did not do it. Tests treat any of these as a failure."""

    message: str


@dataclass(frozen=True, slots=True)
class DownloadToPublish:
    """L03: fetch `location` into the published folder and measure its MD5; the outcome comes back as
    `inputs.PublishDownloaded` (whole file or nothing left behind)."""

    request_id: int
    location: str
    checksum: str


@dataclass(frozen=True, slots=True)
class PublishFile:
    """L03: serve the checked file at `path` on the station's local file server; the URIs come back as
    `inputs.FilePublished`."""

    request_id: int
    path: str


@dataclass(frozen=True, slots=True)
class UnpublishFile:
    """L04 (and a failed L03 check): stop serving the file with this MD5 and remove it."""

    checksum: str


Effect = (
    Connect
    | Disconnect
    | SendFrame
    | Persist
    | Ask
    | PerformReset
    | Notify
    | Log
    | InternalError
    | StartEnergyTransfer
    | StopEnergyTransfer
    | UnlockConnector
    | ApplyChargingLimit
    | DownloadFirmware
    | CancelFirmwareDownload
    | VerifyFirmware
    | InstallFirmware
    | DownloadToPublish
    | PublishFile
    | UnpublishFile
)
Effects = tuple[Effect, ...]
