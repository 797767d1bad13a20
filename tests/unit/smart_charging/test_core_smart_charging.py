"""Smart charging through `step` (block K): SetChargingProfile validation (K01), one test per rule named by its
requirement; installation, replacement, persistence and the end of TxProfiles (K02); GetCompositeSchedule (K08),
GetChargingProfiles (K09), ClearChargingProfile (K10); offline behaviour (K06/K07) and the limits handed to the
hardware."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from core_helpers import Sim, at, booted, calls, make_station, of_type, persisted, replies

from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.device_model.model import get_value
from chargecore.pure.effects import ApplyChargingLimit, Effects
from chargecore.pure.inputs import ChangeVariable, Tick
from chargecore.pure.state import Transaction
from chargecore.pure.station import next_deadline

CSMS_T2 = datetime(2030, 1, 1, tzinfo=UTC)
"""The CSMS clock at T0+2 s, when the boot was accepted: profile times are on this clock."""


def csms(seconds: float) -> str:
    """The CSMS-clock timestamp of the moment T0+`seconds`."""
    moment = CSMS_T2 + timedelta(seconds=seconds - 2)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def schedule(periods: list[tuple[int, float]], unit: str = "A", **extra: Any) -> dict[str, Any]:
    return {
        "id": 1,
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": start, "limit": limit} for start, limit in periods],
        **extra,
    }


def profile(
    profile_id: int = 1,
    purpose: str = "TxDefaultProfile",
    kind: str = "Absolute",
    stack: int = 0,
    periods: list[tuple[int, float]] | None = None,
    unit: str = "A",
    **extra: Any,
) -> dict[str, Any]:
    """A chargingProfile; Absolute and Recurring ones start at T0+2 s unless `schedule_extra` says otherwise."""
    schedule_extra = extra.pop("schedule_extra", {})
    if kind != "Relative":
        schedule_extra = {"startSchedule": csms(2), **schedule_extra}
    return {
        "id": profile_id,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule(periods or [(0, 16.0)], unit, **schedule_extra)],
        **extra,
    }


def set_profile(sim: Sim, evse_id: int, charging_profile: dict[str, Any]) -> tuple[dict[str, Any], Effects]:
    effects = sim.csms_call("SetChargingProfile", {"evseId": evse_id, "chargingProfile": charging_profile}, "scp")
    (reply,) = replies(effects)
    assert reply[:2] == [3, "scp"], reply
    return reply[2], effects


def rejected(sim: Sim, evse_id: int, charging_profile: dict[str, Any]) -> tuple[str, str]:
    answer, _ = set_profile(sim, evse_id, charging_profile)
    assert answer["status"] == "Rejected", answer
    return answer["statusInfo"]["reasonCode"], answer["statusInfo"]["additionalInfo"]


def accepted(sim: Sim, evse_id: int, charging_profile: dict[str, Any]) -> Effects:
    answer, effects = set_profile(sim, evse_id, charging_profile)
    assert answer == {"status": "Accepted"}, answer
    return effects


def with_transaction(sim: Sim, evse_id: int = 1, transaction_id: str = "tx-1", started_s: float = 2) -> Sim:
    running = Transaction(transaction_id, evse_id, 1, at(started_s), phase="started")
    sim.station = replace(sim.station, transactions=(*sim.station.transactions, running))
    return sim


def station(evses: tuple[int, ...] = (1, 1), **config: Any) -> Sim:
    return booted(evses, config=config or None)


# --- K01 validation, one test per rule ---------------------------------------------------------------------------


@pytest.mark.requirements("K01.FR.28")
def test_K01_FR_28_a_profile_for_an_unknown_evse_is_rejected() -> None:
    assert rejected(station(), 3, profile())[0] == "InvalidValue"


@pytest.mark.requirements("K01.FR.22")
def test_K01_FR_22_the_csms_cannot_set_external_constraints() -> None:
    code, info = rejected(station(), 0, profile(purpose="ChargingStationExternalConstraints"))
    assert (code, "locally" in info) == ("InvalidValue", True)


@pytest.mark.requirements("K01.FR.03")
def test_K01_FR_03_a_station_maximum_goes_on_evse_0_only() -> None:
    code, info = rejected(station(), 1, profile(purpose="ChargingStationMaxProfile"))
    assert (code, info.split(" ")[0]) == ("InvalidValue", "ChargingStationMaxProfileEvseIdGreaterThanZero")


@pytest.mark.requirements("K01.FR.38")
def test_K01_FR_38_a_station_maximum_is_never_relative() -> None:
    code, info = rejected(station(), 0, profile(purpose="ChargingStationMaxProfile", kind="Relative"))
    assert (code, info.split(" ")[0]) == ("InvalidValue", "ChargingStationMaxProfileCannotBeRelative")


@pytest.mark.requirements("K01.FR.16")
def test_K01_FR_16_a_tx_profile_needs_an_evse() -> None:
    sim = with_transaction(station())
    code, info = rejected(sim, 0, profile(purpose="TxProfile", transactionId="tx-1"))
    assert (code, info.split(" ")[0]) == ("InvalidValue", "TxProfileEvseIdNotGreaterThanZero")


@pytest.mark.requirements("K01.FR.03")
def test_K01_FR_03_a_tx_profile_needs_a_transaction_id() -> None:
    sim = with_transaction(station())
    assert rejected(sim, 1, profile(purpose="TxProfile"))[0] == "MissingParam"


@pytest.mark.requirements("K01.FR.09")
def test_K01_FR_09_a_tx_profile_on_an_evse_without_transaction_is_rejected() -> None:
    code, info = rejected(station(), 1, profile(purpose="TxProfile", transactionId="tx-1"))
    assert (code, info.split(":")[0]) == ("TxNotFound", "TxProfileEvseHasNoActiveTransaction")


@pytest.mark.requirements("K01.FR.33")
def test_K01_FR_33_a_tx_profile_for_another_transaction_is_rejected() -> None:
    sim = with_transaction(station())
    code, info = rejected(sim, 1, profile(purpose="TxProfile", transactionId="tx-9"))
    assert (code, info.split(":")[0]) == ("TxNotFound", "TxProfileTransactionNotOnEvse")


@pytest.mark.requirements("K01.FR.39")
def test_K01_FR_39_two_tx_profiles_of_one_transaction_never_share_a_stack_level() -> None:
    sim = with_transaction(station())
    accepted(sim, 1, profile(1, purpose="TxProfile", transactionId="tx-1", stack=2))
    assert rejected(sim, 1, profile(2, purpose="TxProfile", transactionId="tx-1", stack=2))[0] == "InvalidStackLevel"
    accepted(sim, 1, profile(2, purpose="TxProfile", transactionId="tx-1", stack=3))


@pytest.mark.requirements("K01.FR.06")
def test_K01_FR_06_same_purpose_evse_and_stack_level_with_overlapping_validity_is_rejected() -> None:
    sim = station()
    accepted(sim, 1, profile(1, validFrom=csms(0), validTo=csms(3600)))
    code, _ = rejected(sim, 1, profile(2, validFrom=csms(1800), validTo=csms(7200)))
    assert code == "DuplicateProfile"
    accepted(sim, 1, profile(3, validFrom=csms(3600), validTo=csms(7200)))  # validTo is exclusive
    accepted(sim, 2, profile(4))  # another EVSE
    accepted(sim, 1, profile(5, stack=1))  # another stack level


@pytest.mark.requirements("K01.FR.05")
def test_K01_FR_05_a_profile_with_an_existing_id_replaces_it() -> None:
    sim = station()
    accepted(sim, 1, profile(1, periods=[(0, 16.0)]))
    accepted(sim, 1, profile(1, periods=[(0, 10.0)]))
    (installed,) = sim.station.smart_charging.profiles
    assert installed.schedule.periods[0].limit == 10.0


@pytest.mark.requirements("K01.FR.05")
def test_K01_FR_05_the_profile_already_set_sent_again_is_stored_again_and_changes_nothing_else() -> None:
    """A load manager resending the same profile: Accepted and persisted again, the limits as they were."""
    sim = station()
    accepted(sim, 1, profile(1, periods=[(0, 16.0), (600, 8.0)]))
    before = sim.station.smart_charging
    effects = accepted(sim, 1, profile(1, periods=[(0, 16.0), (600, 8.0)]))
    assert sim.station.smart_charging is before
    assert persisted(effects)["smart_charging/profile/1"]["chargingProfile"]["id"] == 1
    assert applied(effects) == []
    moved = accepted(sim, 2, profile(1, periods=[(0, 16.0), (600, 8.0)]))
    assert applied(moved) == [(1, round(22000 / 690, 3)), (2, 16.0)], "moved to another EVSE: EVSE 1 unlimited"
    assert [p.evse_id for p in sim.station.smart_charging.profiles] == [2]


@pytest.mark.requirements("K01.FR.52")
def test_K01_FR_52_a_station_wide_tx_default_may_not_share_a_stack_level_with_an_evse_one() -> None:
    sim = station()
    accepted(sim, 1, profile(1, stack=1))
    assert rejected(sim, 0, profile(2, stack=1))[0] == "DuplicateProfile"


@pytest.mark.requirements("K01.FR.53")
def test_K01_FR_53_an_evse_tx_default_may_not_share_a_stack_level_with_the_station_wide_one() -> None:
    sim = station()
    accepted(sim, 0, profile(1, stack=1))
    assert rejected(sim, 2, profile(2, stack=1))[0] == "DuplicateProfile"


@pytest.mark.requirements("K01.FR.40")
def test_K01_FR_40_absolute_and_recurring_need_a_start_schedule() -> None:
    sim = station()
    missing = profile(kind="Absolute")
    del missing["chargingSchedule"][0]["startSchedule"]
    assert rejected(sim, 1, missing)[1].startswith("ChargingProfileMissingRequiredStartSchedule")
    recurring = profile(kind="Recurring", recurrencyKind="Daily")
    del recurring["chargingSchedule"][0]["startSchedule"]
    assert rejected(sim, 1, recurring)[0] == "InvalidSchedule"


@pytest.mark.requirements("K01.FR.41")
def test_K01_FR_41_a_relative_profile_has_no_start_schedule() -> None:
    relative = profile(kind="Relative", schedule_extra={"startSchedule": csms(2)})
    assert rejected(station(), 1, relative)[1].startswith("ChargingProfileExtraneousStartSchedule")


def test_recurrency_kind_goes_with_recurring_only() -> None:
    sim = station()
    assert rejected(sim, 1, profile(kind="Recurring"))[0] == "InvalidValue"
    assert rejected(sim, 1, profile(kind="Absolute", recurrencyKind="Daily"))[0] == "InvalidValue"


@pytest.mark.requirements("K01.FR.26")
def test_K01_FR_26_a_rate_unit_outside_rate_unit_is_rejected() -> None:
    sim = station(SmartChargingCtrlr={"RateUnit": "A"})
    assert rejected(sim, 1, profile(unit="W", periods=[(0, 11000.0)]))[0] == "UnsupportedRateUnit"
    accepted(sim, 1, profile(unit="A"))


@pytest.mark.requirements("K01.FR.31")
def test_K01_FR_31_the_first_period_starts_at_0() -> None:
    code, info = rejected(station(), 1, profile(periods=[(60, 16.0)]))
    assert (code, info.split(" ")[0]) == ("InvalidSchedule", "ChargingProfileFirstStartScheduleIsNotZero")


@pytest.mark.requirements("K01.FR.35")
def test_K01_FR_35_periods_start_strictly_increasing() -> None:
    sim = station()
    assert rejected(sim, 1, profile(periods=[(0, 16.0), (600, 10.0), (600, 8.0)]))[1].startswith(
        "ChargingSchedulePeriodsOutOfOrder"
    )
    assert rejected(sim, 1, profile(periods=[(0, 16.0), (600, 10.0), (300, 8.0)]))[0] == "InvalidSchedule"


def test_a_profile_without_schedule_or_period_is_a_schema_violation() -> None:
    sim = station()
    for broken in ({**profile(), "chargingSchedule": []}, profile()):
        broken["chargingSchedule"] = broken["chargingSchedule"] or []
        if broken["chargingSchedule"]:
            broken["chargingSchedule"][0]["chargingSchedulePeriod"] = []
        effects = sim.csms_call("SetChargingProfile", {"evseId": 1, "chargingProfile": broken}, "scp")
        (reply,) = replies(effects)
        assert reply[0] == 4, reply
    assert sim.station.smart_charging.profiles == ()


@pytest.mark.requirements("K01.FR.44")
def test_K01_FR_44_a_dc_evse_takes_no_phase_values() -> None:
    sim = station(**{"EVSE[2]": {"SupplyPhases": 0}})
    assert rejected(sim, 2, _phase_period(numberPhases=1))[1].startswith("ChargingSchedulePeriodExtraneousPhaseValues")
    accepted(sim, 2, profile())


@pytest.mark.requirements("K01.FR.29")
def test_K01_FR_29_without_smart_charging_the_requests_are_not_supported() -> None:
    sim = station(SmartChargingCtrlr={"Available": False})
    for action, payload in (
        ("SetChargingProfile", {"evseId": 1, "chargingProfile": profile()}),
        ("GetCompositeSchedule", {"evseId": 1, "duration": 60}),
        ("GetChargingProfiles", {"requestId": 1, "chargingProfile": {}}),
        ("ClearChargingProfile", {"chargingProfileId": 1}),
    ):
        (reply,) = replies(sim.csms_call(action, payload, "x"))
        assert reply[:3] == [4, "x", "NotSupported"], reply


def test_profiles_at_the_edges_of_time_are_harmless() -> None:
    sim = station()
    far = profile(1, schedule_extra={"startSchedule": "9999-12-31T23:59:59Z", "duration": 2**31 - 1})
    accepted(sim, 1, far)
    accepted(
        sim,
        2,
        profile(2, kind="Recurring", recurrencyKind="Weekly", schedule_extra={"startSchedule": "0001-01-01T00:00:00Z"}),
    )
    assert composite(sim, 1, 86_400, "A")["status"] == "Accepted"
    assert limits(composite(sim, 2, 60, "A")) == [(0, 16.0)]
    sim.tick(100_000)


def test_negative_limits_are_rejected() -> None:
    sim = station()
    assert rejected(sim, 1, profile(periods=[(0, 16.0), (60, -1.0)]))[0] == "InvalidSchedule"
    assert rejected(sim, 1, profile(schedule_extra={"minChargingRate": -6.0}))[0] == "InvalidSchedule"


def _phase_period(**fields: Any) -> dict[str, Any]:
    charging_profile = profile()
    charging_profile["chargingSchedule"][0]["chargingSchedulePeriod"][0].update(fields)
    return charging_profile


@pytest.mark.requirements("K01.FR.19")
def test_K01_FR_19_phase_to_use_only_with_one_phase() -> None:
    sim = station(SmartChargingCtrlr={"ACPhaseSwitchingSupported": True})
    assert rejected(sim, 1, _phase_period(numberPhases=3, phaseToUse=2))[1].startswith(
        "ChargingSchedulePeriodInvalidPhaseToUse"
    )
    accepted(sim, 1, _phase_period(numberPhases=1, phaseToUse=2))


@pytest.mark.requirements("K01.FR.20", "K01.FR.48")
def test_K01_FR_20_phase_to_use_only_when_ac_phase_switching_is_supported() -> None:
    code, info = rejected(station(), 1, _phase_period(numberPhases=1, phaseToUse=2))
    assert (code, info.split(" ")[0]) == ("InvalidSchedule", "PhaseToUseACPhaseSwitchingUnsupported")


@pytest.mark.requirements("K01.FR.45")
def test_K01_FR_45_number_phases_never_exceeds_the_supply_phases() -> None:
    sim = station(**{"EVSE[1]": {"SupplyPhases": 1}})
    assert rejected(sim, 1, _phase_period(numberPhases=3))[1].startswith(
        "ChargingSchedulePeriodUnsupportedNumberPhases"
    )
    accepted(sim, 2, _phase_period(numberPhases=3))


def test_stack_level_above_profile_stack_level_is_rejected() -> None:
    sim = station(SmartChargingCtrlr={"ProfileStackLevel": 2})
    assert rejected(sim, 1, profile(stack=3))[0] == "InvalidStackLevel"
    accepted(sim, 1, profile(stack=2))


def test_more_periods_than_periods_per_schedule_is_rejected() -> None:
    sim = station(SmartChargingCtrlr={"PeriodsPerSchedule": 2})
    assert rejected(sim, 1, profile(periods=[(0, 16.0), (60, 10.0), (120, 8.0)]))[0] == "InvalidSchedule"
    accepted(sim, 1, profile(periods=[(0, 16.0), (60, 10.0)]))


def test_entries_caps_the_installed_profiles_and_counts_them() -> None:
    sim = station()
    assert sim.station.device_model.definitions[smart_charging.ENTRIES].max_limit == 100

    def hourly(profile_id: int) -> dict[str, Any]:
        return profile(profile_id, validFrom=csms(profile_id * 3600), validTo=csms(profile_id * 3600 + 3600))

    for profile_id in range(1, 101):
        accepted(sim, 1, hourly(profile_id))
    assert get_value(sim.station.device_model, smart_charging.ENTRIES) == "100"
    assert rejected(sim, 1, hourly(101))[0] == "NoCapacity"
    accepted(sim, 1, hourly(100))  # replacing one still fits


# --- installation, persistence, K02 -------------------------------------------------------------------------------


def test_profiles_persist_and_are_restored_after_a_restart() -> None:
    sim = station()
    accepted(sim, 0, profile(7, purpose="ChargingStationMaxProfile", periods=[(0, 20.0)]))
    accepted(sim, 2, profile(8, periods=[(0, 10.0)]))
    stored = persisted(sim.log)
    assert set(stored) >= {"smart_charging/profile/7", "smart_charging/profile/8"}
    restarted = make_station((1, 1), stored=stored)
    assert restarted.smart_charging.profiles == sim.station.smart_charging.profiles
    assert get_value(restarted.device_model, smart_charging.ENTRIES) == "2"


def test_unreadable_stored_profiles_are_dropped_at_restart() -> None:
    stored = {
        "smart_charging/profile/1": {"evseId": 1, "chargingProfile": {"id": 1}},
        "smart_charging/profile/2": "not a profile",
        "smart_charging/profile/3": {"evseId": 1, "source": "CSO", "chargingProfile": profile(3)},
    }
    restarted = make_station((1, 1), stored=stored)
    assert [p.profile_id for p in restarted.smart_charging.profiles] == [3]


def test_without_a_rate_unit_no_profile_is_accepted_and_limits_go_out_in_amperes() -> None:
    sim = station(SmartChargingCtrlr={"RateUnit": ""})
    assert rejected(sim, 1, profile())[0] == "UnsupportedRateUnit"
    assert composite(sim, 1, 60)["status"] == "Rejected"
    assert smart_charging.applied_unit(sim.station) == "A"


@pytest.mark.requirements("K02.FR.05")
def test_K02_tx_profiles_end_with_their_transaction() -> None:
    sim = with_transaction(station())
    accepted(sim, 1, profile(3, purpose="TxProfile", transactionId="tx-1"))
    accepted(sim, 1, profile(4))
    ended, effects = smart_charging.on_transaction_ended(sim.station, 1, "tx-1", sim.now)
    assert [p.profile_id for p in ended.smart_charging.profiles] == [4]
    assert persisted(effects) == {"smart_charging/profile/3": None}


# --- K08 GetCompositeSchedule -------------------------------------------------------------------------------------


def composite(sim: Sim, evse_id: int, duration: int, unit: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"evseId": evse_id, "duration": duration}
    if unit is not None:
        request["chargingRateUnit"] = unit
    (reply,) = replies(sim.csms_call("GetCompositeSchedule", request, "gcs"))
    assert reply[:2] == [3, "gcs"], reply
    answer: dict[str, Any] = reply[2]
    return answer


def limits(answer: dict[str, Any]) -> list[tuple[int, float]]:
    return [(p["startPeriod"], p["limit"]) for p in answer["schedule"]["chargingSchedulePeriod"]]


def test_K08_composite_of_an_evse_merges_max_tx_default_and_tx_profile() -> None:
    sim = with_transaction(station(), started_s=2)
    accepted(sim, 0, profile(1, purpose="ChargingStationMaxProfile", periods=[(0, 32.0), (1800, 20.0)]))
    accepted(sim, 0, profile(2, periods=[(0, 25.0)]))
    accepted(
        sim, 1, profile(3, purpose="TxProfile", kind="Relative", transactionId="tx-1", periods=[(0, 10.0), (600, 30.0)])
    )
    answer = composite(sim, 1, 3600, "A")
    assert answer["status"] == "Accepted"
    assert answer["schedule"]["scheduleStart"] == csms(2)
    assert limits(answer) == [(0, 10.0), (600, 30.0), (1800, 20.0)]
    assert composite(sim, 2, 3600, "A")["schedule"]["chargingSchedulePeriod"][0]["limit"] == 25.0


def test_K08_evse_0_sums_the_evses_under_the_station_maximum() -> None:
    sim = station()
    accepted(sim, 0, profile(1, purpose="ChargingStationMaxProfile", periods=[(0, 40.0), (600, 12.0)]))
    accepted(sim, 1, profile(2, periods=[(0, 16.0)]))
    accepted(sim, 2, profile(3, periods=[(0, 10.0)]))
    assert limits(composite(sim, 0, 1200, "A")) == [(0, 26.0), (600, 12.0)]


def test_K08_watts_convert_with_phases_and_nominal_voltage() -> None:
    sim = station()
    accepted(sim, 1, profile(1, periods=[(0, 16.0)]))
    (period,) = composite(sim, 1, 60, "W")["schedule"]["chargingSchedulePeriod"]
    assert period == {"startPeriod": 0, "limit": 16.0 * 230 * 3, "numberPhases": 3}


def test_K08_a_composite_is_at_most_a_week_long() -> None:
    sim = station()
    accepted(sim, 1, profile(1, kind="Recurring", recurrencyKind="Daily", periods=[(0, 6.0), (3600, 10.0)]))
    answer = composite(sim, 1, 2**31 - 1, "A")
    assert answer["schedule"]["duration"] == 7 * 86_400
    assert len(answer["schedule"]["chargingSchedulePeriod"]) == 14


def test_K08_an_unknown_evse_or_unit_is_rejected() -> None:
    sim = station(SmartChargingCtrlr={"RateUnit": "A"})
    assert composite(sim, 5, 60)["status"] == "Rejected"
    assert composite(sim, 1, 60, "W")["status"] == "Rejected"
    assert composite(sim, 1, 60)["schedule"]["chargingRateUnit"] == "A"


# --- K09 GetChargingProfiles --------------------------------------------------------------------------------------


def report(sim: Sim, request: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    effects = sim.csms_call("GetChargingProfiles", request, "gcp")
    (reply,) = replies(effects)
    sent = calls(effects) + calls(sim.answer_all())
    return reply[2]["status"], [c.payload for c in sent if c.action == "ReportChargingProfiles"]


@pytest.mark.requirements("K09.FR.01")
def test_K09_profiles_are_reported_by_criteria_and_none_matching_is_no_profiles() -> None:
    sim = station()
    accepted(sim, 0, profile(1, purpose="ChargingStationMaxProfile"))
    accepted(sim, 1, profile(2))
    accepted(sim, 2, profile(3, stack=4))
    status, reports = report(sim, {"requestId": 5, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}})
    assert status == "Accepted"
    assert [(r["evseId"], [p["id"] for p in r["chargingProfile"]], r["tbc"]) for r in reports] == [
        (1, [2], True),
        (2, [3], False),
    ]
    assert {r["requestId"] for r in reports} == {5}
    assert report(sim, {"requestId": 6, "evseId": 0, "chargingProfile": {"stackLevel": 4}}) == ("NoProfiles", [])
    assert [r["evseId"] for r in report(sim, {"requestId": 7, "evseId": 0, "chargingProfile": {}})[1]] == [0]


def test_K09_reports_are_split_by_items_per_message() -> None:
    sim = station(DeviceDataCtrlr={"ItemsPerMessage[GetReport]": 2})
    for profile_id in range(1, 6):
        accepted(sim, 1, profile(profile_id, stack=profile_id))
    _, reports = report(sim, {"requestId": 1, "chargingProfile": {"chargingProfileId": [1, 2, 3, 4, 5]}})
    assert [len(r["chargingProfile"]) for r in reports] == [2, 2, 1]
    assert [r["tbc"] for r in reports] == [True, True, False]


# --- K10 ClearChargingProfile -------------------------------------------------------------------------------------


def clear(sim: Sim, request: dict[str, Any]) -> str:
    (reply,) = replies(sim.csms_call("ClearChargingProfile", request, "ccp"))
    status: str = reply[2]["status"]
    return status


@pytest.mark.requirements("K10.FR.03")
def test_K10_profiles_are_cleared_by_id_or_by_criteria() -> None:
    sim = station()
    accepted(sim, 0, profile(1, purpose="ChargingStationMaxProfile"))
    accepted(sim, 1, profile(2, stack=1))
    accepted(sim, 2, profile(3, stack=1))
    accepted(sim, 2, profile(4, stack=2))
    assert clear(sim, {"chargingProfileId": 9}) == "Unknown"
    assert clear(sim, {"chargingProfileId": 1}) == "Accepted"
    assert clear(sim, {"chargingProfileCriteria": {"evseId": 2, "stackLevel": 1}}) == "Accepted"
    assert [p.profile_id for p in sim.station.smart_charging.profiles] == [2, 4]
    assert clear(sim, {"chargingProfileCriteria": {"chargingProfilePurpose": "TxProfile"}}) == "Unknown"
    assert clear(sim, {"chargingProfileCriteria": {"chargingProfilePurpose": "TxDefaultProfile"}}) == "Accepted"
    assert sim.station.smart_charging.profiles == ()
    assert persisted(sim.log)["smart_charging/profile/4"] is None


# --- limits applied to the hardware, offline behaviour -----------------------------------------------------------


def applied(effects: Effects) -> list[tuple[int, float]]:
    return [(e.evse_id, round(e.limit, 3)) for e in of_type(effects, ApplyChargingLimit)]


def test_a_new_limit_reaches_the_hardware_after_the_reply_and_each_boundary_on_its_deadline() -> None:
    sim = station()
    effects = accepted(sim, 1, profile(1, periods=[(0, 16.0), (600, 8.0)]))
    assert applied(effects) == [(1, 16.0)]
    kinds = [type(effect).__name__ for effect in effects]
    assert kinds.index("SendFrame") < kinds.index("ApplyChargingLimit"), "the SetChargingProfileResponse goes first"
    assert replies(effects), "the first frame is the response"
    assert sim.station.smart_charging.next_change == at(2 + 600)
    assert next_deadline(sim.station) is not None and next_deadline(sim.station) <= at(2 + 600)
    assert applied(sim.tick(601)) == []
    assert applied(sim.tick(602)) == [(1, 8.0)]
    assert applied(sim.tick(700)) == []


def test_clearing_a_profile_gives_the_evse_its_maximum_back() -> None:
    sim = station()
    accepted(sim, 2, profile(1, periods=[(0, 6.0)]))
    effects = sim.csms_call("ClearChargingProfile", {"chargingProfileId": 1}, "ccp")
    assert replies(effects)[0][2] == {"status": "Accepted"}
    assert applied(effects) == [(2, round(22000 / 690, 3))]


def test_K06_offline_the_ignored_purposes_stop_limiting() -> None:
    sim = station(SmartChargingCtrlr={"IgnoredProfilePurposesOffline": "TxDefaultProfile"})
    accepted(sim, 1, profile(1, periods=[(0, 6.0)]))
    assert applied(sim.lose()) == [(1, round(22000 / 690, 3))]
    retry_at = sim.station.connection.retry_at
    assert retry_at is not None
    assert applied(sim.feed(Tick(retry_at))) == []
    assert applied(sim.connect()) == [(1, 6.0)]


def test_K06_offline_profiles_keep_limiting_when_none_is_ignored() -> None:
    sim = station()
    accepted(sim, 1, profile(1, periods=[(0, 6.0)]))
    assert applied(sim.lose()) == []


def test_a_transaction_start_applies_its_relative_profile() -> None:
    sim = station()
    accepted(sim, 0, profile(1, kind="Relative", periods=[(0, 6.0), (60, 12.0)]))
    with_transaction(sim, 2, "tx-2", started_s=10)
    assert applied(sim.tick(10)) == [(2, 6.0)]
    assert sim.station.smart_charging.next_change == at(70)
    assert applied(sim.tick(70)) == [(2, 12.0)]


def test_expired_profiles_are_dropped_when_the_limits_are_next_recomputed() -> None:
    sim = station()
    accepted(sim, 1, profile(1, periods=[(0, 6.0)], validTo=csms(600)))
    accepted(sim, 1, profile(2, stack=1, periods=[(0, 8.0)], schedule_extra={"duration": 300}))
    assert applied(sim.tick(302)) == [(1, 6.0)]
    assert [p.profile_id for p in sim.station.smart_charging.profiles] == [1]
    assert applied(sim.tick(602)) == [(1, round(22000 / 690, 3))]
    assert sim.station.smart_charging.profiles == ()
    assert persisted(sim.log)["smart_charging/profile/1"] is None
    assert get_value(sim.station.device_model, smart_charging.ENTRIES) == "0"


def test_a_device_model_change_recomputes_the_limits_when_they_read_the_changed_value() -> None:
    sim = station()
    accepted(sim, 1, profile(1, periods=[(0, 6.0)]))
    sim.lose()
    assert applied(sim.change_variable("OCPPCommCtrlr", "HeartbeatInterval", "120")) == []
    ignored = sim.change_variable("SmartChargingCtrlr", "IgnoredProfilePurposesOffline", "TxDefaultProfile")
    assert applied(ignored) == [(1, round(22000 / 690, 3))]


def test_any_device_model_change_drops_the_expired_profiles() -> None:
    sim = station()
    accepted(sim, 1, profile(1, periods=[(0, 6.0)], validTo=csms(600)))
    accepted(sim, 1, profile(2, stack=1, periods=[(0, 8.0)]))
    assert sim.station.smart_charging.next_change is not None and sim.station.smart_charging.next_change > at(700)
    effects = sim.feed(ChangeVariable(at(700), "OCPPCommCtrlr", "HeartbeatInterval", "120"))
    assert applied(effects) == []
    assert [p.profile_id for p in sim.station.smart_charging.profiles] == [2]
    assert get_value(sim.station.device_model, smart_charging.ENTRIES) == "1"
