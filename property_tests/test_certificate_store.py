"""Properties of the certificate store (issue 12 item 7).

- Any sequence of InstallCertificate, DeleteCertificate (of installed and unknown certificates, the station's own
  included) and time passing, at security profile 1, 2 or 3, with the shell played by a dict: the core's list is
  always the shell's, CertificateEntries counts it, only certificates valid on the station clock and signed are
  ever installed, the station certificate is never deleted, and at profile 2 or 3 no delete ever takes away the
  last CSMS root valid now (time may expire it, a delete may not). The answers are those an oracle written here
  from M03-M05 expects, not read from the core's tables.
- The hash data the shell computes for any certificate (any serial, EC or RSA issuer, root or issued) equal those
  computed independently: by hand from the DER (tests/conformance/issuer.py) and as an OCSP CertID.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from core_helpers import CSMS_TIME, Sim, booted, frames, of_type
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from issuer import expected_hash_data, issue, make_root, new_key

from chargecore.pure.blocks.security.certificate_store import (
    CertificateCheck,
    CertificateFacts,
    CertificateHashData,
    InstalledCertificate,
    StoreChanged,
)
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import Ask, CheckCertificateQuestion, RemoveCertificateQuestion, StoreCertificateQuestion
from chargecore.pure.inputs import CertificatesLoaded, Tick
from chargecore.shell.certificates import x509_facts

NOW = datetime.fromisoformat(CSMS_TIME)
DAY = timedelta(days=1)
CA_USES = ("CSMSRootCertificate", "ManufacturerRootCertificate", "MORootCertificate", "V2GRootCertificate")
NAMES = tuple(f"cert-{n}" for n in range(8))


def made_up(name: str, *, is_ca: bool, starts: float, days: float, signed: bool) -> CertificateCheck:
    """What the shell would measure of a certificate (its facts are its name: one name, one certificate)."""
    name = f"{name}/{is_ca}/{starts}/{days}/{signed}"
    hashes_ = tuple(CertificateHashData(a, name.encode().hex(), (name * 2).encode().hex(), "1f") for a in ("SHA256",))
    start = NOW + starts * DAY
    facts = CertificateFacts(name, hashes_, name, None, name, start, start + days * DAY, is_ca, signed)
    return CertificateCheck((facts,), None, True, name if signed else None)


certificates = st.builds(
    made_up,
    st.sampled_from(NAMES),
    is_ca=st.booleans() | st.just(True),
    starts=st.sampled_from([-10.0, -1.0, 0.5, 3.0]),
    days=st.sampled_from([0.5, 2.0, 30.0]),
    signed=st.booleans() | st.just(True),
)


def answer_of(effects: Any) -> dict[str, Any] | None:
    replies = [json.loads(f) if isinstance(f, str) else f for f in frames(effects) if f[0] in (3, 4)]
    return replies[0][2] if replies and replies[0][0] == 3 else None


class CertificateStoreMachine(RuleBasedStateMachine):
    @initialize(profile=st.sampled_from([1, 2, 3]))
    def start(self, profile: int) -> None:
        self.profile = profile
        self.sim: Sim = booted(config={"SecurityCtrlr": {"SecurityProfile": profile}})
        root = made_up("seed-root", is_ca=True, starts=-1, days=5, signed=True).chain[0]
        own = made_up("own", is_ca=False, starts=-1, days=90, signed=True).chain[0]
        self.shell: list[InstalledCertificate] = [InstalledCertificate("CSMSRootCertificate", root)]
        if profile == 3:
            self.shell.append(InstalledCertificate("ChargingStationCertificate", own))
        self.sim.feed(CertificatesLoaded(self.sim.now, tuple(self.shell)))
        self.message = 0

    def clock(self) -> datetime:
        return self.sim.now + self.sim.station.registration.clock_offset

    def usable_roots(self) -> list[InstalledCertificate]:
        now = self.clock()
        return [e for e in self.shell if e.use == "CSMSRootCertificate" and e.certificate.valid_at(now)]

    def call(self, action: str, payload: dict[str, Any]) -> Any:
        self.message += 1
        return self.sim.csms_call(action, payload, f"m{self.message}")

    def serve(self, effects: Any) -> dict[str, Any] | None:
        """Play the shell: answer every question the way shell/certificates would, until the CSMS has an answer."""
        while True:
            asks = of_type(effects, Ask)
            if not asks:
                return answer_of(effects)
            (ask,) = asks
            question = ask.question
            if isinstance(question, CheckCertificateQuestion):
                value: Any = self.pending
            elif isinstance(question, StoreCertificateQuestion):
                self.shell.append(InstalledCertificate(question.use, self.pending.chain[0]))
                value = StoreChanged(tuple(self.shell))
            else:
                assert isinstance(question, RemoveCertificateQuestion)
                gone = (question.use, question.fingerprint)
                self.shell = [e for e in self.shell if (e.use, e.certificate.fingerprint) != gone]
                value = StoreChanged(tuple(self.shell))
            effects = self.sim.answer(ask.question_id, value)

    @rule(use=st.sampled_from(CA_USES), check=certificates)
    def install(self, use: str, check: CertificateCheck) -> None:
        self.pending = check
        facts, now = check.chain[0], self.clock()
        was_there = any(e.use == use and e.certificate.fingerprint == facts.fingerprint for e in self.shell)
        before = list(self.shell)
        answer = self.serve(self.call("InstallCertificate", {"certificateType": use, "certificate": "PEM"}))
        assert answer is not None
        valid = facts.is_ca and facts.not_before <= now <= facts.not_after and check.anchor is not None
        expected = "Accepted" if valid else "Rejected"
        assert answer["status"] == expected, (answer, facts, now)
        if not valid or was_there:
            assert self.shell == before, "a refused or repeated install changes nothing"

    @rule(index=st.integers(0, 10))
    def delete(self, index: int) -> None:
        target: InstalledCertificate | None = None
        if index < len(self.shell):
            wanted = self.shell[index].certificate.hash_data
            target = next(e for e in self.shell if e.certificate.hash_data == wanted)  # the first with that hash
            hash_data = wanted.payload()
        else:
            hash_data = CertificateHashData("SHA256", "00", "00", "abc").payload()
        roots_before = self.usable_roots()
        before = list(self.shell)
        answer = self.serve(self.call("DeleteCertificate", {"certificateHashData": hash_data}))
        assert answer is not None
        if target is None:
            assert answer["status"] == "NotFound"
        elif target.use == "ChargingStationCertificate":
            assert answer["status"] == "Failed"
        elif self.profile >= 2 and [r for r in roots_before if r != target] == [] and target in roots_before:
            assert answer["status"] == "Failed", "the last usable CSMS root stays"
        else:
            assert answer["status"] == "Accepted"
            assert target not in self.shell
        if answer["status"] != "Accepted":
            assert self.shell == before

    @rule(days=st.sampled_from([0.25, 1.0, 4.0]))
    def time_passes(self, days: float) -> None:
        self.sim.feed(Tick(self.sim.now + days * DAY))

    @invariant()
    def the_core_knows_what_the_shell_holds(self) -> None:
        if not hasattr(self, "sim"):
            return
        assert list(self.sim.station.certificates.installed) == self.shell
        entries = get_value(self.sim.station.device_model, VariableKey("SecurityCtrlr", "CertificateEntries"))
        assert entries == str(len(self.shell))
        if self.profile == 3:
            assert any(e.use == "ChargingStationCertificate" for e in self.shell)


CertificateStoreMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestCertificateStore = CertificateStoreMachine.TestCase


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    serial=st.integers(1, 2**159 - 1),
    issuer_kind=st.sampled_from(["ec", "rsa"]),
    issued=st.booleans(),
    name=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=30),
)
def test_the_hash_data_equal_independently_computed_ones(
    serial: int, issuer_kind: str, issued: bool, name: str
) -> None:
    root = make_root(f"root {name}", key=new_key("rsa") if issuer_kind == "rsa" else None)
    certificate = issue(root, name, ca=True, serial=serial) if issued else root
    issuer = root if issued else None
    measured = x509_facts.describe(certificate.certificate, root.certificate).hash_data.payload()
    assert measured == expected_hash_data(certificate, issuer)
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate.certificate, root.certificate, hashes.SHA256())
    cert_id = request.build()
    assert measured["issuerNameHash"] == cert_id.issuer_name_hash.hex()
    assert measured["issuerKeyHash"] == cert_id.issuer_key_hash.hex()
    assert measured["serialNumber"] == format(cert_id.serial_number, "x") and not measured["serialNumber"].startswith(
        "0"
    )
