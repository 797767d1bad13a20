"""Block D, the local authorization list: SendLocalList (D01), GetLocalListVersion (D02), and the list's answer
when the station looks a token up.

Every SendLocalList is checked whole before anything changes, so a refused update leaves list and version as
they were. The CSMS splits long lists over several messages itself (D01.FR.11); a message over
LocalAuthListCtrlr.ItemsPerMessage or BytesPerMessage (measured as its compact JSON CALL frame), or an update that
would leave more entries than Entries' maxLimit or more bytes than Storage's maxLimit, is answered Failed with a
reasonCode (Part 2 Appendix 5: TooManyElements, TooLargeElement, OutOfStorage). The list is persisted as one
value under "auth/local_list".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from returns.result import Success

from chargecore.pure.blocks.authorization.tokens import LocalList, TokenKey, capacity, report, stored_size, token_key
from chargecore.pure.device_model.model import get_bool, get_int
from chargecore.pure.effects import Persist
from chargecore.pure.ocppj.frames import Call, encode_frame
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.ocppj.timestamps import parse_ocpp_time
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station

COMPONENT = "LocalAuthListCtrlr"
PERSIST_KEY = "auth/local_list"


def is_active(station: Station) -> bool:
    """Supported (Available) and switched on (Enabled); otherwise the list is neither changed nor consulted."""
    model = station.device_model
    return get_bool(model, COMPONENT, "Available", default=True) and get_bool(model, COMPONENT, "Enabled")


def holds(station: Station, key: TokenKey) -> bool:
    return is_active(station) and key in station.tokens.local_list.entries


def lookup(station: Station, key: TokenKey, now: datetime) -> dict[str, Any] | None:
    """The idTokenInfo the list holds for the token; status Expired once its cacheExpiryDateTime has passed
    (the token "must be considered invalid" from then on)."""
    if not is_active(station):
        return None
    entry = station.tokens.local_list.entries.get(key)
    if entry is None:
        return None
    info: dict[str, Any] = entry["idTokenInfo"]
    if has_expired(station, info, now):
        return {**info, "status": "Expired"}
    return info


def has_expired(station: Station, info: Mapping[str, Any], now: datetime) -> bool:
    """cacheExpiryDateTime (CSMS time) is at or before the station's OCPP clock."""
    expiry = info.get("cacheExpiryDateTime")
    if expiry is None:
        return False
    parsed = parse_ocpp_time(str(expiry))
    return isinstance(parsed, Success) and parsed.unwrap() <= now + station.registration.clock_offset


# --- D01 SendLocalList --------------------------------------------------------------------------------------------


def _failed(reason: str, detail: str) -> Reply:
    return refusal("Failed", reason, detail)


def _refusal(station: Station, call: Call) -> Reply | None:
    """Why this SendLocalList cannot be applied, checked before anything changes; None when it can."""
    payload = call.payload
    model = station.device_model
    items: list[dict[str, Any]] = payload.get("localAuthorizationList", [])
    if not is_active(station):
        return _failed("NotEnabled", "the local authorization list is not enabled")
    if payload["versionNumber"] <= 0:
        return _failed("InvalidValue", "versionNumber must be greater than 0 (D01.FR.18)")
    items_limit = get_int(model, COMPONENT, "ItemsPerMessage", default=0)
    if 0 < items_limit < len(items):
        return _failed("TooManyElements", f"{len(items)} entries, ItemsPerMessage is {items_limit}")
    bytes_limit = get_int(model, COMPONENT, "BytesPerMessage", default=0)
    size = len(encode_frame(call))  # ASCII only: characters are bytes
    if 0 < bytes_limit < size:
        return _failed("TooLargeElement", f"{size} bytes, BytesPerMessage is {bytes_limit}")
    if len({token_key(item["idToken"]) for item in items}) != len(items):
        return _failed("InvalidValue", "an idToken appears twice (D01.FR.06)")
    if payload["updateType"] == "Full" and any("idTokenInfo" not in item for item in items):
        return _failed("MissingParam", "a Full update needs idTokenInfo on every entry")
    return None


def _updated(current: LocalList, payload: Mapping[str, Any]) -> LocalList:
    """D01.FR.15: Full replaces the list (D01.FR.04: an empty one clears it); Differential adds or updates
    entries with idTokenInfo (D01.FR.16) and removes those without (D01.FR.17), an empty one changing only the
    version (D01.FR.05). Only the entries that change are measured."""
    full = payload["updateType"] == "Full"
    entries = {} if full else dict(current.entries)
    size = 0 if full else current.size
    for item in payload.get("localAuthorizationList", []):
        key = token_key(item["idToken"])
        previous = entries.pop(key, None)
        if previous is not None:
            size -= stored_size(previous)
        if "idTokenInfo" in item:
            entries[key] = {"idToken": item["idToken"], "idTokenInfo": item["idTokenInfo"]}
            size += stored_size(entries[key])
    return LocalList(payload["versionNumber"], MappingProxyType(entries), size)


def _over_capacity(station: Station, local_list: LocalList) -> Reply | None:
    entries_limit = capacity(station.device_model, COMPONENT, "Entries")
    if entries_limit is not None and len(local_list.entries) > entries_limit:
        return _failed("OutOfStorage", f"{len(local_list.entries)} entries, the list holds {entries_limit}")
    storage_limit = capacity(station.device_model, COMPONENT, "Storage")
    if storage_limit is not None and local_list.size > storage_limit:
        return _failed("OutOfStorage", f"{local_list.size} bytes, the list holds {storage_limit}")
    return None


def install(station: Station, local_list: LocalList) -> Station:
    """The station holding this list, with LocalAuthListCtrlr.Entries and Storage reporting it."""
    model = report(station.device_model, COMPONENT, "Entries", len(local_list.entries))
    model = report(model, COMPONENT, "Storage", local_list.size)
    return replace(station, device_model=model, tokens=replace(station.tokens, local_list=local_list))


def record(local_list: LocalList) -> dict[str, Any]:
    return {"version": local_list.version, "entries": list(local_list.entries.values())}


def handle_send_local_list(station: Station, call: Call, now: datetime) -> Handled:
    refusal = _refusal(station, call)
    if refusal is not None:
        return station, refusal, ()
    current = station.tokens.local_list
    if call.payload["updateType"] == "Differential" and call.payload["versionNumber"] <= current.version:
        return station, Reply({"status": "VersionMismatch"}), ()  # D01.FR.19
    updated = _updated(current, call.payload)
    too_big = _over_capacity(station, updated)
    if too_big is not None:
        return station, too_big, ()
    return install(station, updated), Reply({"status": "Accepted"}), (Persist(((PERSIST_KEY, record(updated)),)),)


# --- D02 GetLocalListVersion --------------------------------------------------------------------------------------


def handle_get_local_list_version(station: Station, call: Call, now: datetime) -> Handled:
    """D02.FR.01: the version of the installed list; 0 when none was installed or the list is not enabled."""
    version = station.tokens.local_list.version if is_active(station) else 0
    return station, Reply({"versionNumber": version}), ()


# --- persistence ---------------------------------------------------------------------------------------------------


def restore(persisted: Mapping[str, Any]) -> LocalList:
    """The list an earlier run persisted; an unreadable record counts as no list (the CSMS will send it again
    after GetLocalListVersion answers 0)."""
    stored = persisted.get(PERSIST_KEY)
    if not isinstance(stored, dict):
        return LocalList()
    version, entries = stored.get("version"), stored.get("entries")
    if not isinstance(version, int) or version < 0 or not isinstance(entries, list):
        return LocalList()
    as_update = {"versionNumber": version, "updateType": "Full"} | (
        {"localAuthorizationList": entries} if entries else {}
    )
    if not isinstance(validate("SendLocalList", "Request", as_update), Success):
        return LocalList()
    if any("idTokenInfo" not in entry for entry in entries):
        return LocalList()
    by_key = {token_key(entry["idToken"]): entry for entry in entries}
    return LocalList(version, MappingProxyType(by_key), sum(stored_size(entry) for entry in by_key.values()))
