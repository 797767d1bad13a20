"""What the station knows about idTokens without asking the CSMS: the local authorization list (D01, D02,
`local_list.py`) and the authorization cache (C10-C12, `auth_cache.py`). The authorization flow (block C)
consults it through `lookup`, feeds it every idTokenInfo the CSMS gives through `remember`, and reports a start
it allowed from the cache through `record_use`.

Precedence: an active local list answers first; the cache is consulted only for tokens the list does not hold,
and never stores them. Whether a known token may start without the CSMS (LocalPreAuthorize,
LocalAuthorizeOffline, DisablePostAuthorize) is the flow's decision: `lookup` returns entries of any status.
See docs/authorization.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from chargecore.pure.blocks.authorization import auth_cache, local_list
from chargecore.pure.blocks.authorization.tokens import token_key
from chargecore.pure.effects import Effects
from chargecore.pure.state import Station

Source = Literal["local_list", "cache"]
"""Which store answered: the flow picks LocalAuthListCtrlr's or AuthCacheCtrlr's DisablePostAuthorize by it."""


def lookup(station: Station, id_token: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The idTokenInfo the local list or else the cache holds for this idToken, or None.

    The list only while LocalAuthListCtrlr is Available and Enabled (an entry past its cacheExpiryDateTime comes
    back with status Expired); the cache only while AuthCacheCtrlr is Available and Enabled, and never an entry
    unused for LifeTime or past its cacheExpiryDateTime (C10.FR.08).
    """
    found = lookup_with_source(station, id_token, now)
    return None if found is None else found[1]


def lookup_with_source(
    station: Station, id_token: dict[str, Any], now: datetime
) -> tuple[Source, dict[str, Any]] | None:
    """`lookup`, saying which store answered."""
    key = token_key(id_token)
    listed = local_list.lookup(station, key, now)
    if listed is not None:
        return "local_list", listed
    cached = auth_cache.lookup(station, key, now)
    return None if cached is None else ("cache", cached)


def remember(
    station: Station, id_token: dict[str, Any], id_token_info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """Update the cache with what the CSMS said of a token (AuthorizeResponse C10.FR.04, TransactionEventResponse
    C10.FR.05, C12.FR.06): only while the cache is enabled, never for a token of the active local list nor for
    NoAuthorization, evicting per Policy to stay within Storage (C10.FR.07)."""
    key = token_key(id_token)
    if id_token.get("type") == "NoAuthorization" or local_list.holds(station, key):
        return station, ()
    return auth_cache.remember(station, key, id_token, id_token_info, now)


def record_use(station: Station, id_token: dict[str, Any], now: datetime) -> tuple[Station, Effects]:
    """The flow authorized this token from the cache: its LifeTime restarts and LRU/LFU count the use."""
    return auth_cache.record_use(station, token_key(id_token), now)


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The list and cache an earlier run persisted under "auth/" (C10.FR.02), with their usage variables."""
    station = local_list.install(station, local_list.restore(persisted))
    return auth_cache.hold(station, auth_cache.restore(persisted))
