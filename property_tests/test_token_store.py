"""Properties of the local authorization list and the authorization cache.

- After any sequence of SendLocalList requests (Full and Differential, good and bad versions, duplicates,
  entries without idTokenInfo) the station's list equals a plain dict model of D01, its version follows D01.FR.18
  / D01.FR.19, every refused request changes nothing, and what it persisted rebuilds exactly the same list.
- After any sequence of cache updates, uses and ClearCache under a random Storage limit, the cache never holds
  more bytes than the limit, reports what it holds in AuthCacheCtrlr.Storage, keeps the entry just stored when
  it fits on its own, evicts no more than it must, and what it persisted rebuilds the same cache.

The oracles measure and key entries themselves (compact JSON, ASCII lower case) rather than calling the core.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.authorization import token_store
from chargecore.pure.blocks.authorization.tokens import CacheEntry
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value, set_value
from chargecore.pure.inputs import Connected, FrameReceived, PowerUp
from chargecore.pure.state import Station

from .support import CALL, CALLRESULT, T0, Harness, boot_response, fresh_station, sent_frames

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ("A", "a", "B", "c", "C", "D")
TYPES = ("ISO14443", "KeyCode")
STATUSES = ("Accepted", "Blocked", "Expired", "Invalid", "Unknown")

id_tokens = st.builds(
    lambda name, kind: {"idToken": name, "type": kind}, st.sampled_from(NAMES), st.sampled_from(TYPES)
)
authorization_data = st.builds(
    lambda id_token, status: (
        {"idToken": id_token} if status is None else {"idToken": id_token, "idTokenInfo": {"status": status}}
    ),
    id_tokens,
    st.none() | st.sampled_from(STATUSES),
)
requests = st.builds(
    lambda version, update, items: (
        {"versionNumber": version, "updateType": update} | ({"localAuthorizationList": items} if items else {})
    ),
    st.integers(-1, 8),
    st.sampled_from(["Full", "Differential"]),
    st.lists(authorization_data, max_size=5),
)


def key(id_token: dict[str, str]) -> tuple[str, str]:
    return id_token["type"], id_token["idToken"].lower()


def booted_harness() -> Harness:
    harness = Harness()
    harness.run(PowerUp(T0, "cafe"))
    boot = sent_frames(harness.run(Connected(T0)))[0]
    harness.run(FrameReceived(T0, json.dumps([CALLRESULT, boot.message_id, boot_response(T0, "Accepted")])))
    return harness


def call(harness: Harness, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    frames = [
        f
        for f in sent_frames(harness.run(FrameReceived(T0, json.dumps([CALL, "m", action, payload]))))
        if f.message_id == "m"
    ]
    assert len(frames) == 1 and frames[0].type_id == CALLRESULT, frames
    return frames[0].payload  # type: ignore[no-any-return]


def expected_status(request: dict[str, Any], version: int) -> str:
    """D01 as a table: what the station must answer with list `version` installed."""
    items = request.get("localAuthorizationList", [])
    if request["versionNumber"] <= 0:
        return "Failed"
    if len({key(item["idToken"]) for item in items}) != len(items):
        return "Failed"
    if request["updateType"] == "Full" and any("idTokenInfo" not in item for item in items):
        return "Failed"
    if request["updateType"] == "Differential" and request["versionNumber"] <= version:
        return "VersionMismatch"
    return "Accepted"


@SETTINGS
@given(st.lists(requests, max_size=12))
def test_the_local_list_follows_a_dict_model(sent: list[dict[str, Any]]) -> None:
    harness = booted_harness()
    version, model = 0, {}
    for request in sent:
        status = call(harness, "SendLocalList", request)["status"]
        assert status == expected_status(request, version), (request, version)
        if status == "Accepted":
            version = request["versionNumber"]
            if request["updateType"] == "Full":
                model = {}
            for item in request.get("localAuthorizationList", []):
                if "idTokenInfo" in item:
                    model[key(item["idToken"])] = item["idTokenInfo"]
                else:
                    model.pop(key(item["idToken"]), None)
        station = harness.station
        held = {(k[0], k[1].lower()): v["idTokenInfo"] for k, v in station.tokens.local_list.entries.items()}
        assert held == model
        assert call(harness, "GetLocalListVersion", {}) == {"versionNumber": version}
        for kind in TYPES:
            for name in NAMES:
                found = token_store.lookup(station, {"idToken": name, "type": kind}, T0)
                assert found == model.get((kind, name.lower()))
        assert fresh_station(harness.storage).tokens.local_list == station.tokens.local_list


# --- the cache ----------------------------------------------------------------------------------------------


def size(entry: CacheEntry) -> int:
    return len(json.dumps(entry.record(), separators=(",", ":"), ensure_ascii=False).encode())


def with_storage_limit(station: Station, limit: int) -> Station:
    model = station.device_model
    storage = VariableKey("AuthCacheCtrlr", "Storage")
    definitions = {**model.definitions, storage: replace(model.definitions[storage], max_limit=float(limit))}
    return replace(station, device_model=replace(model, definitions=MappingProxyType(definitions)))


operations = st.lists(
    st.tuples(st.sampled_from(["remember", "use", "clear"]), id_tokens, st.sampled_from(STATUSES), st.integers(0, 50)),
    max_size=25,
)


@SETTINGS
@given(limit=st.integers(50, 600), lfu=st.booleans(), steps=operations)
def test_the_cache_never_exceeds_its_storage(limit: int, lfu: bool, steps: list[tuple[str, Any, str, int]]) -> None:
    harness = booted_harness()
    if lfu:
        policy = set_value(harness.station.device_model, VariableKey("AuthCacheCtrlr", "Policy"), "LFU")
        harness.station = replace(harness.station, device_model=policy.unwrap())
    harness.station = with_storage_limit(harness.station, limit)
    now = T0
    for operation, id_token, status, seconds in steps:
        now += timedelta(seconds=seconds)
        before = dict(harness.station.tokens.cache)
        if operation == "clear":
            assert call(harness, "ClearCache", {}) == {"status": "Accepted"}
            assert not harness.station.tokens.cache
            continue
        if operation == "remember":
            harness.station, effects = token_store.remember(harness.station, id_token, {"status": status}, now)
        else:
            harness.station, effects = token_store.record_use(harness.station, id_token, now)
        for effect in effects:
            for stored_key, value in effect.entries:  # type: ignore[union-attr]
                if value is None:
                    harness.storage.pop(stored_key, None)
                else:
                    harness.storage[stored_key] = value
        cache = harness.station.tokens.cache
        held = sum(size(entry) for entry in cache.values())
        assert held <= limit
        assert get_value(harness.station.device_model, VariableKey("AuthCacheCtrlr", "Storage")) == str(held)
        changed = key(id_token)
        lowered = {(k[0], k[1].lower()): v for k, v in cache.items()}
        if (
            operation == "remember"
            and size(lowered.get(changed) or CacheEntry(id_token, {"status": status}, now)) <= limit
        ):
            assert changed in lowered, "the entry just stored fits on its own, so it stays"
        evicted = [k for k in before if k not in cache and (k[0], k[1].lower()) != changed]
        if evicted:
            biggest = max(size(before[k]) for k in evicted)
            assert held + biggest > limit, "entries were evicted although the cache fitted without them"
        assert dict(fresh_station(harness.storage).tokens.cache) == dict(cache)
