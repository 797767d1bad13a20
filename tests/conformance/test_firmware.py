"""Part 6 block L (firmware management, L01 secure firmware update) test cases for the Charging Station, and
TC_F_19 (TriggerMessage FirmwareStatusNotification while downloading).

The station downloads over real HTTP from a loopback file server, checks the signing certificate against a test
ManufacturerRootCertificate and the signature with `cryptography`, installs through the SimulatedCharger's hook,
reboots and reports Installed (errata 2023-12 structure of the L cases: the steps after the reconnect may come in
any order). The default station downloads while transactions run but installs only once they have ended, and it
can cancel a download (TC_L_10, TC_L_14, TC_L_15); TC_L_11, TC_L_12, TC_L_13 and TC_L_16 run against a station
configured for their precondition (StationOptions.firmware_capabilities, docs/firmware.md).
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from firmware_kit import Signer, image, issue, request
from harness import Booted, StationFactory, boot, hardware
from sessions import authorize_locally, plug, transaction_event
from transfer_servers import FTP_PASSWORD_IN_URL, FtpFiles, HttpFiles

from chargecore.pure.blocks.firmware.model import FirmwareCapabilities
from chargecore.pure.effects import HookFailed
from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until

NEW_VERSION = "2.0.0"


@dataclass(frozen=True)
class Kit:
    """A manufacturer root, a firmware signer it issued, an HTTP file server with a signed image on it."""

    root: Signer
    signer: Signer
    files: HttpFiles
    location: str
    signature: str

    def update(self, request_id: int, **changes: Any) -> dict[str, Any]:
        return request(self.location, self.signer, self.signature, request_id, **changes)

    def publish(self, name: str, data: bytes) -> str:
        (self.files.directory / name).write_bytes(data)
        return self.files.url + name


@pytest.fixture
def kit(http_files: HttpFiles) -> Kit:
    root = issue("Test Manufacturer Root", ca=True)
    signer = issue("Test Firmware Signer", root)
    data = image(NEW_VERSION)
    (http_files.directory / "firmware.bin").write_bytes(data)
    return Kit(root, signer, http_files, http_files.url + "firmware.bin", signer.sign(data))


def start(
    csms: CsmsDouble,
    station_factory: StationFactory,
    kit: Kit,
    evses: int = 1,
    options: dict[str, Any] | None = None,
    **config: Any,
) -> Booted:
    """Reusable State Booted, and the kit's root installed as a ManufacturerRootCertificate (M05, as the OCTT's
    CertificateInstalled does); the OCTT answers every notification."""
    csms.answer_automatically("FirmwareStatusNotification", {})
    csms.answer_automatically("NotifyEvent", {})
    booted = boot(station_factory(evse_connectors=(1,) * evses, config=config or None, **(options or {})), csms)
    installed = csms.call(
        "InstallCertificate", {"certificateType": "ManufacturerRootCertificate", "certificate": kit.root.pem}
    )
    assert installed.payload["status"] == "Accepted", installed.payload
    return booted


def update_firmware(csms: CsmsDouble, payload: dict[str, Any], expected: str = "Accepted") -> None:
    reply = csms.call("UpdateFirmware", payload)
    assert reply.payload["status"] == expected, reply.payload


def expect_statuses(csms: CsmsDouble, request_id: int, *statuses: str, timeout: float = 10) -> list[StationCall]:
    """The next FirmwareStatusNotifications, in this order, each with the request's requestId (L01.FR.20)."""
    calls = [csms.expect_call("FirmwareStatusNotification", timeout) for _ in statuses]
    assert [call.payload for call in calls] == [{"status": s, "requestId": request_id} for s in statuses]
    return calls


def expect_security_event(csms: CsmsDouble, event_type: str) -> StationCall:
    """The next SecurityEventNotification of this type (others, such as StartupOfTheDevice, pass by)."""
    while True:
        call = csms.expect_call("SecurityEventNotification")
        if call.payload["type"] == event_type:
            return call


def rebooted_into_new_firmware(csms: CsmsDouble, booted: Booted, request_id: int) -> None:
    """The reboot, the BootNotification with reason FirmwareUpdate and the new version, then Installed and the
    security event FirmwareUpdated (errata: in any order with the connector statuses)."""
    again = boot(booted.station, csms)
    assert again.boot.payload["reason"] == "FirmwareUpdate"
    assert again.boot.payload["chargingStation"]["firmwareVersion"] == NEW_VERSION
    expect_statuses(csms, request_id, "Installed")
    expect_security_event(csms, "FirmwareUpdated")
    after = [call for call in csms.calls("StatusNotification") if call.session == again.boot.session]
    assert {call.payload["connectorStatus"] for call in after} == {"Available"}
    assert booted.application.installed_version == NEW_VERSION


def hanging_location() -> tuple[socket.socket, str]:
    """A server that accepts the connection and never answers: the download stays in progress."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/firmware.bin"


@contextmanager
def gated_location(data: bytes) -> Iterator[tuple[threading.Event, str]]:
    """A server that takes the download request and answers it with `data` only once the event is set: the
    download stays in progress as long as the test needs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    gate = threading.Event()

    def serve() -> None:
        with suppress(OSError):
            connection, _ = listener.accept()
            with connection:
                connection.settimeout(10)
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(4096)
                gate.wait(10)
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
                connection.sendall(head.encode() + data)

    server = threading.Thread(target=serve, daemon=True, name="gated-firmware-server")
    server.start()
    try:
        yield gate, f"http://127.0.0.1:{listener.getsockname()[1]}/firmware.bin"
    finally:
        gate.set()
        listener.close()
        server.join(5)


def energy_transfer_on(booted: Booted, csms: CsmsDouble, evse_id: int) -> StationCall:
    """Reusable State EnergyTransferStarted on this EVSE (local authorization, TxStartPoint PowerPathClosed)."""
    if evse_id == 1:
        plug(booted, csms)
        authorize_locally(booted, csms)
    else:
        hardware(booted, evse_id, 1, "plug")
        booted.station.present_token("TOKEN1", evse_id=evse_id)
        csms.reply(csms.expect_call("Authorize"), {"idTokenInfo": {"status": "Accepted"}})
    started = transaction_event(csms)
    assert started.payload["eventType"] == "Started" and started.payload["evse"]["id"] == evse_id
    return started


def parking_bay_unoccupied(booted: Booted, csms: CsmsDouble, evse_id: int) -> None:
    """Reusable State ParkingBayUnoccupied: the EV leaves and the transaction ends (TxStopPoint EVConnected)."""
    hardware(booted, evse_id, 1, "unplug")
    while transaction_event(csms).payload["eventType"] != "Ended":
        pass


def statuses_of(csms: CsmsDouble, count: int) -> dict[tuple[int, int], str]:
    calls = csms.expect_calls("StatusNotification", count)
    return {(c.payload["evseId"], c.payload["connectorId"]): c.payload["connectorStatus"] for c in calls}


# --- installation ----------------------------------------------------------------------------------------


@pytest.mark.requirements(
    "L01.FR.01",
    "L01.FR.04",
    "L01.FR.05",
    "L01.FR.09",
    "L01.FR.10",
    "L01.FR.12",
    "L01.FR.13",
    "L01.FR.15",
    "L01.FR.20",
    "L01.FR.21",
    "L01.FR.23",
)
def test_TC_L_01_CS_installation_successful(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    booted = start(csms, station_factory, kit)
    update_firmware(csms, kit.update(1))
    expect_statuses(csms, 1, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 1)


@pytest.mark.requirements(
    "L01.FR.01",
    "L01.FR.04",
    "L01.FR.05",
    "L01.FR.09",
    "L01.FR.10",
    "L01.FR.12",
    "L01.FR.13",
    "L01.FR.15",
    "L01.FR.20",
    "L01.FR.21",
    "L01.FR.23",
)
def test_TC_L_01_CS_installation_successful_over_ftp(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit, ftp_files: FtpFiles
) -> None:
    """TC_L_01 with the firmware on an FTP server (FileTransferProtocols lists FTP too)."""
    booted = start(csms, station_factory, kit)
    data = image(NEW_VERSION)
    (ftp_files.directory / "firmware.bin").write_bytes(data)
    update_firmware(csms, request(ftp_files.url("firmware.bin"), kit.signer, kit.signer.sign(data), 4))
    expect_statuses(csms, 4, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 4)
    log_file = booted.station.options.log_file
    assert log_file is not None and FTP_PASSWORD_IN_URL not in log_file.read_text(), "no password in the frame log"


@pytest.mark.requirements(
    "L01.FR.01",
    "L01.FR.04",
    "L01.FR.05",
    "L01.FR.09",
    "L01.FR.10",
    "L01.FR.12",
    "L01.FR.15",
    "L01.FR.16",
    "L01.FR.20",
    "L01.FR.21",
    "L01.FR.23",
)
def test_TC_L_02_CS_install_scheduled(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    booted = start(csms, station_factory, kit)
    install_at = datetime.now(UTC) + timedelta(seconds=2)
    update_firmware(csms, kit.update(2, install=install_at))
    expect_statuses(csms, 2, "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled")
    expect_statuses(csms, 2, "Installing")
    assert time.time() >= install_at.timestamp() - 0.1, "installed before installDateTime"
    expect_statuses(csms, 2, "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 2)


@pytest.mark.requirements(
    "L01.FR.01",
    "L01.FR.04",
    "L01.FR.05",
    "L01.FR.09",
    "L01.FR.10",
    "L01.FR.12",
    "L01.FR.13",
    "L01.FR.15",
    "L01.FR.20",
    "L01.FR.21",
    "L01.FR.23",
)
def test_TC_L_03_CS_download_scheduled(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    booted = start(csms, station_factory, kit)
    retrieve_at = datetime.now(UTC) + timedelta(seconds=2)
    update_firmware(csms, kit.update(3, retrieve=retrieve_at))
    expect_statuses(csms, 3, "DownloadScheduled")
    expect_statuses(csms, 3, "Downloading")
    assert time.time() >= retrieve_at.timestamp() - 0.1, "downloaded before retrieveDateTime"
    expect_statuses(csms, 3, "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 3)


# --- refusals and failures ----------------------------------------------------------------------------------


@pytest.mark.requirements("L01.FR.01", "L01.FR.02", "L01.FR.10", "L01.FR.20", "L01.FR.21", "L01.FR.22")
def test_TC_L_05_CS_invalid_certificate(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    """Errata 2023-12: a generated certificate no ManufacturerRootCertificate issued, and the security event."""
    booted = start(csms, station_factory, kit)
    stranger = issue("Somebody Else", issue("Unknown Root", ca=True))
    update_firmware(csms, request(kit.location, stranger, kit.signature, 5), "InvalidCertificate")
    event = expect_security_event(csms, "InvalidFirmwareSigningCertificate")
    assert "BEGIN" not in event.payload.get("techInfo", "")
    assert booted.station.state.firmware.update is None
    assert not csms.calls("FirmwareStatusNotification"), "nothing downloaded"


@pytest.mark.requirements("L01.FR.01", "L01.FR.03", "L01.FR.04", "L01.FR.10", "L01.FR.20")
def test_TC_L_06_CS_invalid_signature(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    """A real signature, but by another key than the signing certificate's."""
    booted = start(csms, station_factory, kit)
    other = issue("Another Key", kit.root)
    tampered = other.sign(image(NEW_VERSION))
    update_firmware(csms, kit.update(6) | {"firmware": kit.update(6)["firmware"] | {"signature": tampered}})
    expect_statuses(csms, 6, "Downloading", "Downloaded", "InvalidSignature")
    expect_security_event(csms, "InvalidFirmwareSignature")
    assert booted.application.installed_version is None
    assert not list((booted.station.options.data_dir / "firmware").iterdir()), "the bad file is removed"


@pytest.mark.requirements("L01.FR.01", "L01.FR.10", "L01.FR.20")
def test_TC_L_07_CS_download_failed(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    booted = start(csms, station_factory, kit)
    missing = kit.location + "_does_not_exist"
    update_firmware(csms, request(missing, kit.signer, kit.signature, 7))
    expect_statuses(csms, 7, "Downloading", "DownloadFailed")
    assert booted.application.installed_version is None
    assert not list((booted.station.options.data_dir / "firmware").iterdir()), "no partial file left"


@pytest.mark.requirements("L01.FR.01", "L01.FR.10", "L01.FR.12", "L01.FR.20")
def test_TC_L_08_CS_install_verification_failed(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    """A trusted certificate and a real signature over an image the charger does not take."""
    booted = start(csms, station_factory, kit)
    broken = b"not a firmware image\n" * 64
    location = kit.publish("broken.bin", broken)
    update_firmware(csms, request(location, kit.signer, kit.signer.sign(broken), 8))
    expect_statuses(
        csms, 8, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallVerificationFailed"
    )
    assert booted.application.installed_version is None
    assert len(csms.calls("BootNotification")) == 1, "no reboot into a firmware that was not installed"


# --- a second request -------------------------------------------------------------------------------------


@pytest.mark.requirements("L01.FR.01", "L01.FR.10", "L01.FR.20", "L01.FR.24")
def test_TC_L_10_CS_accepted_canceled(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    booted = start(csms, station_factory, kit)
    listener, hanging = hanging_location()
    with listener:
        update_firmware(csms, request(hanging, kit.signer, kit.signature, 10))
        expect_statuses(csms, 10, "Downloading")
        update_firmware(csms, kit.update(11), "AcceptedCanceled")
        expect_statuses(csms, 11, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
        rebooted_into_new_firmware(csms, booted, 11)


@pytest.mark.requirements("L01.FR.01", "L01.FR.10", "L01.FR.20", "L01.FR.27")
def test_TC_L_11_CS_unable_to_cancel(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    """Precondition: a station NOT able to cancel an ongoing firmware update (--firmware-no-cancel)."""
    options = {"firmware_capabilities": FirmwareCapabilities(cancellable=False)}
    booted = start(csms, station_factory, kit, options=options)
    with gated_location(image(NEW_VERSION)) as (gate, location):
        update_firmware(csms, request(location, kit.signer, kit.signature, 110))
        expect_statuses(csms, 110, "Downloading")
        update_firmware(csms, kit.update(111), "Rejected")
        gate.set()
        expect_statuses(csms, 110, "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 110)
    assert not [c for c in csms.calls("FirmwareStatusNotification") if c.payload.get("requestId") == 111]


# --- ongoing transactions -----------------------------------------------------------------------------------


NO_UPDATE_DURING_TRANSACTION = {"firmware_capabilities": FirmwareCapabilities(during_transaction="none")}
"""TC_L_12/L_13's precondition: unable to download AND install while a transaction runs."""


@pytest.mark.requirements("L01.FR.01", "L01.FR.06", "L01.FR.07", "L01.FR.10", "L01.FR.20")
def test_TC_L_12_CS_no_download_during_transaction_new_sessions_allowed(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(
        csms,
        station_factory,
        kit,
        evses=2,
        options=NO_UPDATE_DURING_TRANSACTION,
        ChargingStation={"AllowNewSessionsPendingFirmwareUpdate": True},
    )
    energy_transfer_on(booted, csms, 1)
    update_firmware(csms, kit.update(12))
    expect_statuses(csms, 12, "DownloadScheduled")
    energy_transfer_on(booted, csms, 2)  # step 5: a second transaction while the update is scheduled
    parking_bay_unoccupied(booted, csms, 1)
    time.sleep(0.3)
    assert len(csms.calls("FirmwareStatusNotification")) == 1, "no download while EVSE 2 charges"
    parking_bay_unoccupied(booted, csms, 2)
    expect_statuses(csms, 12, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 12)


@pytest.mark.requirements("L01.FR.01", "L01.FR.06", "L01.FR.07", "L01.FR.10", "L01.FR.20")
def test_TC_L_13_CS_no_download_during_transaction_no_new_sessions(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    """Two EVSEs, so that step 5 has an Available connector to make Unavailable."""
    booted = start(csms, station_factory, kit, evses=2, options=NO_UPDATE_DURING_TRANSACTION)
    energy_transfer_on(booted, csms, 1)
    update_firmware(csms, kit.update(13))
    expect_statuses(csms, 13, "DownloadScheduled")
    assert statuses_of(csms, 1) == {(2, 1): "Unavailable"}, "step 5: the Available connector goes Unavailable"
    time.sleep(0.3)
    assert len(csms.calls("FirmwareStatusNotification")) == 1, "no download while EVSE 1 charges"
    parking_bay_unoccupied(booted, csms, 1)
    expect_statuses(csms, 13, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 13)


@pytest.mark.requirements("L01.FR.01", "L01.FR.06", "L01.FR.07", "L01.FR.10", "L01.FR.20")
def test_TC_L_14_CS_install_after_transactions_new_sessions_allowed(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit, evses=2, ChargingStation={"AllowNewSessionsPendingFirmwareUpdate": True})
    energy_transfer_on(booted, csms, 1)
    update_firmware(csms, kit.update(14))
    expect_statuses(csms, 14, "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled")
    energy_transfer_on(booted, csms, 2)  # step 11: new sessions are still allowed
    parking_bay_unoccupied(booted, csms, 1)
    time.sleep(0.3)
    assert not csms.calls("FirmwareStatusNotification")[4:], "no install while EVSE 2 charges"
    parking_bay_unoccupied(booted, csms, 2)
    expect_statuses(csms, 14, "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 14)


@pytest.mark.requirements("L01.FR.01", "L01.FR.06", "L01.FR.07", "L01.FR.10", "L01.FR.20")
def test_TC_L_15_CS_install_after_transaction_no_new_sessions(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit, evses=2)
    energy_transfer_on(booted, csms, 1)
    update_firmware(csms, kit.update(15))
    assert statuses_of(csms, 1) == {(2, 1): "Unavailable"}, "step 3: the idle connector goes Unavailable"
    expect_statuses(csms, 15, "Downloading", "Downloaded", "SignatureVerified", "InstallScheduled")
    parking_bay_unoccupied(booted, csms, 1)
    expect_statuses(csms, 15, "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 15)


@pytest.mark.requirements("L01.FR.01", "L01.FR.06", "L01.FR.10", "L01.FR.20")
def test_TC_L_16_CS_update_during_transaction(csms: CsmsDouble, station_factory: StationFactory, kit: Kit) -> None:
    """Precondition: a station able to update its firmware while a transaction runs
    (--firmware-during-transaction install). Installing comes while EVSE 1 still charges."""
    options = {"firmware_capabilities": FirmwareCapabilities(during_transaction="install")}
    booted = start(csms, station_factory, kit, options=options)
    energy_transfer_on(booted, csms, 1)
    update_firmware(csms, kit.update(16))
    expect_statuses(csms, 16, "Downloading", "Downloaded", "SignatureVerified", "Installing")
    assert [c.payload["eventType"] for c in csms.calls("TransactionEvent")][-1] != "Ended", "still charging"
    expect_statuses(csms, 16, "InstallRebooting")
    csms.answer_automatically("TransactionEvent", {})  # the reboot ends the transaction (PowerLoss)
    again = boot(booted.station, csms)  # step 11: the reconnect after the reboot into the new firmware
    assert again.boot.payload["reason"] == "FirmwareUpdate"
    assert again.boot.payload["chargingStation"]["firmwareVersion"] == NEW_VERSION
    expect_statuses(csms, 16, "Installed")
    expect_security_event(csms, "FirmwareUpdated")


@pytest.mark.requirements("L01.FR.01")
def test_TC_L_18_CS_missing_certificate_and_signature(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit)
    payload = kit.update(18)
    del payload["firmware"]["signingCertificate"], payload["firmware"]["signature"]
    update_firmware(csms, payload, "Rejected")
    assert booted.station.state.firmware.update is None


@pytest.mark.requirements("L01.FR.01", "L01.FR.20")
def test_L02_an_unsigned_update_is_installed_by_a_station_that_takes_unsigned_firmware(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    """L02 (non-secure update, --firmware-unsigned): no signature check, so no SignatureVerified; TC_L_18 above is
    the same request refused by the default station."""
    options = {"firmware_capabilities": FirmwareCapabilities(unsigned=True)}
    booted = start(csms, station_factory, kit, options=options)
    payload = kit.update(2)
    del payload["firmware"]["signingCertificate"], payload["firmware"]["signature"]
    update_firmware(csms, payload)
    expect_statuses(csms, 2, "Downloading", "Downloaded", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 2)


# --- TriggerMessage ---------------------------------------------------------------------------------------


@pytest.mark.requirements("F06.FR.04", "F06.FR.05", "F06.FR.10", "L01.FR.26")
def test_TC_F_19_CS_trigger_firmware_status_downloading(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    start(csms, station_factory, kit)
    listener, hanging = hanging_location()
    with listener:
        payload = request(hanging, kit.signer, kit.signature, 19)
        del payload["firmware"]["installDateTime"]
        update_firmware(csms, payload)
        expect_statuses(csms, 19, "Downloading")
        assert csms.trigger("FirmwareStatusNotification").payload == {"status": "Accepted"}
        expect_statuses(csms, 19, "Downloading")


def test_firmware_status_trigger_is_idle_once_the_update_is_over(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit)
    update_firmware(csms, request(kit.location + "_gone", kit.signer, kit.signature, 20))
    expect_statuses(csms, 20, "Downloading", "DownloadFailed")
    wait_until(lambda: booted.station.state.firmware.update.phase == "DownloadFailed", "the failure")  # type: ignore[union-attr]
    assert csms.trigger("FirmwareStatusNotification").payload == {"status": "Accepted"}
    assert csms.expect_call("FirmwareStatusNotification").payload == {"status": "Idle"}


# --- bad input (issue 13 item 8): the right status and event, nothing installed, nothing left, still working ----


def nothing_installed(booted: Booted) -> None:
    assert booted.application.installed_version is None
    folder = booted.station.options.data_dir / "firmware"
    assert not folder.exists() or not list(folder.iterdir()), "no file left behind"


def still_working(csms: CsmsDouble) -> None:
    """The station answers the CSMS as before: a triggered FirmwareStatusNotification says Idle."""
    assert csms.trigger("FirmwareStatusNotification").payload == {"status": "Accepted"}
    assert csms.expect_call("FirmwareStatusNotification").payload == {"status": "Idle"}


@pytest.mark.requirements("L01.FR.03")
def test_a_signature_that_is_not_base64_is_an_invalid_signature(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit)
    payload = kit.update(30)
    payload["firmware"]["signature"] = "not base64!"
    update_firmware(csms, payload)
    expect_statuses(csms, 30, "Downloading", "Downloaded", "InvalidSignature")
    assert expect_security_event(csms, "InvalidFirmwareSignature").payload["techInfo"] == "the signature is not base64"
    nothing_installed(booted)
    still_working(csms)


@pytest.mark.requirements("L01.FR.02")
def test_a_signing_certificate_that_does_not_parse_is_invalid(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit)
    payload = kit.update(31)
    payload["firmware"]["signingCertificate"] = "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"
    update_firmware(csms, payload, "InvalidCertificate")
    expect_security_event(csms, "InvalidFirmwareSigningCertificate")
    nothing_installed(booted)
    still_working(csms)


@pytest.mark.requirements("L01.FR.01")
@pytest.mark.parametrize(
    "location",
    ["sftp://127.0.0.1/firmware.bin", "gopher://127.0.0.1/firmware.bin", "http://127.0.0.1:9/firmware.bin"],
    ids=["sftp", "unknown-scheme", "unreachable"],
)
def test_an_unsupported_scheme_or_an_unreachable_server_is_download_failed(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit, location: str
) -> None:
    booted = start(csms, station_factory, kit)
    update_firmware(csms, request(location, kit.signer, kit.signature, 32))
    expect_statuses(csms, 32, "Downloading", "DownloadFailed")
    nothing_installed(booted)
    still_working(csms)


def test_a_file_over_the_size_limit_is_download_failed(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit, options={"firmware_max_bytes": 1000})
    update_firmware(csms, kit.update(33))
    expect_statuses(csms, 33, "Downloading", "DownloadFailed")
    nothing_installed(booted)
    still_working(csms)


@pytest.mark.requirements("L01.FR.20")
def test_a_missing_file_is_retried_after_retry_interval(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit)
    missing = request(kit.location + "_not_yet", kit.signer, kit.signature, 34, retries=1, retryInterval=1)
    began = time.monotonic()
    update_firmware(csms, missing)
    expect_statuses(csms, 34, "Downloading", "DownloadFailed")
    assert time.monotonic() - began >= 1, "the second attempt waits retryInterval"
    nothing_installed(booted)


def test_a_download_dropped_halfway_is_resumed_and_installed(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    booted = start(csms, station_factory, kit)
    kit.files.faults.drop_after, kit.files.faults.drops = 1000, 1
    update_firmware(csms, kit.update(35))
    expect_statuses(csms, 35, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting")
    rebooted_into_new_firmware(csms, booted, 35)
    assert kit.files.faults.drops == 0, "the connection was dropped once"


class _BrokenInstaller(SimulatedCharger):
    def install_firmware(self, path: str, request_id: int) -> str:
        raise OSError("flash write failed")


@pytest.mark.requirements("L01.FR.01")
def test_an_install_hook_that_raises_is_installation_failed(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    csms.answer_automatically("FirmwareStatusNotification", {})
    application = _BrokenInstaller()
    booted = boot(station_factory(application=application), csms)
    root = {"certificateType": "ManufacturerRootCertificate", "certificate": kit.root.pem}
    assert csms.call("InstallCertificate", root).payload["status"] == "Accepted"
    update_firmware(csms, kit.update(36))
    expect_statuses(csms, 36, "Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallationFailed")
    wait_until(lambda: any(isinstance(e, HookFailed) for e in application.events), "the HookFailed event")
    assert len(csms.calls("BootNotification")) == 1, "no reboot"
    still_working(csms)
    assert booted.station.fatal_error is None


# --- L03/L04: publishing firmware as local controller (no Part 6 Charging Station cases) -------------------------


def publish_statuses(csms: CsmsDouble, count: int) -> list[dict[str, Any]]:
    return [csms.expect_call("PublishFirmwareStatusNotification").payload for _ in range(count)]


def test_L03_L04_a_local_controller_publishes_checks_serves_and_unpublishes(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    """PublishFirmware over loopback: downloaded from the kit's server, MD5 checked, served on the station's own
    HTTP port (the bytes come back whole from the published URI); UnpublishFirmware removes it (404 after)."""
    csms.answer_automatically("PublishFirmwareStatusNotification", {})
    options = {"firmware_capabilities": FirmwareCapabilities(local_controller=True)}
    start(csms, station_factory, kit, options=options)
    data = image(NEW_VERSION)
    checksum = hashlib.md5(data, usedforsecurity=False).hexdigest()
    reply = csms.call("PublishFirmware", {"location": kit.location, "checksum": checksum, "requestId": 31})
    assert reply.payload == {"status": "Accepted"}
    sent = publish_statuses(csms, 4)
    assert [s["status"] for s in sent] == ["Downloading", "Downloaded", "ChecksumVerified", "Published"]
    assert all(s["requestId"] == 31 for s in sent)
    (uri,) = sent[-1]["location"]
    with urllib.request.urlopen(uri, timeout=5) as served:
        assert served.read() == data
    assert csms.call("UnpublishFirmware", {"checksum": checksum}).payload == {"status": "Unpublished"}
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(uri, timeout=5)
    assert gone.value.code == 404
    assert csms.call("UnpublishFirmware", {"checksum": checksum}).payload == {"status": "NoFirmware"}


def test_L03_a_file_with_another_md5_is_invalid_checksum_and_not_served(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    csms.answer_automatically("PublishFirmwareStatusNotification", {})
    options = {"firmware_capabilities": FirmwareCapabilities(local_controller=True)}
    booted = start(csms, station_factory, kit, options=options)
    wrong = "0" * 32
    reply = csms.call("PublishFirmware", {"location": kit.location, "checksum": wrong, "requestId": 32})
    assert reply.payload == {"status": "Accepted"}
    assert [s["status"] for s in publish_statuses(csms, 3)] == ["Downloading", "Downloaded", "InvalidChecksum"]
    folder = booted.station.options.data_dir / "published"
    wait_until(lambda: not list(folder.iterdir()), "the file with the wrong checksum removed")


def test_publish_firmware_is_not_supported_by_a_station_that_is_no_local_controller(
    csms: CsmsDouble, station_factory: StationFactory, kit: Kit
) -> None:
    start(csms, station_factory, kit)
    error = csms.call("PublishFirmware", {"location": kit.location, "checksum": "0" * 32, "requestId": 33})
    assert error.error_code == "NotSupported"
