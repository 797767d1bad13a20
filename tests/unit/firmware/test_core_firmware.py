"""UpdateFirmware through `step` (L01): the rules the conformance cases do not reach, and hostile values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from core_helpers import Sim, at, booted, calls, of_type, persisted, replies, warnings

from chargecore.pure.blocks.firmware.model import MAX_RETRIES, MAX_RETRY_INTERVAL, RECORD_KEY
from chargecore.pure.blocks.security.certificate_store import (
    MANUFACTURER_ROOT,
    CertificateCheck,
    CertificateFacts,
    InstalledCertificate,
)
from chargecore.pure.effects import (
    Ask,
    CancelFirmwareDownload,
    CheckCertificateQuestion,
    DownloadFirmware,
    Effects,
    InstallFirmware,
    PerformReset,
    VerifyFirmware,
)
from chargecore.pure.inputs import CertificatesLoaded, FirmwareDownloaded, FirmwareInstalled, FirmwareVerified
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.station import next_deadline

CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
LONG_AGO, FAR_AHEAD = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
ROOT = CertificateFacts("root-fingerprint", (), "Root", None, "Root", LONG_AGO, FAR_AHEAD, True, True)
SIGNER = CertificateFacts("signer-fingerprint", (), "Signer", None, "Root", LONG_AGO, FAR_AHEAD, False, False)
TRUSTED = CertificateCheck((SIGNER,), None, True, "root-fingerprint")
"""What the store measures of a signing certificate issued by the installed root."""


def update_request(sim: Sim, request_id: int = 1, retrieve_in: float = -7200, **extra: Any) -> dict[str, Any]:
    """An UpdateFirmwareRequest retrieved and installed two hours ago (as Part 6 sends them)."""
    firmware = {
        "location": "https://files.example/fw.bin",
        "retrieveDateTime": ocpp_time(sim.station, sim.now + timedelta(seconds=retrieve_in)),
        "installDateTime": ocpp_time(sim.station, sim.now + timedelta(seconds=-7200)),
        "signingCertificate": CERTIFICATE,
        "signature": "c2lnbmF0dXJl",
    }
    return {"requestId": request_id, "firmware": firmware, **extra}


def update(sim: Sim, payload: dict[str, Any], check: CertificateCheck = TRUSTED) -> tuple[str, Effects]:
    """UpdateFirmware and the certificate store's measure of its signing certificate; the status answered and
    every effect."""
    effects = sim.csms_call("UpdateFirmware", payload, f"uf-{payload['requestId']}")
    asked = of_type(effects, Ask)
    if not asked:
        (reply,) = replies(effects)
        return reply[2]["status"], effects
    assert asked[0].question == CheckCertificateQuestion(MANUFACTURER_ROOT, CERTIFICATE)
    answered = sim.answer(asked[0].question_id, check)
    (reply,) = replies(answered)
    return reply[2]["status"], effects + answered


def statuses(effects: Effects) -> list[str]:
    return [c.payload["status"] for c in calls(effects) if c.action == "FirmwareStatusNotification"]


def with_root() -> Sim:
    """A booted station whose store holds the manufacturer root (as the shell says at power-up)."""
    sim = booted()
    sim.feed(CertificatesLoaded(sim.now, (InstalledCertificate(MANUFACTURER_ROOT, ROOT),)))
    return sim


def downloading(request_id: int = 1, **extra: Any) -> Sim:
    sim = with_root()
    status, effects = update(sim, update_request(sim, request_id, **extra))
    assert status == "Accepted" and of_type(effects, DownloadFirmware)
    sim.answer_all()
    return sim


@pytest.mark.requirements("L01.FR.02")
def test_an_untrusted_signing_certificate_is_refused_with_a_security_event() -> None:
    sim = booted()
    status, effects = update(sim, update_request(sim), CertificateCheck((), "not a PEM certificate"))
    assert status == "InvalidCertificate"
    sent = calls(effects + sim.answer_all())
    assert [c.payload["type"] for c in sent if c.action == "SecurityEventNotification"] == [
        "InvalidFirmwareSigningCertificate"
    ]
    assert sim.station.firmware.update is None and not of_type(effects, DownloadFirmware)


def test_retries_and_retry_interval_are_bounded() -> None:
    sim = downloading(retries=10**9, retryInterval=10**12)
    update_ = sim.station.firmware.update
    assert update_ is not None
    assert update_.retries_left == MAX_RETRIES
    assert update_.retry_interval == timedelta(seconds=MAX_RETRY_INTERVAL)
    negative = downloading(retries=-5, retryInterval=-5).station.firmware.update
    assert negative is not None and (negative.retries_left, negative.retry_interval) == (0, timedelta(0))


@pytest.mark.requirements("L01.FR.20")
def test_a_failed_download_is_retried_after_retry_interval_then_given_up() -> None:
    sim = downloading(retries=1, retryInterval=30)
    failed = sim.feed(FirmwareDownloaded(sim.now, 1, None, "unreachable"))
    assert not statuses(failed), "a download with retries left fails quietly"
    assert not of_type(sim.tick((sim.now - at(0)).total_seconds() + 10), DownloadFirmware), "not before 30 s"
    retry = sim.tick_deadline()
    assert of_type(retry, DownloadFirmware) == [DownloadFirmware(1, "https://files.example/fw.bin")]
    last = sim.feed(FirmwareDownloaded(sim.now, 1, None, "unreachable"))
    assert statuses(last) == ["DownloadFailed"]


def test_an_outcome_of_a_replaced_request_is_ignored() -> None:
    sim = downloading(request_id=1)
    status, effects = update(sim, update_request(sim, 2))
    assert status == "AcceptedCanceled" and of_type(effects, CancelFirmwareDownload) == [CancelFirmwareDownload(1)]
    sim.answer_all()
    before = sim.station
    late = sim.feed(FirmwareDownloaded(sim.now, 1, "/data/firmware/request-1.bin"))
    assert sim.station == before and not of_type(late, VerifyFirmware)
    assert warnings(late), "the late outcome is logged"


def test_an_outcome_for_a_step_the_update_is_not_in_is_refused() -> None:
    sim = downloading()
    before = sim.station
    effects = sim.feed(FirmwareInstalled(sim.now, 1, "Installed"))
    assert sim.station == before and warnings(effects) and not of_type(effects, PerformReset)


@pytest.mark.requirements("L01.FR.27")
def test_a_new_request_while_installing_is_rejected() -> None:
    sim = downloading()
    sim.feed(FirmwareDownloaded(sim.now, 1, "/data/firmware/request-1.bin"))
    sim.feed(FirmwareVerified(sim.now, 1, None))
    assert sim.station.firmware.update is not None and sim.station.firmware.update.phase == "Installing"
    status, effects = update(sim, update_request(sim, 2))
    assert status == "Rejected" and not of_type(effects, CancelFirmwareDownload)
    assert sim.station.firmware.update.request_id == 1


def test_an_unsigned_request_is_rejected() -> None:
    sim = booted()
    payload = update_request(sim)
    del payload["firmware"]["signature"]
    status, effects = update(sim, payload)
    assert status == "Rejected" and not of_type(effects, Ask)


@pytest.mark.requirements("L01.FR.03")
def test_an_invalid_signature_raises_the_critical_security_event() -> None:
    sim = downloading()
    sim.feed(FirmwareDownloaded(sim.now, 1, "/data/firmware/request-1.bin"))
    sim.answer_all()
    effects = sim.feed(FirmwareVerified(sim.now, 1, "the signature is not base64"))
    effects += sim.answer_all()
    assert statuses(effects) == ["InvalidSignature"]
    (event,) = [c.payload for c in calls(effects) if c.action == "SecurityEventNotification"]
    assert event["type"] == "InvalidFirmwareSignature" and event["techInfo"] == "the signature is not base64"
    assert not of_type(effects, InstallFirmware)


def test_installed_persists_the_outcome_and_reboots_once_the_csms_heard_install_rebooting() -> None:
    sim = downloading()
    sim.feed(FirmwareDownloaded(sim.now, 1, "/data/firmware/request-1.bin"))
    sim.feed(FirmwareVerified(sim.now, 1, None))
    sim.answer_all()
    installed = sim.feed(FirmwareInstalled(sim.now, 1, "Installed"))
    assert persisted(installed)[RECORD_KEY] == {"requestId": 1, "phase": "InstallRebooting"}
    assert not of_type(installed, PerformReset), "not before InstallRebooting is answered"
    answered = sim.answer_all()
    assert of_type(answered, PerformReset) == [PerformReset("Immediate", None)]


def test_after_the_reboot_installed_goes_out_once_the_boot_is_accepted() -> None:
    sim = booted(stored={RECORD_KEY: {"requestId": 7, "phase": "InstallRebooting"}})
    sent = [(c.action, c.payload.get("status") or c.payload.get("type")) for c in calls(sim.log)]
    assert ("FirmwareStatusNotification", "Installed") in sent
    assert ("SecurityEventNotification", "FirmwareUpdated") in sent
    assert persisted(tuple(sim.log))[RECORD_KEY] is None, "reported once: the record is deleted"


def test_a_damaged_after_boot_record_is_ignored() -> None:
    sim = booted(stored={RECORD_KEY: {"requestId": "seven", "phase": "Installing"}})
    assert sim.station.firmware.update is None
    assert not [c for c in calls(sim.log) if c.action == "FirmwareStatusNotification"]


@pytest.mark.requirements("L01.FR.02")
@pytest.mark.parametrize(
    "check",
    [
        pytest.param(CertificateCheck((SIGNER,), None, True, None), id="no installed root signed it"),
        pytest.param(CertificateCheck((SIGNER,), None, True, "signer-fingerprint"), id="self-signed"),
        pytest.param(CertificateCheck((SIGNER, ROOT), None, False, "root-fingerprint"), id="broken chain"),
        pytest.param(
            CertificateCheck((replace(SIGNER, not_after=LONG_AGO),), None, True, "root-fingerprint"), id="expired"
        ),
    ],
)
def test_a_signing_certificate_the_manufacturer_root_does_not_vouch_for_is_invalid(check: CertificateCheck) -> None:
    sim = with_root()
    status, effects = update(sim, update_request(sim), check)
    assert status == "InvalidCertificate" and not of_type(effects, DownloadFirmware)
    assert sim.station.firmware.update is None


@pytest.mark.requirements("L01.FR.06")
def test_an_install_held_by_a_transaction_waits_without_a_timer_and_starts_when_it_ends() -> None:
    sim = downloading()
    sim.plug()
    sim.present_token()
    sim.answer_all()
    sim.power_path(True)
    sim.answer_all()
    assert sim.station.running_transactions, "a transaction runs"
    sim.feed(FirmwareDownloaded(sim.now, 1, "/data/firmware/request-1.bin"))
    waiting = sim.feed(FirmwareVerified(sim.now, 1, None)) + sim.answer_all()
    assert statuses(waiting) == ["SignatureVerified", "InstallScheduled"]
    assert sim.station.firmware.update is not None and sim.station.firmware.update.phase == "InstallScheduled"
    deadline = next_deadline(sim.station)
    assert deadline is None or deadline > sim.now, "no timer that is already due (the shell would spin)"
    ended = sim.plug(change="unplug") + sim.answer_all()
    assert of_type(ended, InstallFirmware) == [InstallFirmware(1, "/data/firmware/request-1.bin")]


@pytest.mark.parametrize(
    ("phase", "reported"), [("Downloading", "DownloadFailed"), ("Installing", "InstallationFailed")]
)
def test_an_update_a_restart_interrupted_is_reported_failed_after_the_boot(phase: str, reported: str) -> None:
    """Stored data is never lost silently: the CSMS hears how the update it was told Accepted ended."""
    sim = booted(stored={RECORD_KEY: {"requestId": 9, "phase": phase}})
    sent = [(c.action, c.payload) for c in calls(sim.log) if c.action == "FirmwareStatusNotification"]
    assert sent == [("FirmwareStatusNotification", {"status": reported, "requestId": 9})]
    assert persisted(tuple(sim.log))[RECORD_KEY] is None
    assert not [c for c in calls(sim.log) if c.payload.get("type") == "FirmwareUpdated"]


def test_the_record_follows_the_update_and_goes_when_it_ends() -> None:
    sim = with_root()
    _, effects = update(sim, update_request(sim))
    assert persisted(effects)[RECORD_KEY] == {"requestId": 1, "phase": "Downloading"}
    sim.answer_all()
    sim.feed(FirmwareDownloaded(sim.now, 1, "/data/firmware/request-1.bin"))
    installing = sim.feed(FirmwareVerified(sim.now, 1, None))
    assert persisted(installing)[RECORD_KEY] == {"requestId": 1, "phase": "Installing"}
    failed = sim.feed(FirmwareInstalled(sim.now, 1, "InstallationFailed"))
    assert persisted(failed)[RECORD_KEY] is None
