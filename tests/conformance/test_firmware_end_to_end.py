"""A firmware update end to end against code that is not chargecore's (issue 13, "Done when"): a CSMS built with the
`ocpp` package and the standard library's `http.server`. A signed image is downloaded, verified, installed through
the hook and reported Installed after the reboot, with the new version in BootNotification; a tampered image gives
InvalidSignature and the SecurityEventNotification InvalidFirmwareSignature, and nothing is installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from firmware_kit import image, issue
from harness import StationFactory
from ocpp_firmware_csms import FirmwareCsmsServer, plain_http_server

from chargecore.shell.application import SimulatedCharger


@pytest.fixture
def package_csms() -> Iterator[FirmwareCsmsServer]:
    server = FirmwareCsmsServer().start()
    yield server
    server.stop()


def security_event(csms: FirmwareCsmsServer, event_type: str) -> bool:
    return any(s.fields["type"] == event_type for s in csms.of("SecurityEventNotification"))


def statuses(csms: FirmwareCsmsServer, request_id: int) -> list[str]:
    return [s.fields["status"] for s in csms.of("FirmwareStatusNotification") if s.fields["request_id"] == request_id]


@pytest.mark.requirements("L01.FR.01", "L01.FR.03", "L01.FR.20")
@pytest.mark.parametrize("tampered", [False, True], ids=["signed", "tampered"])
def test_firmware_update_against_ocpp_package_csms_and_http_server(
    package_csms: FirmwareCsmsServer, station_factory: StationFactory, tmp_path: Path, tampered: bool
) -> None:
    root = issue("Manufacturer Root", ca=True)
    signer = issue("Firmware Signer", root, rsa_key=True)
    data = image("3.1.4", size=256 * 1024)
    signature = signer.sign(data)
    files = tmp_path / "www"
    files.mkdir()
    (files / "fw.bin").write_bytes(data + b"tampered" if tampered else data)
    application = SimulatedCharger()
    station_factory(csms_url=package_csms.url, application=application)
    package_csms.wait_for(lambda: package_csms.of("StatusNotification"), "the boot")
    assert package_csms.install_manufacturer_root(root.pem) == "Accepted"

    with plain_http_server(files) as base:
        assert package_csms.update_firmware(1, base + "fw.bin", signer.pem, signature) == "Accepted"
        final = "InvalidSignature" if tampered else "Installed"
        package_csms.wait_for(lambda: final in statuses(package_csms, 1), final)

    if tampered:
        assert statuses(package_csms, 1) == ["Downloading", "Downloaded", "InvalidSignature"]
        package_csms.wait_for(lambda: security_event(package_csms, "InvalidFirmwareSignature"), "the security event")
        assert application.installed_version is None and len(package_csms.of("BootNotification")) == 1
        return
    expected = ["Downloading", "Downloaded", "SignatureVerified", "Installing", "InstallRebooting", "Installed"]
    assert statuses(package_csms, 1) == expected
    second_boot = package_csms.of("BootNotification")[-1]
    assert second_boot.session == 2 and second_boot.fields == {"reason": "FirmwareUpdate", "version": "3.1.4"}
    package_csms.wait_for(lambda: security_event(package_csms, "FirmwareUpdated"), "FirmwareUpdated")
