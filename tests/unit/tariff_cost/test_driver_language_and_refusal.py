"""California pricing's language choice by the driver (IdTokenInfo.language1/language2) and a refused token's personal
message shown for a bounded time (I01 with C01: the driver learns why)."""

from __future__ import annotations

from datetime import timedelta

from core_helpers import booted, of_type

from chargecore.pure.blocks.tariff_cost.costs import COSTMSG
from chargecore.pure.blocks.tariff_cost.tariff_cost import REFUSED_SHOWN
from chargecore.pure.effects import Effects, ShowMessages
from chargecore.pure.inputs import Tick
from chargecore.pure.station import next_deadline

LANGUAGES = {
    "CustomizationCtrlr": {f"CustomImplementationEnabled[{COSTMSG}]": True},
    "DisplayMessageCtrlr": {"SupportedLanguages": "en,es,fr", "Language": "en"},
    "TariffCostCtrlr": {"TariffFallbackMessage[es]": "Tarifa no disponible", "TariffFallbackMessage[fr]": "Tarif ?"},
}
TARIFF = {
    "personalMessage": {"format": "UTF8", "language": "en", "content": "0.25/kWh"},
    "customData": {
        "vendorId": COSTMSG,
        "personalMessageExtra": [
            {"format": "UTF8", "language": "es", "content": "0,25/kWh es"},
            {"format": "UTF8", "language": "fr", "content": "0,25/kWh fr"},
        ],
    },
}


def shown(effects: Effects) -> list[list[str]]:
    return [[m.content.text for m in show.messages] for show in of_type(effects, ShowMessages)]


def authorized(info: dict[str, object], config: dict[str, object] | None = None) -> Effects:
    sim = booted(config=LANGUAGES if config is None else config)
    sim.plug()
    sim.answer_all()
    sim.present_token()
    return sim.reply({"idTokenInfo": info})


def test_the_drivers_first_language_comes_before_the_stations() -> None:
    assert shown(authorized({"status": "Accepted", "language1": "fr", "language2": "es", **TARIFF})) == [
        ["0,25/kWh fr"]
    ]


def test_the_drivers_second_language_when_the_first_has_no_text_and_the_station_language_last() -> None:
    assert shown(authorized({"status": "Accepted", "language1": "de", "language2": "es", **TARIFF})) == [
        ["0,25/kWh es"]
    ]
    assert shown(authorized({"status": "Accepted", "language1": "de", **TARIFF})) == [["0.25/kWh"]]


def test_the_fallback_tariff_in_the_drivers_language() -> None:
    assert shown(authorized({"status": "Accepted", "language1": "es"})) == [["Tarifa no disponible"]]
    assert shown(authorized({"status": "Accepted", "language1": "de"})) == [["Tariff information is not available."]]


def test_a_refused_tokens_personal_message_is_shown_then_leaves_on_time() -> None:
    """The driver of a Blocked token reads why; the text goes after REFUSED_SHOWN even though the EV stays plugged."""
    sim = booted()
    sim.plug()
    sim.answer_all()
    sim.present_token()
    refused_at = sim.now
    blocked = {"status": "Blocked", "personalMessage": {"format": "UTF8", "content": "Card blocked: call 0800"}}
    assert shown(sim.reply({"idTokenInfo": blocked})) == [["Card blocked: call 0800"]]
    sim.answer_all()
    assert next_deadline(sim.station) is not None
    assert not shown(sim.feed(Tick(refused_at + REFUSED_SHOWN - timedelta(seconds=1)))), "still there before its time"
    effects = sim.feed(Tick(refused_at + REFUSED_SHOWN))
    assert shown(effects) == [[]], "the display is cleared on time, without any other input"


def test_a_refused_token_without_a_message_shows_no_fallback_tariff_and_sets_no_timer() -> None:
    effects = authorized({"status": "Invalid"}, config={})
    assert shown(effects) == []
