"""External charging limits from a local source through `step` (K11-K13): they limit the EVSE like a
ChargingStationExternalConstraints profile, the CSMS hears of significant changes with NotifyChargingLimit and
of a release with ClearedChargingLimit."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, booted, calls, of_type, replies, warnings

from chargecore.pure.blocks.smart_charging import external_limits
from chargecore.pure.effects import ApplyChargingLimit, Effects
from chargecore.pure.inputs import ExternalLimit

ENABLED = {"SmartChargingCtrlr": {"ExternalControlSignalsEnabled": True}}


def external(sim: Sim, evse_id: int, limit: float | None, **fields: Any) -> Effects:
    effects = sim.feed(ExternalLimit(sim.now, evse_id, limit, **fields))
    return effects + sim.answer_all()


def sent(effects: Effects, action: str) -> list[dict[str, Any]]:
    return [c.payload for c in calls(effects) if c.action == action]


def applied(effects: Effects) -> list[tuple[int, float]]:
    return [(e.evse_id, round(e.limit, 2)) for e in of_type(effects, ApplyChargingLimit)]


def test_an_external_limit_limits_the_evse_and_is_notified() -> None:
    sim = booted((1, 1), config=ENABLED)
    effects = external(sim, 1, 10.0, source="SO", grid_critical=True)
    assert applied(effects) == [(1, 10.0)]
    assert sent(effects, "NotifyChargingLimit") == [
        {"chargingLimit": {"chargingLimitSource": "SO", "isGridCritical": True}, "evseId": 1}
    ]


def test_changes_below_limit_change_significance_are_applied_but_not_notified() -> None:
    sim = booted(
        (1, 1), config={"SmartChargingCtrlr": {"ExternalControlSignalsEnabled": True, "LimitChangeSignificance": 20}}
    )
    external(sim, 1, 10.0)
    small = external(sim, 1, 11.0)
    assert applied(small) == [(1, 11.0)]
    assert sent(small, "NotifyChargingLimit") == []
    creeping = external(sim, 1, 11.9)
    assert sent(creeping, "NotifyChargingLimit") == [], "19 % of the limit the CSMS was told of"
    large = external(sim, 1, 12.5)
    assert len(sent(large, "NotifyChargingLimit")) == 1, "25 % of the limit the CSMS was told of"
    assert sent(external(sim, 1, 12.0), "NotifyChargingLimit") == []


def test_the_schedule_is_included_when_notify_charging_limit_with_schedules() -> None:
    sim = booted(
        config={"SmartChargingCtrlr": {"ExternalControlSignalsEnabled": True, "NotifyChargingLimitWithSchedules": True}}
    )
    (notice,) = sent(external(sim, 0, 40.0), "NotifyChargingLimit")
    assert "evseId" not in notice, "a station-wide limit names no EVSE"
    assert notice["chargingSchedule"][0]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 40.0}]


def test_releasing_the_limit_clears_it_and_tells_the_csms() -> None:
    sim = booted((1, 1), config=ENABLED)
    external(sim, 2, 6.0, source="EMS")
    effects = external(sim, 2, None)
    assert applied(effects) == [(2, round(22000 / 690, 2))]
    assert sent(effects, "ClearedChargingLimit") == [{"chargingLimitSource": "EMS", "evseId": 2}]
    assert sim.station.smart_charging.profiles == ()


@pytest.mark.requirements("K01.FR.05")
def test_the_csms_cannot_clear_or_replace_an_external_limit() -> None:
    sim = booted(config=ENABLED)
    external(sim, 1, 6.0)
    (cleared,) = replies(sim.csms_call("ClearChargingProfile", {"chargingProfileCriteria": {}}, "c"))
    assert cleared[2] == {"status": "Unknown"}
    replacing = {
        "id": external_limits.profile_id(1),
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}]}
        ],
    }
    (answer,) = replies(sim.csms_call("SetChargingProfile", {"evseId": 1, "chargingProfile": replacing}, "s"))
    assert answer[2]["statusInfo"]["reasonCode"] == "DuplicateProfile"
    assert [p.purpose for p in sim.station.smart_charging.profiles] == ["ChargingStationExternalConstraints"]


def test_external_limits_are_ignored_unless_external_control_signals_are_enabled() -> None:
    sim = booted()
    effects = external(sim, 1, 6.0)
    assert applied(effects) == [] and sent(effects, "NotifyChargingLimit") == []
    assert any("ExternalControlSignalsEnabled" in w for w in warnings(effects))


def cso_profile(profile_id: int) -> dict[str, Any]:
    return {
        "id": profile_id,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}
        ],
    }


def reported(sim: Sim, criterion: dict[str, Any], evse_id: int | None = None) -> tuple[str, list[tuple[str, int]]]:
    """GetChargingProfiles' status and the (chargingLimitSource, profile id) pairs reported."""
    request: dict[str, Any] = {"requestId": 1, "chargingProfile": criterion}
    if evse_id is not None:
        request["evseId"] = evse_id
    effects = sim.csms_call("GetChargingProfiles", request, "g")
    (reply,) = replies(effects)
    effects += sim.answer_all()
    found = [
        (r["chargingLimitSource"], p["id"])
        for r in sent(effects, "ReportChargingProfiles")
        for p in r["chargingProfile"]
    ]
    return reply[2]["status"], found


@pytest.mark.requirements("K09.FR.01")
def test_get_charging_profiles_keeps_external_limits_apart_by_their_source() -> None:
    sim = booted((1, 1), config=ENABLED)
    sim.csms_call("SetChargingProfile", {"evseId": 1, "chargingProfile": cso_profile(3)}, "s")
    external(sim, 1, 6.0, source="SO")
    external(sim, 0, 40.0, source="EMS")
    ems, so = external_limits.profile_id(0), external_limits.profile_id(1)
    assert reported(sim, {"chargingLimitSource": ["CSO"]}) == ("Accepted", [("CSO", 3)])
    assert reported(sim, {"chargingLimitSource": ["SO", "EMS"]}) == ("Accepted", [("EMS", ems), ("SO", so)])
    assert reported(sim, {"chargingLimitSource": ["Other"]}) == ("NoProfiles", [])
    purpose = {"chargingProfilePurpose": "ChargingStationExternalConstraints"}
    assert reported(sim, purpose, evse_id=1) == ("Accepted", [("SO", so)])
    assert reported(sim, {}, evse_id=1) == ("Accepted", [("CSO", 3), ("SO", so)])


@pytest.mark.requirements("K10.FR.03")
def test_clear_charging_profile_never_clears_an_external_limit() -> None:
    sim = booted((1, 1), config=ENABLED)
    sim.csms_call("SetChargingProfile", {"evseId": 1, "chargingProfile": cso_profile(3)}, "s")
    external(sim, 1, 6.0)

    def clear(request: dict[str, Any]) -> str:
        (reply,) = replies(sim.csms_call("ClearChargingProfile", request, "c"))
        status: str = reply[2]["status"]
        return status

    assert clear({"chargingProfileId": external_limits.profile_id(1)}) == "Unknown"
    assert clear({"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationExternalConstraints"}}) == (
        "Unknown"
    )
    assert clear({"chargingProfileCriteria": {"evseId": 1}}) == "Accepted"
    assert [(p.purpose, p.source) for p in sim.station.smart_charging.profiles] == [
        ("ChargingStationExternalConstraints", "EMS")
    ]
    assert applied(sim.tick(1)) == [], "the external 6 A still holds"
