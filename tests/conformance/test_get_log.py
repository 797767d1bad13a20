"""Part 6 block N log test cases (N01 GetLog) and TC_F_16 (TriggerMessage LogStatusNotification while uploading)
for the Charging Station, over loopback against real HTTP(S) and FTP servers (tests/transfer_servers.py), and the
hostile requests next to them.

<Configured log_location> is the loopback server's upload URL; <Configured retryInterval> is 1 s (errata 2023-12:
longer than an attempt takes, which on loopback is milliseconds). The Memory State "has log information
available" is the station's own logs under its data dir.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import Booted, StationFactory, boot, settle
from pki import Pki
from transfer_servers import FTP_PASSWORD, FTP_USER, FtpFiles, HttpFiles

from chargecore.shell.application import SimulatedCharger
from chargecore.shell.logs import diagnostics_log, security_log
from chargecore.testing.csms_double import CsmsDouble, StationCall
from chargecore.tools.file_server import FileServer, FilesHandler

DIAGNOSTICS_LINES = [
    "2026-01-01T00:00:00.000Z INFO chargecore.shell.runtime: station started",
    "2026-01-01T01:00:00.000Z WARNING chargecore.shell.link: connection lost",
    "Traceback (most recent call last): a continuation line without a time",
    "2026-01-01T02:00:00.000Z INFO chargecore.shell.runtime: reconnected",
]
"""Lines an earlier run left in the DiagnosticsLog, for the time-window test."""
RETRY_INTERVAL = 1


def logged_station(
    csms: CsmsDouble,
    station_factory: StationFactory,
    tmp_path: Path,
    earlier: list[str] | None = None,
    **options: Any,
) -> Booted:
    """Memory State "log information available": the station's own DiagnosticsLog (its frames from the boot on, and
    `earlier` lines of a previous run) and the SecurityLog its application keeps (StartupOfTheDevice at least)."""
    data_dir = tmp_path / "station"
    if earlier:
        diagnostics_log(data_dir).parent.mkdir(parents=True, exist_ok=True)
        diagnostics_log(data_dir).write_text("\n".join(earlier) + "\n")
    application = SimulatedCharger(security_log=security_log(data_dir))
    return boot(station_factory(data_dir=data_dir, application=application, **options), csms)


def get_log(csms: CsmsDouble, request_id: int, location: str, log_type: str = "DiagnosticsLog", **extra: Any) -> Any:
    log = {"remoteLocation": location, **extra.pop("log", {})}
    return csms.call("GetLog", {"logType": log_type, "requestId": request_id, "log": log, **extra}).payload


def log_status(csms: CsmsDouble, timeout: float = 10) -> StationCall:
    """The next LogStatusNotificationRequest, answered."""
    call = csms.expect_call("LogStatusNotification", timeout)
    csms.reply(call, {})
    return call


class HeldUploads:
    """An HTTP server whose uploads wait until the test lets them through: an upload that is still running."""

    def __init__(self, directory: Path) -> None:
        self.gate = threading.Event()
        self.arrived = threading.Event()
        gate, arrived = self.gate, self.arrived

        class Handler(FilesHandler):
            def do_POST(self) -> None:
                arrived.set()
                gate.wait(20)
                super().do_POST()

        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.server = FileServer(directory, announce=lambda _: None, handler=Handler).start()
        self.url = self.server.url


@pytest.fixture
def held(tmp_path: Path) -> Iterator[HeldUploads]:
    uploads = HeldUploads(tmp_path / "held")
    yield uploads
    uploads.gate.set()
    uploads.server.stop()


@pytest.mark.requirements("N01.FR.01", "N01.FR.02", "N01.FR.04", "N01.FR.07", "N01.FR.08", "N01.FR.09", "N01.FR.13")
def test_TC_N_25_CS_diagnostics_log_success(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, http_files: HttpFiles
) -> None:
    logged_station(csms, station_factory, tmp_path)
    reply = get_log(csms, 25, http_files.url)
    assert reply["status"] == "Accepted" and reply["filename"]
    assert log_status(csms).payload == {"status": "Uploading", "requestId": 25}
    assert log_status(csms).payload == {"status": "Uploaded", "requestId": 25}
    uploaded = (http_files.directory / reply["filename"]).read_text()
    assert "BootNotification" in uploaded and '"GetLog"' in uploaded, "the station's own log, up to this request"


@pytest.mark.requirements("N01.FR.01", "N01.FR.02", "N01.FR.04", "N01.FR.07", "N01.FR.08", "N01.FR.10", "N01.FR.13")
def test_TC_N_26_CS_diagnostics_log_upload_failed(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, http_files: HttpFiles
) -> None:
    logged_station(csms, station_factory, tmp_path)
    http_files.faults.status = 500  # the server takes no upload
    reply = get_log(csms, 26, http_files.url, retries=3, retryInterval=RETRY_INTERVAL)
    assert reply["status"] == "Accepted"
    uploading = log_status(csms)
    assert uploading.payload == {"status": "Uploading", "requestId": 26}
    started = time.monotonic()
    failed = log_status(csms, timeout=15)
    elapsed = time.monotonic() - started
    assert failed.payload == {"status": "UploadFailure", "requestId": 26}
    assert [request.split()[0] for request in http_files.faults.requests] == ["POST"] * 4, "one try, three retries"
    assert 3 * RETRY_INTERVAL - 0.2 <= elapsed < 3 * RETRY_INTERVAL + 3, elapsed


@pytest.mark.requirements("N01.FR.01", "N01.FR.02", "N01.FR.03", "N01.FR.07", "N01.FR.08", "N01.FR.09", "N01.FR.13")
def test_TC_N_35_CS_security_log_success(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, http_files: HttpFiles
) -> None:
    logged_station(csms, station_factory, tmp_path)
    reply = get_log(csms, 35, http_files.url, "SecurityLog")
    assert reply["status"] == "Accepted"
    assert log_status(csms).payload == {"status": "Uploading", "requestId": 35}
    assert log_status(csms).payload == {"status": "Uploaded", "requestId": 35}
    uploaded = (http_files.directory / reply["filename"]).read_text()
    assert '"type": "StartupOfTheDevice"' in uploaded and "BootNotification" not in uploaded


@pytest.mark.requirements("N01.FR.12", "N01.FR.20", "N01.FR.07", "N01.FR.08", "N01.FR.09")
def test_TC_N_36_CS_second_request(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, held: HeldUploads
) -> None:
    logged_station(csms, station_factory, tmp_path)
    assert get_log(csms, 1, held.url)["status"] == "Accepted"
    assert log_status(csms).payload == {"status": "Uploading", "requestId": 1}
    assert held.arrived.wait(10), "the first upload is under way"

    second = get_log(csms, 2, held.url)
    assert second["status"] == "AcceptedCanceled"
    assert log_status(csms).payload == {"status": "AcceptedCanceled", "requestId": 1}
    assert log_status(csms).payload == {"status": "Uploading", "requestId": 2}
    held.gate.set()
    assert log_status(csms).payload == {"status": "Uploaded", "requestId": 2}
    assert (held.directory / second["filename"]).is_file()


@pytest.mark.requirements("F06.FR.04", "F06.FR.05", "F06.FR.10", "F06.FR.14", "N01.FR.13")
def test_TC_F_16_CS_trigger_log_status_while_uploading(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, held: HeldUploads
) -> None:
    logged_station(csms, station_factory, tmp_path)
    assert get_log(csms, 16, held.url)["status"] == "Accepted"
    assert log_status(csms).payload["status"] == "Uploading"
    assert held.arrived.wait(10)
    assert csms.trigger("LogStatusNotification").payload == {"status": "Accepted"}
    assert log_status(csms).payload == {"status": "Uploading", "requestId": 16}
    held.gate.set()
    assert log_status(csms).payload == {"status": "Uploaded", "requestId": 16}
    assert csms.trigger("LogStatusNotification").payload == {"status": "Accepted"}
    assert log_status(csms).payload == {"status": "Idle"}, "no upload any more: Idle without a requestId"


# --- other transfers, the time window, and hostile requests --------------------------------------------------------


def test_diagnostics_log_by_ftp(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, ftp_files: FtpFiles
) -> None:
    logged_station(csms, station_factory, tmp_path)
    (ftp_files.directory / "incoming").mkdir()
    reply = get_log(csms, 3, ftp_files.url("incoming/"))
    assert [log_status(csms).payload["status"] for _ in range(2)] == ["Uploading", "Uploaded"]
    assert "BootNotification" in (ftp_files.directory / "incoming" / reply["filename"]).read_text()


def test_only_the_lines_of_the_time_window_are_uploaded(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, http_files: HttpFiles
) -> None:
    logged_station(csms, station_factory, tmp_path, DIAGNOSTICS_LINES)
    window = {"oldestTimestamp": "2026-01-01T00:30:00Z", "latestTimestamp": "2026-01-01T01:30:00Z"}
    reply = get_log(csms, 4, http_files.url, log=window)
    assert [log_status(csms).payload["status"] for _ in range(2)] == ["Uploading", "Uploaded"]
    uploaded = (http_files.directory / reply["filename"]).read_text()
    assert DIAGNOSTICS_LINES[1] in uploaded and DIAGNOSTICS_LINES[2] in uploaded, "a continuation follows its line"
    assert DIAGNOSTICS_LINES[0] not in uploaded and DIAGNOSTICS_LINES[3] not in uploaded


def still_works(csms: CsmsDouble, booted: Booted) -> None:
    """The station keeps working: it answers and its CALLs get through."""
    assert csms.trigger("Heartbeat").payload == {"status": "Accepted"}
    settle(booted.station, csms)


@pytest.mark.parametrize(
    ("location", "status"),
    [
        ("http://127.0.0.1:{port}/", "UploadFailure"),  # nothing listens: unreachable
        ("sftp://127.0.0.1:{port}/", "NotSupportedOperation"),  # a scheme FileTransferProtocols does not list
        ("logs at the usual place", "BadMessage"),
    ],
    ids=["unreachable", "unsupported scheme", "no url"],
)
def test_a_location_that_cannot_take_the_log_gets_its_status(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, unused_port: int, location: str, status: str
) -> None:
    booted = logged_station(csms, station_factory, tmp_path)
    assert get_log(csms, 5, location.format(port=unused_port), retries=0)["status"] == "Accepted"
    statuses = [log_status(csms).payload["status"]]
    if statuses[0] == "Uploading":
        statuses.append(log_status(csms).payload["status"])
    assert statuses[-1] == status
    still_works(csms, booted)


def test_a_404_is_an_upload_failure(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, http_files: HttpFiles
) -> None:
    booted = logged_station(csms, station_factory, tmp_path)
    http_files.faults.status = 404
    get_log(csms, 6, http_files.url, retries=0)
    assert [log_status(csms).payload["status"] for _ in range(2)] == ["Uploading", "UploadFailure"]
    still_works(csms, booted)


def test_wrong_ftp_credentials_are_permission_denied_and_the_password_stays_secret(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, ftp_files: FtpFiles
) -> None:
    booted = logged_station(csms, station_factory, tmp_path)
    wrong = f"ftp://{FTP_USER}:not-{FTP_USER}-pw@{ftp_files.host}:{ftp_files.port}/"
    get_log(csms, 7, wrong, retries=0)
    assert [log_status(csms).payload["status"] for _ in range(2)] == ["Uploading", "PermissionDenied"]
    still_works(csms, booted)
    log_text = (tmp_path / "station-1.log").read_text()
    assert f"not-{FTP_USER}-pw" not in log_text and FTP_PASSWORD not in log_text


def test_timestamps_in_the_wrong_order_are_rejected(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, http_files: HttpFiles
) -> None:
    booted = logged_station(csms, station_factory, tmp_path)
    window = {"oldestTimestamp": "2026-01-02T00:00:00Z", "latestTimestamp": "2026-01-01T00:00:00Z"}
    reply = get_log(csms, 8, http_files.url, log=window)
    assert reply["status"] == "Rejected" and reply["statusInfo"]["reasonCode"] == "InvalidValue"
    settle(booted.station, csms)
    assert not csms.calls("LogStatusNotification") and not http_files.faults.requests


@pytest.mark.requirements("N01.FR.15")
def test_an_https_server_is_verified_against_the_csms_trust_chain(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, https_files: HttpFiles, pki: Pki
) -> None:
    logged_station(csms, station_factory, tmp_path, ca_file=str(pki.ca))
    reply = get_log(csms, 9, https_files.url)
    assert [log_status(csms).payload["status"] for _ in range(2)] == ["Uploading", "Uploaded"]
    assert (https_files.directory / reply["filename"]).is_file()


def test_an_https_server_nobody_vouches_for_gets_no_log(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path, https_files: HttpFiles
) -> None:
    booted = logged_station(
        csms, station_factory, tmp_path
    )  # no --ca-file: the system's store, which lacks the test CA
    get_log(csms, 10, https_files.url, retries=0)
    assert [log_status(csms).payload["status"] for _ in range(2)] == ["Uploading", "UploadFailure"]
    assert not list(https_files.directory.iterdir())
    still_works(csms, booted)
