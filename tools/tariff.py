"""A simple tariff for the local CSMS (`chargecore csms --tariff FILE`): a price per kWh and per minute, so that
the CSMS answers every TransactionEvent with the running totalCost (block I) and the demo shows a cost that rises.

The file is JSON: {"currency": "EUR", "perKWh": 0.30, "perMinute": 0.05}. Prices are kept as decimals (read from
the JSON text, no binary floating point) and the total is rounded half-up to cents.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

CENT = Decimal("0.01")
MAX_PRICE = Decimal(1000)
"""No sane tariff charges more than this per kWh or minute: a bound against a typo in the file."""


class TariffError(ValueError):
    """The tariff file cannot be used; the message names the problem."""


@dataclass(frozen=True)
class Tariff:
    currency: str
    per_kwh: Decimal
    per_minute: Decimal

    def cost(self, energy_wh: Decimal, minutes: Decimal) -> Decimal:
        total = self.per_kwh * energy_wh / 1000 + self.per_minute * minutes
        return total.quantize(CENT, rounding=ROUND_HALF_UP)


def load_tariff(path: Path) -> Tariff:
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal, parse_int=Decimal)
    except (OSError, ValueError) as error:
        raise TariffError(f"cannot read the tariff {path}: {error}") from None
    if not isinstance(data, dict):
        raise TariffError(f"{path}: a tariff is a JSON object")
    currency = data.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise TariffError(f"{path}: currency must be an ISO 4217 code such as EUR")
    prices = []
    for name in ("perKWh", "perMinute"):
        price = data.get(name, Decimal(0))
        if not isinstance(price, Decimal) or not price.is_finite() or not Decimal(0) <= price <= MAX_PRICE:
            raise TariffError(f"{path}: {name} must be a number from 0 to {MAX_PRICE}")
        prices.append(price)
    return Tariff(currency.upper(), prices[0], prices[1])


class Pricing:
    """The running cost of every transaction the CSMS hears of: energy from the Energy.Active.Import.Register
    values of its TransactionEvents, time from its first event."""

    def __init__(self, tariff: Tariff) -> None:
        self.tariff = tariff
        self._lock = threading.Lock()
        self._started: dict[str, tuple[datetime, Decimal | None]] = {}

    def total_cost(self, request: dict[str, Any]) -> float:
        """The totalCost to answer this TransactionEventRequest with (a JSON number, exact to the cent)."""
        transaction_id = request["transactionInfo"]["transactionId"]
        moment = datetime.fromisoformat(request["timestamp"].replace("Z", "+00:00"))
        energy = _energy_wh(request)
        with self._lock:
            started, first_energy = self._started.setdefault(transaction_id, (moment, energy))
            if first_energy is None and energy is not None:
                self._started[transaction_id] = started, energy
                first_energy = energy
            if request["eventType"] == "Ended":
                del self._started[transaction_id]
        used = Decimal(0) if energy is None or first_energy is None else max(Decimal(0), energy - first_energy)
        minutes = Decimal(max(0.0, (moment - started).total_seconds())) / 60
        return float(self.tariff.cost(used, minutes))


def _energy_wh(request: dict[str, Any]) -> Decimal | None:
    readings = [
        Decimal(repr(sample["value"]))
        for meter_value in request.get("meterValue", [])
        for sample in meter_value["sampledValue"]
        if sample.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
        and "phase" not in sample
    ]
    return max(readings) if readings else None
