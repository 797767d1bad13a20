"""Block L, UpdateFirmware (L01) as the CSMS asks it, and TriggerMessage(FirmwareStatusNotification) (F06).

Rules, in the order the handler applies them:
1. A request without signingCertificate and signature (L02, non-secure) is Rejected unless the charger takes
   unsigned firmware (FirmwareCapabilities.unsigned; TC_L_18 is for a station that requires secure updates); one
   with only one of the two is Rejected always. An unsigned update skips rule 3 and the signature check.
2. While an install runs, a new request cannot cancel it: Rejected (L01.FR.27); a charger that cannot cancel at
   all rejects it in every phase of a running update (FirmwareCapabilities.cancellable False, TC_L_11).
3. The signing certificate, measured by the shell's certificate store (`CheckCertificateQuestion`), must parse,
   be valid on the station clock and be issued by an installed ManufacturerRootCertificate; else the answer is
   InvalidCertificate and the critical security event InvalidFirmwareSigningCertificate is raised (L01.FR.02).
4. Accepted; one that replaces an update still downloading or waiting answers AcceptedCanceled and the old
   download is cancelled (L01.FR.24, TC_L_10). The update starts at the next `progress.settle`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Failure

from chargecore.pure.blocks.firmware.model import (
    CANCELLABLE,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_INTERVAL,
    MAX_RETRIES,
    MAX_RETRY_INTERVAL,
    FirmwareUpdate,
    active,
    record,
    status_payload,
)
from chargecore.pure.blocks.security import security_events
from chargecore.pure.blocks.security.certificate_store import MANUFACTURER_ROOT, CertificateCheck
from chargecore.pure.device_model.model import get_bool
from chargecore.pure.effects import CancelFirmwareDownload, CheckCertificateQuestion, Persist
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import parse_ocpp_time, seconds, station_time
from chargecore.pure.outcome import Defer, Handled, Reply, refusal
from chargecore.pure.state import Station


def handle_update_firmware(station: Station, call: Call, now: datetime) -> Handled:
    firmware = call.payload["firmware"]
    capabilities = station.identity.firmware_capabilities
    signed = [field in firmware for field in ("signingCertificate", "signature")]
    if signed == [False, False] and not capabilities.unsigned:
        return station, refusal("Rejected", "UnsignedFirmware", "only signed firmware is installed (L01)"), ()
    if signed in ([True, False], [False, True]):
        return station, refusal("Rejected", "InvalidValue", "signingCertificate and signature go together"), ()
    running = active(station.firmware)
    if running is not None and not capabilities.cancellable:
        return station, refusal("Rejected", "CannotCancel", f"request {running.request_id} is under way"), ()
    if running is not None and running.phase not in CANCELLABLE:
        return station, refusal("Rejected", "InstallInProgress", f"request {running.request_id} is installing"), ()
    for field in ("retrieveDateTime", "installDateTime"):
        if field in firmware and isinstance(parse_ocpp_time(firmware[field]), Failure):
            return station, refusal("Rejected", "InvalidValue", f"{field} is not a date-time"), ()
    if not any(signed):
        return accept(station, call.payload, now)
    return station, Defer(CheckCertificateQuestion(MANUFACTURER_ROOT, firmware["signingCertificate"])), ()


def certificate_refused(station: Station, check: CertificateCheck, now: datetime) -> str | None:
    """Rule 3: why the signing certificate is not trusted, or None when it is."""
    if check.problem is not None or not check.chain:
        return check.problem or "no certificate"
    signer, moment = check.chain[0], station_time(station, now)
    if not signer.not_before <= moment <= signer.not_after:
        return "the signing certificate is not valid now"
    roots = {entry.certificate.fingerprint for entry in station.certificates.of_use(MANUFACTURER_ROOT)}
    if not check.chain_verified or check.anchor not in roots:
        return "the signing certificate is not issued by an installed ManufacturerRootCertificate"
    return None


def resume_update_firmware(station: Station, call: Call, check: CertificateCheck, now: datetime) -> Handled:
    problem = certificate_refused(station, check, now)
    if problem is not None:
        raised, effects = security_events.raise_event(station, "InvalidFirmwareSigningCertificate", str(problem), now)
        return raised, refusal("InvalidCertificate", "InvalidCertificate", str(problem)), effects
    return accept(station, call.payload, now)


def accept(station: Station, request: dict[str, Any], now: datetime) -> Handled:
    """Rule 4: the request becomes the update under way."""
    running = active(station.firmware)
    update = _update(station, request, now)
    accepted = replace(station, firmware=replace(station.firmware, update=update))
    recorded = Persist((record(update),))  # durable before the CSMS hears Accepted
    if running is None:
        return accepted, Reply({"status": "Accepted"}), (recorded,)
    return accepted, Reply({"status": "AcceptedCanceled"}), (recorded, CancelFirmwareDownload(running.request_id))


def _update(station: Station, request: dict[str, Any], now: datetime) -> FirmwareUpdate:
    """The accepted request with its times moved to the shell's clock and its numbers bounded."""
    firmware = request["firmware"]
    offset = station.registration.clock_offset

    def local(field: str) -> datetime | None:
        if field not in firmware:
            return None
        return parse_ocpp_time(firmware[field]).unwrap() - offset

    retries = min(max(int(request.get("retries", DEFAULT_RETRIES)), 0), MAX_RETRIES)
    interval = min(max(int(request.get("retryInterval", DEFAULT_RETRY_INTERVAL)), 0), MAX_RETRY_INTERVAL)
    allow_new = get_bool(station.device_model, "ChargingStation", "AllowNewSessionsPendingFirmwareUpdate")
    installs_anytime = station.identity.firmware_capabilities.during_transaction == "install"
    return FirmwareUpdate(
        request_id=int(request["requestId"]),
        location=firmware["location"],
        signing_certificate=firmware.get("signingCertificate", ""),
        signature=firmware.get("signature", ""),
        retrieve_at=local("retrieveDateTime") or now,
        install_at=local("installDateTime"),
        retries_left=retries,
        retry_interval=seconds(interval),
        held=bool(station.running_transactions) and not allow_new and not installs_anytime,
    )


def trigger_status(station: Station, evse: Any, now: datetime) -> Handled:
    """F06, TC_F_19: the status of the update under way with its requestId, Idle when there is none."""
    update = active(station.firmware)
    status = "Idle" if update is None or update.phase == "Idle" else update.phase
    payload = status_payload(status, None if status == "Idle" or update is None else update.request_id)
    session, effects = rpc.enqueue(station.rpc, "FirmwareStatusNotification", payload, triggered=True)
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects
