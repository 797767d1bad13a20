"""What the station knows about idTokens without asking the CSMS: the local authorization list (D01, D02)
and the authorization cache (C10-C12). The authorization flow (block C) consults it through `lookup` and
feeds it every idTokenInfo the CSMS gives through `remember`.

Being built: this first version knows no token; the local list and cache land here next.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargecore.pure.effects import Effects
from chargecore.pure.state import Station


def lookup(station: Station, id_token: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """The idTokenInfo the local list or the cache holds for this idToken (C03.FR, C10, D01 rules), or None."""
    return None


def remember(
    station: Station, id_token: dict[str, Any], id_token_info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """Update the cache with what the CSMS said of a token (AuthorizeResponse, TransactionEventResponse)."""
    return station, ()
