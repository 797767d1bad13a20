"""StationIdentity.validates_tokens: the application decides a presented token first (TokenQuestion), like
libocpp's validate_token; answering None leaves the token to the station (local list, cache, Authorize)."""

from __future__ import annotations

from typing import Any

from core_helpers import Sim, booted, calls, of_type

from chargecore.pure.effects import Ask, AuthorizationDecided, Effects, Notify, StartEnergyTransfer, TokenQuestion

TOKEN = {"idToken": "TOKEN1", "type": "ISO14443"}


def plugged(**identity: Any) -> Sim:
    sim = booted(**identity)
    sim.plug()
    sim.answer_all()
    return sim


def asked(effects: Effects) -> Ask:
    (ask,) = of_type(effects, Ask)
    return ask


def actions(effects: Effects) -> list[str]:
    return [call.action for call in calls(effects)]


def decided(effects: Effects) -> list[str]:
    return [n.event.status for n in of_type(effects, Notify) if isinstance(n.event, AuthorizationDecided)]


def test_the_application_is_asked_only_when_it_validates_tokens() -> None:
    assert of_type(plugged().present_token(), Ask) == []
    assert asked(plugged(validates_tokens=True).present_token()).question == TokenQuestion(TOKEN, 1)


def test_a_token_the_application_accepts_starts_the_session_without_authorize() -> None:
    sim = plugged(validates_tokens=True)
    ask = asked(sim.present_token())
    effects = sim.answer(ask.question_id, {"status": "Accepted"})
    assert decided(effects) == ["Accepted"] and "Authorize" not in actions(effects)
    assert of_type(effects, StartEnergyTransfer) == [StartEnergyTransfer(1)]
    assert sim.station.transactions[0].authorization == "accepted"


def test_a_token_the_application_blocks_is_refused() -> None:
    sim = plugged(validates_tokens=True)
    ask = asked(sim.present_token())
    effects = sim.answer(ask.question_id, {"status": "Blocked"})
    assert decided(effects) == ["Blocked"] and actions(effects) == [] and of_type(effects, StartEnergyTransfer) == []
    assert all(tx.authorization != "accepted" for tx in sim.station.transactions)


def test_without_a_verdict_of_the_application_the_csms_is_asked() -> None:
    sim = plugged(validates_tokens=True)
    ask = asked(sim.present_token())
    assert of_type(sim.present_token("OTHER"), Ask) == [], "a second token waits for the first"
    effects = sim.answer(ask.question_id, None)
    assert actions(effects) == ["Authorize"] and decided(effects) == []
    assert decided(sim.reply({"idTokenInfo": {"status": "Accepted"}})) == ["Accepted"]


def test_an_answer_that_is_no_id_token_info_leaves_the_token_to_the_station() -> None:
    sim = plugged(validates_tokens=True)
    ask = asked(sim.present_token())
    assert actions(sim.answer(ask.question_id, {"status": "Maybe"})) == ["Authorize"]
