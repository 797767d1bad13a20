"""Tariff texts and running costs persisted across a restart (stored_views.py): the session's display comes back
with its tariff and cost, its final cost still reaches its EVSE, and a damaged record is named, not lost silently."""

from __future__ import annotations

from decimal import Decimal

import pytest
from core_helpers import Sim, answer_boot, booted, make_station, of_type, persisted
from test_core_tariff_cost import charging, cost_updated

from chargecore.pure.blocks.tariff_cost.stored_views import KEY_PREFIX
from chargecore.pure.boot import dropped_records
from chargecore.pure.effects import Effects, ShowCost, ShowMessages
from chargecore.pure.inputs import ConnectorFound

TARIFF = {"format": "UTF8", "content": "0.30 EUR/kWh"}


def rebooted(sim: Sim) -> tuple[Sim, Effects]:
    """The station rebuilt from what it persisted, powered up with the EV still plugged in, connected, booted."""
    after = Sim(make_station((1,), stored=persisted(sim.log)), now=sim.now)
    effects = after.power_up(found=(ConnectorFound(1, 1, plugged=True),))
    effects += after.connect()
    effects += answer_boot(after, at_s=None)
    return after, effects


@pytest.mark.requirements("I03.FR.01", "I05.FR.02")
def test_the_tariff_comes_back_after_a_restart_and_the_final_cost_follows_on_its_evse() -> None:
    """The transaction ends with PowerLoss at PowerUp, offline: the fallback total until the Ended answer (I05)."""
    sim, transaction_id = charging(personalMessage=TARIFF)
    cost_updated(sim, transaction_id, 1.25)
    after, effects = rebooted(sim)
    (again,) = of_type(effects, ShowCost)
    assert (again.evse_id, again.cost.total, again.cost.final) == (1, None, True), "ended offline by the power loss"
    assert again.cost.fallback == "The total cost is not available."
    assert [[m.content.text for m in s.messages] for s in of_type(effects, ShowMessages)][-1] == ["0.30 EUR/kWh"]
    ended = None
    while after.station.rpc.lane or after.station.rpc.queue or after.station.rpc.in_flight:
        call = after.outstanding()
        if call.action == "TransactionEvent" and call.payload["eventType"] == "Ended":
            ended = after.reply({"totalCost": 2.5})
            break
        after.reply({})
    assert ended is not None, "the PowerLoss Ended event goes out"
    (final,) = of_type(ended, ShowCost)
    assert (final.evse_id, final.cost.total, final.cost.final) == (1, Decimal("2.500"), True)


def test_a_damaged_view_is_dropped_and_named_and_the_others_kept() -> None:
    sim, transaction_id = charging(personalMessage=TARIFF)
    cost_updated(sim, transaction_id, 1.25)
    stored = persisted(sim.log)
    good = stored[f"{KEY_PREFIX}1"]
    stored[f"{KEY_PREFIX}1"] = {**good, "cost": {**good["cost"], "total": "1e400"}}
    stored[f"{KEY_PREFIX}7"] = {**good, "evse": 7}
    station = make_station((1,), stored=stored)
    assert station.tariff_cost.views == ()
    dropped = sorted(dropped_records(station, stored))
    assert [line.split(":")[0] for line in dropped] == [f"{KEY_PREFIX}1", f"{KEY_PREFIX}7"]
    assert "not a decimal within bounds" in dropped[0] and "no EVSE 7" in dropped[1]
    assert make_station((1,), stored={**stored, f"{KEY_PREFIX}1": good}).tariff_cost.views != ()


def test_a_view_that_goes_is_deleted_from_the_store_and_a_refused_message_never_written() -> None:
    sim = booted()
    sim.plug()
    sim.answer_all()
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted", "personalMessage": TARIFF}})
    assert persisted(sim.log)[f"{KEY_PREFIX}1"]["texts"] == [TARIFF]
    sim.plug(change="unplug")  # the session ends before it started: its tariff goes
    sim.answer_all()
    assert persisted(sim.log)[f"{KEY_PREFIX}1"] is None
    refused = booted()
    refused.plug()
    refused.answer_all()
    refused.present_token()
    refused.reply({"idTokenInfo": {"status": "Blocked", "personalMessage": TARIFF}})
    assert refused.station.tariff_cost.views and f"{KEY_PREFIX}1" not in persisted(refused.log)
