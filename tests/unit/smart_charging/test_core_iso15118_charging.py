"""ISO 15118 charging needs and schedules through the application (K15-K17), and the K05 hooks the
transactions block uses for a RequestStartTransaction that carries a charging profile."""

from __future__ import annotations

from typing import Any

from core_helpers import Sim, booted, calls, of_type
from test_core_smart_charging import accepted, profile, with_transaction

from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.effects import (
    ApplyChargingLimit,
    Effects,
    EVChargingNeedsAnswered,
    EVChargingScheduleAnswered,
    Notify,
    TxProfileForEV,
)
from chargecore.pure.inputs import EVChargingNeeds, EVChargingSchedule

NEEDS = {"requestedEnergyTransfer": "AC_three_phase", "acChargingParameters": {
    "energyAmount": 20000, "evMinCurrent": 6, "evMaxCurrent": 32, "evMaxVoltage": 400}}  # fmt: skip
SCHEDULE = {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}


def events(effects: Effects) -> list[Any]:
    return [effect.event for effect in of_type(effects, Notify)]


def test_K15_the_ev_charging_needs_reach_the_csms_and_its_answer_the_application() -> None:
    sim = booted()
    effects = sim.feed(EVChargingNeeds(sim.now, 1, NEEDS, max_schedule_tuples=3))
    (sent,) = [c for c in calls(effects) if c.action == "NotifyEVChargingNeeds"]
    assert sent.payload == {"evseId": 1, "chargingNeeds": NEEDS, "maxScheduleTuples": 3}
    answered = sim.reply({"status": "Processing"})
    assert events(answered) == [EVChargingNeedsAnswered(1, "Processing")]


def test_K15_the_schedule_the_ev_chose_reaches_the_csms() -> None:
    sim = booted()
    effects = sim.feed(EVChargingSchedule(sim.now, 1, SCHEDULE))
    (sent,) = [c for c in calls(effects) if c.action == "NotifyEVChargingSchedule"]
    assert (sent.payload["evseId"], sent.payload["chargingSchedule"]) == (1, SCHEDULE)
    assert events(sim.reply_error()) == [EVChargingScheduleAnswered(1, None)]


def test_K16_every_tx_profile_is_offered_to_the_ev_and_a_new_one_renegotiates() -> None:
    sim = with_transaction(booted())
    first = accepted(sim, 1, profile(1, purpose="TxProfile", transactionId="tx-1", periods=[(0, 16.0)]))
    (offer,) = [e for e in events(first) if isinstance(e, TxProfileForEV)]
    assert (offer.evse_id, offer.transaction_id, offer.charging_profile["id"]) == (1, "tx-1", 1)
    again = accepted(sim, 1, profile(1, purpose="TxProfile", transactionId="tx-1", periods=[(0, 8.0)]))
    assert [e.charging_profile["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] for e in events(again)
            if isinstance(e, TxProfileForEV)] == [8.0]  # fmt: skip
    assert events(accepted(sim, 1, profile(2))) == [], "a TxDefaultProfile is not offered"


def start_profile(**extra: Any) -> dict[str, Any]:
    charging_profile = profile(9, purpose="TxProfile", kind="Relative", periods=[(0, 6.0)], **extra)
    return charging_profile


def test_K05_a_start_profile_must_be_a_tx_profile_without_transaction_id() -> None:
    station = booted().station
    assert smart_charging.start_profile_rejection(station, 1, start_profile()) is None
    assert smart_charging.start_profile_rejection(station, 1, {**start_profile(), "transactionId": "x"}) is not None
    tx_default = {**start_profile(), "chargingProfilePurpose": "TxDefaultProfile"}
    assert smart_charging.start_profile_rejection(station, 1, tx_default) is not None
    broken = start_profile()
    broken["chargingSchedule"][0]["chargingSchedulePeriod"][0]["startPeriod"] = 5
    refused = smart_charging.start_profile_rejection(station, 1, broken)
    assert refused is not None and refused.requirement == "K01.FR.31"


def test_K05_the_start_profile_becomes_the_tx_profile_of_the_started_transaction() -> None:
    sim: Sim = with_transaction(booted(), 1, "tx-7", started_s=2)
    station, effects = smart_charging.adopt_start_profile(sim.station, 1, "tx-7", start_profile())
    (installed,) = station.smart_charging.profiles
    assert (installed.purpose, installed.transaction_id) == ("TxProfile", "tx-7")
    assert [type(e.event) for e in of_type(effects, Notify)] == [TxProfileForEV]
    sim.station = station
    assert [(e.evse_id, e.limit) for e in of_type(sim.tick(3), ApplyChargingLimit)] == [(1, 6.0)]
