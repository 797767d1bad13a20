"""Display messages chosen by language (California pricing's multi-language messages, DisplayMessageCtrlr.Language
and SupportedLanguages, the driver's IdTokenInfo.language1/language2): a CSMS message in a language is shown where
the display speaks it; one without a language everywhere."""

from __future__ import annotations

from typing import Any

from core_helpers import booted, of_type

from chargecore.pure.blocks.display.messages import speaks
from chargecore.pure.effects import Effects, ShowMessages

CONFIG = {
    "DisplayMessageCtrlr": {"SupportedLanguages": "en,es", "Language": "en"},
    "TariffCostCtrlr": {"Enabled[Tariff]": False},
}


def message(message_id: int, content: str, language: str | None = None) -> dict[str, Any]:
    text: dict[str, Any] = {"format": "UTF8", "content": content}
    if language is not None:
        text["language"] = language
    return {"id": message_id, "priority": "NormalCycle", "message": text}


def last_shown(effects: Effects) -> list[str]:
    return [m.content.text for m in of_type(effects, ShowMessages)[-1].messages]


def test_a_language_tag_matches_on_its_primary_subtag() -> None:
    assert speaks("en", "en-US") and speaks("EN-gb", "en") and not speaks("en", "es")
    assert speaks(None, "es") and speaks("en", None)


def test_messages_in_the_station_language_then_in_the_drivers() -> None:
    sim = booted(config=CONFIG)
    log: Effects = ()
    for number, (content, language) in enumerate((("Hello", "en-US"), ("Hola", "es"), ("*", None)), start=1):
        log += sim.csms_call("SetDisplayMessage", {"message": message(number, content, language)}, f"m{number}")
    assert last_shown(log) == ["Hello", "*"], "DisplayMessageCtrlr.Language en: the Spanish one waits"
    sim.plug()
    sim.answer_all()
    sim.present_token()
    effects = sim.reply({"idTokenInfo": {"status": "Accepted", "language1": "es"}})
    assert last_shown(effects) == ["Hola", "*"], "the driver reads Spanish"


def test_a_driver_language_the_station_does_not_support_leaves_the_station_language() -> None:
    sim = booted(config=CONFIG)
    sim.csms_call("SetDisplayMessage", {"message": message(1, "Hello", "en")}, "m1")
    sim.plug()
    sim.answer_all()
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted", "language1": "fr"}})
    shown = of_type(tuple(sim.log), ShowMessages)
    assert [m.content.text for m in shown[-1].messages] == ["Hello"]
