"""Block L: the state of a firmware update (L01), its bounds, and the FirmwareStatusNotification it sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

FINAL = frozenset(
    {"Installed", "DownloadFailed", "InvalidSignature", "InstallVerificationFailed", "InstallationFailed"}
)
"""Statuses after which the update is over (lifecycle.FIRMWARE_LIFECYCLE): a new request starts afresh."""
CANCELLABLE = frozenset(
    {"Idle", "DownloadScheduled", "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled"}
)
"""Before the install starts, a new UpdateFirmware cancels the running one (L01.FR.24: AcceptedCanceled); once
installing, it cannot (L01.FR.27: Rejected)."""

MAX_RETRIES = 10
"""`retries` beyond this are taken as this: a CSMS cannot keep the station downloading for ever."""
DEFAULT_RETRIES = 0
"""No `retries` in the request: one attempt (the request leaves it to the station)."""
MAX_RETRY_INTERVAL = 86_400
DEFAULT_RETRY_INTERVAL = 30
"""Seconds between download attempts when the request names none; a request's value is bounded 0..a day."""

RECORD_KEY = "firmware/update"
"""Persisted while an update is under way: {"requestId": n, "phase": p}, p the step a restart would interrupt:
"Downloading" (anything before the install), "Installing" or "InstallRebooting"; deleted once the update is over.
After a restart the update is reported as it ended (`progress.on_boot_accepted`), never silently forgotten."""
RECORDED_PHASE = {"Installing": "Installing", "InstallRebooting": "InstallRebooting"}
"""The phase recorded for each phase of the update; any other (before the install) records "Downloading"."""


DURING_TRANSACTION = ("none", "download", "install")
"""What a charger can do while a transaction runs (FirmwareCapabilities.during_transaction): nothing (the download
waits for the last transaction to end: TC_L_12/L_13), download but not install (TC_L_14/L_15), or the whole
update, install and reboot included (TC_L_16)."""


@dataclass(frozen=True, slots=True)
class FirmwareCapabilities:
    """What this charger's firmware update can do: the integrator's choice (StationOptions), fixed for the life
    of the process. The defaults are the SimulatedCharger's."""

    cancellable: bool = True
    """A new UpdateFirmware cancels an update not yet installing (L01.FR.24, TC_L_10); False: it is Rejected
    whatever the phase (L01.FR.27, TC_L_11)."""
    during_transaction: str = "download"
    """One of DURING_TRANSACTION."""
    local_controller: bool = False
    """L03/L04: the station publishes firmware for the stations behind it (PublishFirmware, UnpublishFirmware);
    False: those are answered NotSupported."""
    unsigned: bool = False
    """L02: an UpdateFirmware without signingCertificate and signature is taken and installed unverified; False:
    Rejected (only secure updates, TC_L_18)."""


@dataclass(frozen=True, slots=True)
class FirmwareUpdate:
    """One accepted UpdateFirmware. Times are on the shell's clock (the request's times minus the clock offset)."""

    request_id: int
    location: str
    signing_certificate: str
    signature: str
    """Both empty for an unsigned update (L02): no signature check, Downloaded goes straight on to the install."""
    retrieve_at: datetime
    install_at: datetime | None
    retries_left: int
    retry_interval: timedelta
    phase: str = "Idle"
    """lifecycle.FIRMWARE_LIFECYCLE; every phase but Idle is the status last sent."""
    retry_at: datetime | None = None
    """When the next download attempt starts (DownloadScheduled, or a failed attempt waiting for its retry)."""
    path: str | None = None
    """Where the shell stored the downloaded file."""
    restored: bool = False
    """Rebuilt from its record after a restart: it only waits for the boot to be accepted to report how it ended."""
    held: bool = False
    """Transactions ran when it was accepted and AllowNewSessionsPendingFirmwareUpdate is false: idle connectors
    are Unavailable until the update ends (L01.FR.07)."""


@dataclass(frozen=True, slots=True)
class Publication:
    """One accepted PublishFirmware (L03, local controller): the file to fetch, check and serve locally."""

    request_id: int
    location: str
    checksum: str
    """MD5 of the file, 32 lowercase hex digits."""
    retries_left: int
    retry_interval: timedelta
    phase: str = "Idle"
    """Idle, Downloading, Downloaded, ChecksumVerified, or how it ended (Published: served until unpublished;
    DownloadFailed, InvalidChecksum, PublishFailed): the status last sent."""
    retry_at: datetime | None = None
    uris: tuple[str, ...] = ()
    """Where it is served, once Published."""


@dataclass(frozen=True, slots=True)
class Firmware:
    update: FirmwareUpdate | None = None
    publication: Publication | None = None
    """The publication under way or last ended (L03/L04)."""


def active(firmware: Firmware) -> FirmwareUpdate | None:
    """The update under way, None when there is none or it is over."""
    update = firmware.update
    return None if update is None or update.phase in FINAL else update


def unsigned(update: FirmwareUpdate) -> bool:
    return not update.signature


def holds(firmware: Firmware) -> bool:
    """L01.FR.07: idle connectors are Unavailable while an update waits for transactions and
    AllowNewSessionsPendingFirmwareUpdate forbade new sessions when it was accepted."""
    update = firmware.update
    return update is not None and update.held and update.phase not in FINAL


def status_payload(status: str, request_id: int | None) -> dict[str, object]:
    payload: dict[str, object] = {"status": status}
    if request_id is not None:
        payload["requestId"] = request_id
    return payload


def record(update: FirmwareUpdate) -> tuple[str, object]:
    """The Persist entry of the update as it stands: its record, or None (delete) once it is over."""
    if update.phase in FINAL:
        return RECORD_KEY, None
    return RECORD_KEY, {"requestId": update.request_id, "phase": RECORDED_PHASE.get(update.phase, "Downloading")}
