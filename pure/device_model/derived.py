"""Values derived from a device model, computed once per model value instead of once per input.

A `DeviceModel` never changes once built, and the inbound path reads the same settings from it over and over
(smart-charging capabilities, message limits): a bounded cache of a pure function keyed by the model makes those
reads one lookup. The model is unhashable (it holds mappings) and hashing its thousands of values would cost more
than the lookups saved, so the key is the model's identity; the cache holds the model itself, so no other object
can take its id while the entry lives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import TypeVar

from chargecore.pure.device_model.catalogue import DeviceModel

T = TypeVar("T")

CACHED_MODELS = 64
"""Entries per derived function: one per model value in use (a fleet shares the built-in one until a station's
SetVariables gives it its own)."""


class _ByIdentity:
    """A device model as a cache key: equal only to itself."""

    __slots__ = ("model",)

    def __init__(self, model: DeviceModel) -> None:
        self.model = model

    def __hash__(self) -> int:
        return id(self.model)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _ByIdentity) and other.model is self.model


def per_model(derive: Callable[..., T]) -> Callable[..., T]:
    """`derive(model, *args)` computed once per (model value, args); `derive` must be a pure function of them and
    its result immutable."""

    @functools.lru_cache(maxsize=CACHED_MODELS)
    def cached(key: _ByIdentity, *args: Hashable) -> T:
        return derive(key.model, *args)

    @functools.wraps(derive)
    def lookup(model: DeviceModel, *args: Hashable) -> T:
        return cached(_ByIdentity(model), *args)

    return lookup
