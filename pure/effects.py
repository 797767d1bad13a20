"""What the core asks the outside world to do, as immutable values. The shell executes them in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
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
    csms_roots: tuple[str, ...] | None = None
    """The fingerprints of the installed CSMS roots this attempt trusts; None: every installed one (M05.FR.13-16,
    security/root_migration.py)."""


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


CustomerReference = Literal["idToken", "customerCertificate", "customerIdentifier"]


@dataclass(frozen=True, slots=True)
class CustomerDataQuestion:
    """N09/N10: what the application holds about this customer, named by exactly one of an idToken (IdTokenType),
    a customerCertificate (CertificateHashDataType) or a customerIdentifier (`kind` says which); with `clear`, it
    deletes that data. Answer: the data as lines of readable text (what it held, cleared or not), or None when the
    application could not take the request (answered Rejected, N09.FR.03, N10.FR.05)."""

    kind: CustomerReference
    reference: Any
    clear: bool


@dataclass(frozen=True, slots=True)
class CsrQuestion:
    """A02/A03: a certificate signing request (RFC 2986, PEM) with this subject for a new key pair of this
    certificate type, or (`new_key` False, a repeat) for the key pending since the request began. Answer: the CSR's
    PEM text, or None when no key or CSR could be made. The private key stays in the shell (or the integrator's
    secure element), pending until a CertificateSigned."""

    certificate_type: str
    common_name: str
    organization: str
    country: str | None = None
    new_key: bool = True


@dataclass(frozen=True, slots=True)
class ChainQuestion:
    """A02/A03: measure this certificate chain of a CertificateSigned against the installed roots of `root_use`
    and the key pending for `certificate_type`. Answer: `ChainFacts` (None counts as a chain that could not be
    read)."""

    certificate_type: str
    chain: str = field(repr=False)
    root_use: str = "CSMSRootCertificate"


@dataclass(frozen=True, slots=True)
class ChainFacts:
    """What the shell measured of a certificate chain; the core decides from them (certificate_signed.py)."""

    parsed: bool
    """The text is one or more PEM X.509 certificates."""
    trusted: bool = False
    """The chain verifies up to an installed root of the kind that signs this certificate type."""
    key_matches: bool = False
    """The leaf certifies the public key of the CSR pending for this certificate type."""
    common_name: str | None = None
    not_before: datetime | None = None
    not_after: datetime | None = None
    problem: str | None = None
    """The shell's one line about what it could not read or verify, for the security log."""


@dataclass(frozen=True, slots=True)
class InstallOwnQuestion:
    """A02/A03: install this chain, with the key of the CSR pending for it, as the station's own certificate of
    this store use (ChargingStationCertificate or V2GCertificateChain), keeping the one it replaces until
    `CommitCertificate`. Answer: certificate_store.StoreChanged."""

    use: str
    chain: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class OcspValidityQuestion:
    """M06: until when does this OCSPResponse (DER, base64) hold? Answer: its nextUpdate as an aware datetime, or
    None when it cannot be read or states none (the answer is then passed on but not kept)."""

    ocsp_request_data: dict[str, Any]
    ocsp_result: str = field(repr=False)


Question = (
    ResetQuestion
    | DataTransferQuestion
    | NetworkProfileQuestion
    | UnlockQuestion
    | TokenQuestion
    | CheckCertificateQuestion
    | StoreCertificateQuestion
    | RemoveCertificateQuestion
    | CustomerDataQuestion
    | CsrQuestion
    | ChainQuestion
    | InstallOwnQuestion
    | OcspValidityQuestion
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
    """A presented idToken was accepted or refused (C01); `status` is the idTokenInfo status, or NoEvseFree (no EVSE
    could take it) or Reserved (accepted, but the EVSE is reserved for another token, H03)."""

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
class CertificateRenewed:
    """A02/A03: the CSMS signed a new certificate of this type and the station accepted it; it is used from the
    next connection on (not_after: RFC 3339)."""

    certificate_type: str
    not_after: str


@dataclass(frozen=True, slots=True)
class CertificateExpiring:
    """A certificate of the station comes close to its end (not_after: RFC 3339): the station asks the CSMS for a
    new one of its own accord."""

    certificate_type: str
    not_after: str


@dataclass(frozen=True, slots=True)
class EVCertificateAnswered:
    """M01/M02: the CSMS's answer to the EV's certificate installation or update request (`exi_request` as the
    application gave it); status and exi_response None when no usable answer came."""

    exi_request: str = field(repr=False)
    status: str | None
    exi_response: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class CertificateStatusAnswered:
    """M06: the OCSP status of the certificate the application asked about, from the CSMS or from the cache;
    status None when no usable answer came."""

    ocsp_request_data: dict[str, Any]
    status: str | None
    ocsp_result: str | None = field(default=None, repr=False)
    cached: bool = False


@dataclass(frozen=True, slots=True)
class HookFailed:
    """One of the application's own hooks raised `error` (the shell's log has the traceback); what it should have
    done counts as not done."""

    hook: str
    error: str


@dataclass(frozen=True, slots=True)
class ReservationMade:
    """H01: the station accepted a reservation (or replaced one with the same id); `evse_id` None: any EVSE.
    `expires_at` is the expiryDateTime on the station clock."""

    reservation_id: int
    evse_id: int | None
    id_token: dict[str, Any]
    expires_at: str
    connector_type: str | None


@dataclass(frozen=True, slots=True)
class ReservationEnded:
    """A reservation ended: Used (H03), Cancelled (H02), Expired or Removed (H04, the CSMS was told)."""

    reservation_id: int
    evse_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class CertificateChanged:
    """A certificate was installed in the store or deleted from it (M04, M05; renewals too), durably: the
    application may want to show it or audit it. `hash_data` is its SHA256 CertificateHashData."""

    use: str
    change: Literal["installed", "deleted"]
    hash_data: dict[str, str]
    subject_common_name: str | None
    not_after: str
    """RFC 3339 UTC."""


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
    | CertificateRenewed
    | CertificateExpiring
    | EVCertificateAnswered
    | CertificateStatusAnswered
    | HookFailed
    | ReservationMade
    | ReservationEnded
    | CertificateChanged
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


LogType = Literal["DiagnosticsLog", "SecurityLog"]


@dataclass(frozen=True, slots=True)
class UploadLog:
    """N01: gather the lines of the log `log_type` stamped between `oldest` and `latest` (None: no bound; on the
    clock that log's lines carry: the shell's for the DiagnosticsLog, the station's OCPP clock for the SecurityLog)
    into a file named `file_name` and upload it to `remote_location`, in the background. The outcome comes back as
    `inputs.LogUploadEnded` with this `request_id` and `attempt`. The location may hold a password (user and
    password in the URL, N01.FR.17): the repr leaves it out."""

    request_id: int
    attempt: int
    log_type: LogType
    remote_location: str = field(repr=False)
    file_name: str
    oldest: datetime | None = None
    latest: datetime | None = None


@dataclass(frozen=True, slots=True)
class CancelLogUpload:
    """N01.FR.12: stop the upload of this request; whatever it ends as afterwards is ignored."""

    request_id: int


@dataclass(frozen=True, slots=True)
class CommitCertificate:
    """The renewed certificate of this store use has carried a connection: the one it replaced may be deleted."""

    use: str


@dataclass(frozen=True, slots=True)
class RevertCertificate:
    """The CSMS refused the renewed certificate of this store use in the TLS handshake: put the previous one back."""

    use: str


@dataclass(frozen=True, slots=True)
class MessageContent:
    """A MessageContentType: the text, its MessageFormatEnumType (ASCII, HTML, URI, UTF8) and its language (RFC
    5646), if given."""

    text: str
    format: str
    language: str | None = None

    @staticmethod
    def of(payload: dict[str, Any]) -> MessageContent:
        return MessageContent(payload["content"], payload["format"], payload.get("language"))


@dataclass(frozen=True, slots=True)
class ShownMessage:
    """One message on a display, as the application draws it; `message_id` None marks the station's own (the
    driver's personal message, tariff and cost texts)."""

    content: MessageContent
    priority: str
    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class ShowMessages:
    """Hook: from now on the display of this EVSE shows these messages, in this order (block O): an AlwaysFront
    message alone, else the InFront ones (cycled), then the station's own, then the NormalCycle ones (cycled).
    Emitted only when the list changes; an empty list clears the display."""

    evse_id: int
    messages: tuple[ShownMessage, ...]


@dataclass(frozen=True, slots=True)
class CostPrices:
    """The prices behind a running cost (California pricing's chargingPrice and idlePrice), exact decimals in the
    cost's currency: per kWh, per hour, a flat fee, and the idle fee per hour after `idle_grace_minutes`."""

    kwh: Decimal | None = None
    hour: Decimal | None = None
    flat_fee: Decimal | None = None
    idle_hour: Decimal | None = None
    idle_grace_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class CostShown:
    """What the driver of a transaction sees of its cost (block I). `total` is exact (decimal.Decimal, rounded to
    NumberOfDecimalsForCostValues) in `currency`; None with `fallback` set when the CSMS gave no total
    (TotalCostFallbackMessage). `final` once the transaction has ended. `texts` are the CSMS's cost texts
    (updatedPersonalMessage and, with California pricing, its other languages); `qr_code` a URL to show as a QR
    code."""

    transaction_id: str
    total: Decimal | None
    currency: str
    final: bool
    fallback: str | None = None
    texts: tuple[MessageContent, ...] = ()
    qr_code: str | None = None
    prices: CostPrices | None = None
    """The prices now (California pricing CostUpdated), for the display to state them with the idle fee."""
    next_prices: CostPrices | None = None
    next_at: datetime | None = None
    """From `next_at` (station time, the CSMS's clock) `next_prices` apply: the costmsg nextPeriod."""


@dataclass(frozen=True, slots=True)
class ShowCost:
    """Hook: show this cost on the display of this EVSE (block I)."""

    evse_id: int
    cost: CostShown


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
    | UploadLog
    | CancelLogUpload
    | CommitCertificate
    | RevertCertificate
    | ShowMessages
    | ShowCost
)
Effects = tuple[Effect, ...]
