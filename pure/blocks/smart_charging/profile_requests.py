"""Block K, the CSMS's questions and clearing of profiles: GetCompositeSchedule (K08), GetChargingProfiles (K09)
and ClearChargingProfile (K10). The profiles themselves, SetChargingProfile and the limits are smart_charging.py's."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Failure

from chargecore.pure.blocks.provisioning.reports import report_limits
from chargecore.pure.blocks.smart_charging.charging_profiles import (
    EXTERNAL,
    Profile,
)
from chargecore.pure.blocks.smart_charging.composite_schedule import (
    CompositeSchedule,
)
from chargecore.pure.blocks.smart_charging.smart_charging import (
    MAX_COMPOSITE_SECONDS,
    available,
    composite_for,
    not_supported,
    rate_units,
    rejected,
    remove,
)
from chargecore.pure.effects import Effects
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.ocppj.message_split import split
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.outcome import Handled, Reply
from chargecore.pure.state import Station

# --- GetCompositeSchedule (K08) ----------------------------------------------------------------------------------


def _tenths(limit: float) -> float:
    """OCPP limits have at most one decimal: round down, so the reported limit is never above the real one."""
    return math.floor(limit * 10 + 1e-9) / 10


def _period_payloads(schedule: CompositeSchedule) -> list[dict[str, Any]]:
    payloads: list[dict[str, Any]] = []
    for period in schedule.periods:
        limit = _tenths(period.limit)
        if payloads and (payloads[-1]["limit"], payloads[-1]["numberPhases"]) == (limit, period.number_phases):
            continue
        payloads.append({"startPeriod": period.start, "limit": limit, "numberPhases": period.number_phases})
    return payloads


def handle_get_composite_schedule(station: Station, call: Call, now: datetime) -> Handled:
    if not available(station):
        return station, not_supported(call), ()
    evse_id, duration = call.payload["evseId"], call.payload["duration"]
    units = rate_units(station)
    unit = call.payload.get("chargingRateUnit") or next(iter(units), "")
    if not 0 <= evse_id <= len(station.identity.evse_connectors):
        return station, rejected("UnknownEvse", f"EVSE {evse_id} does not exist"), ()
    if unit not in units:
        return station, rejected("UnsupportedRateUnit", f"chargingRateUnit {unit} is not in RateUnit"), ()
    if duration < 0:
        return station, rejected("InvalidValue", "duration must not be negative"), ()
    duration = min(duration, MAX_COMPOSITE_SECONDS)
    schedule = composite_for(station, evse_id, now, duration, unit)
    payload = {
        "evseId": evse_id,
        "duration": duration,
        "scheduleStart": ocpp_time(station, now),
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": _period_payloads(schedule),
    }
    return station, Reply({"status": "Accepted", "schedule": payload}), ()


# --- GetChargingProfiles (K09) -----------------------------------------------------------------------------------


def _matches_report(profile: Profile, evse_id: int | None, criterion: Mapping[str, Any]) -> bool:
    ids, sources = criterion.get("chargingProfileId"), criterion.get("chargingLimitSource")
    return (
        (evse_id is None or profile.evse_id == evse_id)
        and criterion.get("chargingProfilePurpose", profile.purpose) == profile.purpose
        and criterion.get("stackLevel", profile.stack_level) == profile.stack_level
        and (ids is None or profile.profile_id in ids)
        and (sources is None or profile.source in sources)
    )


def handle_get_charging_profiles(station: Station, call: Call, now: datetime) -> Handled:
    """K09: answer, then report the matching profiles in ReportChargingProfiles, one series per EVSE and
    source, split by DeviceDataCtrlr ItemsPerMessage/BytesPerMessage[GetReport]; tbc on all but the last."""
    if not available(station):
        return station, not_supported(call), ()
    evse_id, criterion = call.payload.get("evseId"), call.payload.get("chargingProfile", {})
    found = [p for p in station.smart_charging.profiles if _matches_report(p, evse_id, criterion)]
    if not found:
        return station, Reply({"status": "NoProfiles"}), ()
    request_id = call.payload["requestId"]
    groups: dict[tuple[int, str], list[Profile]] = {}
    for profile in found:
        groups.setdefault((profile.evse_id, profile.source), []).append(profile)
    items, size = report_limits(station.device_model)
    payloads: list[dict[str, Any]] = []
    for (group_evse, source), profiles in sorted(groups.items()):

        def payload_of(
            chunk: Any, seq_no: int, tbc: bool, evse: int = group_evse, origin: str = source
        ) -> dict[str, Any]:
            return {
                "requestId": request_id,
                "chargingLimitSource": origin,
                "evseId": evse,
                "chargingProfile": list(chunk),
                "tbc": tbc,
            }

        messages = split("ReportChargingProfiles", [p.payload for p in profiles], payload_of, items, size)
        if isinstance(messages, Failure):
            return station, CallError(call.message_id, "InternalError", messages.failure()), ()
        payloads.extend(messages.unwrap())
    session = station.rpc
    effects: Effects = ()
    for index, payload in enumerate(payloads):
        session, queued = rpc.enqueue(session, "ReportChargingProfiles", {**payload, "tbc": index < len(payloads) - 1})
        effects += queued
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects


# --- ClearChargingProfile (K10) ----------------------------------------------------------------------------------


def _matches_clear(profile: Profile, payload: Mapping[str, Any]) -> bool:
    if profile.purpose == EXTERNAL:  # set locally, never cleared by the CSMS
        return False
    if "chargingProfileId" in payload:
        return bool(profile.profile_id == payload["chargingProfileId"])
    criteria = payload.get("chargingProfileCriteria", {})
    wanted = (criteria.get("evseId"), criteria.get("chargingProfilePurpose"), criteria.get("stackLevel"))
    actual = (profile.evse_id, profile.purpose, profile.stack_level)
    return all(want is None or want == have for want, have in zip(wanted, actual, strict=True))


def handle_clear_charging_profile(station: Station, call: Call, now: datetime) -> Handled:
    if not available(station):
        return station, not_supported(call), ()
    gone = tuple(p for p in station.smart_charging.profiles if _matches_clear(p, call.payload))
    if not gone:
        return station, Reply({"status": "Unknown"}), ()
    cleared, effects = remove(station, gone)
    return cleared, Reply({"status": "Accepted"}), effects
