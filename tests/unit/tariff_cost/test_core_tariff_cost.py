"""Tariff and cost (block I) and California pricing through `step`: the tariff a driver sees, the running and final
cost, the fallbacks, and refused input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from core_helpers import Sim, booted, calls, frames, of_type, replies, warnings

from chargecore.pure.blocks.tariff_cost.costs import COSTMSG, exact_cost
from chargecore.pure.effects import Ask, Effects, ShowCost, ShowMessages
from chargecore.pure.inputs import MeterReading
from chargecore.pure.ocppj.timestamps import ocpp_time

CALIFORNIA = {"CustomizationCtrlr": {f"CustomImplementationEnabled[{COSTMSG}]": True}}


def shown_texts(effects: Effects) -> list[list[str]]:
    return [[m.content.text for m in show.messages] for show in of_type(effects, ShowMessages)]


def costs(effects: Effects) -> list[ShowCost]:
    return of_type(effects, ShowCost)


def authorize(sim: Sim, **info: Any) -> Effects:
    effects = sim.present_token()
    assert sim.outstanding().action == "Authorize"
    return effects + sim.reply({"idTokenInfo": {"status": "Accepted", **info}})


def charging(config: dict[str, Any] | None = None, **info: Any) -> tuple[Sim, str]:
    """Plugged, authorized (idTokenInfo extras `info`), power path closed: a running transaction."""
    sim = booted(config=config)
    sim.plug()
    sim.answer_all()
    authorize(sim, **info)
    sim.power_path()
    sim.answer_all()
    (tx,) = sim.station.running_transactions
    return sim, tx.transaction_id


def cost_updated(sim: Sim, transaction_id: str, total: float, **custom: Any) -> Effects:
    payload: dict[str, Any] = {"totalCost": total, "transactionId": transaction_id}
    if custom:
        payload["customData"] = {"vendorId": COSTMSG, **custom}
    return sim.csms_call("CostUpdated", payload)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [(0.3, 3, "0.300"), (0.1 + 0.2, 2, "0.30"), (12.345, 2, "12.35"), (7, 0, "7"), (1234567.891, 3, "1234567.891")],
)
def test_a_cost_is_the_decimal_the_csms_wrote(value: float, decimals: int, expected: str) -> None:
    """No binary floating-point error reaches the driver; half-up rounding to NumberOfDecimalsForCostValues."""
    assert exact_cost(value, decimals) == Decimal(expected)
    assert str(exact_cost(value, decimals)) == expected


@pytest.mark.requirements("I01.FR.03")
def test_the_personal_message_is_the_tariff_on_the_display_cut_to_its_size() -> None:
    sim = booted(config={"DisplayMessageCtrlr": {"PersonalMessageSize": 10}})
    sim.plug()
    sim.answer_all()
    effects = authorize(sim, personalMessage={"format": "UTF8", "content": "0.25 EUR/kWh, 1 EUR/h parking"})
    assert shown_texts(effects) == [["0.25 EUR/k"]]


@pytest.mark.requirements("I04.FR.01")
def test_without_a_personal_message_the_tariff_fallback_is_shown_and_offline_its_offline_one() -> None:
    sim = booted()
    sim.plug()
    sim.answer_all()
    assert shown_texts(authorize(sim)) == [["Tariff information is not available."]]
    offline = booted(config={"AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True}})
    offline.plug()
    offline.answer_all()
    offline.present_token()
    effects = offline.reply_error()  # no usable answer: decided offline, unknown tokens allowed
    assert [tx.authorization for tx in offline.station.transactions] == ["accepted"]
    assert shown_texts(effects) == [["Tariff information is not available while offline."]]


def test_tariff_disabled_shows_no_fallback() -> None:
    sim = booted(config={"TariffCostCtrlr": {"Enabled[Tariff]": False}})
    sim.plug()
    sim.answer_all()
    assert shown_texts(authorize(sim)) == []


@pytest.mark.requirements("I02.FR.02")
def test_cost_updated_reaches_the_cost_hook_exactly() -> None:
    sim, transaction_id = charging()
    effects = cost_updated(sim, transaction_id, 1.1)
    assert replies(effects)[0][2] == {}
    (shown,) = costs(effects)
    assert (shown.evse_id, shown.cost.total, shown.cost.currency, shown.cost.final) == (
        1,
        Decimal("1.100"),
        "EUR",
        False,
    )


def test_cost_updated_for_an_unknown_transaction_is_answered_and_logged() -> None:
    sim, _ = charging()
    effects = cost_updated(sim, "no-such-tx", 2.0)
    assert replies(effects)[0][2] == {}
    assert not costs(effects)
    assert any("unknown transaction" in w for w in warnings(effects))


def test_cost_updated_with_cost_disabled_changes_nothing() -> None:
    sim, transaction_id = charging({"TariffCostCtrlr": {"Enabled[Cost]": False}})
    effects = cost_updated(sim, transaction_id, 2.0)
    assert replies(effects)[0][2] == {} and not costs(effects)


@pytest.mark.requirements("I03.FR.01", "I05.FR.02")
def test_the_final_cost_or_the_total_cost_fallback_at_the_end() -> None:
    sim, transaction_id = charging()
    sim.present_token()  # the same token ends the transaction
    ended = sim.outstanding()
    assert ended.payload["eventType"] == "Ended"
    assert ended.payload["transactionInfo"]["transactionId"] == transaction_id
    (final,) = costs(sim.reply({"totalCost": 4.56}))
    assert (final.cost.total, final.cost.final, final.cost.fallback) == (Decimal("4.560"), True, None)
    other, _ = charging()
    other.present_token()
    (fallback,) = costs(other.reply({}))
    assert (fallback.cost.total, fallback.cost.final) == (None, True)
    assert fallback.cost.fallback == "The total cost is not available."


@pytest.mark.requirements("I06.FR.03")
def test_updated_personal_message_replaces_the_tariff_text() -> None:
    sim, _ = charging()
    sim.meter(1000.0)
    sim.csms_call("TriggerMessage", {"requestedMessage": "TransactionEvent", "evse": {"id": 1}})
    assert sim.outstanding().action == "TransactionEvent"
    effects = sim.reply({"totalCost": 0.5, "updatedPersonalMessage": {"format": "UTF8", "content": "now 0.30/kWh"}})
    assert shown_texts(effects) == [["now 0.30/kWh"]]
    assert costs(effects)[0].cost.total == Decimal("0.500")


# --- California pricing ------------------------------------------------------------------------------------------


def test_california_running_cost_with_languages_and_qr_code() -> None:
    sim, transaction_id = charging(
        {**CALIFORNIA, "DisplayMessageCtrlr": {"SupportedLanguages": "en,nl", "Language": "nl"}}
    )
    extra = [
        {"format": "UTF8", "language": "nl", "content": "Kosten tot nu toe"},
        {"format": "UTF8", "language": "fr", "content": "Co\u00fbt"},
    ]
    effects = cost_updated(
        sim,
        transaction_id,
        2.345,
        state="Charging",
        chargingPrice={"kWhPrice": 0.25, "hourPrice": 1.0, "flatFee": 0},
        triggerMeterValue={"atEnergykWh": 5},
        updatedPersonalMessageExtra=extra,
        qrCodeText="https://pay.example/tx",
    )
    (shown,) = costs(effects)
    assert shown.cost.total == Decimal("2.345")
    assert [t.text for t in shown.cost.texts] == ["Kosten tot nu toe"], "languages the display lacks are dropped"
    assert shown.cost.qr_code == "https://pay.example/tx"


def test_california_personal_message_in_the_station_language() -> None:
    sim = booted(config={**CALIFORNIA, "DisplayMessageCtrlr": {"SupportedLanguages": "en,de", "Language": "de"}})
    sim.plug()
    sim.answer_all()
    effects = authorize(
        sim,
        personalMessage={"format": "UTF8", "language": "en", "content": "0.25/kWh"},
        customData={
            "vendorId": COSTMSG,
            "personalMessageExtra": [{"format": "UTF8", "language": "de", "content": "0,25/kWh"}],
        },
    )
    assert shown_texts(effects) == [["0,25/kWh"]]


@pytest.mark.parametrize(
    "custom",
    [
        {"state": "Sleeping"},
        {"chargingPrice": {"kWhPrice": -1}},
        {"triggerMeterValue": {"atEnergykWh": "five"}},
        {"triggerMeterValue": {"atTime": "tomorrow"}},
        {"updatedPersonalMessageExtra": [{"format": "UTF8", "content": "no language"}]},
        {"qrCodeText": 42},
        {"currency": "USD"},
    ],
    ids=["state", "negative-price", "trigger-type", "trigger-time", "no-language", "qr-type", "wrong-currency"],
)
def test_a_costmsg_not_following_the_format_is_a_callerror_and_changes_nothing(custom: dict[str, Any]) -> None:
    sim, transaction_id = charging(CALIFORNIA)
    before = sim.station.tariff_cost
    effects = cost_updated(sim, transaction_id, 1.0, **custom)
    (frame,) = frames(effects)
    assert frame[0] == 4 and frame[2] == "PropertyConstraintViolation"
    assert not costs(effects) and sim.station.tariff_cost == before
    assert replies(cost_updated(sim, transaction_id, 1.0))[0][2] == {}, "the station keeps working"


def test_a_costmsg_of_another_vendor_or_with_california_off_is_not_read() -> None:
    sim, transaction_id = charging()
    (shown,) = costs(cost_updated(sim, transaction_id, 1.0, state="Sleeping"))
    assert shown.cost.total == Decimal("1.000"), "California pricing is off: its customData is not ours to judge"


@pytest.mark.requirements("I05.FR.02")
def test_a_transaction_ending_offline_shows_the_total_cost_fallback() -> None:
    sim, _ = charging()
    sim.lose()
    (fallback,) = costs(sim.present_token())
    assert (fallback.cost.total, fallback.cost.final) == (None, True)
    assert fallback.cost.fallback == "The total cost is not available."
    sim.connect()
    sim.answer_all()
    assert sim.station.tariff_cost.views[0].cost == fallback.cost, "the final view stays for the driver"


def meter_values(effects: Effects) -> list[dict[str, Any]]:
    return [call.payload for call in calls(effects) if call.action == "MeterValues"]


def test_california_triggers_send_a_meter_value_once_at_energy_power_and_time() -> None:
    sim, transaction_id = charging(CALIFORNIA)
    sim.feed(MeterReading(sim.now, 1, 1000.0, 3000.0))
    at_time = ocpp_time(sim.station, sim.now + timedelta(minutes=5))
    cost_updated(sim, transaction_id, 0.1, triggerMeterValue={"atEnergykWh": 2, "atPowerkW": 7, "atTime": at_time})
    assert not meter_values(sim.feed(MeterReading(sim.now, 1, 1500.0, 3000.0)) + sim.answer_all())
    effects = sim.feed(MeterReading(sim.now, 1, 2000.0, 3000.0)) + sim.answer_all()
    (sent,) = meter_values(effects)
    samples = sent["meterValue"][0]["sampledValue"]
    assert sent["evseId"] == 1 and samples[0] == {
        "value": 2000.0,
        "context": "Other",
        "measurand": "Energy.Active.Import.Register",
    }
    assert sim.station.tariff_cost.triggers == (), "fired once: one trigger set fires once"
    cost_updated(sim, transaction_id, 0.2, triggerMeterValue={"atPowerkW": 7, "atTime": at_time})
    assert len(meter_values(sim.feed(MeterReading(sim.now, 1, 2100.0, 7400.0)) + sim.answer_all())) == 1
    cost_updated(sim, transaction_id, 0.3, triggerMeterValue={"atTime": at_time})
    effects: Effects = ()
    while sim.station.tariff_cost.triggers:  # other timers (TxUpdatedInterval) may come first
        effects += sim.tick_deadline() + sim.answer_all()
    assert len(meter_values(effects)) == 1, "atTime through next_deadline"
    assert sim.now == sim.now.replace(microsecond=0) and ocpp_time(sim.station, sim.now) == at_time


def test_the_offline_fallback_is_shown_once_and_never_over_a_new_session() -> None:
    sim, _ = charging({"AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True}})
    sim.lose()
    assert len(costs(sim.present_token())) == 1
    sim.plug(change="unplug")
    sim.plug()
    assert not costs(sim.present_token("TOKEN2")), "offline, decided locally: a new session on the EVSE"
    assert any(tx.id_token == {"idToken": "TOKEN2", "type": "ISO14443"} for tx in sim.station.transactions)
    for _ in range(3):
        assert not costs(sim.tick()), "the old transaction's fallback is not shown again"


def test_fallback_messages_in_the_station_language() -> None:
    spanish = {
        "DisplayMessageCtrlr": {"SupportedLanguages": "en,es", "Language": "es"},
        "TariffCostCtrlr": {
            "TariffFallbackMessage[es]": "Tarifa no disponible",
            "TotalCostFallbackMessage[es]": "Coste no disponible",
        },
    }
    sim = booted(config=spanish)
    sim.plug()
    sim.answer_all()
    assert shown_texts(authorize(sim)) == [["Tarifa no disponible"]]
    sim.power_path()
    sim.answer_all()
    sim.present_token()
    (fallback,) = costs(sim.reply({}))
    assert fallback.cost.fallback == "Coste no disponible"
    english = booted(config={"DisplayMessageCtrlr": {"Language": "fr"}})
    english.plug()
    english.answer_all()
    assert shown_texts(authorize(english)) == [["Tariff information is not available."]], "no [fr] text: the plain one"


def test_a_late_final_cost_goes_to_the_hook_but_leaves_the_new_drivers_display() -> None:
    sim, first = charging({"AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True}})
    sim.lose()
    sim.present_token()  # ends offline: the Ended event waits in the queue
    sim.plug(change="unplug")
    sim.plug()
    sim.present_token("TOKEN2")
    sim.power_path()
    (new_view,) = sim.station.tariff_cost.views
    assert [t.text for t in new_view.texts] == ["Tariff information is not available while offline."], "I04 offline"
    while sim.station.connection.phase != "connecting":
        sim.tick_deadline()
    sim.connect()
    effects: Effects = ()
    while sim.station.rpc.in_flight is not None:
        call = sim.outstanding()
        ended = call.action == "TransactionEvent" and call.payload["eventType"] == "Ended"
        effects += sim.reply({"totalCost": 9.99} if ended else None)
    finals = [c.cost for c in costs(effects) if c.cost.final]
    assert [(c.transaction_id, c.total) for c in finals] == [(first, Decimal("9.990"))]
    (view,) = sim.station.tariff_cost.views
    assert view.transaction_id != first and view.texts == new_view.texts, "the display stays the new driver's"


def test_a_token_the_application_accepts_shows_the_fallback_tariff() -> None:
    sim = booted(validates_tokens=True)
    sim.plug()
    sim.answer_all()
    (ask,) = of_type(sim.present_token(), Ask)
    effects = sim.answer(ask.question_id, {"status": "Accepted"})
    assert shown_texts(effects) == [["Tariff information is not available."]]


@pytest.mark.parametrize("total", [1e308, -1e15, 10**12])
def test_a_cost_beyond_bounds_is_refused_and_the_station_goes_on(total: float) -> None:
    """The schema allows any number: CostUpdated gets a CALLERROR, a response's total is not shown."""
    sim, transaction_id = charging()
    (frame,) = frames(cost_updated(sim, transaction_id, total))
    assert frame[0] == 4 and frame[2] == "PropertyConstraintViolation"
    sim.present_token()
    effects = sim.reply({"totalCost": total})
    (final,) = costs(effects)
    assert (final.cost.total, final.cost.fallback) == (None, "The total cost is not available.")
    assert any("not shown" in w for w in warnings(effects))
