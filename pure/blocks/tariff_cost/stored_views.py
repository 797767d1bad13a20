"""Block I's persisted state: each EVSE's driver view (tariff texts, running or final cost) under
`tariff/view/<evse>`, so that a session that survives a restart keeps its tariff and cost on the display.

A view is written whenever it changes and deleted when it goes. A refused token's timed message (`until`, shell
time) is not written: the shell's clock starts anew with the process. A record that no longer parses is left out
by `restore` and named by `dropped_at_restore` (the shell logs it, docs/storage.md). The cost is stored as the
decimal's text, so it comes back exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from chargecore.pure.blocks.tariff_cost.costs import MAX_COST, DriverView, message_problem
from chargecore.pure.effects import CostPrices, CostShown, MessageContent
from chargecore.pure.state import Station

KEY_PREFIX = "tariff/view/"


def _texts(texts: tuple[MessageContent, ...]) -> list[dict[str, Any]]:
    return [{"content": t.text, "format": t.format, **({"language": t.language} if t.language else {})} for t in texts]


def encode(view: DriverView) -> dict[str, Any]:
    cost = view.cost
    return {
        "evse": view.evse_id,
        "idToken": view.id_token,
        "transactionId": view.transaction_id,
        "texts": _texts(view.texts),
        "languages": list(view.languages),
        "cost": None
        if cost is None
        else {
            "transactionId": cost.transaction_id,
            "total": None if cost.total is None else str(cost.total),
            "currency": cost.currency,
            "final": cost.final,
            "fallback": cost.fallback,
            "texts": _texts(cost.texts),
            "qrCode": cost.qr_code,
            "prices": _encode_prices(cost.prices),
            "nextPrices": _encode_prices(cost.next_prices),
            "nextAt": None if cost.next_at is None else cost.next_at.isoformat(),
        },
    }


PRICE_NAMES = ("kwh", "hour", "flat_fee", "idle_hour")


def _encode_prices(prices: CostPrices | None) -> dict[str, Any] | None:
    if prices is None:
        return None
    encoded: dict[str, Any] = {name: _text(getattr(prices, name)) for name in PRICE_NAMES}
    return {**encoded, "idle_grace_minutes": prices.idle_grace_minutes}


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def persist_entries(before: tuple[DriverView, ...], after: tuple[DriverView, ...]) -> tuple[tuple[str, Any], ...]:
    """What to write so that the store holds `after`'s lasting views: changed ones written, gone ones deleted."""
    old = {v.evse_id: v for v in before if v.until is None}
    new = {v.evse_id: v for v in after if v.until is None}
    written = tuple((f"{KEY_PREFIX}{e}", encode(v)) for e, v in sorted(new.items()) if old.get(e) != v)
    deleted = tuple((f"{KEY_PREFIX}{e}", None) for e in sorted(old) if e not in new)
    return written + deleted


class _Unreadable(Exception):
    """A stored view does not parse (internal to `decode`)."""


def _optional_str(record: Mapping[str, Any], field: str) -> str | None:
    value = record.get(field)
    if value is not None and not isinstance(value, str):
        raise _Unreadable(f"{field} is not a string")
    return value


def _decode_texts(items: Any) -> tuple[MessageContent, ...]:
    if not isinstance(items, list):
        raise _Unreadable("texts is not a list")
    for item in items:
        problem = message_problem(item)
        if problem is not None:
            raise _Unreadable(problem)
    return tuple(MessageContent.of(item) for item in items)


def _decimal(where: str, text: Any) -> Decimal | None:
    if text is None:
        return None
    try:
        amount = Decimal(text) if isinstance(text, str) else None
    except InvalidOperation:
        amount = None
    if amount is None or not (amount.is_finite() and abs(amount) < MAX_COST):
        raise _Unreadable(f"{where} {text!r} is not a decimal within bounds")
    return amount


def _decode_prices(record: Any) -> CostPrices | None:
    if record is None:
        return None
    if not isinstance(record, dict):
        raise _Unreadable("prices is not a record")
    grace = record.get("idle_grace_minutes")
    if grace is not None and (isinstance(grace, bool) or not isinstance(grace, int)):
        raise _Unreadable("idle_grace_minutes is not an integer")
    decoded = {name: _decimal(name, record.get(name)) for name in PRICE_NAMES}
    return CostPrices(**decoded, idle_grace_minutes=grace)


def _decode_cost(record: Any) -> CostShown | None:
    if record is None:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("transactionId"), str):
        raise _Unreadable("cost is not a record with its transactionId")
    amount = _decimal("cost total", record.get("total"))
    next_at = _optional_str(record, "nextAt")
    try:
        next_moment = None if next_at is None else datetime.fromisoformat(next_at)
    except ValueError as error:
        raise _Unreadable(f"nextAt {next_at!r} is not a time") from error
    currency = record.get("currency")
    if not isinstance(currency, str) or not isinstance(record.get("final"), bool):
        raise _Unreadable("cost lacks its currency or final flag")
    return CostShown(
        transaction_id=record["transactionId"],
        total=amount,
        currency=currency,
        final=record["final"],
        fallback=_optional_str(record, "fallback"),
        texts=_decode_texts(record.get("texts", [])),
        qr_code=_optional_str(record, "qrCode"),
        prices=_decode_prices(record.get("prices")),
        next_prices=_decode_prices(record.get("nextPrices")),
        next_at=next_moment,
    )


def decode(station: Station, record: Any) -> DriverView | str:
    """A stored view, or why it is unreadable (damaged, or an EVSE the station no longer has)."""
    try:
        if not isinstance(record, dict) or not isinstance(record.get("evse"), int) or isinstance(record["evse"], bool):
            raise _Unreadable("not a record with its EVSE")
        evse_id = record["evse"]
        if not 0 <= evse_id <= len(station.identity.evse_connectors):
            raise _Unreadable(f"the station has no EVSE {evse_id}")
        languages = record.get("languages", [])
        if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
            raise _Unreadable("languages is not a list of strings")
        return DriverView(
            evse_id=evse_id,
            id_token=_optional_str(record, "idToken"),
            transaction_id=_optional_str(record, "transactionId"),
            texts=_decode_texts(record.get("texts", [])),
            cost=_decode_cost(record.get("cost")),
            languages=tuple(languages),
        )
    except _Unreadable as problem:
        return str(problem)


def _read(station: Station, persisted: Mapping[str, Any]) -> tuple[tuple[DriverView, ...], tuple[str, ...]]:
    views: list[DriverView] = []
    problems: list[str] = []
    for key, record in sorted(persisted.items()):
        if not key.startswith(KEY_PREFIX):
            continue
        decoded = decode(station, record)
        if isinstance(decoded, DriverView):
            views.append(decoded)
        else:
            problems.append(f"{key}: stored tariff and cost view dropped: {decoded}")
    return tuple(views), tuple(problems)


def dropped_at_restore(station: Station, persisted: Mapping[str, Any]) -> tuple[str, ...]:
    return _read(station, persisted)[1]


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The views an earlier run stored; their costs are shown again at the first step (`replay`). A transaction
    without its final cost yet is one whose final cost is still to come (`evse_of`): it ends with PowerLoss at
    PowerUp, while the station is offline, so its display shows TotalCostFallbackMessage until the answer to its
    Ended event brings the total."""
    views, _ = _read(station, persisted)
    if not views:
        return station
    replay = tuple(v.evse_id for v in views if v.cost is not None)
    awaiting = tuple(
        sorted((v.transaction_id, v.evse_id) for v in views if v.transaction_id and not (v.cost and v.cost.final))
    )
    tariff_cost = replace(station.tariff_cost, views=views, saved=views, replay=replay, evse_of=awaiting)
    return replace(station, tariff_cost=tariff_cost)
