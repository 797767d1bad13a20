"""California pricing's prices behind a running cost: chargingPrice, the idle fee (idlePrice with its grace minutes)
and nextPeriod reach the cost hook as exact decimals, survive a restart, and a RunningCost that does not follow the
format is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from core_helpers import frames, make_station, of_type, persisted
from test_core_tariff_cost import CALIFORNIA, charging, cost_updated

from chargecore.pure.effects import CostPrices, ShowCost
from chargecore.shell.application import describe_cost

NOW = {
    "chargingPrice": {"kWhPrice": 0.1 + 0.2, "hourPrice": 1.5, "flatFee": 0.5},
    "idlePrice": {"graceMinutes": 30, "hourPrice": 2.0},
}
NEXT = {"atTime": "2030-01-01T18:00:00Z", "chargingPrice": {"kWhPrice": 0.45}, "idlePrice": {"hourPrice": 3}}


def test_the_prices_the_idle_fee_and_the_next_period_reach_the_cost_hook_exactly() -> None:
    sim, transaction_id = charging(CALIFORNIA)
    (shown,) = of_type(cost_updated(sim, transaction_id, 1.25, state="Charging", nextPeriod=NEXT, **NOW), ShowCost)
    assert shown.cost.prices == CostPrices(
        kwh=Decimal("0.300"),
        hour=Decimal("1.500"),
        flat_fee=Decimal("0.500"),
        idle_hour=Decimal("2.000"),
        idle_grace_minutes=30,
    )
    assert shown.cost.next_at == datetime(2030, 1, 1, 18, tzinfo=UTC)
    assert shown.cost.next_prices == CostPrices(kwh=Decimal("0.450"), idle_hour=Decimal("3.000"))
    line = describe_cost(shown.cost)
    assert "0.300/kWh" in line and "idle 2.000/h after 30 min" in line and "from 2030-01-01T18:00:00" in line


def test_the_prices_survive_a_restart() -> None:
    sim, transaction_id = charging(CALIFORNIA)
    (shown,) = of_type(cost_updated(sim, transaction_id, 1.25, nextPeriod=NEXT, **NOW), ShowCost)
    (view,) = make_station((1,), stored=persisted(sim.log)).tariff_cost.views
    assert view.cost == shown.cost


@pytest.mark.parametrize(
    "custom",
    [
        {"idlePrice": {"hourPrice": 1e308}},
        {"nextPeriod": {"chargingPrice": {"kWhPrice": 0.4}}},
        {"nextPeriod": {"atTime": "later"}},
        {"nextPeriod": {"atTime": "2030-01-01T18:00:00Z", "idlePrice": {"graceMinutes": -5}}},
        {"nextPeriod": []},
    ],
)
def test_a_running_cost_with_bad_prices_is_a_callerror_and_changes_nothing(custom: dict[str, Any]) -> None:
    sim, transaction_id = charging(CALIFORNIA)
    effects = cost_updated(sim, transaction_id, 1.0, **custom)
    (frame,) = frames(effects)
    assert frame[0] == 4 and frame[2] == "PropertyConstraintViolation"
    assert not of_type(effects, ShowCost)


def test_a_display_without_qr_codes_gets_no_qr_code_text() -> None:
    """DisplayMessageCtrlr.QRCodeDisplayCapable false (libocpp reads the same variable): the URL is not passed on."""
    for capable, expected in ((True, "https://pay.example/tx"), (False, None)):
        config = {**CALIFORNIA, "DisplayMessageCtrlr": {"QRCodeDisplayCapable": capable}}
        sim, transaction_id = charging(config)
        (shown,) = of_type(cost_updated(sim, transaction_id, 1.0, qrCodeText="https://pay.example/tx"), ShowCost)
        assert shown.cost.qr_code == expected
