"""Properties of A02/A03 certificate signing (issue 12 items 2 and 8), with the shell and the CSMS played here.

Any sequence of TriggerMessage SignChargingStationCertificate, CSR answers (a CSR, or none), CSMS answers to the
SignCertificateRequest (Accepted, Rejected, a CALLERROR), CertificateSigned with good or bad chain facts, and time
passing keeps these, derived here from A02.FR.17/18 and TC_A_23 rather than read from the core:
- at most one signing request per certificate type;
- a request sends at most 2 + CertSigningRepeatTimes SignCertificateRequests (the first, the A02.FR.17 repeat,
  then RepeatTimes doubled ones);
- a repeat never goes before CertSigningWaitMinimum * 2^k after the CSMS answered the one before (k repeats so
  far);
- a CertificateSigned is Accepted only when a CSR is pending and every fact holds, and each Rejected one raises
  InvalidChargingStationCertificate; nothing is installed for a Rejected one.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from core_helpers import Sim, booted, of_type
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from chargecore.pure.blocks.security.certificate_store import StoreChanged
from chargecore.pure.effects import Ask, ChainFacts, ChainQuestion, CsrQuestion, Effects, InstallOwnQuestion, SendFrame
from chargecore.pure.inputs import Tick
from chargecore.pure.ocppj.timestamps import station_time

WAIT = 10
REPEATS = 2
BAD = ("unparsed", "untrusted", "wrong key", "expired", "wrong CN")


class SigningMachine(RuleBasedStateMachine):
    @initialize()
    def boot(self) -> None:
        config = {"SecurityCtrlr": {"CertSigningWaitMinimum": WAIT, "CertSigningRepeatTimes": REPEATS}}
        self.sim: Sim = booted(config=config, serial_number="SN-9", interval=100_000)
        self.sends = 0
        """SignCertificateRequests of the current request."""
        self.answered_at: datetime | None = None
        self.pending_csr = False
        """The current request has a CSR (so a CertificateSigned may fit its key)."""
        self.awaiting = False
        """Its SignCertificateRequest is queued or on the wire, unanswered."""
        self.csrs = 0
        self.last_csr: str | None = None
        """Every CSR differs (a new key, or a new signature over the same key): answers are told apart by it."""

    # --- what happened -------------------------------------------------------------------------------------

    def _sent(self, effects: Effects) -> list[list[object]]:
        return [json.loads(e.text) for e in effects if isinstance(e, SendFrame)]

    def _observe(self, effects: Effects) -> None:
        for frame in self._sent(effects):
            if frame[0] == 2 and frame[2] == "SignCertificate" and frame[3]["csr"] == self.last_csr:  # type: ignore[index]
                # (one of an ended request may still leave the queue: it is not this request's)
                if self.sends > 0:
                    assert self.answered_at is not None, "a repeat before the CSMS answered the last one"
                    wait = timedelta(seconds=WAIT * 2 ** (self.sends - 1))
                    assert self.sim.now - self.answered_at >= wait, (self.sends, self.sim.now - self.answered_at)
                self.sends += 1
                assert self.sends <= 2 + REPEATS
        for ask in of_type(effects, Ask):
            if isinstance(ask.question, CsrQuestion):
                self.pending_csr = self.awaiting = True  # queued or on the wire: the shell holds its key
                self.csrs += 1
                self.last_csr = f"-----BEGIN CERTIFICATE REQUEST-----\n{self.csrs}\n"
                self._observe(self.sim.answer(ask.question_id, self.last_csr))

    # --- rules -----------------------------------------------------------------------------------------------

    @rule()
    def trigger(self) -> None:
        if not self.awaiting:  # else the CSMS gets the SignCertificateRequest on its way; nothing new starts
            self.sends, self.answered_at, self.pending_csr = 0, None, False
        effects = self.sim.csms_call("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}, "t")
        self._observe(effects)

    @rule(status=st.sampled_from(["Accepted", "Rejected", "error"]))
    def csms_answers(self, status: str) -> None:
        in_flight = self.sim.station.rpc.in_flight
        if in_flight is None:
            return
        if in_flight.call.action != "SignCertificate":
            self._observe(self.sim.reply())
            return
        effects = self.sim.reply_error() if status == "error" else self.sim.reply({"status": status})
        if in_flight.call.payload["csr"] == self.last_csr and self.sends > 0:  # else: a request since replaced
            self.answered_at, self.awaiting = self.sim.now, False
            if status == "Rejected":
                self.sends, self.pending_csr, self.last_csr = 0, False, None
        self._observe(effects)

    @rule(seconds=st.integers(min_value=1, max_value=200))
    def time_passes(self, seconds: int) -> None:
        before = self.sim.station.rpc.in_flight
        effects = self.sim.feed(Tick(self.sim.now + timedelta(seconds=seconds)))
        after = self.sim.station.rpc.in_flight
        timed_out = before is not None and before.call.action == "SignCertificate" and after != before
        if timed_out and before is not None and before.call.payload["csr"] == self.last_csr and self.sends > 0:
            self.answered_at, self.awaiting = before.deadline, False
        self._observe(effects)

    @rule(bad=st.sampled_from((None, *BAD)))
    def certificate_signed(self, bad: str | None) -> None:
        moment = station_time(self.sim.station, self.sim.now)
        facts = ChainFacts(True, True, True, "SN-9", moment - timedelta(hours=1), moment + timedelta(days=300))
        facts = {
            None: facts,
            "unparsed": ChainFacts(False),
            "untrusted": replace(facts, trusted=False),
            "wrong key": replace(facts, key_matches=False),
            "expired": replace(facts, not_after=moment),
            "wrong CN": replace(facts, common_name="X"),
        }[bad]
        effects = self.sim.csms_call("CertificateSigned", {"certificateChain": "PEM"}, "cs")
        for ask in of_type(effects, Ask):
            if isinstance(ask.question, ChainQuestion):
                effects += self.sim.answer(ask.question_id, facts)
        for ask in of_type(effects, Ask):
            if isinstance(ask.question, InstallOwnQuestion):
                effects += self.sim.answer(ask.question_id, StoreChanged(()))
        (reply,) = [f for f in self._sent(effects) if f[0] == 3 and f[1] == "cs"]
        accepted = reply[2] == {"status": "Accepted"}  # type: ignore[index]
        assert accepted == (bad is None and self.pending_csr), (bad, self.pending_csr, reply)
        installs = [a for a in of_type(effects, Ask) if isinstance(a.question, InstallOwnQuestion)]
        assert bool(installs) == accepted
        if not accepted:
            events = [f for f in self._sent(effects) if f[0] == 2 and f[2] == "SecurityEventNotification"]
            queued = [m.payload["type"] for m in self.sim.station.rpc.lane]
            assert events or "InvalidChargingStationCertificate" in queued
        self.sends, self.answered_at, self.pending_csr = 0, None, False
        self.awaiting, self.last_csr = False, None  # the request ended: what is still queued of it is not counted
        self._observe(effects)

    @invariant()
    def one_request_per_type(self) -> None:
        types = [r.certificate_type for r in self.sim.station.certificate_signing.requests]
        assert len(types) == len(set(types))


SigningMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestSigning = SigningMachine.TestCase
