"""External charging limits from a local source (K11-K13): an energy management system, the grid operator or
another local controller limits an EVSE (or the whole station, EVSE 0).

A limit becomes a ChargingStationExternalConstraints profile (in force from now, until released), so the
composite schedule and the applied limits take it in like any other profile. The CSMS hears of it with
NotifyChargingLimit when the change is at least SmartChargingCtrlr.LimitChangeSignificance percent of the
previous external limit (always for a first one), with the schedule when NotifyChargingLimitWithSchedules is
true; a release is reported with ClearedChargingLimit. Only while ExternalControlSignalsEnabled is true.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from returns.result import Failure

from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.blocks.smart_charging.charging_profiles import EXTERNAL, AppliedLimit, Profile
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_value
from chargecore.pure.effects import Effects, Log
from chargecore.pure.inputs import ExternalLimit
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.state import Station

LOCAL_SOURCES = frozenset({"EMS", "SO", "Other"})
"""chargingLimitSource values of a local limit; CSO is the CSMS itself."""
SIGNIFICANCE = VariableKey("SmartChargingCtrlr", "LimitChangeSignificance")


def profile_id(evse_id: int) -> int:
    """The id of the EVSE's external-limit profile: negative, so it never collides with a CSMS id."""
    return -(evse_id + 1)


def _current(station: Station, evse_id: int) -> Profile | None:
    wanted = profile_id(evse_id)
    return next((p for p in station.smart_charging.profiles if p.profile_id == wanted), None)


def _significant(told: AppliedLimit | None, limit: float, unit: str, percent: float) -> bool:
    """Whether the change from what the CSMS was last told is at least `percent` of it."""
    if told is None or told.unit != unit:
        return True
    if told.limit == 0:
        return limit != 0
    return abs(limit - told.limit) * 100 >= percent * abs(told.limit)


def _told(station: Station, evse_id: int, now_told: AppliedLimit | None) -> Station:
    kept = tuple(limit for limit in station.smart_charging.notified if limit.evse_id != evse_id)
    notified = kept if now_told is None else (*kept, now_told)
    return replace(station, smart_charging=replace(station.smart_charging, notified=notified))


def _payload(station: Station, event: ExternalLimit, limit: float) -> dict[str, Any]:
    return {
        "id": profile_id(event.evse_id),
        "stackLevel": 0,
        "chargingProfilePurpose": EXTERNAL,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": ocpp_time(station, event.now),
                "chargingRateUnit": event.unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }


def on_external_limit(station: Station, event: ExternalLimit) -> tuple[Station, Effects]:
    if not get_bool(station.device_model, "SmartChargingCtrlr", "ExternalControlSignalsEnabled"):
        return station, (Log("warning", "external limit ignored: ExternalControlSignalsEnabled is false"),)
    if event.source not in LOCAL_SOURCES or not 0 <= event.evse_id <= len(station.identity.evse_connectors):
        return station, (Log("warning", f"external limit ignored: source {event.source}, EVSE {event.evse_id}"),)
    previous = _current(station, event.evse_id)
    if event.limit is None:
        return _released(station, event, previous)
    parsed = smart_charging.parse_profile(_payload(station, event, event.limit), event.evse_id, event.source)
    if isinstance(parsed, Failure):
        return station, (Log("warning", f"external limit ignored: {parsed.failure()}"),)
    profile = parsed.unwrap()
    installed, effects = smart_charging.install(station, profile)
    percent = float(get_value(station.device_model, SIGNIFICANCE) or 0)
    told = next((limit for limit in station.smart_charging.notified if limit.evse_id == event.evse_id), None)
    if not _significant(told, event.limit, event.unit, percent):
        return installed, effects
    installed = _told(installed, event.evse_id, AppliedLimit(event.evse_id, event.limit, event.unit, 0))
    limit: dict[str, Any] = {"chargingLimitSource": event.source}
    if event.grid_critical is not None:
        limit["isGridCritical"] = event.grid_critical
    notice: dict[str, Any] = {"chargingLimit": limit}
    if event.evse_id > 0:
        notice["evseId"] = event.evse_id
    if get_bool(station.device_model, "SmartChargingCtrlr", "NotifyChargingLimitWithSchedules"):
        notice["chargingSchedule"] = profile.payload["chargingSchedule"]
    session, queued = rpc.enqueue(installed.rpc, "NotifyChargingLimit", notice)
    return replace(installed, rpc=session), effects + queued


def _released(station: Station, event: ExternalLimit, previous: Profile | None) -> tuple[Station, Effects]:
    if previous is None:
        return station, (Log("warning", f"no external limit on EVSE {event.evse_id} to release"),)
    released, effects = smart_charging.remove(_told(station, event.evse_id, None), (previous,))
    cleared: dict[str, Any] = {"chargingLimitSource": previous.source}
    if event.evse_id > 0:
        cleared["evseId"] = event.evse_id
    session, queued = rpc.enqueue(released.rpc, "ClearedChargingLimit", cleared)
    return replace(released, rpc=session), effects + queued
