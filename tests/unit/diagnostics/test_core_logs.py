"""GetLog (N01) through `step`: the response, the UploadLog effects, the LogStatusNotification sequence, retries,
cancelling (N01.FR.12, N01.FR.20), the triggered status (F06), and the hostile requests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from core_helpers import Sim, booted, of_type, replies

from chargecore.pure.effects import CancelLogUpload, UploadLog
from chargecore.pure.inputs import LogUploadEnded

LOCATION = "https://user:secret@logs.example.com/upload/"


def get_log(sim: Sim, request_id: int = 7, message_id: str = "log-1", **extra: Any) -> tuple[dict[str, Any], Any]:
    log = {"remoteLocation": extra.pop("location", LOCATION), **extra.pop("log", {})}
    payload = {"logType": extra.pop("log_type", "DiagnosticsLog"), "requestId": request_id, "log": log, **extra}
    effects = sim.csms_call("GetLog", payload, message_id)
    (reply,) = replies(effects)
    assert reply[:2] == [3, message_id], reply
    return reply[2], effects


def statuses(sim: Sim) -> list[dict[str, Any]]:
    """Answer every CALL the station sends; the LogStatusNotification payloads among them, in order."""
    sent = []
    while sim.station.rpc.in_flight is not None:
        call = sim.outstanding()
        if call.action == "LogStatusNotification":
            sent.append(call.payload)
        sim.reply({})
    return sent


def ended(sim: Sim, request_id: int, attempt: int, failure: str | None = None) -> None:
    sim.feed(LogUploadEnded(sim.now, request_id, attempt, failure, "detail"))


@pytest.mark.requirements("N01.FR.01", "N01.FR.07", "N01.FR.08", "N01.FR.09")
def test_accepted_upload_reports_uploading_then_uploaded() -> None:
    sim = booted()
    response, effects = get_log(sim)
    assert response == {"status": "Accepted", "filename": "CS001-DiagnosticsLog-7.log"}
    (upload,) = of_type(effects, UploadLog)
    assert (upload.request_id, upload.attempt, upload.log_type, upload.file_name) == (
        7,
        1,
        "DiagnosticsLog",
        response["filename"],
    )
    assert "secret" not in repr(upload), "the location's password never shows"
    assert statuses(sim) == [{"status": "Uploading", "requestId": 7}]
    ended(sim, 7, 1)
    assert statuses(sim) == [{"status": "Uploaded", "requestId": 7}]
    assert sim.station.log_upload is None


@pytest.mark.requirements("N01.FR.10")
def test_failed_attempts_are_retried_and_the_failure_reported_once_after_the_last() -> None:
    sim = booted()
    get_log(sim, retries=2, retryInterval=30)
    assert statuses(sim) == [{"status": "Uploading", "requestId": 7}]
    start = sim.now
    for attempt in (1, 2):
        ended(sim, 7, attempt, "unreachable")
        assert statuses(sim) == [], "no failure reported before the last attempt"
        assert sim.station.log_upload is not None and sim.station.log_upload.retry_at == sim.now + timedelta(seconds=30)
        (retry,) = of_type(sim.tick_deadline(), UploadLog)
        assert retry.attempt == attempt + 1
    assert sim.now - start == timedelta(seconds=60)
    ended(sim, 7, 3, "server error")
    assert statuses(sim) == [{"status": "UploadFailure", "requestId": 7}]
    assert sim.station.log_upload is None


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        ("access denied", "PermissionDenied"),
        ("not found", "UploadFailure"),
        ("tls failed", "UploadFailure"),
        ("bad url", "BadMessage"),
        ("unsupported scheme", "NotSupportedOperation"),
    ],
)
def test_the_failure_status_names_the_reason(failure: str, status: str) -> None:
    sim = booted()
    get_log(sim, retries=0)
    statuses(sim)
    ended(sim, 7, 1, failure)
    assert statuses(sim) == [{"status": status, "requestId": 7}]


@pytest.mark.parametrize("failure", ["bad url", "unsupported scheme"])
def test_a_location_the_transfer_cannot_use_is_not_retried(failure: str) -> None:
    sim = booted()
    get_log(sim, retries=5, retryInterval=1)
    statuses(sim)
    ended(sim, 7, 1, failure)
    assert len(statuses(sim)) == 1 and sim.station.log_upload is None


@pytest.mark.parametrize(
    ("location", "status"),
    [
        ("gopher://logs.example.com/", "NotSupportedOperation"),
        ("no url at all", "BadMessage"),
        ("https://user@/no-host", "BadMessage"),
    ],
)
def test_an_unusable_location_is_reported_without_an_attempt(location: str, status: str) -> None:
    sim = booted()
    response, effects = get_log(sim, location=location, retries=3)
    assert response["status"] == "Accepted"
    assert not of_type(effects, UploadLog)
    assert statuses(sim) == [{"status": status, "requestId": 7}]
    assert sim.station.log_upload is None


def test_a_scheme_the_device_model_does_not_list_is_not_supported() -> None:
    sim = booted(config={"OCPPCommCtrlr": {"FileTransferProtocols": "HTTPS"}})
    _, effects = get_log(sim, location="ftp://logs.example.com/")
    assert not of_type(effects, UploadLog)
    assert statuses(sim) == [{"status": "NotSupportedOperation", "requestId": 7}]


@pytest.mark.requirements("N01.FR.12", "N01.FR.20")
def test_a_second_request_cancels_the_running_upload() -> None:
    sim = booted()
    get_log(sim, request_id=1)
    statuses(sim)
    response, effects = get_log(sim, request_id=2, message_id="log-2")
    assert response == {"status": "AcceptedCanceled", "filename": "CS001-DiagnosticsLog-2.log"}
    assert of_type(effects, CancelLogUpload) == [CancelLogUpload(1)]
    assert [upload.request_id for upload in of_type(effects, UploadLog)] == [2]
    assert statuses(sim) == [{"status": "AcceptedCanceled", "requestId": 1}, {"status": "Uploading", "requestId": 2}]
    ended(sim, 1, 1, "cancelled")
    assert statuses(sim) == [], "the cancelled upload's end is nobody's business"
    ended(sim, 2, 1)
    assert statuses(sim) == [{"status": "Uploaded", "requestId": 2}]


def test_a_second_request_to_an_unusable_location_still_ends_the_first() -> None:
    """Found by property_tests/test_log_upload_properties.py: the cancelled upload stayed in the state."""
    sim = booted()
    get_log(sim, request_id=1)
    statuses(sim)
    response, _ = get_log(sim, request_id=2, message_id="log-2", location="not a url")
    assert response["status"] == "AcceptedCanceled"
    assert statuses(sim) == [{"status": "AcceptedCanceled", "requestId": 1}, {"status": "BadMessage", "requestId": 2}]
    assert sim.station.log_upload is None
    ended(sim, 1, 1)
    assert statuses(sim) == []


def test_a_request_while_waiting_for_a_retry_cancels_it_too() -> None:
    sim = booted()
    get_log(sim, request_id=1, retries=5, retryInterval=600)
    ended(sim, 1, 1, "unreachable")
    response, _ = get_log(sim, request_id=2, message_id="log-2")
    assert response["status"] == "AcceptedCanceled"
    assert sim.station.log_upload is not None and sim.station.log_upload.request_id == 2


@pytest.mark.requirements("N01.FR.13")
def test_trigger_says_uploading_while_uploading_and_idle_otherwise() -> None:
    sim = booted()
    sim.csms_call("TriggerMessage", {"requestedMessage": "LogStatusNotification"})
    assert statuses(sim) == [{"status": "Idle"}]
    get_log(sim, retries=1, retryInterval=10)
    statuses(sim)
    ended(sim, 7, 1, "unreachable")  # waiting for the retry still counts as uploading
    sim.csms_call("TriggerMessage", {"requestedMessage": "LogStatusNotification", "evse": {"id": 1}})
    assert statuses(sim) == [{"status": "Uploading", "requestId": 7}]


def test_timestamps_in_the_wrong_order_are_rejected_and_nothing_starts() -> None:
    sim = booted()
    log = {"oldestTimestamp": "2026-01-02T00:00:00Z", "latestTimestamp": "2026-01-01T00:00:00Z"}
    response, effects = get_log(sim, log=log)
    assert response["status"] == "Rejected" and response["statusInfo"]["reasonCode"] == "InvalidValue"
    assert not of_type(effects, UploadLog) and statuses(sim) == []


def test_a_timestamp_the_schema_lets_through_but_no_clock_reads_is_rejected() -> None:
    sim = booted()
    response, _ = get_log(sim, log={"oldestTimestamp": "2026-01-01t00:00:00z"})  # RFC 3339 allows lower case
    assert response["status"] == "Rejected"
    (reply,) = replies(
        sim.csms_call(
            "GetLog",
            {
                "logType": "SecurityLog",
                "requestId": 1,
                "log": {"remoteLocation": LOCATION, "oldestTimestamp": "yesterday"},
            },
        )
    )
    assert reply[0] == 4, "not a date-time at all: the schema's CALLERROR"


def test_timestamps_reach_the_shell_on_its_own_clock() -> None:
    sim = booted()
    sim.correct_clock(3600)  # the CSMS's clock is an hour ahead of the shell's
    offset = sim.station.registration.clock_offset
    assert offset >= timedelta(seconds=3600)
    log = {"oldestTimestamp": "2026-01-01T01:00:00Z", "latestTimestamp": "2026-01-01T02:00:00Z"}
    _, effects = get_log(sim, log=log)
    (upload,) = of_type(effects, UploadLog)
    assert upload.oldest == datetime(2026, 1, 1, 1, tzinfo=UTC) - offset
    assert upload.latest == datetime(2026, 1, 1, 2, tzinfo=UTC) - offset


@pytest.mark.parametrize(("retries", "interval", "left", "every"), [(-5, -5, 0, 0), (10**9, 10**12, 10, 3600)])
def test_retries_and_interval_are_bounded(retries: int, interval: int, left: int, every: int) -> None:
    sim = booted()
    get_log(sim, retries=retries, retryInterval=interval)
    upload = sim.station.log_upload
    assert upload is not None and (upload.retries_left, upload.retry_interval) == (left, every)


def test_a_late_result_of_an_earlier_attempt_is_ignored() -> None:
    sim = booted()
    get_log(sim, retries=1, retryInterval=5)
    statuses(sim)
    ended(sim, 7, 1, "unreachable")
    sim.tick(3600)
    ended(sim, 7, 1)  # attempt 1 again: not the running attempt
    assert statuses(sim) == [] and sim.station.log_upload is not None


def test_the_file_name_is_safe_and_fits_the_schema() -> None:
    sim = booted()
    sim.station = replace(sim.station, identity=replace(sim.station.identity, station_id="CS/../" + "x" * 300))
    response, _ = get_log(sim, request_id=123)
    name = response["filename"]
    assert len(name) <= 255 and "/" not in name and name.endswith("-DiagnosticsLog-123.log")
