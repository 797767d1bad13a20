"""The authorization cache: `token_store.remember` / `lookup` / `record_use` on a booted station (the calls the
authorization flow makes), ClearCache (C11) through `step`, eviction within Storage and persistence."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pytest
from core_helpers import Sim, at, booted, of_type, persisted, replies

from chargecore.pure.blocks.authorization import token_store
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import Persist


def token(name: str, kind: str = "ISO14443") -> dict[str, Any]:
    return {"idToken": name, "type": kind}


def remember(sim: Sim, name: str, status: str = "Accepted", at_s: float | None = None, **info: Any) -> Persist | None:
    """The CSMS answered `status` for token `name`; the Persist effect the cache made, if any."""
    now = sim.when(at_s)
    sim.now = now
    sim.station, effects = token_store.remember(sim.station, token(name), {"status": status, **info}, now)
    sim.log.extend(effects)
    (persist,) = of_type(effects, Persist) or (None,)
    return persist


def known(sim: Sim, name: str, at_s: float | None = None) -> str | None:
    info = token_store.lookup(sim.station, token(name), sim.when(at_s))
    return None if info is None else info["status"]  # type: ignore[no-any-return]


def use(sim: Sim, name: str, at_s: float) -> None:
    sim.now = at(at_s)
    sim.station, effects = token_store.record_use(sim.station, token(name), sim.now)
    sim.log.extend(effects)


def storage_limit(sim: Sim, limit: int) -> None:
    """Give AuthCacheCtrlr.Storage a smaller maxLimit (the catalogue's is 65536 bytes)."""
    model = sim.station.device_model
    key = VariableKey("AuthCacheCtrlr", "Storage")
    definitions = {**model.definitions, key: replace(model.definitions[key], max_limit=float(limit))}
    sim.station = replace(sim.station, device_model=replace(model, definitions=MappingProxyType(definitions)))


def used_bytes(sim: Sim) -> int:
    return int(get_value(sim.station.device_model, VariableKey("AuthCacheCtrlr", "Storage")) or "0")


def clear_cache(sim: Sim) -> dict[str, Any]:
    ((kind, _, response),) = replies(sim.csms_call("ClearCache", {}))
    assert kind == 3, response
    return response  # type: ignore[no-any-return]


@pytest.mark.requirements("C10.FR.04", "C10.FR.05", "C12.FR.06")
def test_every_answer_of_the_csms_is_stored_and_updated() -> None:
    sim = booted()
    remember(sim, "A")
    remember(sim, "B", "Blocked")
    assert (known(sim, "A"), known(sim, "B"), known(sim, "C")) == ("Accepted", "Blocked", None)
    remember(sim, "a", "Invalid")
    assert known(sim, "A") == "Invalid", "idTokens are case insensitive"
    assert known(sim, "A") is not None and token_store.lookup(sim.station, token("A", "KeyCode"), sim.now) is None


def test_nothing_is_stored_or_answered_while_the_cache_is_disabled() -> None:
    sim = booted()
    remember(sim, "A")
    sim.change_variable("AuthCacheCtrlr", "Enabled", "false")
    assert remember(sim, "B") is None
    assert (known(sim, "A"), known(sim, "B")) == (None, None)
    sim.change_variable("AuthCacheCtrlr", "Enabled", "true")
    assert (known(sim, "A"), known(sim, "B")) == ("Accepted", None), "disabling keeps what was stored"


def test_tokens_of_the_local_list_are_not_cached_and_the_list_answers_first() -> None:
    sim = booted()
    remember(sim, "A", "Blocked")
    list_a = {"idToken": token("A"), "idTokenInfo": {"status": "Accepted"}}
    sim.csms_call("SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [list_a]})
    assert known(sim, "A") == "Accepted"
    assert remember(sim, "A", "Invalid") is None
    assert token_store.lookup_with_source(sim.station, token("A"), sim.now) == ("local_list", {"status": "Accepted"})
    assert token_store.lookup_with_source(sim.station, token("B"), sim.now) is None
    remember(sim, "B")
    assert token_store.lookup_with_source(sim.station, token("B"), sim.now) == ("cache", {"status": "Accepted"})


def test_no_authorization_tokens_are_not_cached() -> None:
    sim = booted()
    sim.station, effects = token_store.remember(
        sim.station, token("", "NoAuthorization"), {"status": "Accepted"}, at(3)
    )
    assert effects == () and not sim.station.tokens.cache


@pytest.mark.requirements("C10.FR.08")
def test_an_entry_unused_for_its_lifetime_is_no_longer_answered() -> None:
    sim = booted(config={"AuthCacheCtrlr": {"LifeTime": 100}})
    remember(sim, "A", at_s=10)
    assert known(sim, "A", at_s=110) == "Accepted"
    assert known(sim, "A", at_s=111) is None
    remember(sim, "B", at_s=10)
    use(sim, "B", 100)
    assert known(sim, "B", at_s=200) == "Accepted", "a use restarts the lifetime"
    assert known(sim, "B", at_s=201) is None
    use(sim, "B", 300)
    assert known(sim, "B", at_s=301) is None, "a stale entry is not revived by a use"


def test_an_entry_past_its_cache_expiry_date_time_is_no_longer_answered() -> None:
    sim = booted()  # the CSMS clock reads 2030-01-01T00:00:00Z at T0+2 s
    remember(sim, "A", cacheExpiryDateTime="2030-01-01T00:01:00Z")
    assert known(sim, "A", at_s=61) == "Accepted"
    assert known(sim, "A", at_s=62) is None


@pytest.mark.requirements("C10.FR.07")
def test_to_make_room_invalid_entries_go_first_then_the_least_recently_used() -> None:
    sim = booted()
    remember(sim, "A", at_s=10)
    entry_size = used_bytes(sim)
    storage_limit(sim, 3 * entry_size + 5)  # three entries fit
    remember(sim, "B", "Blocked", at_s=20)
    remember(sim, "C", at_s=30)
    use(sim, "A", 40)
    persist = remember(sim, "D", at_s=50)
    assert [known(sim, name) for name in "ABCD"] == ["Accepted", None, "Accepted", "Accepted"]
    assert persist is not None and ("auth/cache/ISO14443/b", None) in persist.entries
    remember(sim, "E", at_s=60)
    assert [known(sim, name) for name in "ACDE"] == ["Accepted", None, "Accepted", "Accepted"], "C: least recent"
    assert used_bytes(sim) <= 3 * entry_size + 5


@pytest.mark.requirements("C10.FR.07")
def test_the_lfu_policy_drops_the_least_often_used() -> None:
    sim = booted(config={"AuthCacheCtrlr": {"Policy": "LFU"}})
    remember(sim, "A", at_s=10)
    storage_limit(sim, 2 * used_bytes(sim) + 5)
    remember(sim, "B", at_s=20)
    use(sim, "A", 30)
    use(sim, "A", 40)
    use(sim, "B", 50)
    remember(sim, "C", at_s=60)
    assert [known(sim, name) for name in "ABC"] == ["Accepted", None, "Accepted"]


def test_an_entry_larger_than_the_whole_cache_is_not_kept() -> None:
    sim = booted()
    storage_limit(sim, 50)
    persist = remember(sim, "A")
    assert known(sim, "A") is None and used_bytes(sim) == 0
    assert persist is not None and persist.entries == (("auth/cache/ISO14443/a", None),)


@pytest.mark.requirements("C11.FR.02", "C11.FR.03")
def test_clear_cache_empties_the_cache_and_its_storage() -> None:
    sim = booted()
    remember(sim, "A")
    remember(sim, "B", "Blocked")
    assert clear_cache(sim) == {"status": "Accepted"}
    assert (known(sim, "A"), known(sim, "B"), used_bytes(sim)) == (None, None, 0)
    stored = persisted(sim.log)
    assert stored["auth/cache/ISO14443/a"] is None and stored["auth/cache/ISO14443/b"] is None
    assert clear_cache(sim) == {"status": "Accepted"}, "an empty cache clears too"


@pytest.mark.requirements("C11.FR.04")
def test_clear_cache_is_rejected_while_the_cache_is_disabled() -> None:
    sim = booted(config={"AuthCacheCtrlr": {"Enabled": False}})
    sim.change_variable("AuthCacheCtrlr", "Enabled", "true")
    remember(sim, "A")
    sim.change_variable("AuthCacheCtrlr", "Enabled", "false")
    assert clear_cache(sim) == {
        "status": "Rejected",
        "statusInfo": {"reasonCode": "NotEnabled", "additionalInfo": "the authorization cache is not enabled"},
    }
    sim.change_variable("AuthCacheCtrlr", "Enabled", "true")
    assert known(sim, "A") == "Accepted"


@pytest.mark.requirements("C10.FR.02")
def test_the_cache_survives_a_restart_with_its_usage() -> None:
    sim = booted(config={"AuthCacheCtrlr": {"LifeTime": 100}})
    remember(sim, "A", at_s=10)
    remember(sim, "B", "Expired", at_s=20)
    use(sim, "A", 50)
    restarted = booted(config={"AuthCacheCtrlr": {"LifeTime": 100}}, stored=persisted(sim.log))
    assert (known(restarted, "A", at_s=150), known(restarted, "B", at_s=120)) == ("Accepted", "Expired")
    assert known(restarted, "A", at_s=151) is None, "the last use persisted"
    assert used_bytes(restarted) == used_bytes(sim)


def test_unreadable_persisted_entries_are_dropped() -> None:
    good = {"idToken": token("A"), "idTokenInfo": {"status": "Accepted"}, "lastUsed": at(0).isoformat(), "uses": 1}
    stored = {
        "auth/cache/ISO14443/a": good,
        "auth/cache/ISO14443/b": {**good, "idToken": token("B"), "uses": 0},
        "auth/cache/ISO14443/c": {**good, "idToken": token("C"), "idTokenInfo": {"status": "Maybe"}},
        "auth/cache/ISO14443/d": "junk",
    }
    sim = booted(stored=stored)
    assert [known(sim, name) for name in "ABCD"] == ["Accepted", None, None, None]
