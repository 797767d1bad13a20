"""Block I, California pricing: the running-cost triggers of a CostUpdated (customData costmsg
`triggerMeterValue`). The CSMS asks for the next meter value at a time (`atTime`), when the energy register reaches a
value (`atEnergykWh`) or when the power crosses a level (`atPowerkW`), so it can send the next running cost then.

Each trigger fires once: the station sends a MeterValuesRequest for the transaction's EVSE (context Other, the
energy register and the power when known) and forgets it; a new CostUpdated sets new triggers and drops the old
ones. A trigger of a transaction that has ended is dropped.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.tariff_cost.costs import CostTrigger
from chargecore.pure.blocks.transactions.sessions import hardware
from chargecore.pure.effects import Effects
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.timestamps import later, ocpp_time, parse_ocpp_time, station_time
from chargecore.pure.state import Station

KILO = 1000.0


def set_triggers(station: Station, transaction_id: str, evse_id: int, triggers: dict[str, Any]) -> Station:
    """Replace the transaction's triggers with those of a checked costmsg `triggerMeterValue`."""
    at_time = parse_ocpp_time(triggers["atTime"]).value_or(None) if "atTime" in triggers else None
    at_power = None if "atPowerkW" not in triggers else float(triggers["atPowerkW"]) * KILO
    trigger = _watched(
        station,
        CostTrigger(
            transaction_id=transaction_id,
            evse_id=evse_id,
            at_time=at_time,
            at_energy_wh=None if "atEnergykWh" not in triggers else float(triggers["atEnergykWh"]) * KILO,
            at_power_w=at_power,
        ),
    )
    kept = tuple(t for t in station.tariff_cost.triggers if t.transaction_id != transaction_id)
    if trigger.at_time is None and trigger.at_energy_wh is None and trigger.at_power_w is None:
        return replace(station, tariff_cost=replace(station.tariff_cost, triggers=kept))
    return replace(station, tariff_cost=replace(station.tariff_cost, triggers=(*kept, trigger)))


def fire(station: Station, now: datetime) -> tuple[Station, Effects]:
    """Send a MeterValues for every trigger whose moment, energy or power has come; keep the others."""
    triggers = station.tariff_cost.triggers
    if not triggers:
        return station, ()
    running = {tx.transaction_id for tx in station.running_transactions}
    moment = station_time(station, now)
    kept: list[CostTrigger] = []
    effects: Effects = ()
    for trigger in triggers:
        if trigger.transaction_id not in running:
            continue
        if _due(station, trigger, moment):
            station, sent = _send(station, trigger.evse_id, now)
            effects += sent
        else:
            kept.append(_watched(station, trigger))
    return replace(station, tariff_cost=replace(station.tariff_cost, triggers=tuple(kept))), effects


def deadline(station: Station) -> datetime | None:
    """The earliest atTime, in shell time."""
    moments = [t.at_time for t in station.tariff_cost.triggers if t.at_time is not None]
    return None if not moments else later(min(moments), -station.registration.clock_offset)


def _due(station: Station, trigger: CostTrigger, moment: datetime) -> bool:
    reading = hardware(station, trigger.evse_id)
    if trigger.at_time is not None and moment >= trigger.at_time:
        return True
    if trigger.at_energy_wh is not None and reading.energy_wh is not None and reading.energy_wh >= trigger.at_energy_wh:
        return True
    if trigger.at_power_w is None or reading.power_w is None or trigger.power_below is None:
        return False
    return (reading.power_w < trigger.at_power_w) != trigger.power_below


def _watched(station: Station, trigger: CostTrigger) -> CostTrigger:
    """A power trigger set before any power reading learns which side of the level the power starts on."""
    power = hardware(station, trigger.evse_id).power_w
    if trigger.at_power_w is None or trigger.power_below is not None or power is None:
        return trigger
    return replace(trigger, power_below=power < trigger.at_power_w)


def _send(station: Station, evse_id: int, now: datetime) -> tuple[Station, Effects]:
    reading = hardware(station, evse_id)
    samples: list[dict[str, Any]] = [
        {"value": reading.energy_wh or 0.0, "context": "Other", "measurand": "Energy.Active.Import.Register"}
    ]
    if reading.power_w is not None:
        samples.append({"value": reading.power_w, "context": "Other", "measurand": "Power.Active.Import"})
    payload = {"evseId": evse_id, "meterValue": [{"timestamp": ocpp_time(station, now), "sampledValue": samples}]}
    session, effects = rpc.enqueue(station.rpc, "MeterValues", payload)
    return replace(station, rpc=session), effects
