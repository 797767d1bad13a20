"""The authorization flow with the local list and the cache (C09, C10, C12, C14, C16), driven through `step`:
which store answered decides the DisablePostAuthorize that applies, a start from the cache counts as a use, and
every idTokenInfo from the CSMS is remembered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from core_helpers import T0, Sim, at, booted, calls, of_type, warnings

from chargecore.pure.blocks.authorization import auth_cache, token_store
from chargecore.pure.blocks.authorization.local_list import PERSIST_KEY
from chargecore.pure.blocks.authorization.tokens import CacheEntry, token_key
from chargecore.pure.effects import AuthorizationDecided, Effects, MasterPassAccepted, Notify
from chargecore.pure.inputs import MasterPassChoice

GROUP = {"idToken": "GROUP", "type": "Central"}
MASTER = {"idToken": "MASTER", "type": "Central"}


def token(name: str = "TOKEN1") -> dict[str, str]:
    return {"idToken": name, "type": "ISO14443"}


def cached(name: str, status: str = "Accepted", last_used: datetime = T0, **info: Any) -> dict[str, Any]:
    """Memory State IdTokenCached: what an earlier run persisted for the cache."""
    entry = CacheEntry(token(name), {"status": status, **info}, last_used)
    return {auth_cache.persist_key(token_key(token(name))): entry.record()}


def listed(name: str, status: str) -> dict[str, Any]:
    """Memory State IdTokenLocalAuthList: a local list (version 1) holding one token."""
    return {PERSIST_KEY: {"version": 1, "entries": [{"idToken": token(name), "idTokenInfo": {"status": status}}]}}


def sent(sim: Sim, action: str) -> list[dict[str, Any]]:
    return [call.payload for call in calls(tuple(sim.log)) if call.action == action]


def decided(effects: Effects) -> list[str]:
    return [n.event.status for n in of_type(effects, Notify) if isinstance(n.event, AuthorizationDecided)]


def plugged(config: dict[str, Any] | None = None, stored: dict[str, Any] | None = None, **identity: Any) -> Sim:
    """Reusable State EVConnectedPreSession."""
    sim = booted(config=config, stored=stored, **identity)
    sim.plug()
    sim.answer_all()
    return sim


PRE_AUTHORIZE = {"AuthCtrlr": {"LocalPreAuthorize": True}}


@pytest.mark.requirements("C12.FR.02", "C12.FR.04", "C10.FR.08")
def test_an_accepted_cached_token_starts_without_authorize_and_counts_as_a_use() -> None:
    sim = plugged(PRE_AUTHORIZE, cached("TOKEN1"))
    sim.now = at(50)
    effects = sim.present_token()
    assert decided(effects) == ["Accepted"] and sent(sim, "Authorize") == []
    entry = sim.station.tokens.cache[token_key(token())]
    assert (entry.last_used, entry.uses) == (at(50), 2), "LifeTime restarts from this use"


@pytest.mark.requirements("C10.FR.11")
def test_without_local_pre_authorize_a_cached_token_is_asked_for() -> None:
    sim = plugged(stored=cached("TOKEN1"))
    sim.present_token()
    assert sent(sim, "Authorize") == [{"idToken": token()}]


@pytest.mark.parametrize("status", ["Invalid", "Blocked", "Expired"])
@pytest.mark.requirements("C12.FR.05", "C10.FR.03")
def test_a_cached_token_not_accepted_is_checked_with_the_csms_again(status: str) -> None:
    sim = plugged(PRE_AUTHORIZE, cached("TOKEN1", status))
    sim.present_token()
    assert sent(sim, "Authorize") == [{"idToken": token()}]
    effects = sim.reply({"idTokenInfo": {"status": "Accepted"}})
    assert decided(effects) == ["Accepted"]
    assert token_store.lookup(sim.station, token(), sim.now) == {"status": "Accepted"}, "C12.FR.06"


@pytest.mark.requirements("C12.FR.05", "C10.FR.03", "C14.FR.03")
def test_each_store_has_its_own_disable_post_authorize() -> None:
    cache_rule = {"AuthCtrlr": {"LocalPreAuthorize": True}, "AuthCacheCtrlr": {"DisablePostAuthorize": True}}
    list_rule = {"AuthCtrlr": {"LocalPreAuthorize": True}, "LocalAuthListCtrlr": {"DisablePostAuthorize": True}}
    for config, stored, refused_locally in [
        (cache_rule, cached("TOKEN1", "Invalid"), ["Invalid"]),
        (list_rule, cached("TOKEN1", "Invalid"), []),
        (list_rule, listed("TOKEN1", "Blocked"), ["Blocked"]),
        (cache_rule, listed("TOKEN1", "Blocked"), []),
    ]:
        sim = plugged(config, stored)
        effects = sim.present_token()
        assert decided(effects) == refused_locally, (config, stored)
        assert bool(sent(sim, "Authorize")) == (not refused_locally), (config, stored)


@pytest.mark.requirements("C10.FR.04", "C10.FR.05", "C12.FR.06")
def test_authorize_and_transaction_event_responses_update_the_cache() -> None:
    sim = plugged()
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted", "groupIdToken": GROUP}})
    assert token_store.lookup(sim.station, token(), sim.now) == {"status": "Accepted", "groupIdToken": GROUP}
    sim.power_path()
    while sim.outstanding().action != "TransactionEvent":
        sim.reply()
    assert sim.outstanding().payload["idToken"] == token()
    sim.reply({"idTokenInfo": {"status": "Blocked"}})
    assert token_store.lookup(sim.station, token(), sim.now) == {"status": "Blocked"}


@pytest.mark.requirements("C10.FR.08")
def test_an_offline_start_from_the_cache_restarts_its_life_time() -> None:
    config = {"AuthCacheCtrlr": {"LifeTime": 100}}
    sim = plugged(config, cached("TOKEN1", last_used=at(0)))
    sim.lose(80)
    assert decided(sim.present_token()) == ["Accepted"]
    assert token_store.lookup(sim.station, token(), at(150)) is not None, "used at 80 s: valid until 180 s"
    assert token_store.lookup(sim.station, token(), at(181)) is None


@pytest.mark.requirements("C09.FR.03", "C09.FR.07")
def test_a_cached_token_of_the_same_group_stops_without_the_csms() -> None:
    stored = {**cached("TOKEN1", groupIdToken=GROUP), **cached("TOKEN2", groupIdToken=GROUP)}
    sim = plugged(PRE_AUTHORIZE, stored)
    sim.present_token()
    sim.power_path()
    sim.answer_all()
    sim.present_token("TOKEN2")
    sim.answer_all()
    assert sent(sim, "Authorize") == []
    ended = sent(sim, "TransactionEvent")[-1]
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "StopAuthorized")


def two_charging(**identity: Any) -> Sim:
    """Reusable State EnergyTransferStarted on both EVSEs, MasterPassGroupId configured."""
    sim = booted(evse_connectors=(1, 1), config={"AuthCtrlr": {"MasterPassGroupId": "MASTER"}}, **identity)
    for evse in (1, 2):
        sim.plug(evse)
        sim.answer_all()
        sim.present_token(f"TOKEN{evse}", evse)
        sim.reply({"idTokenInfo": {"status": "Accepted"}})
        sim.power_path(evse_id=evse)
        sim.answer_all()
    return sim


def present_master_pass(sim: Sim) -> Effects:
    sim.present_token("BOSS", None)
    assert sim.outstanding().payload == {"idToken": token("BOSS")}
    return sim.reply({"idTokenInfo": {"status": "Accepted", "groupIdToken": MASTER}}) + sim.answer_all()


def ended_evses(sim: Sim) -> list[int]:
    events = sent(sim, "TransactionEvent")
    return sorted(
        e["evse"]["id"]
        for e in events
        if e["eventType"] == "Ended" and e["transactionInfo"]["stoppedReason"] == "MasterPass"
    )


@pytest.mark.requirements("C16.FR.01")
def test_a_master_pass_with_a_user_interface_stops_what_its_holder_chooses() -> None:
    sim = two_charging(master_pass_ui=True)
    effects = present_master_pass(sim)
    shown = [n.event for n in of_type(effects, Notify) if isinstance(n.event, MasterPassAccepted)]
    assert shown == [MasterPassAccepted(token("BOSS"), (1, 2))]
    assert ended_evses(sim) == [], "nothing stops before the choice"
    sim.feed(MasterPassChoice(sim.now, (2,)))
    sim.answer_all()
    assert ended_evses(sim) == [2]
    assert [tx.evse_id for tx in sim.station.running_transactions] == [1]
    assert warnings(sim.feed(MasterPassChoice(sim.now, None))), "the choice is used up"
    assert ended_evses(sim) == [2]


@pytest.mark.requirements("C16.FR.01")
def test_a_master_pass_holder_may_stop_all_on_the_user_interface() -> None:
    sim = two_charging(master_pass_ui=True)
    present_master_pass(sim)
    sim.feed(MasterPassChoice(sim.now, None))
    sim.answer_all()
    assert ended_evses(sim) == [1, 2]


@pytest.mark.requirements("C16.FR.02")
def test_without_a_user_interface_a_master_pass_stops_all() -> None:
    sim = two_charging()
    present_master_pass(sim)
    assert ended_evses(sim) == [1, 2]
