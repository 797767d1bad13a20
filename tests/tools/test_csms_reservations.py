"""The words of `chargecore csms`'s `reserve` and `cancel-reservation` commands become schema-valid requests, and
anything else one usage line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ocpp.messages import get_validator  # type: ignore[import-untyped]

from chargecore.tools.csms_reservations import cancel_reservation, reserve_now

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def valid(action: str, payload: dict[str, object]) -> bool:
    return not list(get_validator(2, action, "2.0.1").iter_errors(payload))


def test_reserve_for_an_evse_and_for_any() -> None:
    request = reserve_now(["3", "2", "TAG1"], NOW)
    assert request == {
        "id": 3,
        "expiryDateTime": "2026-01-01T12:10:00.000Z",
        "idToken": {"idToken": "TAG1", "type": "ISO14443"},
        "evseId": 2,
    }
    anywhere = reserve_now(["4", "any", "TAG1", "1.5"], NOW)
    assert "evseId" not in anywhere and anywhere["expiryDateTime"] == "2026-01-01T12:01:30.000Z"
    assert valid("ReserveNow", request) and valid("ReserveNow", anywhere)
    assert cancel_reservation(["3"]) == {"reservationId": 3} and valid("CancelReservation", {"reservationId": 3})


@pytest.mark.parametrize(
    "words",
    [
        [],
        ["x", "1", "T"],
        ["1", "one", "T"],
        ["1", "1", "T", "soon"],
        ["1", "1", "T", "1e400"],
        ["1", "1", "T", "1e10"],
        ["1"] * 5,
    ],
)
def test_bad_reserve_words_give_the_usage(words: list[str]) -> None:
    with pytest.raises(ValueError, match="usage: reserve"):
        reserve_now(words, NOW)


@pytest.mark.parametrize("words", [[], ["x"], ["1", "2"]])
def test_bad_cancel_words_give_the_usage(words: list[str]) -> None:
    with pytest.raises(ValueError, match="usage: cancel-reservation"):
        cancel_reservation(words)
