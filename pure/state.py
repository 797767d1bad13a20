"""The station's whole state as one immutable value; the lifecycles that govern its parts are in `lifecycle`.

Payload dicts inside the state are built once and never mutated; everything else is frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from chargecore.pure.blocks.authorization.tokens import TokenStore
from chargecore.pure.blocks.diagnostics.log_upload import LogUpload
from chargecore.pure.blocks.display.messages import Display
from chargecore.pure.blocks.firmware.model import Firmware, FirmwareCapabilities
from chargecore.pure.blocks.monitoring.monitors import Monitor, Monitoring
from chargecore.pure.blocks.reservation.records import Reservation
from chargecore.pure.blocks.security.certificate_store import Certificates
from chargecore.pure.blocks.security.ocsp_cache import OcspCache
from chargecore.pure.blocks.security.signing_requests import CertificateSigning
from chargecore.pure.blocks.smart_charging.charging_profiles import SmartCharging
from chargecore.pure.blocks.tariff_cost.costs import TariffCost
from chargecore.pure.device_model.catalogue import DeviceModel
from chargecore.pure.effects import Question
from chargecore.pure.ocppj.fifo import Fifo
from chargecore.pure.ocppj.frames import Call


@dataclass(frozen=True, slots=True)
class StationIdentity:
    """Facts fixed for the life of the process."""

    station_id: str
    csms_url: str
    evse_connectors: tuple[int, ...]
    supports_evse_reset: bool = True
    firmware_version: str = "0.1.0"
    serial_number: str | None = None
    supports_summary_inventory: bool = True
    """GetBaseReport(SummaryInventory) is optional (errata 2023-12); without it the station answers NotSupported."""
    factory_monitors: tuple[Monitor, ...] = ()
    """Hard-wired and preconfigured variable monitors the integrator ships (block N)."""
    master_pass_ui: bool = False
    """C16.FR.01: a user interface lets a master pass holder choose which transactions to stop."""
    validates_tokens: bool = False
    """The application validates presented tokens itself first (TokenQuestion), like libocpp's validate_token."""
    firmware_capabilities: FirmwareCapabilities = field(default_factory=FirmwareCapabilities)
    """What the charger's firmware update can do (cancel, work during transactions, unsigned images: block L)."""
    has_client_certificate: bool = False
    """The shell holds a ChargingStationCertificate and its key, so security profile 3 (TLS with a client-side
    certificate) is possible."""


@dataclass(frozen=True, slots=True)
class OutboundCall:
    action: str
    payload: dict[str, Any]
    triggered: bool = False
    """Sent because the CSMS asked with TriggerMessage; allowed while Pending (B02.FR.02)."""
    order: int = 0
    """When it was queued, across both queues: a persisted message goes before any newer plain one."""
    lane_key: str | None = None
    """The persist key of a message from the persistent lane (TransactionEvent); None for plain CALLs."""


@dataclass(frozen=True, slots=True)
class LaneMessage:
    """A CALL that survives restarts (E11-E13): persisted before it is sent, removed when the CSMS answers."""

    key: str
    action: str
    payload: dict[str, Any]
    order: int = 0
    attempts: int = 0
    """Sends that got a CALLERROR or no answer (a lost connection does not count)."""
    not_before: datetime | None = None
    """MessageAttemptInterval wait after a failed attempt."""


@dataclass(frozen=True, slots=True)
class InFlight:
    message_id: str
    call: OutboundCall
    deadline: datetime


@dataclass(frozen=True, slots=True)
class RpcSession:
    phase: str
    """lifecycle.RPC_LIFECYCLE"""
    message_prefix: str
    next_message_number: int
    queue: tuple[OutboundCall, ...] = ()
    in_flight: InFlight | None = None
    lane: Fifo[LaneMessage] = field(default_factory=Fifo)
    """Persistent messages in order; the head stays here while it is in flight."""
    next_lane_number: int = 1
    enqueued: int = 1
    """The `order` the next queued message gets."""


@dataclass(frozen=True, slots=True)
class Connection:
    phase: str = "off"
    """lifecycle.CONNECTION_LIFECYCLE"""
    failed_attempts: int = 0
    """Reconnection attempts made since the connection was last up (Part 4 5.3 doubles the wait per attempt)."""
    retry_at: datetime | None = None
    offline_since: datetime | None = None
    refusals_reported: frozenset[str] = frozenset()
    """The security events of refused attempts raised since the connection was last up: each type once (A00.FR.316,
    A00.FR.419), so a CSMS with a bad certificate does not fill the persistent lane while the station retries."""


@dataclass(frozen=True, slots=True)
class Registration:
    status: str = "Unknown"
    """lifecycle.REGISTRATION_LIFECYCLE"""
    boot_reason: str = "PowerUp"
    retry_at: datetime | None = None
    clock_offset: timedelta = timedelta(0)
    heartbeat_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Connector:
    evse_id: int
    connector_id: int
    phase: str = "empty"
    """lifecycle.CONNECTOR_LIFECYCLE"""
    reported: str | None = None
    """The status last handed to the CSMS; None when the CSMS may not know it (never sent, or lost)."""
    in_transaction: bool = False
    """A transaction started before any cable holds this connector Occupied until a cable is plugged (F02)."""
    status_since: datetime | None = None
    """When the connector took the status it shows (None: it has shown it since power-up)."""


@dataclass(frozen=True, slots=True)
class Transaction:
    """A transaction running on one EVSE (block E), or not on any yet (evse_id 0: authorized at a station-level
    reader, it moves to the EVSE where the EV plugs in); the transactions module owns its lifecycle."""

    transaction_id: str
    evse_id: int
    connector_id: int
    started_at: datetime
    phase: str = "pending"
    """lifecycle.TRANSACTION_LIFECYCLE"""
    authorization: str = "none"
    """lifecycle.AUTHORIZATION_LIFECYCLE"""
    id_token: dict[str, Any] | None = None
    """The token that authorized (or is being authorized for) this transaction."""
    group_id_token: dict[str, Any] | None = None
    token_reported: bool = False
    """The idToken (and remoteStartId) went out in a TransactionEvent already (sent once, E01/F01)."""
    stop_token: dict[str, Any] | None = None
    """Another token presented to stop this transaction, being authorized for its GroupId (C09)."""
    stopped_by: dict[str, Any] | None = None
    """The token that ended the authorization (the same token, or one of its GroupId), sent once, in the next
    TransactionEvent (errata 2.14.2: the idToken goes with every authorization, for starting or for stopping)."""
    seq_no: int = 0
    """The seqNo of the next TransactionEvent."""
    charging_state: str | None = None
    """The chargingState last reported to the CSMS."""
    remote_start_id: int | None = None
    reservation_id: int | None = None
    """The reservation this session used (H03.FR.09), sent once as reservationId with the idToken (H03)."""
    charging_profile: dict[str, Any] | None = None
    """The TxProfile of a RequestStartTransaction, kept for the smart-charging block."""
    plug_deadline: datetime | None = None
    """EVConnectionTimeOut: when an authorized session without a cable gives up (E03.FR.05)."""
    stop_reason: str | None = None
    """The stoppedReason decided when the authorization was withdrawn, used when a TxStopPoint is left later."""
    energy_allowed: bool = False
    """The core told the application to transfer energy."""
    energy_limit_wh: float | None = None
    """MaxEnergyOnInvalidId: the meter value at which energy stops after the CSMS said Invalid."""
    start_energy_wh: float | None = None
    begin_values_due: bool = False
    """Started went out before the EVSE was known: the Transaction.Begin meter values go in the first event after
    the EV plugs in (J02, TC_J_08)."""
    public_key_sent: bool = False
    """A signed meter value of this transaction carried the meter's public key (PublicKeyWithSignedMeterValue
    OncePerTransaction)."""


@dataclass(frozen=True, slots=True)
class EvseHardware:
    """What the hardware last reported of one EVSE (integration API inputs)."""

    evse_id: int
    ev_state: str = "EVConnected"
    """Charging, SuspendedEV, SuspendedEVSE or EVConnected while a cable is plugged."""
    ev_ready: bool = True
    """Whether the EV takes energy once the power path closes (Charging) or not (SuspendedEV); the application may
    report an EV not ready before its cable is in (TC_E_38). An unplug makes it ready again."""
    power_path_closed: bool = False
    parking_bay_occupied: bool = False
    energy_wh: float | None = None
    """Energy.Active.Import.Register of the latest reading."""
    power_w: float | None = None
    read_at: datetime | None = None
    measured: tuple[MeasuredValue, ...] = ()
    """Other measurands (and signed data) of the latest reading, for meter values (meter_values.py)."""


@dataclass(frozen=True, slots=True)
class MeasuredValue:
    """One value a meter reports besides the energy register and the power: a measurand (OCPP
    MeasurandEnumType), optionally per phase, with its unit and, when the meter signs it, the OCPP
    signedMeterValue object (signedMeterData, signingMethod, encodingMethod, publicKey)."""

    measurand: str
    value: float
    phase: str | None = None
    unit: str | None = None
    signed: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class TxSampling:
    """Meter-value bookkeeping of one running transaction (J02, J01): when each interval last fired and the
    meterValue elements kept for its Ended event (TxEndedMeasurands)."""

    transaction_id: str
    updated_from: datetime
    """The last TxUpdatedInterval sample (or the start)."""
    ended_from: datetime
    """The last TxEndedInterval sample (or the start)."""
    aligned_ended_from: datetime
    """The last AlignedDataCtrlr.TxEndedInterval slot handled (or the start), on the station clock (CSMS time)."""
    kept: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Metering:
    """Meter-value timers (meter_values.py): the clock-aligned slot last handled (J01) and one entry per running
    transaction (J02)."""

    aligned_from: datetime | None = None
    """The last AlignedDataCtrlr.Interval slot handled (or the first reading), on the station clock (CSMS time), so
    that a clock correction never brings a slot back."""
    sampling: tuple[TxSampling, ...] = ()


@dataclass(frozen=True, slots=True)
class NetworkProfile:
    """A NetworkConnectionProfile (B09) in a configuration slot; `data` is its OCPP connectionData payload."""

    slot: int
    data: dict[str, Any]

    @property
    def url(self) -> str:
        return str(self.data["ocppCsmsUrl"])

    @property
    def security_profile(self) -> int:
        return int(self.data["securityProfile"])


@dataclass(frozen=True, slots=True)
class Network:
    """The network connection profiles and which one the connection uses (B09, B10); network_profiles.py."""

    profiles: tuple[NetworkProfile, ...] = ()
    """Sorted by slot."""
    slot: int | None = None
    """The slot of the attempt under way, or of the connection that is up."""
    failed_attempts: int = 0
    """Failed attempts on `slot` in a row; NetworkProfileConnectionAttempts of them move on (B10.FR.03)."""
    exhausted: int = 0
    """Slots given up on since the last connection; once every entry of the priority list is, the station falls
    back to `last_connected` (B10.FR.07)."""
    last_connected: int | None = None
    """The slot of the last successful connection, kept across restarts."""


AvailabilityBasis = tuple[
    tuple[tuple[str, bool], ...], frozenset[tuple[int, int]], tuple[Transaction, ...], tuple[Reservation, ...], bool
]


@dataclass(frozen=True, slots=True)
class RootMigration:
    """M05.FR.10-16: the CSMS roots kept as fallback after a new one was installed under
    AdditionalRootCertificateCheck, until the new one has verified a connection (security/root_migration.py)."""

    fallback: tuple[str, ...] = ()
    """Store ids of the roots that verified the last connection; () without a migration under way."""
    trying_fallback: bool = False
    """The attempt under way re-validates with the fallback roots only (M05.FR.14)."""
    planned: tuple[str, ...] | None = None
    """While an InstallCertificate of a new root is being stored: the fallback it will leave."""
    replacing: tuple[str, ...] = ()
    """While an InstallCertificate of a new root is being stored: the unproven roots it replaces."""


@dataclass(frozen=True, slots=True)
class Availability:
    """G03/G04: the components the CSMS set Inoperative (persisted), and the effective state of every connector
    as the application last heard it (availability.refresh keeps it in step)."""

    inoperative: frozenset[tuple[int, int]] = frozenset()
    """(0, 0) the station, (evse, 0) an EVSE, (evse, connector) a connector."""
    shown: tuple[tuple[str, bool], ...] = ()
    """(status, operative) per connector, in `Station.connectors` order; () before the first refresh."""
    basis: AvailabilityBasis | None = None
    """The connector phases, settings, transactions, reservations and firmware hold `shown` was derived from: a step
    that changed none of them (most steps) skips deriving it again."""


@dataclass(frozen=True, slots=True)
class PendingReset:
    """A Reset the CSMS asked for that waits for transactions to end (B12): OnIdle (answered Scheduled) or
    Immediate (the transactions were ended; a station reset waits until their Ended events are delivered)."""

    reset_type: str
    evse_id: int | None


@dataclass(frozen=True, slots=True)
class PendingQuestion:
    question_id: int
    question: Question
    call: Call | None = None
    """The CSMS call the answer resumes (station.RESUMES); None for a question an input raised."""


UNSETTLED_FIELDS = frozenset({"questions", "next_question_id"})
"""What neither settling nor any deadline reads: the application's pending questions. A copy that changes only
these keeps the `Settled` memo."""


@dataclass(frozen=True, slots=True)
class Settled:
    """`step`'s memo that settling a station changes nothing (station.py `_still_settled`): settling changed
    nothing at `since`, and `until` was the station's next deadline then (every change settling makes without an
    input waits for a deadline). A copy that changes any other field drops it: `with_changes` does, and so does
    `dataclasses.replace`, since the memo is no `__init__` argument."""

    since: datetime
    until: datetime | None


@dataclass(frozen=True)
class Station:
    """Not slotted, unlike the smaller values: `with_changes` copies its instance dictionary, ~5x faster than
    `dataclasses.replace` on its 29 fields (which the inbound path does about once per input), at the cost of one
    dictionary per station value; attribute reads are as fast either way."""

    identity: StationIdentity
    device_model: DeviceModel
    rpc: RpcSession
    connection: Connection = Connection()
    registration: Registration = Registration()
    connectors: tuple[Connector, ...] = ()
    questions: tuple[PendingQuestion, ...] = ()
    transactions: tuple[Transaction, ...] = ()
    next_question_id: int = 1
    epoch: int = 1
    """How many times this station identity has started; persisted, part of every message id."""
    network: Network = Network()
    tokens: TokenStore = field(default_factory=TokenStore)
    """The local authorization list and the authorization cache (token_store.py)."""
    availability: Availability = Availability()
    smart_charging: SmartCharging = field(default_factory=SmartCharging)
    monitoring: Monitoring = field(default_factory=Monitoring)
    evse_hardware: tuple[EvseHardware, ...] = ()
    """One entry per EVSE the hardware has reported on."""
    next_transaction_number: int = 1
    pending_resets: tuple[PendingReset, ...] = ()
    master_pass: dict[str, Any] | None = None
    """C16.FR.01: the master pass accepted and waiting for its holder's choice on the user interface."""
    metering: Metering = Metering()
    """Meter-value timers and the values kept for Ended events (meter_values.py)."""
    firmware: Firmware = field(default_factory=Firmware)
    """The firmware update under way or last ended (block L, firmware/)."""
    reservations: tuple[Reservation, ...] = ()
    """Block H: the reservations accepted and not yet used, cancelled, expired or removed, oldest first."""
    certificates: Certificates = field(default_factory=Certificates)
    """What the certificate store holds, as the shell last said (security/certificate_store.py)."""
    log_upload: LogUpload | None = None
    """The GetLog being carried out (N01, diagnostics/logs.py); not persisted: a restart ends it unreported."""
    certificate_signing: CertificateSigning = field(default_factory=CertificateSigning)
    """A02/A03: the station's pending certificate signing requests and its own certificates' end dates."""
    ocsp: OcspCache = field(default_factory=OcspCache)
    """M06: OCSP answers of the CSMS, kept for the validity they state."""
    root_migration: RootMigration = RootMigration()
    display: Display = field(default_factory=Display)
    """The CSMS's display messages and what each EVSE's display shows (block O, display/)."""
    tariff_cost: TariffCost = field(default_factory=TariffCost)
    """The drivers' tariff texts and costs per EVSE (block I, tariff_cost/)."""
    settled: Settled | None = field(default=None, init=False, compare=False, repr=False)
    """Not state but a memo of `step`, so it takes no part in equality: see `Settled`."""

    def with_changes(self, **changes: Any) -> Station:
        """`dataclasses.replace(self, **changes)` without its per-field work: a new value, this one untouched."""
        if not changes.keys() <= _STATION_FIELDS:
            raise TypeError(f"Station has no field {sorted(changes.keys() - _STATION_FIELDS)}")
        values = {**self.__dict__, **changes}
        if "settled" not in changes and not changes.keys() <= UNSETTLED_FIELDS:
            values["settled"] = None  # settling may change something now
        changed = object.__new__(Station)
        object.__setattr__(changed, "__dict__", values)
        return changed

    @property
    def running_transactions(self) -> tuple[Transaction, ...]:
        """Transactions the CSMS has been told of (Started, not Ended); `transactions` also holds sessions still
        waiting for a TxStartPoint, which are not transactions yet for availability or smart charging."""
        return tuple(tx for tx in self.transactions if tx.phase == "started")


_STATION_FIELDS = frozenset(field.name for field in fields(Station))
