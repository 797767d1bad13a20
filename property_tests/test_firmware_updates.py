"""Firmware updates (L01) under any order of CSMS requests, shell outcomes (late, repeated, for another request),
transactions and time passing.

The oracle is written here, not read from FIRMWARE_LIFECYCLE: the statuses of one requestId, in the order they are
sent, follow the update process the Part 6 L cases walk:

- the first is DownloadScheduled or Downloading; DownloadScheduled is only ever followed by Downloading;
- Downloaded only right after Downloading; SignatureVerified and InvalidSignature only right after Downloaded;
- Installing only right after SignatureVerified or InstallScheduled (or Downloaded for an unsigned update, L02),
  and never while a transaction runs unless the charger installs during transactions;
- no download starts while a transaction runs on a charger that does not download during transactions;
- a charger that cannot cancel never cancels, and its running update is never replaced;
- after a final status (DownloadFailed, InvalidSignature, InstallVerificationFailed, InstallationFailed, and
  InstallRebooting here, where the test does not reboot) nothing more is sent for that requestId;
- the same status is never sent twice in a row for a requestId;
- after every Tick no timer is still due (the shell would spin), and never an InternalError (`Sim` checks both).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from core_helpers import Sim, booted, calls, of_type
from hypothesis import given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.firmware.model import DURING_TRANSACTION, FirmwareCapabilities
from chargecore.pure.blocks.firmware.model import FINAL as MODEL_FINAL
from chargecore.pure.blocks.security.certificate_store import (
    MANUFACTURER_ROOT,
    CertificateCheck,
    CertificateFacts,
    InstalledCertificate,
)
from chargecore.pure.effects import Ask, CancelFirmwareDownload, DownloadFirmware, Effects, InstallFirmware
from chargecore.pure.inputs import (
    CertificatesLoaded,
    FirmwareDownloaded,
    FirmwareInstalled,
    FirmwareVerified,
    Tick,
)
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.station import next_deadline

LONG_AGO, FAR_AHEAD = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
ROOT = CertificateFacts("root", (), "Root", None, "Root", LONG_AGO, FAR_AHEAD, True, True)
SIGNER = CertificateFacts("signer", (), "Signer", None, "Root", LONG_AGO, FAR_AHEAD, False, False)
TRUSTED = CertificateCheck((SIGNER,), None, True, "root")
FINAL = {"DownloadFailed", "InvalidSignature", "InstallVerificationFailed", "InstallationFailed", "InstallRebooting"}
FOLLOWS = {
    "DownloadScheduled": {"Downloading"},
    "Downloading": {"Downloaded", "DownloadFailed"},
    "Downloaded": {"SignatureVerified", "InvalidSignature"},
    "SignatureVerified": {"InstallScheduled", "Installing"},
    "InstallScheduled": {"Installing"},
    "Installing": {"InstallRebooting", "InstallVerificationFailed", "InstallationFailed"},
}
"""What may follow each status of one request (the final ones: nothing)."""
UNSIGNED_FOLLOWS = FOLLOWS | {"Downloaded": {"InstallScheduled", "Installing"}}
"""The same for an unsigned update (L02): no signature check."""
CAPABILITIES = st.builds(
    FirmwareCapabilities,
    cancellable=st.booleans(),
    during_transaction=st.sampled_from(DURING_TRANSACTION),
    unsigned=st.booleans(),
)

REQUEST = st.integers(min_value=1, max_value=3)
STEP = st.one_of(
    st.tuples(
        st.just("update"),
        st.sampled_from([-7200, 0, 5, 30]),
        st.sampled_from([-7200, 5, 30]),
        st.integers(min_value=0, max_value=2),
        st.booleans(),
    ),
    st.tuples(st.just("downloaded"), REQUEST, st.booleans()),
    st.tuples(st.just("verified"), REQUEST, st.booleans()),
    st.tuples(
        st.just("installed"), REQUEST, st.sampled_from(["Installed", "InstallVerificationFailed", "InstallationFailed"])
    ),
    st.tuples(st.just("wait"), st.integers(min_value=0, max_value=40)),
    st.tuples(st.just("start_transaction")),
    st.tuples(st.just("end_transaction")),
)


def update_firmware(
    sim: Sim, request_id: int, retrieve_in: int, install_in: int, retries: int, signed: bool
) -> Effects:
    """UpdateFirmware with a requestId of its own (a reused one starts a new sequence of statuses for it)."""

    def moment(seconds: int) -> str:
        return ocpp_time(sim.station, sim.now + timedelta(seconds=seconds))

    firmware = {
        "location": "https://files.example/fw.bin",
        "retrieveDateTime": moment(retrieve_in),
        "installDateTime": moment(install_in),
        "signingCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "signature": "c2lnbmF0dXJl",
    }
    if not signed:
        del firmware["signingCertificate"], firmware["signature"]
    payload = {"requestId": request_id, "firmware": firmware, "retries": retries, "retryInterval": 7}
    effects = sim.csms_call("UpdateFirmware", payload, f"uf-{len(sim.log)}")
    for question in of_type(effects, Ask):
        effects += sim.answer(question.question_id, TRUSTED)
    return effects


def wait(sim: Sim, seconds: int) -> Effects:
    """The shell ticks at every deadline until `seconds` have passed; the CSMS answers everything at once."""
    end = sim.now + timedelta(seconds=seconds)
    effects: Effects = ()
    while (deadline := next_deadline(sim.station)) is not None and deadline <= end:
        effects += sim.feed(Tick(max(deadline, sim.now))) + sim.answer_all()
    return effects + sim.feed(Tick(end)) + sim.answer_all()


def run(sim: Sim, step: tuple[Any, ...], state: dict[str, Any]) -> Effects:
    """One step; `state` holds the test's own bookkeeping: the last requestId used, whether a transaction runs."""
    kind, *args = step
    now = sim.now
    if kind == "update":
        state["request_id"] += 1
        if not args[-1]:
            state["unsigned"].add(state["request_id"])
        return update_firmware(sim, state["request_id"], *args)
    if kind == "downloaded":
        path = f"/data/firmware/request-{args[0]}.bin" if args[1] else None
        return sim.feed(FirmwareDownloaded(now, args[0], path, None if args[1] else "unreachable"))
    if kind == "verified":
        return sim.feed(FirmwareVerified(now, args[0], None if args[1] else "bad signature"))
    if kind == "installed":
        return sim.feed(FirmwareInstalled(now, args[0], args[1]))
    if kind == "wait":
        return wait(sim, args[0])
    if kind == "start_transaction" and not state["transaction"]:
        state["transaction"] = True
        effects = sim.plug() + sim.present_token() + sim.answer_all()
        return effects + sim.power_path(True) + sim.answer_all()
    if kind == "end_transaction" and state["transaction"]:
        state["transaction"] = False
        return sim.plug(change="unplug")
    return ()


@settings(max_examples=200, deadline=None)
@given(CAPABILITIES, st.lists(STEP, max_size=25))
def test_firmware_statuses_follow_the_update_process(
    capabilities: FirmwareCapabilities, steps: list[tuple[Any, ...]]
) -> None:
    sim = booted(firmware_capabilities=capabilities)
    sim.feed(CertificatesLoaded(sim.now, (InstalledCertificate(MANUFACTURER_ROOT, ROOT),)))
    sent: dict[int, list[str]] = defaultdict(list)
    state: dict[str, Any] = {"request_id": 0, "transaction": False, "unsigned": set()}
    for step in steps:
        running = sim.station.firmware.update
        effects = run(sim, step, state) + sim.answer_all()
        charging = bool(sim.station.running_transactions)
        if of_type(effects, InstallFirmware) and capabilities.during_transaction != "install":
            assert not charging, "an install while a transaction runs"
        if of_type(effects, DownloadFirmware) and capabilities.during_transaction == "none":
            assert not charging, "a download while a transaction runs"
        if not capabilities.cancellable:
            assert not of_type(effects, CancelFirmwareDownload), "a charger that cannot cancel cancelled"
            if running is not None and running.phase not in MODEL_FINAL and not running.restored:
                assert sim.station.firmware.update is not None
                assert sim.station.firmware.update.request_id == running.request_id, "replaced"
        for call in calls(effects):
            if call.action == "FirmwareStatusNotification":
                sent[call.payload["requestId"]].append(call.payload["status"])
    for request_id, statuses in sent.items():
        follows = UNSIGNED_FOLLOWS if request_id in state["unsigned"] else FOLLOWS
        assert statuses[0] in ("DownloadScheduled", "Downloading"), (request_id, statuses)
        for before, after in itertools.pairwise(statuses):
            assert before not in FINAL, (request_id, statuses)
            assert after in follows[before], (request_id, statuses)
