"""Block N, log upload: GetLog (N01) and LogStatusNotification, and the LogStatusNotification TriggerMessage asks
for (F06, TC_F_16).

The core decides; the shell gathers the lines and moves the bytes (`UploadLog`), and reports how each attempt
ended (`LogUploadEnded`, with the transfer's failure name as a fact). Rules:

1. A request whose oldestTimestamp is after its latestTimestamp is Rejected: no log can match it. Any other
   request is answered Accepted with the `filename` the upload will carry (N01.FR.01, TC_N_25).
2. While another upload is being carried out (an attempt running, or waiting for its next attempt), the new
   request cancels it (N01.FR.12): the answer is AcceptedCanceled, the old request's LogStatusNotification says
   AcceptedCanceled with its own requestId (N01.FR.20), then the new one goes on as usual (TC_N_36).
3. A remoteLocation without a scheme and a host is a BadMessage; a scheme OCPPCommCtrlr.FileTransferProtocols does
   not list is NotSupportedOperation. Either is reported at once, without an attempt (nothing was uploaded).
4. Otherwise LogStatusNotification Uploading (N01.FR.08) and the first attempt. Every LogStatusNotification of
   the upload carries its requestId (N01.FR.07).
5. An attempt that failed is tried again `retries` times, `retryInterval` seconds apart (both bounded, defaults
   when absent); the failure is reported once, after the last attempt (N01.FR.10 as the errata recommends):
   PermissionDenied when the server refused our credentials, NotSupportedOperation and BadMessage (not retried)
   when the transfer could not use the location, UploadFailure for everything else. Success: Uploaded
   (N01.FR.09).
6. TriggerMessage(LogStatusNotification): Uploading with the requestId while an upload is being carried out,
   else Idle without one (N01.FR.13, F06).

The upload is not persisted: a restart ends it without a final status (the CSMS sees no Uploaded and may ask
again).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Success

from chargecore.pure.blocks.diagnostics.log_upload import LogUpload
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import CancelLogUpload, Effects, Log, UploadLog
from chargecore.pure.inputs import LogUploadEnded
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import later, parse_ocpp_time, seconds
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

ACTION = "LogStatusNotification"
DEFAULT_RETRIES = 1
MAX_RETRIES = 10
DEFAULT_RETRY_INTERVAL = 60
MAX_RETRY_INTERVAL = 3600
"""retries and retryInterval come from the CSMS: bounded, so that no request keeps an upload alive for days."""
FILE_NAME_LENGTH = 255
"""GetLogResponse.filename is string(255)."""
PROTOCOLS = VariableKey("OCPPCommCtrlr", "FileTransferProtocols")

_STATUS_OF_FAILURE = {
    "access denied": "PermissionDenied",
    "unsupported scheme": "NotSupportedOperation",
    "bad url": "BadMessage",
}
"""The transfer's failure names that have an OCPP status of their own; every other failure is UploadFailure."""
_URL = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://(?:[^/?#@]*@)?[^/?#@]+(?:[/?#]|$)")
"""scheme://[userinfo@]host..., the least a location needs (RFC 3986)."""
_FINAL = frozenset({"NotSupportedOperation", "BadMessage"})
"""Statuses no retry can change: the location itself is unusable."""


def handle_get_log(station: Station, call: Call, now: datetime) -> Handled:
    request = call.payload
    log = request["log"]
    shift = request["logType"] == "DiagnosticsLog"
    bounds = [_moment(station, log.get(name), shift) for name in ("oldestTimestamp", "latestTimestamp")]
    if any(isinstance(bound, str) for bound in bounds):
        return station, refusal("Rejected", "InvalidValue", " ".join(b for b in bounds if isinstance(b, str))), ()
    oldest, latest = (bound if isinstance(bound, datetime) else None for bound in bounds)
    if oldest is not None and latest is not None and oldest > latest:
        return station, refusal("Rejected", "InvalidValue", "oldestTimestamp is after latestTimestamp"), ()
    upload = LogUpload(
        request_id=request["requestId"],
        log_type=request["logType"],
        remote_location=log["remoteLocation"],
        file_name=file_name(station, request["logType"], request["requestId"]),
        oldest=oldest,
        latest=latest,
        retries_left=_bounded(request.get("retries"), DEFAULT_RETRIES, MAX_RETRIES),
        retry_interval=_bounded(request.get("retryInterval"), DEFAULT_RETRY_INTERVAL, MAX_RETRY_INTERVAL),
    )
    status = "Accepted"
    effects: Effects = ()
    running = station.log_upload
    if running is not None:  # N01.FR.12, N01.FR.20
        station, effects = _notify(replace(station, log_upload=None), "AcceptedCanceled", running.request_id)
        status, effects = "AcceptedCanceled", (CancelLogUpload(running.request_id), *effects)
    station, started = _start(station, upload)
    return station, Reply({"status": status, "filename": upload.file_name}), effects + started


def on_upload_ended(station: Station, event: LogUploadEnded) -> tuple[Station, Effects]:
    upload = station.log_upload
    if upload is None or (upload.request_id, upload.attempt) != (event.request_id, event.attempt):
        return station, ()  # a cancelled upload, or one a restart forgot: nobody waits for it any more
    if event.failure is None:
        station, effects = _finish(station, "Uploaded")
        return station, (Log("info", f"log {upload.file_name} uploaded"), *effects)
    status = _STATUS_OF_FAILURE.get(event.failure, "UploadFailure")
    noted = Log("warning", f"log upload {upload.request_id} attempt {upload.attempt} failed: {event.detail}")
    if status in _FINAL or upload.retries_left <= 0:
        station, effects = _finish(station, status)
        return station, (noted, *effects)
    waiting = replace(
        upload, retries_left=upload.retries_left - 1, retry_at=later(event.now, seconds(upload.retry_interval))
    )
    return replace(station, log_upload=waiting), (noted,)


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """N01: the next attempt of a failed upload, once its retryInterval has passed."""
    upload = station.log_upload
    if upload is None or upload.retry_at is None or upload.retry_at > now:
        return station, ()
    retried = replace(upload, attempt=upload.attempt + 1, retry_at=None)
    return replace(station, log_upload=retried), (_attempt(retried),)


def deadline(station: Station) -> datetime | None:
    return None if station.log_upload is None else station.log_upload.retry_at


def trigger_status(station: Station, evse: Any, now: datetime) -> Handled:
    """F06 (TC_F_15, TC_F_16): Uploading with its requestId while an upload is being carried out, else Idle; an
    EVSE named with the trigger is not relevant to logs and ignored (TC_F_17)."""
    upload = station.log_upload
    payload: dict[str, Any] = {"status": "Idle"} if upload is None else _status(upload.request_id, "Uploading")
    session, effects = rpc.enqueue(station.rpc, ACTION, payload, triggered=True)
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects


def file_name(station: Station, log_type: str, request_id: int) -> str:
    """`<station id>-<log type>-<request id>.log`, the station id reduced to characters safe in any file name."""
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in station.identity.station_id)
    suffix = f"-{log_type}-{request_id}.log"
    return safe[: max(0, FILE_NAME_LENGTH - len(suffix))] + suffix


def _start(station: Station, upload: LogUpload) -> tuple[Station, Effects]:
    """Rule 3 or rule 4: report an unusable location at once, or announce Uploading and make the first attempt."""
    unusable = _location_problem(station, upload.remote_location)
    if unusable is not None:
        station, effects = _notify(station, unusable, upload.request_id)
        return station, (Log("warning", f"log upload {upload.request_id}: {unusable}"), *effects)
    station, effects = _notify(replace(station, log_upload=upload), "Uploading", upload.request_id)
    return station, (*effects, _attempt(upload))


def _attempt(upload: LogUpload) -> UploadLog:
    return UploadLog(
        upload.request_id,
        upload.attempt,
        upload.log_type,
        upload.remote_location,
        upload.file_name,
        upload.oldest,
        upload.latest,
    )


def _location_problem(station: Station, location: str) -> str | None:
    """BadMessage, NotSupportedOperation, or None for a location the station can try (the transfer judges the
    rest, e.g. a port that is no number: "bad url")."""
    found = _URL.match(location.strip())
    if found is None:
        return "BadMessage"
    supported = (get_value(station.device_model, PROTOCOLS) or "").upper().split(",")
    return None if found.group(1).upper() in supported else "NotSupportedOperation"


def _finish(station: Station, status: str) -> tuple[Station, Effects]:
    """The upload ends with its final status."""
    request_id = station.log_upload.request_id if station.log_upload is not None else None
    return _notify(replace(station, log_upload=None), status, request_id)


def _notify(station: Station, status: str, request_id: int | None) -> tuple[Station, Effects]:
    session, effects = rpc.enqueue(station.rpc, ACTION, _status(request_id, status), triggered=True)
    return replace(station, rpc=session), effects


def _status(request_id: int | None, status: str) -> dict[str, Any]:
    return {"status": status} if request_id is None else {"status": status, "requestId": request_id}


def _bounded(value: Any, default: int, most: int) -> int:
    return default if value is None else min(max(int(value), 0), most)


def _moment(station: Station, text: str | None, shift: bool) -> datetime | str | None:
    """A timestamp of the CSMS (the station clock) on the clock the log's lines carry: the shell's for the
    DiagnosticsLog (`shift`), the station's for the SecurityLog (its events are stamped in OCPP time). The problem
    when it is no RFC 3339 time; None when absent."""
    if text is None:
        return None
    parsed = parse_ocpp_time(text)
    if not isinstance(parsed, Success):
        return str(parsed.failure())
    return later(parsed.unwrap(), -station.registration.clock_offset) if shift else parsed.unwrap()
