"""The authorization cache (C10, C11, C12): what the CSMS last said of each idToken it was asked about.

- Only while AuthCacheCtrlr is Available and Enabled is anything stored or answered; the entries stay (and
  persist) while it is disabled, and ClearCache is then Rejected (C11.FR.04).
- An entry stops counting once it has not been used for AuthCacheCtrlr.LifeTime seconds (C10.FR.08) or its
  cacheExpiryDateTime has passed; it is no longer answered and is the first to go when space is needed.
- The cache never holds more bytes than AuthCacheCtrlr.Storage's maxLimit (an entry's size is its persisted
  record as compact JSON; Storage's Actual value reports the total). To make room it drops entries that are
  not valid first (expired, or a status other than Accepted), then by AuthCacheCtrlr.Policy: LRU the least
  recently used, LFU the least often used (C10.FR.07).
- Each entry is persisted under "auth/cache/<type>/<idToken>" so it survives a reboot (C10.FR.02).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from returns.result import Success

from chargecore.pure.blocks.authorization.local_list import has_expired
from chargecore.pure.blocks.authorization.tokens import CacheEntry, TokenKey, capacity, report, stored_size, token_key
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_value
from chargecore.pure.effects import Effects, Persist
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.ocppj.timestamps import later, parse_ocpp_time, seconds
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

COMPONENT = "AuthCacheCtrlr"
PERSIST_PREFIX = "auth/cache/"

Cache = Mapping[TokenKey, CacheEntry]


def is_active(station: Station) -> bool:
    model = station.device_model
    return get_bool(model, COMPONENT, "Available", default=True) and get_bool(model, COMPONENT, "Enabled")


def persist_key(key: TokenKey) -> str:
    """Stable storage key of one entry; "%" and "/" in the type are escaped so that two keys cannot collide."""
    return f"{PERSIST_PREFIX}{key[0].replace('%', '%25').replace('/', '%2F')}/{key[1]}"


def staleness(station: Station, now: datetime) -> Callable[[CacheEntry], bool]:
    """Whether an entry is stale at `now`: unused for longer than LifeTime (C10.FR.08), or past its
    cacheExpiryDateTime. LifeTime is read once, so ranking a full cache stays cheap."""
    lifetime = get_value(station.device_model, _key("LifeTime"))
    unused_since = None if lifetime is None else later(now, -seconds(int(lifetime)))

    def stale(entry: CacheEntry) -> bool:
        if unused_since is not None and entry.last_used < unused_since:
            return True
        return has_expired(station, entry.id_token_info, now)

    return stale


def _key(variable: str) -> VariableKey:
    return VariableKey(COMPONENT, variable)


def lookup(station: Station, key: TokenKey, now: datetime) -> dict[str, Any] | None:
    """The cached idTokenInfo, whatever its status (the flow decides on C10.FR.03 / C12.FR.05); None when the
    cache is off, holds nothing for the token, or the entry is stale."""
    if not is_active(station):
        return None
    entry = station.tokens.cache.get(key)
    if entry is None or staleness(station, now)(entry):
        return None
    return entry.id_token_info


def remember(
    station: Station, key: TokenKey, id_token: dict[str, Any], id_token_info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """C10.FR.04 / C10.FR.05 / C12.FR.06: store what the CSMS answered, counting it as a use."""
    if not is_active(station):
        return station, ()
    previous = station.tokens.cache.get(key)
    uses = 1 if previous is None else previous.uses + 1
    return _store(station, key, CacheEntry(id_token, id_token_info, now, uses), now)


def record_use(station: Station, key: TokenKey, now: datetime) -> tuple[Station, Effects]:
    """The flow authorized the token from the cache: LifeTime restarts (C10.FR.08) and LRU/LFU see the use."""
    entry = station.tokens.cache.get(key)
    if not is_active(station) or entry is None or staleness(station, now)(entry):
        return station, ()
    return _store(station, key, replace(entry, last_used=now, uses=entry.uses + 1), now)


def _eviction_order(
    station: Station, cache: Cache, changed: TokenKey, alone_too_big: bool, now: datetime
) -> list[TokenKey]:
    """C10.FR.07: entries that are not valid first, then by Policy (LRU: oldest use; LFU: fewest uses). The
    entry just stored or used goes last, so that LFU cannot starve newcomers, or first when it cannot fit even
    alone, so that nothing else goes for it."""
    policy = get_value(station.device_model, _key("Policy")) or "LRU"
    stale = staleness(station, now)

    def rank(key: TokenKey) -> tuple[bool, bool, int, datetime, TokenKey]:
        entry = cache[key]
        valid = entry.id_token_info.get("status") == "Accepted" and not stale(entry)
        return (key == changed) != alone_too_big, valid, entry.uses if policy == "LFU" else 0, entry.last_used, key

    return sorted(cache, key=rank)


def _size(entry: CacheEntry) -> int:
    return stored_size(entry.record())


def _store(station: Station, changed: TokenKey, entry: CacheEntry, now: datetime) -> tuple[Station, Effects]:
    """Hold `entry`, keep the cache within Storage's maxLimit, and persist the entry and every evicted one (the
    entry too when it does not fit on its own). Only the changed and the evicted entries are measured."""
    cache = dict(station.tokens.cache)
    previous = cache.get(changed)
    cache[changed] = entry
    entry_size = _size(entry)
    total = station.tokens.cache_bytes - (0 if previous is None else _size(previous)) + entry_size
    limit = capacity(station.device_model, COMPONENT, "Storage")
    evicted: list[TokenKey] = []
    if limit is not None and total > limit:
        for key in _eviction_order(station, cache, changed, entry_size > limit, now):
            if total <= limit:
                break
            total -= _size(cache.pop(key))
            evicted.append(key)
    entries: list[tuple[str, Any]] = [(persist_key(key), None) for key in evicted]
    if changed in cache:
        entries.append((persist_key(changed), entry.record()))
    return hold(station, cache, total), (Persist(tuple(entries)),)


def hold(station: Station, cache: Cache, size: int | None = None) -> Station:
    """The station holding this cache, with AuthCacheCtrlr.Storage reporting its bytes."""
    used = sum(_size(entry) for entry in cache.values()) if size is None else size
    model = report(station.device_model, COMPONENT, "Storage", used)
    tokens = replace(station.tokens, cache=MappingProxyType(dict(cache)), cache_bytes=used)
    return replace(station, device_model=model, tokens=tokens)


# --- C11 ClearCache -----------------------------------------------------------------------------------------------


def handle_clear_cache(station: Station, call: Call, now: datetime) -> Handled:
    """C11.FR.03: cleared and Accepted; C11.FR.04: Rejected while the cache is disabled (entries kept)."""
    if not is_active(station):
        return station, refusal("Rejected", "NotEnabled", "the authorization cache is not enabled"), ()
    deleted = tuple((persist_key(key), None) for key in station.tokens.cache)
    return hold(station, {}, 0), Reply({"status": "Accepted"}), ((Persist(deleted),) if deleted else ())


# --- persistence ---------------------------------------------------------------------------------------------------


def _restored_entry(stored: Any) -> CacheEntry | None:
    if not isinstance(stored, dict):
        return None
    id_token, info, last_used, uses = (stored.get(name) for name in ("idToken", "idTokenInfo", "lastUsed", "uses"))
    if not isinstance(id_token, dict) or not isinstance(info, dict):
        return None
    if not isinstance(validate("Authorize", "Request", {"idToken": id_token}), Success):
        return None
    if not isinstance(validate("Authorize", "Response", {"idTokenInfo": info}), Success):
        return None
    moment = parse_ocpp_time(last_used) if isinstance(last_used, str) else None
    if not isinstance(moment, Success) or not isinstance(uses, int) or uses < 1:
        return None
    return CacheEntry(id_token, info, moment.unwrap(), uses)


def restore(persisted: Mapping[str, Any]) -> dict[TokenKey, CacheEntry]:
    """The entries an earlier run persisted; unreadable ones are dropped (the CSMS is simply asked again)."""
    cache: dict[TokenKey, CacheEntry] = {}
    for stored_key, stored in persisted.items():
        if stored_key.startswith(PERSIST_PREFIX):
            entry = _restored_entry(stored)
            if entry is not None:
                cache[token_key(entry.id_token)] = entry
    return cache
