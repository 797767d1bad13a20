"""The idTokens the station knows without asking the CSMS, as data: the local authorization list (D01) and the
authorization cache (C10). `local_list.py` and `auth_cache.py` own the rules; this module only holds the shapes,
so that `state.py` can carry them without importing the rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import set_value
from chargecore.pure.ocppj.frames import compact_json

TokenKey = tuple[str, str]
"""(idToken type, idToken casefolded): IdTokenType.idToken is case insensitive, the type is not."""



def token_key(id_token: Mapping[str, Any]) -> TokenKey:
    return str(id_token["type"]), str(id_token["idToken"]).casefold()


def stored_size(value: Any) -> int:
    """Bytes a stored value takes: its compact JSON in UTF-8, the measure of the Storage variables."""
    return len(compact_json(value))


@dataclass(frozen=True, slots=True)
class LocalList:
    """The local authorization list: version 0 means no list was ever installed (D01.FR.18, D02)."""

    version: int = 0
    entries: Mapping[TokenKey, dict[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    """key -> the AuthorizationData the CSMS sent ({"idToken": ..., "idTokenInfo": ...})."""
    size: int = 0
    """The bytes of all entries (`stored_size` of each), kept up to date entry by entry."""


@dataclass(frozen=True, slots=True)
class CacheEntry:
    id_token: dict[str, Any]
    id_token_info: dict[str, Any]
    last_used: datetime
    """When the token was last authorized or used; AuthCacheCtrlr.LifeTime counts from here (C10.FR.08)."""
    uses: int = 1
    """How often it was authorized or used: the LFU policy evicts the least used first."""

    def record(self) -> dict[str, Any]:
        """The persisted (and measured) form of the entry."""
        return {
            "idToken": self.id_token,
            "idTokenInfo": self.id_token_info,
            "lastUsed": self.last_used.isoformat(),
            "uses": self.uses,
        }


@dataclass(frozen=True, slots=True)
class TokenStore:
    local_list: LocalList = LocalList()
    cache: Mapping[TokenKey, CacheEntry] = field(default_factory=lambda: MappingProxyType({}))
    cache_bytes: int = 0
    """The bytes the cache holds, kept up to date so that storing one entry measures only that entry."""


def capacity(model: DeviceModel, component: str, variable: str) -> int | None:
    """The maxLimit of a station-level variable: how the device model states a capacity (Entries, Storage)."""
    definition = model.definitions.get(VariableKey(component, variable))
    return None if definition is None or definition.max_limit is None else int(definition.max_limit)


def report(model: DeviceModel, component: str, variable: str, value: int) -> DeviceModel:
    """Set a read-only reading the station keeps itself (Entries, Storage); unchanged if the catalogue lacks it."""
    changed = set_value(model, VariableKey(component, variable), str(value), respect_mutability=False)
    return changed.value_or(model)
