"""Property test of `exact_cost` (block I): a cost the CSMS writes as a JSON number of up to 15 significant digits
reaches the driver as exactly that decimal, whatever binary float the JSON parser made of it."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.tariff_cost.costs import exact_cost

amounts = st.decimals(min_value=0, max_value=Decimal("999999999.999999"), places=6, allow_nan=False)


@settings(max_examples=500, deadline=None)
@given(amounts)
def test_the_json_text_comes_back_exactly(amount: Decimal) -> None:
    parsed = json.loads(f'{{"totalCost": {amount}}}')
    assert exact_cost(parsed["totalCost"], 6) == amount


@settings(max_examples=300, deadline=None)
@given(amounts, st.integers(0, 6))
def test_rounding_is_half_up_of_the_exact_value(amount: Decimal, decimals: int) -> None:
    parsed = json.loads(f"{amount}")
    step = Decimal(1).scaleb(-decimals)
    expected = (amount / step + Decimal("0.5")).to_integral_value(rounding="ROUND_FLOOR") * step
    assert exact_cost(parsed, decimals) == expected
