"""Block I (tariff and cost) over loopback against the CSMS double. Part 6 of this edition has no I test cases for
the Charging Station: each test follows a use case of Part 2 (I01-I06) and names the requirements it checks."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from harness import Booted, StationFactory, boot
from sessions import authorize_locally, plug, transaction_event

from chargecore.pure.blocks.tariff_cost.costs import COSTMSG
from chargecore.pure.effects import CostShown
from chargecore.testing.csms_double import CsmsDouble, wait_until


def shown(booted: Booted) -> list[str]:
    return [message.content.text for message in booted.application.displays.get(1, ())]


def last_cost(booted: Booted) -> CostShown:
    return wait_until(lambda: (booted.application.costs.get(1) or [None])[-1], "a cost on the display")


def charging(booted: Booted, csms: CsmsDouble, **info: Any) -> str:
    """Plug, authorize (idTokenInfo extras `info`), and the Started event answered: the transaction id."""
    plug(booted, csms)
    authorize_locally(booted, csms, **info)
    started = transaction_event(csms)
    return str(started.payload["transactionInfo"]["transactionId"])


@pytest.mark.requirements("I01.FR.03")
def test_I01_driver_specific_tariff_from_the_personal_message(csms: CsmsDouble, booted: Booted) -> None:
    charging(booted, csms, personalMessage={"format": "UTF8", "content": "0.30 EUR/kWh"})
    wait_until(lambda: shown(booted) == ["0.30 EUR/kWh"], "the tariff on the display")


@pytest.mark.requirements("I02.FR.02")
def test_I02_running_cost_from_cost_updated(csms: CsmsDouble, booted: Booted) -> None:
    transaction_id = charging(booted, csms)
    reply = csms.call("CostUpdated", {"totalCost": 0.1, "transactionId": transaction_id})
    assert reply.payload == {}
    first = last_cost(booted)
    csms.call("CostUpdated", {"totalCost": 0.3, "transactionId": transaction_id})
    wait_until(lambda: last_cost(booted) != first, "the cost to rise")
    assert (last_cost(booted).total, last_cost(booted).final) == (Decimal("0.300"), False)


@pytest.mark.requirements("I03.FR.01")
def test_I03_final_total_cost_after_charging(csms: CsmsDouble, booted: Booted) -> None:
    transaction_id = charging(booted, csms)
    booted.station.present_token("TOKEN1")
    ended = csms.expect_call("TransactionEvent")
    assert ended.payload["eventType"] == "Ended"
    csms.reply(ended, {"totalCost": 12.5})
    wait_until(lambda: last_cost(booted).final, "the final cost")
    assert (last_cost(booted).transaction_id, last_cost(booted).total) == (transaction_id, Decimal("12.500"))


@pytest.mark.requirements("I04.FR.01")
def test_I04_fallback_tariff(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = boot(station_factory(config={"TariffCostCtrlr": {"TariffFallbackMessage": "Ask the operator"}}), csms)
    charging(booted, csms)
    wait_until(lambda: shown(booted) == ["Ask the operator"], "the fallback tariff")


@pytest.mark.requirements("I05.FR.02")
def test_I05_fallback_total_cost_message(csms: CsmsDouble, booted: Booted) -> None:
    charging(booted, csms)
    booted.station.present_token("TOKEN1")
    csms.reply(csms.expect_call("TransactionEvent"), {})
    wait_until(lambda: last_cost(booted).final, "the final view")
    assert (last_cost(booted).total, last_cost(booted).fallback) == (None, "The total cost is not available.")


def test_I02_a_costmsg_that_breaks_the_format_is_refused(csms: CsmsDouble, station_factory: StationFactory) -> None:
    california = {"CustomizationCtrlr": {f"CustomImplementationEnabled[{COSTMSG}]": True}}
    booted = boot(station_factory(config=california), csms)
    transaction_id = charging(booted, csms)
    custom = {"vendorId": COSTMSG, "chargingPrice": {"kWhPrice": "cheap"}}
    reply = csms.call("CostUpdated", {"totalCost": 1, "transactionId": transaction_id, "customData": custom})
    assert reply.error_code == "PropertyConstraintViolation"
    assert booted.application.costs.get(1) is None, "nothing shown"
    good = {"vendorId": COSTMSG, "chargingPrice": {"kWhPrice": 0.25}, "qrCodeText": "https://pay.example"}
    assert csms.call("CostUpdated", {"totalCost": 1, "transactionId": transaction_id, "customData": good}).payload == {}
    assert last_cost(booted).qr_code == "https://pay.example"


def test_I01_a_refused_tokens_personal_message_tells_the_driver_why(csms: CsmsDouble, booted: Booted) -> None:
    """I01 with C01: a Blocked answer's personalMessage is on the display (for REFUSED_SHOWN, unit-tested); no
    transaction starts."""
    plug(booted, csms)
    blocked = {"format": "UTF8", "content": "Card blocked: call 0800"}
    authorize_locally(booted, csms, status="Blocked", personalMessage=blocked)
    wait_until(lambda: shown(booted) == ["Card blocked: call 0800"], "the reason on the display")
    assert not booted.station.state.running_transactions


def test_I01_the_drivers_language_chooses_the_tariff_and_the_messages(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    """California pricing: the driver's language1 picks the personalMessageExtra and the CSMS's message in it."""
    config = {
        "CustomizationCtrlr": {f"CustomImplementationEnabled[{COSTMSG}]": True},
        "DisplayMessageCtrlr": {"SupportedLanguages": "en,es", "Language": "en"},
    }
    booted = boot(station_factory(config=config), csms)
    for number, (content, language) in enumerate((("Welcome", "en"), ("Bienvenido", "es")), start=1):
        message = {
            "id": number,
            "priority": "NormalCycle",
            "message": {"format": "UTF8", "language": language, "content": content},
        }
        assert csms.call("SetDisplayMessage", {"message": message}).payload == {"status": "Accepted"}
    wait_until(lambda: shown(booted) == ["Welcome"], "the station's language while idle")
    extra = [{"format": "UTF8", "language": "es", "content": "0,30 EUR/kWh"}]
    charging(
        booted,
        csms,
        language1="es",
        personalMessage={"format": "UTF8", "language": "en", "content": "0.30 EUR/kWh"},
        customData={"vendorId": COSTMSG, "personalMessageExtra": extra},
    )
    wait_until(lambda: shown(booted) == ["0,30 EUR/kWh", "Bienvenido"], "the driver's language")
