"""SetChargingProfile validation (K01): every rule a named rejection, checked in order, the first one wins.

A rejection answers the CSMS with status Rejected, statusInfo.reasonCode (a short code; the same codes libocpp
uses where it has one) and additionalInfo naming the rule. The payload has already passed its JSON schema, so
"at least one schedule and one period" is the schema's minItems and never reaches these rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter, lt
from typing import Any

from chargecore.pure.blocks.smart_charging.charging_profiles import EXTERNAL, MAX_PROFILE, TX, TX_DEFAULT, Profile
from chargecore.pure.state import Transaction


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the station accepts, from its identity and SmartChargingCtrlr."""

    evse_count: int
    supply_phases: Mapping[int, int]
    """Phases each EVSE (and 0, the station) is connected to."""
    rate_units: frozenset[str]
    phase_switching: bool
    max_stack_level: int
    periods_per_schedule: int
    max_entries: int | None
    transactions: Mapping[int, Transaction]


@dataclass(frozen=True, slots=True)
class Rejection:
    requirement: str
    reason_code: str
    """statusInfo.reasonCode: at most 20 characters."""
    info: str


Rule = Callable[[Profile, tuple[Profile, ...], Capabilities], Rejection | None]


def _evse_exists(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if 0 <= profile.evse_id <= caps.evse_count:
        return None
    return Rejection("K01.FR.28", "InvalidValue", f"EvseDoesNotExist: EVSE {profile.evse_id}")


def _not_external(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if profile.purpose != EXTERNAL:
        return None
    return Rejection("K01.FR.22", "InvalidValue", "ChargingStationExternalConstraints are set locally only")


def _id_of_external(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if not any(p.profile_id == profile.profile_id and p.purpose == EXTERNAL for p in installed):
        return None
    return Rejection("K01.FR.05", "DuplicateProfile", "ExistingChargingStationExternalConstraints with this id")


def _max_on_station(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if profile.purpose != MAX_PROFILE or profile.evse_id == 0:
        return None
    return Rejection("K01.FR.03", "InvalidValue", "ChargingStationMaxProfileEvseIdGreaterThanZero")


def _max_not_relative(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if profile.purpose != MAX_PROFILE or profile.kind != "Relative":
        return None
    return Rejection("K01.FR.38", "InvalidValue", "ChargingStationMaxProfileCannotBeRelative")


def _tx_on_evse(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if profile.purpose != TX or profile.evse_id > 0:
        return None
    return Rejection("K01.FR.16", "InvalidValue", "TxProfileEvseIdNotGreaterThanZero")


def _tx_has_transaction_id(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if profile.purpose != TX or profile.transaction_id is not None:
        return None
    return Rejection("K01.FR.03", "MissingParam", "TxProfileMissingTransactionId")


def _tx_evse_has_transaction(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if profile.purpose != TX or profile.evse_id in caps.transactions:
        return None
    return Rejection("K01.FR.09", "TxNotFound", f"TxProfileEvseHasNoActiveTransaction: EVSE {profile.evse_id}")


def _tx_is_on_evse(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    running = caps.transactions.get(profile.evse_id)
    if profile.purpose != TX or running is None or running.transaction_id == profile.transaction_id:
        return None
    return Rejection("K01.FR.33", "TxNotFound", f"TxProfileTransactionNotOnEvse: {profile.transaction_id}")


def _tx_stack_level_unique(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    clash = any(
        p.purpose == TX
        and p.profile_id != profile.profile_id
        and p.transaction_id == profile.transaction_id
        and p.stack_level == profile.stack_level
        for p in installed
    )
    if profile.purpose != TX or not clash:
        return None
    return Rejection("K01.FR.39", "InvalidStackLevel", "TxProfileConflictingStackLevel")


def _overlap(a: Profile, b: Profile) -> bool:
    """Whether the validity intervals [validFrom, validTo) of two profiles share an instant."""
    lowest, highest = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
    a_from = a.valid_from if a.valid_from else lowest
    a_to = a.valid_to if a.valid_to else highest
    b_from = b.valid_from if b.valid_from else lowest
    b_to = b.valid_to if b.valid_to else highest
    return a_from < b_to and b_from < a_to


def _unique_validity(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    clash = any(
        p.profile_id != profile.profile_id
        and p.purpose == profile.purpose
        and p.evse_id == profile.evse_id
        and p.stack_level == profile.stack_level
        and _overlap(p, profile)
        for p in installed
    )
    if profile.purpose == TX or not clash:
        return None
    return Rejection("K01.FR.06", "DuplicateProfile", "DuplicateProfileValidityPeriod: same purpose, EVSE, stackLevel")


def _tx_default_scopes(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    """A station-wide TxDefaultProfile and an EVSE's one never share a stack level."""
    if profile.purpose != TX_DEFAULT:
        return None
    for p in installed:
        if p.purpose != TX_DEFAULT or p.profile_id == profile.profile_id or p.stack_level != profile.stack_level:
            continue
        if profile.evse_id == 0 and p.evse_id > 0:
            return Rejection("K01.FR.52", "DuplicateProfile", f"DuplicateTxDefaultProfileFound on EVSE {p.evse_id}")
        if profile.evse_id > 0 and p.evse_id == 0:
            return Rejection("K01.FR.53", "DuplicateProfile", "DuplicateTxDefaultProfileFound on the station")
    return None


def _stack_level(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if profile.stack_level <= caps.max_stack_level:
        return None
    return Rejection("K01", "InvalidStackLevel", f"stackLevel above ProfileStackLevel {caps.max_stack_level}")


def _entries(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    replacing = any(p.profile_id == profile.profile_id for p in installed)
    if caps.max_entries is None or replacing or len(installed) < caps.max_entries:
        return None
    return Rejection("K01", "NoCapacity", f"Entries[ChargingProfiles] maxLimit {caps.max_entries} reached")


def _start_schedule(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    for schedule in _schedules(profile):
        has_start = "startSchedule" in schedule
        if profile.kind in ("Absolute", "Recurring") and not has_start:
            return Rejection("K01.FR.40", "InvalidSchedule", "ChargingProfileMissingRequiredStartSchedule")
        if profile.kind == "Relative" and has_start:
            return Rejection("K01.FR.41", "InvalidSchedule", "ChargingProfileExtraneousStartSchedule")
    return None


def _recurrency(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    if (profile.kind == "Recurring") == (profile.recurrency is not None):
        return None
    return Rejection("K01", "InvalidValue", "recurrencyKind goes with, and only with, chargingProfileKind Recurring")


def _rate_unit(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    for schedule in _schedules(profile):
        if schedule["chargingRateUnit"] not in caps.rate_units:
            return Rejection("K01.FR.26", "UnsupportedRateUnit", "ChargingScheduleChargingRateUnitUnsupported")
    return None


def _periods_per_schedule(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    for schedule in _schedules(profile):
        if len(schedule["chargingSchedulePeriod"]) > caps.periods_per_schedule:
            return Rejection(
                "K01", "InvalidSchedule", f"more periods than PeriodsPerSchedule {caps.periods_per_schedule}"
            )
    return None


def _first_period_at_zero(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    for schedule in _schedules(profile):
        if schedule["chargingSchedulePeriod"][0]["startPeriod"] != 0:
            return Rejection("K01.FR.31", "InvalidSchedule", "ChargingProfileFirstStartScheduleIsNotZero")
    return None


def _periods_in_order(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    for schedule in _schedules(profile):
        starts = list(map(_START, schedule["chargingSchedulePeriod"]))
        if not all(map(lt, starts, starts[1:])):  # map: the periods are walked in C
            return Rejection("K01.FR.35", "InvalidSchedule", "ChargingSchedulePeriodsOutOfOrder")
    return None


def _limits_not_negative(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    """OCPP 2.0.1 limits what an EVSE draws; a negative limit (discharging) has no meaning in this edition."""
    for schedule in _schedules(profile):
        if min(map(_LIMIT, schedule["chargingSchedulePeriod"])) < 0 or schedule.get("minChargingRate", 0) < 0:
            return Rejection("K01", "InvalidSchedule", "negative limit or minChargingRate")
    return None


def _phase_to_use(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    for period in _periods(profile):
        if "phaseToUse" not in period:
            continue
        if period.get("numberPhases") != 1:
            return Rejection("K01.FR.19", "InvalidSchedule", "ChargingSchedulePeriodInvalidPhaseToUse")
        if not caps.phase_switching:
            return Rejection("K01.FR.20", "InvalidSchedule", "PhaseToUseACPhaseSwitchingUnsupported")
    return None


def _number_phases(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    """AC: numberPhases within the supply phases (K01.FR.45); DC (0 supply phases): no phase fields (K01.FR.44)."""
    supply = caps.supply_phases.get(profile.evse_id, 3)
    for period in _periods(profile):
        phases = period.get("numberPhases")
        if supply == 0 and (phases is not None or "phaseToUse" in period):
            return Rejection("K01.FR.44", "InvalidSchedule", "ChargingSchedulePeriodExtraneousPhaseValues on DC")
        if phases is not None and not 1 <= phases <= supply:
            return Rejection("K01.FR.45", "InvalidSchedule", f"ChargingSchedulePeriodUnsupportedNumberPhases: {phases}")
    return None


_START = itemgetter("startPeriod")
_LIMIT = itemgetter("limit")


def _schedules(profile: Profile) -> list[dict[str, Any]]:
    schedules: list[dict[str, Any]] = profile.payload.get("chargingSchedule", [])
    return schedules


def _periods(profile: Profile) -> list[dict[str, Any]]:
    return [period for schedule in _schedules(profile) for period in schedule["chargingSchedulePeriod"]]


RULES: tuple[Rule, ...] = (
    _evse_exists,
    _not_external,
    _id_of_external,
    _max_on_station,
    _max_not_relative,
    _tx_on_evse,
    _tx_has_transaction_id,
    _tx_evse_has_transaction,
    _tx_is_on_evse,
    _tx_stack_level_unique,
    _unique_validity,
    _tx_default_scopes,
    _stack_level,
    _entries,
    _start_schedule,
    _recurrency,
    _rate_unit,
    _periods_per_schedule,
    _first_period_at_zero,
    _periods_in_order,
    _limits_not_negative,
    _phase_to_use,
    _number_phases,
)
"""In this order: where the profile goes, whom it is for, what it clashes with, then its schedules."""


def rejection(profile: Profile, installed: tuple[Profile, ...], caps: Capabilities) -> Rejection | None:
    """The first rule the profile breaks, or None when it may be installed."""
    for rule in RULES:
        found = rule(profile, installed, caps)
        if found is not None:
            return found
    return None
