"""Block C, authorization: may this idToken charge? Decided from the device model, the token store (local list
and cache, `token_store.lookup_with_source`: each store has its own DisablePostAuthorize) and, when needed, an
Authorize to the CSMS (C01).

The verdict is an idTokenInfo. `decide` gives it without the CSMS when the rules allow (NoAuthorization,
AuthCtrlr.Enabled false, LocalPreAuthorize, DisableRemoteAuthorization, DisablePostAuthorize, or offline:
LocalAuthorizeOffline, OfflineTxForUnknownIdEnabled), or None when the CSMS must be asked. What the transaction
does with a verdict is the transactions module's business.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Success

from chargecore.pure.blocks.authorization import token_store
from chargecore.pure.blocks.provisioning import provisioning
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_value
from chargecore.pure.effects import Effects, TokenQuestion
from chargecore.pure.ocppj import connection, rpc
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.outcome import ask
from chargecore.pure.state import Station

ACCEPTED: dict[str, Any] = {"status": "Accepted"}
UNKNOWN: dict[str, Any] = {"status": "Unknown"}

WITHOUT_AUTHORIZATION = frozenset({"NoAuthorization"})
"""idToken types that need no authorization at all."""


def is_online(station: Station) -> bool:
    return connection.is_up(station) and provisioning.is_accepted(station)


def _setting(station: Station, component: str, variable: str, default: bool) -> bool:
    return get_bool(station.device_model, component, variable, default=default)


def decide(
    station: Station, id_token: dict[str, Any], now: datetime, *, unanswered: bool = False
) -> tuple[Station, dict[str, Any] | None, Effects]:
    """The idTokenInfo decided without the CSMS, or None when an AuthorizeRequest must be sent; `unanswered`: the
    CSMS did not answer one, so decide as offline (C15). A token accepted from the cache counts as a use of its
    entry: LifeTime restarts and LRU/LFU see it (C10.FR.08, C10.FR.07)."""
    if id_token["type"] in WITHOUT_AUTHORIZATION or not _setting(station, "AuthCtrlr", "Enabled", True):
        return station, ACCEPTED, ()
    verdict, source = _offline(station, id_token, now) if unanswered else _known_verdict(station, id_token, now)
    if source == "cache" and verdict is not None and verdict["status"] == "Accepted":
        station, used = token_store.record_use(station, id_token, now)
        return station, verdict, used
    return station, verdict, ()


def _known_verdict(
    station: Station, id_token: dict[str, Any], now: datetime
) -> tuple[dict[str, Any] | None, token_store.Source | None]:
    """The verdict from what the station knows, and the store it came from (None: the rules or no store)."""
    if not is_online(station):
        return _offline(station, id_token, now)
    found = token_store.lookup_with_source(station, id_token, now)
    if _setting(station, "AuthCtrlr", "DisableRemoteAuthorization", False):  # C01.FR.05 / TC_E_52
        return (UNKNOWN, None) if found is None else (found[1], found[0])
    if found is None:
        return None, None
    source, known = found
    if known["status"] == "Accepted":  # C10.FR.03 / C12.FR.02 / C14.FR.02: only with LocalPreAuthorize
        return (known, source) if _setting(station, "AuthCtrlr", "LocalPreAuthorize", False) else (None, None)
    # C12.FR.05 / C14.FR.03: a token known as not Accepted is checked with the CSMS again, unless the
    # DisablePostAuthorize of the store that knows it says not to
    component = "LocalAuthListCtrlr" if source == "local_list" else "AuthCacheCtrlr"
    return (known, source) if _setting(station, component, "DisablePostAuthorize", False) else (None, None)


def _offline(
    station: Station, id_token: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], token_store.Source | None]:
    """C13/C15: known tokens per LocalAuthorizeOffline, unknown ones per OfflineTxForUnknownIdEnabled."""
    found = token_store.lookup_with_source(station, id_token, now)
    if found is not None:
        source, known = found
        if known["status"] != "Accepted" or _setting(station, "AuthCtrlr", "LocalAuthorizeOffline", True):
            return known, source
        return UNKNOWN, None
    if _setting(station, "AuthCtrlr", "OfflineTxForUnknownIdEnabled", False):
        return ACCEPTED, None
    return UNKNOWN, None


def ask_application(station: Station, id_token: dict[str, Any], evse_id: int) -> tuple[Station, Effects]:
    """StationIdentity.validates_tokens: the application may decide a presented token before the station does."""
    station, asked = ask(station, TokenQuestion(id_token, evse_id))
    return station, (asked,)


def application_verdict(answer: Any) -> dict[str, Any] | None:
    """The idTokenInfo the application answered, or None (the station decides) when it is none or not valid."""
    if isinstance(answer, dict) and isinstance(validate("Authorize", "Response", {"idTokenInfo": answer}), Success):
        return answer
    return None


def send_authorize(station: Station, id_token: dict[str, Any]) -> tuple[Station, Effects]:
    session, effects = rpc.enqueue(station.rpc, "Authorize", {"idToken": id_token})
    return replace(station, rpc=session), effects


def same_token(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Two idTokens are the same when their value and type match (additionalInfo does not count)."""
    return a is not None and b is not None and (a["idToken"], a["type"]) == (b["idToken"], b["type"])


def is_master_pass(station: Station, info: dict[str, Any]) -> bool:
    """C16: a token whose group is AuthCtrlr.MasterPassGroupId may stop any transaction but start none."""
    master = get_value(station.device_model, VariableKey("AuthCtrlr", "MasterPassGroupId"))
    group = info.get("groupIdToken")
    return bool(master) and group is not None and group["idToken"] == master


def may_stop(
    transaction_token: dict[str, Any] | None, transaction_group: dict[str, Any] | None, info: dict[str, Any]
) -> bool:
    """C09.FR.03/E07: another token stops a transaction when it is Accepted and shares its GroupId."""
    group = info.get("groupIdToken")
    return info["status"] == "Accepted" and same_token(transaction_group, group) and transaction_token is not None
