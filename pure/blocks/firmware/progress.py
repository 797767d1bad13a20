"""Block L, an accepted firmware update (L01) moving on: download, signature, install, reboot, Installed.

Theory of operation. The shell measures (download, signature check, the install hook) and reports each outcome
as an input; the core decides every next step and sends each status as a FirmwareStatusNotification with the
requestId (L01.FR.20). What waits for time or for transactions is decided in `settle`, which the station runs
after every input (a Tick at `deadline` included), before it sends what is queued:

1. Idle (just accepted): retrieveDateTime ahead, or a transaction runs on a charger that cannot download during
   one (FirmwareCapabilities.during_transaction "none", TC_L_12/L_13): DownloadScheduled; else download
   (Downloading). A download (or a retry) waiting only for transactions keeps no timer: it starts after the last
   one ends.
2. A failed download with retries left tries again retryInterval later; the last failure is DownloadFailed.
3. Downloaded: the shell verifies the signature; InvalidSignature raises the critical security event
   InvalidFirmwareSignature (L01.FR.03, TC_L_06).
   An unsigned update (L02) has no signature to verify: Downloaded goes on as SignatureVerified does.
4. SignatureVerified: install once installDateTime has come and no transaction runs (L01.FR.06, L01.FR.15), or
   at once on a charger that installs during transactions (during_transaction "install", TC_L_16);
   until then InstallScheduled. Idle connectors are Unavailable while `held` (L01.FR.07, see `holds`).
5. Installing: the application's install_firmware hook answers. Installed: InstallRebooting, the outcome and the
   boot reason FirmwareUpdate are persisted, and the station reboots once the CSMS has heard InstallRebooting;
   after the boot is accepted it reports Installed and raises FirmwareUpdated (errata 2023-12, TC_L_01 steps
   16-21). A failed install reports its status at once and the station keeps its firmware.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chargecore.pure.blocks.firmware.model import (
    RECORD_KEY,
    FirmwareUpdate,
    record,
    status_payload,
    unsigned,
)
from chargecore.pure.blocks.provisioning.provisioning import BOOT_REASON_KEY
from chargecore.pure.blocks.security import security_events
from chargecore.pure.effects import (
    DownloadFirmware,
    Effects,
    InstallFirmware,
    Log,
    PerformReset,
    Persist,
    VerifyFirmware,
)
from chargecore.pure.inputs import FirmwareDownloaded, FirmwareInstalled, FirmwareVerified
from chargecore.pure.lifecycle import FIRMWARE_LIFECYCLE
from chargecore.pure.ocppj import connection, rpc
from chargecore.pure.ocppj.timestamps import later
from chargecore.pure.state import OutboundCall, Station

_INSTALL_RESULTS = {
    "Installed": "installed",
    "InstallVerificationFailed": "verification_failed",
    "InstallationFailed": "installation_failed",
}
"""The install hook's answer, by the trigger it fires."""


def _moved(station: Station, update: FirmwareUpdate, trigger: str, **changes: Any) -> tuple[Station, Effects]:
    """Take the edge, send the new status unless it is the one already sent (a retried download), and keep the
    record a restart needs where it changes."""
    phase = FIRMWARE_LIFECYCLE.move(update.phase, trigger)
    moved = replace(update, phase=phase, **changes)
    station = replace(station, firmware=replace(station.firmware, update=moved))
    if phase == update.phase:
        return station, ()
    session, effects = rpc.enqueue(station.rpc, "FirmwareStatusNotification", status_payload(phase, update.request_id))
    kept = (Persist((record(moved),)),) if record(moved) != record(update) else ()
    return replace(station, rpc=session), (*kept, *effects)


def _current(station: Station, request_id: int, trigger: str) -> FirmwareUpdate | Log:
    """The update a shell outcome is about, or the Log refusing an outcome that came too late (rule 2 of
    lifecycle.py): another request replaced it, or it is past that step."""
    update = station.firmware.update
    if update is None or update.request_id != request_id:
        return Log("warning", f"firmware: outcome for request {request_id} ignored, it is no longer under way")
    if FIRMWARE_LIFECYCLE.lookup(update.phase, trigger) is None:
        return FIRMWARE_LIFECYCLE.refusal(update.phase, trigger, f"firmware request {request_id}")
    return update


def deadline(station: Station) -> datetime | None:
    update = station.firmware.update
    if update is None:
        return None
    if update.phase in ("DownloadScheduled", "Downloading"):  # a download held by transactions keeps no timer
        return None if _blocked_by_transactions(station, "download") else update.retry_at
    if _installable(update):
        return update.install_at
    return None


def _installable(update: FirmwareUpdate) -> bool:
    """Verified (or unsigned and downloaded) and not installing yet."""
    return update.phase in ("SignatureVerified", "InstallScheduled") or (
        update.phase == "Downloaded" and unsigned(update) and update.path is not None
    )


def _blocked_by_transactions(station: Station, step: str) -> bool:
    """Whether this step ("download" or "install") waits for the running transactions to end."""
    allowed = {"none": (), "download": ("download",), "install": ("download", "install")}
    return (
        bool(station.running_transactions)
        and step not in allowed[station.identity.firmware_capabilities.during_transaction]
    )


def settle(station: Station, now: datetime) -> tuple[Station, Effects]:
    """After every input: start what is due (rules 1, 2 and 4)."""
    update = station.firmware.update
    if update is None:
        return station, ()
    if update.phase == "Idle":
        if update.retrieve_at > now:
            return _moved(station, update, "schedule", retry_at=update.retrieve_at)
        if _blocked_by_transactions(station, "download"):
            return _moved(station, update, "schedule", retry_at=now)
        return _download(station, update)
    if update.phase in ("DownloadScheduled", "Downloading") and update.retry_at is not None and now >= update.retry_at:
        if _blocked_by_transactions(station, "download"):  # a first attempt or a retry: after the last transaction
            return station, ()
        return _download(station, update)
    if _installable(update):
        return _install_when_free(station, update, now)
    return station, ()


def _download(station: Station, update: FirmwareUpdate) -> tuple[Station, Effects]:
    station, effects = _moved(station, update, "download", retry_at=None)
    return station, (*effects, DownloadFirmware(update.request_id, update.location))


def _install_when_free(station: Station, update: FirmwareUpdate, now: datetime) -> tuple[Station, Effects]:
    due = update.install_at is None or now >= update.install_at
    if due and not _blocked_by_transactions(station, "install"):
        assert update.path is not None  # SignatureVerified (or an unsigned Downloaded) comes with a stored file
        station, effects = _moved(station, update, "install")
        return station, (*effects, InstallFirmware(update.request_id, update.path))
    if due:  # only the transactions hold it now: no timer, `settle` installs after the last one ends
        update = replace(update, install_at=None)
    if update.phase != "InstallScheduled":
        return _moved(station, update, "wait_install")
    return replace(station, firmware=replace(station.firmware, update=update)), ()


def on_downloaded(station: Station, event: FirmwareDownloaded) -> tuple[Station, Effects]:
    found = _current(station, event.request_id, "downloaded")
    if isinstance(found, Log):
        return station, (found,)
    if event.path is not None:
        station, effects = _moved(station, found, "downloaded", path=event.path)
        if unsigned(found):  # L02: `settle` goes on to the install
            return station, effects
        check = VerifyFirmware(found.request_id, event.path, found.signing_certificate, found.signature)
        return station, (*effects, check)
    problem = Log("warning", f"firmware request {found.request_id}: download failed: {event.error}")
    if found.retries_left > 0:
        retry_at = later(event.now, found.retry_interval)
        waiting = replace(found, retries_left=found.retries_left - 1, retry_at=retry_at)
        return replace(station, firmware=replace(station.firmware, update=waiting)), (problem,)
    station, effects = _moved(station, found, "download_failed")
    return station, (problem, *effects)


def on_verified(station: Station, event: FirmwareVerified) -> tuple[Station, Effects]:
    found = _current(station, event.request_id, "verified")
    if isinstance(found, Log):
        return station, (found,)
    if event.problem is None:
        return _moved(station, found, "verified")
    station, effects = _moved(station, found, "invalid_signature", path=None)
    station, raised = security_events.raise_event(station, "InvalidFirmwareSignature", event.problem, event.now)
    return station, effects + raised


def on_installed(station: Station, event: FirmwareInstalled) -> tuple[Station, Effects]:
    trigger = _INSTALL_RESULTS[event.result]
    found = _current(station, event.request_id, trigger)
    if isinstance(found, Log):
        return station, (found,)
    station, effects = _moved(station, found, trigger)
    if event.result != "Installed":
        return station, effects
    persisted = Persist(((BOOT_REASON_KEY, "FirmwareUpdate"),))  # the record says InstallRebooting already
    if not connection.is_up(station):  # nobody to hear InstallRebooting: reboot now
        return station, (persisted, *effects, PerformReset("Immediate", None))
    return station, (persisted, *effects)


def on_status_answered(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """The CSMS heard InstallRebooting (or could not answer it): the station reboots into the new firmware."""
    update = station.firmware.update
    rebooting = call.payload.get("status") == "InstallRebooting"
    if update is None or update.phase != "InstallRebooting" or not rebooting:
        return station, ()
    return station, (PerformReset("Immediate", None),)


_AFTER_RESTART = {"Downloading": "download_failed", "Installing": "installation_failed", "InstallRebooting": "rebooted"}
"""How an update a restart interrupted ends once the boot is accepted, by the phase its record names."""


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """After a restart: the update the record names waits in its recorded phase for the boot to be accepted."""
    kept = persisted.get(RECORD_KEY)
    if (
        not isinstance(kept, dict)
        or not isinstance(kept.get("requestId"), int)
        or kept.get("phase") not in _AFTER_RESTART
    ):
        return station
    update = FirmwareUpdate(
        request_id=kept["requestId"],
        location="",
        signing_certificate="",
        signature="",
        retrieve_at=datetime.min,
        install_at=None,
        retries_left=0,
        retry_interval=timedelta(0),
        phase=kept["phase"],
        restored=True,
    )
    return replace(station, firmware=replace(station.firmware, update=update))


def on_boot_accepted(station: Station, now: datetime) -> tuple[Station, Effects]:
    """Once the CSMS has accepted the boot after a restart: Installed and the critical security event
    FirmwareUpdated after the reboot into new firmware (TC_L_01 steps 18-21); DownloadFailed or InstallationFailed
    for an update the restart interrupted (its download is not resumed: the CSMS may send it again)."""
    update = station.firmware.update
    if update is None or not update.restored:
        return station, ()
    station, effects = _moved(station, update, _AFTER_RESTART[update.phase])
    if update.phase != "InstallRebooting":
        return station, effects
    station, raised = security_events.raise_event(station, "FirmwareUpdated", f"request {update.request_id}", now)
    return station, (*effects, *raised)
