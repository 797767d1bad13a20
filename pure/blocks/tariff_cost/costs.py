"""Block I values: exact costs, the California pricing customData (vendorId org.openchargealliance.costmsg) checked
field by field, and what each EVSE's display shows of its driver.

Costs are `decimal.Decimal`. The frames are parsed once, in ocppj/frames.py, with the standard `json` module, so a
cost arrives as a Python float; `exact_cost` turns it back into the decimal the CSMS wrote with `Decimal(repr(x))`:
`repr` gives the shortest text that reads back as the same float, which is the JSON text for every number of up to
15 significant digits (any real amount of money). The result is rounded half-up to NumberOfDecimalsForCostValues.
So 0.1 + 0.2 shows 0.300, never 0.30000000000000004.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from returns.result import Failure

from chargecore.pure.effects import CostPrices, CostShown, MessageContent, ShownMessage
from chargecore.pure.ocppj.timestamps import parse_ocpp_time

COSTMSG = "org.openchargealliance.costmsg"
"""The vendorId of the California pricing customData (OCA whitepaper "OCPP & California Pricing Requirements")."""
FORMATS = ("ASCII", "HTML", "URI", "UTF8")
CONTENT_LENGTH = 512
"""MessageContentType.content is string(512); the extra languages follow the same type."""
LANGUAGE_LENGTH = 8
MAX_EXTRA_MESSAGES = 4
"""The whitepaper's personalMessageExtra / updatedPersonalMessageExtra carry at most four more languages."""
PRICE_FIELDS = ("kWhPrice", "hourPrice", "flatFee")
TRIGGER_FIELDS = ("atEnergykWh", "atPowerkW")
COST_STATES = ("Charging", "Idle")


@dataclass(frozen=True, slots=True)
class DriverView:
    """What one EVSE's display shows of its driver: the texts (personal message or tariff, in their languages) and
    the cost. `evse_id` 0: the token was presented at a station-wide reader, shown on every EVSE without its own."""

    evse_id: int
    id_token: str | None = None
    transaction_id: str | None = None
    texts: tuple[MessageContent, ...] = ()
    cost: CostShown | None = None
    languages: tuple[str, ...] = ()
    """The driver's languages, preferred first (IdTokenInfo.language1, language2): chosen before the station's."""
    until: datetime | None = None
    """A refused token's personal message is shown until then (shell time), without a session to live with."""


@dataclass(frozen=True, slots=True)
class CostTrigger:
    """When the CSMS wants the next meter value of a transaction (costmsg `triggerMeterValue`, cost_triggers.py)."""

    transaction_id: str
    evse_id: int
    at_time: datetime | None = None
    """Station time (the CSMS's clock)."""
    at_energy_wh: float | None = None
    at_power_w: float | None = None
    power_below: bool | None = None
    """Which side of `at_power_w` the power was on when last read; None before any power reading."""


@dataclass(frozen=True, slots=True)
class TariffCost:
    triggers: tuple[CostTrigger, ...] = ()
    views: tuple[DriverView, ...] = ()
    own: tuple[tuple[int, tuple[ShownMessage, ...]], ...] = ()
    """What the views put on each EVSE's display (in the station's language), for the display block."""
    basis: tuple[Any, ...] | None = None
    """What the last settle depended on (the sessions, the connection, the views, the language): a step that changed
    none of them skips it."""
    evse_of: tuple[tuple[str, int], ...] = ()
    """(transaction id, EVSE) of every transaction whose final cost is still to come: an Ended event may be answered
    after the transaction has left the station's list, and it need not name its EVSE."""
    saved: tuple[DriverView, ...] = ()
    """The views as last persisted (stored_views.py): a settle writes what changed since."""
    replay: tuple[int, ...] = ()
    """EVSEs whose restored cost the first settle after a restart shows again."""


MAX_COST = 10**12
"""No transaction costs a trillion in any currency; a larger totalCost (the schema allows any number) is refused,
which also keeps `exact_cost` inside the decimal context's 28 digits."""


def cost_problem(value: float | int) -> str | None:
    """Why a totalCost cannot be a cost, or None."""
    return None if abs(value) < MAX_COST else f"totalCost {value} is beyond {MAX_COST:.0e}"


def exact_cost(value: float | int, decimals: int) -> Decimal:
    """The JSON number the CSMS sent (within MAX_COST), as a decimal rounded half-up to `decimals` places (see the
    module text)."""
    exact = Decimal(value) if isinstance(value, int) else Decimal(repr(value))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def costmsg(custom_data: Any) -> dict[str, Any] | None:
    """The customData if it is California pricing's, else None (another vendor's extension is not ours to read)."""
    if isinstance(custom_data, dict) and custom_data.get("vendorId") == COSTMSG:
        return custom_data
    return None


def message_problem(item: Any) -> str | None:
    """Why `item` is no MessageContentType, or None."""
    if not isinstance(item, dict):
        return "a message is not an object"
    if item.get("format") not in FORMATS:
        return f"format {item.get('format')!r} is no MessageFormatEnumType"
    content, language = item.get("content"), item.get("language")
    if not isinstance(content, str) or len(content) > CONTENT_LENGTH:
        return f"content must be a string of at most {CONTENT_LENGTH} characters"
    if language is not None and (not isinstance(language, str) or len(language) > LANGUAGE_LENGTH):
        return f"language must be a string of at most {LANGUAGE_LENGTH} characters"
    return None


def extra_messages(data: dict[str, Any], field: str) -> tuple[tuple[MessageContent, ...], str | None]:
    """The messages of `field` (personalMessageExtra, updatedPersonalMessageExtra), or the problem with them."""
    items = data.get(field, [])
    if not isinstance(items, list) or len(items) > MAX_EXTRA_MESSAGES:
        return (), f"{field} must be a list of at most {MAX_EXTRA_MESSAGES} messages"
    for item in items:
        problem = message_problem(item)
        if problem is not None:
            return (), f"{field}: {problem}"
        if "language" not in item:
            return (), f"{field}: every message names its language"
    return tuple(MessageContent.of(item) for item in items), None


def _number_problem(where: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < MAX_COST:
        return f"{where} must be a number of at least 0 and below {MAX_COST:.0e}"
    return None


def _prices_problem(data: dict[str, Any], where: str = "") -> str | None:
    """The chargingPrice and idlePrice of `data` (the RunningCost itself or its nextPeriod)."""
    for price in ("chargingPrice", "idlePrice"):
        block = data.get(price, {})
        if not isinstance(block, dict):
            return f"{where}{price} must be an object"
        for name in (*PRICE_FIELDS, "graceMinutes"):
            problem = None if name not in block else _number_problem(f"{where}{price}.{name}", block[name])
            if problem is not None:
                return problem
    return None


def _time_problem(value: Any) -> bool:
    return not isinstance(value, str) or isinstance(parse_ocpp_time(value), Failure)


def running_cost_problem(data: dict[str, Any]) -> str | None:
    """Why a CostUpdated's costmsg customData does not follow the whitepaper's RunningCost format, or None."""
    if "state" in data and data["state"] not in COST_STATES:
        return f"state must be one of {', '.join(COST_STATES)}"
    problem = _prices_problem(data)
    if problem is not None:
        return problem
    next_period = data.get("nextPeriod")
    if next_period is not None:
        if not isinstance(next_period, dict) or _time_problem(next_period.get("atTime")):
            return "nextPeriod must be an object with its atTime"
        problem = _prices_problem(next_period, "nextPeriod.")
        if problem is not None:
            return problem
    triggers = data.get("triggerMeterValue", {})
    if not isinstance(triggers, dict):
        return "triggerMeterValue must be an object"
    for name in TRIGGER_FIELDS:
        problem = None if name not in triggers else _number_problem(f"triggerMeterValue.{name}", triggers[name])
        if problem is not None:
            return problem
    at_time = triggers.get("atTime")
    if at_time is not None and _time_problem(at_time):
        return "triggerMeterValue.atTime must be a dateTime"
    return common_problem(data)


def common_problem(data: dict[str, Any]) -> str | None:
    """The fields every costmsg customData may carry: the extra languages and the QR code text."""
    _, problem = extra_messages(data, "updatedPersonalMessageExtra")
    if problem is not None:
        return problem
    qr_code = data.get("qrCodeText")
    if qr_code is not None and (not isinstance(qr_code, str) or len(qr_code) > CONTENT_LENGTH):
        return f"qrCodeText must be a string of at most {CONTENT_LENGTH} characters"
    return None


def in_language(texts: tuple[MessageContent, ...], languages: tuple[str, ...]) -> tuple[MessageContent, ...]:
    """The texts the display shows: those in the first of `languages` (the driver's, then the station's) that has
    any, else the first one."""
    for language in languages:
        chosen = tuple(text for text in texts if text.language == language)
        if chosen:
            return chosen
    return texts[:1]


def prices(data: dict[str, Any], decimals: int) -> CostPrices | None:
    """The chargingPrice and idlePrice of a RunningCost (or its nextPeriod) already checked, as exact decimals."""
    charging, idle = data.get("chargingPrice", {}), data.get("idlePrice", {})
    if not charging and not idle:
        return None

    def exact(block: dict[str, Any], name: str) -> Decimal | None:
        return None if name not in block else exact_cost(block[name], decimals)

    grace = idle.get("graceMinutes")
    return CostPrices(
        kwh=exact(charging, "kWhPrice"),
        hour=exact(charging, "hourPrice"),
        flat_fee=exact(charging, "flatFee"),
        idle_hour=exact(idle, "hourPrice"),
        idle_grace_minutes=None if grace is None else int(exact_cost(grace, 0)),
    )


def next_period(data: dict[str, Any], decimals: int) -> tuple[datetime | None, CostPrices | None]:
    """When the nextPeriod's prices apply (station time) and what they are; (None, None) without one."""
    period = data.get("nextPeriod")
    if not isinstance(period, dict):
        return None, None
    return parse_ocpp_time(period["atTime"]).unwrap(), prices(period, decimals)
