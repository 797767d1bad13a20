"""PublishFirmware (L03) and UnpublishFirmware (L04) through `step`, for a station acting as local controller, and
the NotSupported answer of one that is not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from core_helpers import Sim, booted, calls, of_type, warnings

from chargecore.pure.blocks.firmware.model import FirmwareCapabilities
from chargecore.pure.effects import DownloadToPublish, Effects, PublishFile, SendFrame, UnpublishFile
from chargecore.pure.inputs import FilePublished, PublishDownloaded

MD5 = "0123456789abcdef0123456789abcdef"
PATH = f"/data/published/{MD5}.bin"
URI = f"http://127.0.0.1:8080/{MD5}.bin"


def controller() -> Sim:
    return booted(firmware_capabilities=FirmwareCapabilities(local_controller=True))


def answer(effects: Effects) -> list[Any]:
    """The frames sent back to the CSMS (CALLRESULT or CALLERROR)."""
    return [json.loads(e.text) for e in of_type(effects, SendFrame) if json.loads(e.text)[0] in (3, 4)]


def publish(sim: Sim, request_id: int = 1, checksum: str = MD5, **extra: Any) -> Effects:
    payload = {"location": "https://files.example/fw.bin", "checksum": checksum, "requestId": request_id, **extra}
    return sim.csms_call("PublishFirmware", payload, f"pf-{request_id}") + sim.answer_all()


def unpublish(sim: Sim, checksum: str = MD5) -> str:
    (reply,) = answer(sim.csms_call("UnpublishFirmware", {"checksum": checksum}, f"uf-{checksum[:4]}"))
    return str(reply[2]["status"])


def statuses(effects: Effects) -> list[dict[str, Any]]:
    return [c.payload for c in calls(effects) if c.action == "PublishFirmwareStatusNotification"]


def published(sim: Sim) -> Effects:
    effects = publish(sim)
    effects += sim.feed(PublishDownloaded(sim.now, 1, PATH, MD5)) + sim.answer_all()
    return effects + sim.feed(FilePublished(sim.now, 1, (URI,))) + sim.answer_all()


@pytest.mark.parametrize("action", ["PublishFirmware", "UnpublishFirmware"])
def test_a_station_that_is_no_local_controller_answers_not_supported(action: str) -> None:
    sim = booted()
    payload = {"location": "https://x/fw.bin", "checksum": MD5, "requestId": 1} if action == "PublishFirmware" else {}
    (frame,) = answer(sim.csms_call(action, payload | {"checksum": MD5}, "m-1"))
    assert frame[0] == 4 and frame[2] == "NotSupported"


def test_publish_downloads_checks_the_checksum_and_reports_published_with_the_local_uri() -> None:
    """L03: Downloading, Downloaded, ChecksumVerified, Published with location, each with the requestId."""
    sim = controller()
    accepted = sim.csms_call("PublishFirmware", {"location": "https://f/fw.bin", "checksum": MD5, "requestId": 1}, "p")
    assert answer(accepted)[0][2] == {"status": "Accepted"}
    assert of_type(accepted, DownloadToPublish) == [DownloadToPublish(1, "https://f/fw.bin", MD5)]
    effects = accepted + sim.answer_all()
    downloaded = sim.feed(PublishDownloaded(sim.now, 1, PATH, MD5)) + sim.answer_all()
    assert of_type(downloaded, PublishFile) == [PublishFile(1, PATH)]
    effects += downloaded + sim.feed(FilePublished(sim.now, 1, (URI,))) + sim.answer_all()
    assert statuses(effects) == [
        {"status": "Downloading", "requestId": 1},
        {"status": "Downloaded", "requestId": 1},
        {"status": "ChecksumVerified", "requestId": 1},
        {"status": "Published", "requestId": 1, "location": [URI]},
    ]


def test_a_checksum_in_capitals_is_the_same_md5() -> None:
    sim = controller()
    publish(sim, checksum=MD5.upper())
    effects = sim.feed(PublishDownloaded(sim.now, 1, PATH, MD5)) + sim.answer_all()
    assert [s["status"] for s in statuses(effects)] == ["Downloaded", "ChecksumVerified"]


def test_a_file_whose_md5_differs_is_invalid_checksum_and_removed() -> None:
    sim = controller()
    publish(sim)
    effects = sim.feed(PublishDownloaded(sim.now, 1, PATH, "f" * 32)) + sim.answer_all()
    assert [s["status"] for s in statuses(effects)] == ["Downloaded", "InvalidChecksum"]
    assert of_type(effects, UnpublishFile) == [UnpublishFile(MD5)] and not of_type(effects, PublishFile)


@pytest.mark.parametrize("checksum", ["abc", "g" * 32])
def test_a_checksum_that_is_no_md5_is_rejected(checksum: str) -> None:
    sim = controller()
    effects = publish(sim, checksum=checksum)
    assert answer(effects)[0][2]["status"] == "Rejected" and not of_type(effects, DownloadToPublish)


def test_a_checksum_longer_than_the_schema_allows_is_a_call_error() -> None:
    sim = controller()
    effects = publish(sim, checksum=MD5 + "0")
    assert answer(effects)[0][0] == 4 and not of_type(effects, DownloadToPublish)
    assert sim.station.firmware.publication is None


def test_a_failed_download_is_retried_then_download_failed() -> None:
    sim = controller()
    publish(sim, retries=1, retryInterval=10)
    quiet = sim.feed(PublishDownloaded(sim.now, 1, None, None, "unreachable"))
    assert not statuses(quiet) and warnings(quiet)
    retry = sim.tick_deadline()
    assert of_type(retry, DownloadToPublish) and not statuses(retry), "the retry sends no second Downloading"
    failed = sim.feed(PublishDownloaded(sim.now, 1, None, None, "unreachable")) + sim.answer_all()
    assert [s["status"] for s in statuses(failed)] == ["DownloadFailed"]


def test_a_file_the_server_cannot_serve_is_publish_failed_and_removed() -> None:
    sim = controller()
    publish(sim)
    sim.feed(PublishDownloaded(sim.now, 1, PATH, MD5))
    sim.answer_all()
    effects = sim.feed(FilePublished(sim.now, 1, (), "port in use")) + sim.answer_all()
    assert [s["status"] for s in statuses(effects)] == ["PublishFailed"]
    assert of_type(effects, UnpublishFile) == [UnpublishFile(MD5)]


def test_unpublish_answers_by_the_checksum() -> None:
    """L04: DownloadOngoing while it downloads, NoFirmware for another checksum, Unpublished once served."""
    sim = controller()
    assert unpublish(sim) == "NoFirmware"
    publish(sim)
    assert unpublish(sim) == "DownloadOngoing"
    sim.feed(PublishDownloaded(sim.now, 1, PATH, MD5))
    sim.feed(FilePublished(sim.now, 1, (URI,)))
    assert unpublish(sim, "f" * 32) == "NoFirmware"
    effects = sim.csms_call("UnpublishFirmware", {"checksum": MD5.upper()}, "u-last")
    assert answer(effects)[0][2] == {"status": "Unpublished"}
    assert of_type(effects, UnpublishFile) == [UnpublishFile(MD5)]
    assert unpublish(sim) == "NoFirmware", "gone once unpublished"


def test_an_outcome_of_a_replaced_publication_is_ignored() -> None:
    sim = controller()
    publish(sim, request_id=1)
    publish(sim, request_id=2)
    late = sim.feed(PublishDownloaded(sim.now, 1, PATH, MD5))
    assert warnings(late) and not statuses(late) and not of_type(late, PublishFile)


def test_published_state_is_kept_next_to_a_firmware_update() -> None:
    sim = controller()
    published(sim)
    assert sim.station.firmware.publication is not None and sim.station.firmware.publication.phase == "Published"
    assert sim.station.firmware.update is None


@pytest.mark.requirements("F06.FR.08")
def test_a_triggered_status_is_the_publications_and_not_implemented_without_a_local_controller() -> None:
    sim = controller()
    published(sim)
    effects = sim.csms_call("TriggerMessage", {"requestedMessage": "PublishFirmwareStatusNotification"}, "t-1")
    assert answer(effects)[0][2] == {"status": "Accepted"}
    assert statuses(effects) == [{"status": "Published", "requestId": 1, "location": [URI]}]
    plain = booted()
    refused = plain.csms_call("TriggerMessage", {"requestedMessage": "PublishFirmwareStatusNotification"}, "t-2")
    assert answer(refused)[0][2] == {"status": "NotImplemented"}
