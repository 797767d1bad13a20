"""CSMS root migrations under random sequences of InstallCertificate (signed by an installed root or by a stranger),
DeleteCertificate, CSMS certificate switches and lost connections, at security profile 2 with
AdditionalRootCertificateCheck (M05.FR.10-16): the station never strands itself.

The world is written here, not taken from the core: roots are names with the root that signed them; the certificate
store is a list the test double of the shell keeps, answering the core's certificate questions; the CSMS presents a
certificate under one root, and an attempt succeeds when that root is among the roots the `Connect` trusts (the
link's rule: the named roots, or every installed root when the Connect names none). The CSMS behaves as an operator
would: it never deletes the root its own certificate is under, and it moves its certificate to the newest root it
installed only when it then lets the station reconnect (TC_M_30).

Properties: the root the CSMS's certificate is under stays installed; after a lost connection the station is
connected again within two attempts (the new root, then the fallback, M05.FR.14); there is at most one current root
and one fallback (M05.FR.10); a root no installed root signed is never installed (M05.FR.11); the fallback goes once
the new root verified a connection (M05.FR.13)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core_helpers import Sim, answer_boot, connection_data, make_station, of_type, replies
from hypothesis import given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.provisioning.network_profiles import LAST_CONNECTED_KEY, PROFILES_KEY
from chargecore.pure.blocks.security.certificate_store import (
    CSMS_ROOT,
    CertificateCheck,
    CertificateFacts,
    CertificateHashData,
    InstalledCertificate,
    StoreChanged,
)
from chargecore.pure.blocks.security.root_migration import fallback
from chargecore.pure.effects import (
    Ask,
    CheckCertificateQuestion,
    Connect,
    Effects,
    RemoveCertificateQuestion,
    StoreCertificateQuestion,
)
from chargecore.pure.inputs import CertificatesLoaded, ConnectionLost, DialFailure

UNVERIFIED = DialFailure("tls", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed")
VALID = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
STRANGER = -1

actions = st.lists(
    st.one_of(
        st.tuples(st.just("install"), st.integers(STRANGER, 3)),
        st.tuples(st.just("delete"), st.integers(0, 3)),
        st.tuples(st.just("reconnect"), st.booleans()),
    ),
    max_size=25,
)


def facts(name: str, signer: str) -> CertificateFacts:
    hash_data = CertificateHashData("SHA256", f"{signer}-name", f"{signer}-key", name)
    return CertificateFacts(name, (hash_data,), name, None, signer, *VALID, is_ca=True, self_signed=signer == name)


class World:
    """The station, its certificate store (the shell's side) and the CSMS's certificate."""

    def __init__(self) -> None:
        self.signer: dict[str, str] = {"r0": "r0"}
        self.store: list[str] = ["r0"]
        self.server_root = "r0"
        self.newest = "r0"
        self.made = 0
        config = {"SecurityCtrlr": {"SecurityProfile": 2, "AdditionalRootCertificateCheck": True}}
        profiles = [{"configurationSlot": 1, "connectionData": connection_data("wss://csms.example/ocpp", 2)}]
        station = make_station(config=config, stored={PROFILES_KEY: profiles, LAST_CONNECTED_KEY: 1})
        self.sim = Sim(station)
        self.sim.feed(CertificatesLoaded(self.sim.now, self.installed()))
        [connect] = of_type(self.sim.power_up(0), Connect)
        assert self.attempt(connect)
        answer_boot(self.sim)
        self.sim.answer_all()

    def installed(self) -> tuple[InstalledCertificate, ...]:
        return tuple(InstalledCertificate(CSMS_ROOT, facts(name, self.signer[name])) for name in self.store)

    # --- the shell --------------------------------------------------------------------------------------

    def answer(self, effects: Effects) -> Effects:
        """Answer every certificate question, as the store would; the effects of the answers."""
        more: Effects = ()
        for ask in of_type(effects, Ask):
            question = ask.question
            if isinstance(question, CheckCertificateQuestion):
                name = question.pem
                signer = self.signer[name]
                anchor = signer if signer == name or signer in self.store else None
                value: Any = CertificateCheck((facts(name, signer),), chain_verified=True, anchor=anchor)
            elif isinstance(question, StoreCertificateQuestion):
                self.store.append(question.pem)
                value = StoreChanged(self.installed())
            elif isinstance(question, RemoveCertificateQuestion):
                self.store.remove(question.fingerprint)
                value = StoreChanged(self.installed())
            else:
                continue
            more += self.answer(self.sim.answer(ask.question_id, value))
        return effects + more

    def attempt(self, connect: Connect) -> bool:
        """The link's rule: the named roots still installed, or every installed root."""
        named = set(connect.csms_roots or ()) & set(self.store)
        trusted = named or set(self.store)
        if self.server_root in trusted:
            self.answer(self.sim.connect())
            return True
        self.sim.feed(ConnectionLost(self.sim.now, 0.0, UNVERIFIED))
        return False

    # --- the CSMS -----------------------------------------------------------------------------------------

    def csms_call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        effects = self.answer(self.sim.csms_call(action, payload, message_id=f"csms-{self.made}-{action}"))
        self.sim.answer_all()
        [reply] = [reply for reply in replies(effects) if reply[1] == f"csms-{self.made}-{action}"]
        result: dict[str, Any] = reply[2]
        return result

    def install(self, choice: int) -> None:
        self.made += 1
        name = f"r{self.made}"
        signer = name if choice == STRANGER or not self.store else self.store[choice % len(self.store)]
        self.signer[name] = signer
        answer = self.csms_call("InstallCertificate", {"certificateType": CSMS_ROOT, "certificate": name})
        assert (answer["status"] == "Accepted") == (signer != name), "M05.FR.11/12: accepted iff signed by a root"
        if answer["status"] == "Accepted":
            assert name in self.store
            self.newest = name

    def delete(self, choice: int) -> None:
        others = [name for name in self.store if name != self.server_root]
        if not others:
            return
        self.made += 1
        name = others[choice % len(others)]
        hash_data = facts(name, self.signer[name]).hash_data.payload()
        answer = self.csms_call("DeleteCertificate", {"certificateHashData": hash_data})
        assert (answer["status"] == "Accepted") == (name not in self.store)

    def reconnect(self, switch: bool) -> None:
        """The connection drops (after the CSMS moved its certificate to its newest root); the station must be back
        within two attempts."""
        if switch and self.newest in self.store:
            self.server_root = self.newest
        self.sim.lose()
        for _ in range(2):
            [connect] = of_type(self.sim.tick_deadline(), Connect)
            if self.attempt(connect):
                if connect.csms_roots is not None and self.server_root not in fallback(self.sim.station):
                    assert not fallback(self.sim.station), "M05.FR.13: verified with the new root, no fallback"
                return
        raise AssertionError(f"stranded: the CSMS is under {self.server_root}, the store holds {self.store}")

    def check(self) -> None:
        assert self.server_root in self.store, "the station deleted the root its CSMS is under"
        kept = fallback(self.sim.station)
        assert len(kept) <= 1 and len(self.store) - len(kept) == 1, "M05.FR.10: one current root plus a fallback"
        assert [entry.certificate.fingerprint for entry in self.sim.station.certificates.installed] == self.store


@settings(max_examples=200, deadline=None)
@given(actions)
def test_no_sequence_of_installs_deletes_and_reconnections_strands_the_station(steps: list[tuple[str, Any]]) -> None:
    world = World()
    for action, argument in steps:
        if action == "install":
            world.install(argument)
        elif action == "delete":
            world.delete(argument)
        else:
            world.reconnect(argument)
        world.check()
