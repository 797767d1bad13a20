"""The charger's firmware capabilities (FirmwareCapabilities, the integrator's choice): cancelling, downloading and
installing during a transaction, unsigned firmware (L02). Each rule is tested against the default next to it."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, booted, calls, of_type
from test_core_firmware import ROOT, statuses, update, update_request

from chargecore.pure.blocks.firmware.model import FirmwareCapabilities
from chargecore.pure.blocks.security.certificate_store import MANUFACTURER_ROOT, InstalledCertificate
from chargecore.pure.effects import Ask, CancelFirmwareDownload, DownloadFirmware, InstallFirmware, VerifyFirmware
from chargecore.pure.inputs import CertificatesLoaded, FirmwareDownloaded, FirmwareVerified
from chargecore.pure.station import next_deadline

PATH = "/data/firmware/request-1.bin"


def station(**capabilities: Any) -> Sim:
    sim = booted(firmware_capabilities=FirmwareCapabilities(**capabilities))
    sim.feed(CertificatesLoaded(sim.now, (InstalledCertificate(MANUFACTURER_ROOT, ROOT),)))
    return sim


def charging(sim: Sim) -> Sim:
    sim.plug()
    sim.present_token()
    sim.answer_all()
    sim.power_path(True)
    sim.answer_all()
    assert sim.station.running_transactions, "a transaction runs"
    return sim


def phase(sim: Sim) -> str:
    assert sim.station.firmware.update is not None
    return sim.station.firmware.update.phase


@pytest.mark.requirements("L01.FR.24", "L01.FR.27")
@pytest.mark.parametrize(("cancellable", "answer"), [(True, "AcceptedCanceled"), (False, "Rejected")])
def test_a_second_request_while_downloading_cancels_only_where_the_charger_can(cancellable: bool, answer: str) -> None:
    sim = station(cancellable=cancellable)
    assert update(sim, update_request(sim, 1))[0] == "Accepted"
    sim.answer_all()
    status, effects = update(sim, update_request(sim, 2))
    assert status == answer
    assert bool(of_type(effects, CancelFirmwareDownload)) == cancellable
    assert sim.station.firmware.update is not None
    assert sim.station.firmware.update.request_id == (2 if cancellable else 1)


@pytest.mark.requirements("L01.FR.06")
def test_a_charger_that_cannot_download_during_a_transaction_schedules_the_download_until_it_ends() -> None:
    """TC_L_12/L_13's station: DownloadScheduled, no timer, the download starts when the last transaction ends."""
    sim = charging(station(during_transaction="none"))
    _, effects = update(sim, update_request(sim))
    effects += sim.answer_all()
    assert statuses(effects) == ["DownloadScheduled"] and not of_type(effects, DownloadFirmware)
    deadline = next_deadline(sim.station)
    assert deadline is None or deadline > sim.now, "no timer that is already due"
    assert not of_type(sim.tick(60), DownloadFirmware), "still charging: still waiting"
    ended = sim.plug(change="unplug") + sim.answer_all()
    assert statuses(ended) == ["Downloading"] and len(of_type(ended, DownloadFirmware)) == 1


def test_the_default_charger_downloads_during_a_transaction() -> None:
    sim = charging(station())
    _, effects = update(sim, update_request(sim))
    assert statuses(effects + sim.answer_all()) == ["Downloading"]


@pytest.mark.requirements("L01.FR.06")
@pytest.mark.parametrize(("during", "installs"), [("install", True), ("download", False)])
def test_only_a_charger_that_installs_during_a_transaction_installs_while_one_runs(during: str, installs: bool) -> None:
    """TC_L_16's station installs at once; the default one waits (InstallScheduled, TC_L_14/L_15)."""
    sim = charging(station(during_transaction=during))
    update(sim, update_request(sim))
    sim.answer_all()
    sim.feed(FirmwareDownloaded(sim.now, 1, PATH))
    effects = sim.feed(FirmwareVerified(sim.now, 1, None)) + sim.answer_all()
    assert bool(of_type(effects, InstallFirmware)) == installs
    assert phase(sim) == ("Installing" if installs else "InstallScheduled")
    assert sim.station.firmware.update is not None and not (installs and sim.station.firmware.update.held)


def unsigned_request(sim: Sim, *drop: str) -> dict[str, Any]:
    payload = update_request(sim)
    for field in drop:
        del payload["firmware"][field]
    return payload


@pytest.mark.requirements("L01.FR.01")
def test_an_unsigned_update_is_installed_unverified_where_the_charger_takes_unsigned_firmware() -> None:
    """L02: no certificate question, no signature check, Downloaded goes on to Installing."""
    sim = station(unsigned=True)
    status, effects = update(sim, unsigned_request(sim, "signingCertificate", "signature"))
    assert status == "Accepted" and not of_type(effects, Ask)
    sim.answer_all()
    downloaded = sim.feed(FirmwareDownloaded(sim.now, 1, PATH)) + sim.answer_all()
    assert not of_type(downloaded, VerifyFirmware)
    assert of_type(downloaded, InstallFirmware) == [InstallFirmware(1, PATH)]
    assert statuses(effects + downloaded) == ["Downloading", "Downloaded", "Installing"]
    assert not [c for c in calls(downloaded) if c.action == "SecurityEventNotification"]


def test_an_unsigned_update_waits_for_the_transactions_like_a_signed_one() -> None:
    sim = charging(station(unsigned=True))
    update(sim, unsigned_request(sim, "signingCertificate", "signature"))
    sim.answer_all()
    effects = sim.feed(FirmwareDownloaded(sim.now, 1, PATH)) + sim.answer_all()
    assert statuses(effects) == ["Downloaded", "InstallScheduled"] and phase(sim) == "InstallScheduled"
    ended = sim.plug(change="unplug") + sim.answer_all()
    assert of_type(ended, InstallFirmware) == [InstallFirmware(1, PATH)]


@pytest.mark.parametrize(
    ("unsigned", "drop"),
    [
        pytest.param(False, ("signingCertificate", "signature"), id="secure only: unsigned"),
        pytest.param(True, ("signature",), id="certificate without signature"),
        pytest.param(True, ("signingCertificate",), id="signature without certificate"),
    ],
)
def test_a_request_not_fully_signed_is_rejected_unless_wholly_unsigned_and_allowed(
    unsigned: bool, drop: tuple[str, ...]
) -> None:
    """TC_L_18 for the secure-only default; half a signature is never taken."""
    sim = station(unsigned=unsigned)
    status, effects = update(sim, unsigned_request(sim, *drop))
    assert status == "Rejected" and not of_type(effects, Ask) and not of_type(effects, DownloadFirmware)
    assert sim.station.firmware.update is None
