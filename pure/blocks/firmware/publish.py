"""Block L, PublishFirmware (L03) and UnpublishFirmware (L04) for a station acting as local controller.

The station downloads the file the CSMS names (retries and retryInterval as for L01), the shell measures its MD5
and the core compares it with `checksum`: InvalidChecksum (the file is removed) or ChecksumVerified; then the
shell serves it on the station's local file server and the core reports Published with those URIs, or
PublishFailed. Each status goes to the CSMS as a PublishFirmwareStatusNotification with the requestId. A new
PublishFirmware replaces a publication still downloading. UnpublishFirmware answers by the checksum: DownloadOngoing
while that file downloads, Unpublished when it is served (it is removed), NoFirmware otherwise. A station that is no
local controller (FirmwareCapabilities.local_controller False) answers both NotSupported.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.firmware.model import (
    DEFAULT_RETRIES,
    DEFAULT_RETRY_INTERVAL,
    MAX_RETRIES,
    MAX_RETRY_INTERVAL,
    Publication,
)
from chargecore.pure.effects import DownloadToPublish, Effects, Log, PublishFile, UnpublishFile
from chargecore.pure.inputs import FilePublished, PublishDownloaded
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.ocppj.timestamps import later, seconds
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

_MD5 = re.compile(r"[0-9a-fA-F]{32}")


def _not_supported(station: Station, call: Call) -> Handled:
    return (
        station,
        CallError(call.message_id, "NotSupported", f"{call.action}: this station is no local controller"),
        (),
    )


def _downloading(publication: Publication | None) -> bool:
    return publication is not None and publication.phase in ("Idle", "Downloading")


def handle_publish_firmware(station: Station, call: Call, now: datetime) -> Handled:
    """L03.FR.01: Accepted, and the download starts at the next `settle`; a checksum that is no MD5 is Rejected."""
    if not station.identity.firmware_capabilities.local_controller:
        return _not_supported(station, call)
    request = call.payload
    if not _MD5.fullmatch(request["checksum"]):
        return station, refusal("Rejected", "InvalidValue", "checksum is not an MD5 (32 hexadecimal digits)"), ()
    retries = min(max(int(request.get("retries", DEFAULT_RETRIES)), 0), MAX_RETRIES)
    interval = min(max(int(request.get("retryInterval", DEFAULT_RETRY_INTERVAL)), 0), MAX_RETRY_INTERVAL)
    publication = Publication(
        request_id=int(request["requestId"]),
        location=request["location"],
        checksum=request["checksum"].lower(),
        retries_left=retries,
        retry_interval=seconds(interval),
        retry_at=now,
    )
    return (
        replace(station, firmware=replace(station.firmware, publication=publication)),
        Reply({"status": "Accepted"}),
        (),
    )


def handle_unpublish_firmware(station: Station, call: Call, now: datetime) -> Handled:
    """L04: by the checksum, DownloadOngoing, Unpublished (the file is no longer served) or NoFirmware."""
    if not station.identity.firmware_capabilities.local_controller:
        return _not_supported(station, call)
    checksum = str(call.payload["checksum"]).lower()
    publication = station.firmware.publication
    if publication is None or publication.checksum != checksum:
        return station, Reply({"status": "NoFirmware"}), ()
    if _downloading(publication):
        return station, Reply({"status": "DownloadOngoing"}), ()
    if publication.phase != "Published":
        return station, Reply({"status": "NoFirmware"}), ()
    unpublished = replace(station, firmware=replace(station.firmware, publication=None))
    return unpublished, Reply({"status": "Unpublished"}), (UnpublishFile(checksum),)


def _moved(station: Station, publication: Publication, phase: str, **payload: object) -> tuple[Station, Effects]:
    """Take the new phase and send it (L03: every new status, with the requestId)."""
    moved = replace(publication, phase=phase)
    station = replace(station, firmware=replace(station.firmware, publication=moved))
    body: dict[str, object] = {"status": phase, "requestId": publication.request_id, **payload}
    session, effects = rpc.enqueue(station.rpc, "PublishFirmwareStatusNotification", body)
    return replace(station, rpc=session), effects


def deadline(station: Station) -> datetime | None:
    publication = station.firmware.publication
    return publication.retry_at if _downloading(publication) and publication is not None else None


def settle(station: Station, now: datetime) -> tuple[Station, Effects]:
    """After every input: start a download (or a retry) that is due."""
    publication = station.firmware.publication
    if publication is None or not _downloading(publication):
        return station, ()
    if publication.retry_at is None or now < publication.retry_at:
        return station, ()
    fetch = DownloadToPublish(publication.request_id, publication.location, publication.checksum)
    if publication.phase == "Downloading":  # a retry: the status was sent
        waiting = replace(publication, retry_at=None)
        return replace(station, firmware=replace(station.firmware, publication=waiting)), (fetch,)
    station, effects = _moved(station, replace(publication, retry_at=None), "Downloading")
    return station, (*effects, fetch)


def _current(station: Station, request_id: int, phase: str) -> Publication | Log:
    publication = station.firmware.publication
    if publication is None or publication.request_id != request_id or publication.phase != phase:
        return Log("warning", f"publish firmware: outcome for request {request_id} ignored, it is not {phase}")
    return publication


def on_downloaded(station: Station, event: PublishDownloaded) -> tuple[Station, Effects]:
    """L03: Downloaded, then the checksum judged: ChecksumVerified and publish, or InvalidChecksum; a failed
    download retries while retries are left, then DownloadFailed."""
    found = _current(station, event.request_id, "Downloading")
    if isinstance(found, Log):
        return station, (found,)
    if event.path is None:
        problem = Log("warning", f"publish firmware request {found.request_id}: download failed: {event.error}")
        if found.retries_left > 0:
            waiting = replace(
                found, retries_left=found.retries_left - 1, retry_at=later(event.now, found.retry_interval)
            )
            return replace(station, firmware=replace(station.firmware, publication=waiting)), (problem,)
        station, effects = _moved(station, found, "DownloadFailed")
        return station, (problem, *effects)
    station, downloaded = _moved(station, found, "Downloaded")
    current = station.firmware.publication
    assert current is not None
    if event.md5 != found.checksum:
        station, failed = _moved(station, current, "InvalidChecksum")
        return station, (*downloaded, *failed, UnpublishFile(found.checksum))
    station, verified = _moved(station, current, "ChecksumVerified")
    return station, (*downloaded, *verified, PublishFile(found.request_id, event.path))


def trigger_status(station: Station, evse: Any, now: datetime) -> Handled:
    """F06 for a local controller: the publication's last status with its requestId (and the URIs once
    Published), Idle without one; NotImplemented on a station that publishes nothing (F06.FR.08)."""
    if not station.identity.firmware_capabilities.local_controller:
        return station, Reply({"status": "NotImplemented"}), ()
    publication = station.firmware.publication
    payload: dict[str, Any] = {"status": "Idle"}
    if publication is not None and publication.phase != "Idle":
        payload = {"status": publication.phase, "requestId": publication.request_id}
        if publication.uris:
            payload["location"] = list(publication.uris)
    session, effects = rpc.enqueue(station.rpc, "PublishFirmwareStatusNotification", payload, triggered=True)
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects


def on_published(station: Station, event: FilePublished) -> tuple[Station, Effects]:
    """L03: Published with the local URIs, or PublishFailed (the file is removed)."""
    found = _current(station, event.request_id, "ChecksumVerified")
    if isinstance(found, Log):
        return station, (found,)
    if event.error is None and event.uris:
        return _moved(station, replace(found, uris=event.uris), "Published", location=list(event.uris))
    station, effects = _moved(station, found, "PublishFailed")
    problem = Log("warning", f"publish firmware request {found.request_id}: not published: {event.error}")
    return station, (problem, *effects, UnpublishFile(found.checksum))
