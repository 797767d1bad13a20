"""ISO 15118 charging needs and schedules (K15-K17) through the application: the EV's ISO 15118 stack lives in the
integrator's software, the core carries its messages to the CSMS and back.

- The EV states its needs (K15, and again to renegotiate, K17): the `EVChargingNeeds` input sends
  NotifyEVChargingNeeds; the CSMS's status comes back as `Notify(EVChargingNeedsAnswered)`, after which the CSMS
  sets a TxProfile with SetChargingProfile.
- Every TxProfile installed is handed to the application as `Notify(TxProfileForEV)`, so the ISO 15118 stack
  offers its schedules to the EV (K15) or renegotiates when the CSMS changes it (K16).
- The EV answers with the schedule it chose: the `EVChargingSchedule` input sends NotifyEVChargingSchedule,
  answered by `Notify(EVChargingScheduleAnswered)`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.smart_charging.charging_profiles import TX, Profile
from chargecore.pure.effects import Effects, EVChargingNeedsAnswered, EVChargingScheduleAnswered, Notify, TxProfileForEV
from chargecore.pure.inputs import EVChargingNeeds, EVChargingSchedule
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.state import OutboundCall, Station


def on_charging_needs(station: Station, event: EVChargingNeeds) -> tuple[Station, Effects]:
    payload: dict[str, Any] = {"evseId": event.evse_id, "chargingNeeds": event.charging_needs}
    if event.max_schedule_tuples is not None:
        payload["maxScheduleTuples"] = event.max_schedule_tuples
    session, effects = rpc.enqueue(station.rpc, "NotifyEVChargingNeeds", payload)
    return replace(station, rpc=session), effects


def on_charging_schedule(station: Station, event: EVChargingSchedule) -> tuple[Station, Effects]:
    payload = {
        "timeBase": ocpp_time(station, event.now),
        "evseId": event.evse_id,
        "chargingSchedule": event.charging_schedule,
    }
    session, effects = rpc.enqueue(station.rpc, "NotifyEVChargingSchedule", payload)
    return replace(station, rpc=session), effects


def needs_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any] | None, now: datetime
) -> tuple[Station, Effects]:
    """The CSMS's status (None: no usable answer) goes to the application."""
    status = None if payload is None else payload["status"]
    return station, (Notify(EVChargingNeedsAnswered(call.payload["evseId"], status)),)


def schedule_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any] | None, now: datetime
) -> tuple[Station, Effects]:
    status = None if payload is None else payload["status"]
    return station, (Notify(EVChargingScheduleAnswered(call.payload["evseId"], status)),)


def offer_to_ev(profile: Profile) -> Effects:
    """K15/K16: a TxProfile's schedules go to the EV through the application."""
    if profile.purpose != TX:
        return ()
    return (Notify(TxProfileForEV(profile.evse_id, profile.transaction_id, profile.payload)),)
