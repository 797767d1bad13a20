"""Block K, smart charging: SetChargingProfile (K01), the composite schedule of an EVSE (K08), TxProfiles ending with
their transaction (K02), offline behaviour (K06/K07), and the limits handed to the hardware. The CSMS's
GetCompositeSchedule, GetChargingProfiles and ClearChargingProfile (K08-K10) are answered in profile_requests.py.

Profiles are kept parsed in `Station.smart_charging` and persisted one key per profile
("smart_charging/profile/<id>"). After every input `settle` recomputes the limit of each EVSE when what it
depends on changed (profiles, transactions, online/offline) or a period boundary was reached, and emits one
`ApplyChargingLimit` per EVSE whose limit changed; `next_change` is the next boundary, a deadline for the shell.

Profile times are on the CSMS clock: the core evaluates them at `now` plus the clock offset from the CSMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from returns.result import Failure, Result, Success

from chargecore.pure.blocks.smart_charging import iso15118_charging
from chargecore.pure.blocks.smart_charging.charging_profiles import (
    TX,
    AppliedLimit,
    Period,
    Profile,
    Schedule,
)
from chargecore.pure.blocks.smart_charging.composite_schedule import (
    CompositeSchedule,
    Conditions,
    composite_schedule,
    convert,
)
from chargecore.pure.blocks.smart_charging.profile_validation import Capabilities, Rejection, rejection
from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.derived import per_model
from chargecore.pure.device_model.model import get_bool, get_int, get_value, set_value
from chargecore.pure.effects import ApplyChargingLimit, Effect, Effects, Log, Persist
from chargecore.pure.ocppj import connection
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.ocppj.timestamps import parse_ocpp_time
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station, Transaction

PERSIST_PREFIX = "smart_charging/profile/"
HORIZON = timedelta(hours=1)
"""How far ahead the applied limits look for their next change; recomputed at the latest then. Only the limit
now and its next change are used, and the composite's cost grows with the periods in its window: with a day, a
SetChargingProfile of 24 hourly periods that changes the limits took ~181 us, with an hour ~144 us (bench_rpc)."""
MAX_COMPOSITE_SECONDS = 7 * 86_400
"""GetCompositeSchedule answers at most a week (the longest recurrence): the cost grows with the recurrences in
the window, and one request must not stall the core. The answer's duration says what was computed."""

ENTRIES = VariableKey("SmartChargingCtrlr", "Entries", variable_instance="ChargingProfiles")
IGNORED_OFFLINE = VariableKey("SmartChargingCtrlr", "IgnoredProfilePurposesOffline")
RATE_UNIT = VariableKey("SmartChargingCtrlr", "RateUnit")


# --- parsing -------------------------------------------------------------------------------------------------


_ABSENT: Result[datetime | None, str] = Success(None)


def _time(payload: dict[str, Any], name: str) -> Result[datetime | None, str]:
    text = payload.get(name)
    if text is None:
        return _ABSENT
    parsed = parse_ocpp_time(text)
    return parsed if isinstance(parsed, Success) else Failure(f"{name}: {parsed.failure()}")


_new_tuple = tuple.__new__
"""Builds a `Period` without the Python-level `__new__` a NamedTuple gets: a third of the parsing of a 24-period
profile."""


def parse_profile(payload: dict[str, Any], evse_id: int, source: str = "CSO") -> Result[Profile, str]:
    """A schema-valid chargingProfile as a `Profile`; fails only on an unreadable date-time."""
    first = payload["chargingSchedule"][0]
    times = [_time(payload, "validFrom"), _time(payload, "validTo"), _time(first, "startSchedule")]
    for parsed in times:
        if isinstance(parsed, Failure):
            return Failure(parsed.failure())
    valid_from, valid_to, start = (parsed.unwrap() for parsed in times)
    periods = tuple(
        [
            _new_tuple(Period, (p["startPeriod"], float(p["limit"]), p.get("numberPhases"), p.get("phaseToUse")))
            for p in first["chargingSchedulePeriod"]
        ]
    )
    min_rate = first.get("minChargingRate")
    schedule = Schedule(
        first["chargingRateUnit"],
        periods,
        start,
        first.get("duration"),
        None if min_rate is None else float(min_rate),
    )
    return Success(
        Profile(
            payload["id"],
            evse_id,
            payload["chargingProfilePurpose"],
            payload["chargingProfileKind"],
            payload["stackLevel"],
            schedule,
            payload.get("recurrencyKind"),
            valid_from,
            valid_to,
            payload.get("transactionId"),
            source,
            payload,
        )
    )


# --- reading the station --------------------------------------------------------------------------------------


def _evse_ids(station: Station) -> range:
    return range(1, len(station.identity.evse_connectors) + 1)


def _decimal(station: Station, key: VariableKey, attribute: str, default: float) -> float:
    value = get_value(station.device_model, key, attribute)
    return default if value is None else float(value)


def _rate_units(model: DeviceModel) -> tuple[str, ...]:
    listed = get_value(model, RATE_UNIT) or ""
    return tuple(unit for unit in listed.split(",") if unit)


def rate_units(station: Station) -> tuple[str, ...]:
    """SmartChargingCtrlr.RateUnit in its order (possibly empty: then no profile is accepted)."""
    return _rate_units(station.device_model)


def applied_unit(station: Station) -> str:
    """The unit limits reach the hardware in: the first RateUnit, A when none is listed."""
    return next(iter(rate_units(station)), "A")


def _supply_phases(model: DeviceModel, evse_id: int) -> int:
    key = VariableKey("EVSE", "SupplyPhases", evse_id) if evse_id else VariableKey("ChargingStation", "SupplyPhases")
    value = get_value(model, key)
    return 3 if value is None else int(float(value))


def station_clock(station: Station, moment: datetime) -> datetime:
    return moment + station.registration.clock_offset


def conditions(station: Station) -> Conditions:
    """The composite schedule's inputs besides the profiles, read from the station."""
    offset = station.registration.clock_offset
    transactions = {
        tx.evse_id: replace(tx, started_at=tx.started_at + offset) for tx in station.running_transactions if tx.evse_id
    }  # on the CSMS clock, like the profiles; a transaction whose EVSE is not known yet draws nothing
    ignored = get_value(station.device_model, IGNORED_OFFLINE) or ""
    return Conditions(
        MappingProxyType(
            {e: _decimal(station, VariableKey("EVSE", "Power", e), "MaxSet", 22_000.0) for e in _evse_ids(station)}
        ),
        MappingProxyType(transactions),
        supply_phases=max(1, _supply_phases(station.device_model, 0)),  # DC (0): convert A<->W with the voltage alone
        voltage=_decimal(station, VariableKey("ChargingStation", "ACVoltage"), "Actual", 230.0),
        offline=not connection.is_up(station),
        ignored_offline=frozenset(purpose for purpose in ignored.split(",") if purpose),
    )


@per_model
def _model_capabilities(model: DeviceModel, evse_count: int) -> Capabilities:
    """What SmartChargingCtrlr and the EVSEs' SupplyPhases allow, without transactions: read once per model."""
    entries = model.definitions.get(ENTRIES)
    max_entries = None if entries is None or entries.max_limit is None else int(entries.max_limit)
    return Capabilities(
        evse_count=evse_count,
        supply_phases=MappingProxyType({e: _supply_phases(model, e) for e in range(evse_count + 1)}),
        rate_units=frozenset(_rate_units(model)),
        phase_switching=get_bool(model, "SmartChargingCtrlr", "ACPhaseSwitchingSupported"),
        max_stack_level=get_int(model, "SmartChargingCtrlr", "ProfileStackLevel", default=10),
        periods_per_schedule=get_int(model, "SmartChargingCtrlr", "PeriodsPerSchedule", default=24),
        max_entries=max_entries,
        transactions=MappingProxyType({}),
    )


def capabilities(station: Station) -> Capabilities:
    of_model = _model_capabilities(station.device_model, len(station.identity.evse_connectors))
    running = {tx.evse_id: tx for tx in station.running_transactions if tx.evse_id}
    return replace(of_model, transactions=MappingProxyType(running)) if running else of_model  # replace: ~4 us


@per_model
def _available(model: DeviceModel) -> bool:
    return get_bool(model, "SmartChargingCtrlr", "Available", default=True)


def available(station: Station) -> bool:
    return _available(station.device_model)


def not_supported(call: Call) -> CallError:
    return CallError(call.message_id, "NotSupported", "smart charging is not available on this station")


# --- the installed profiles -------------------------------------------------------------------------------------


def _persist_entry(profile: Profile) -> tuple[str, Any]:
    stored = {"evseId": profile.evse_id, "source": profile.source, "chargingProfile": profile.payload}
    return f"{PERSIST_PREFIX}{profile.profile_id}", stored


def _with_profiles(station: Station, profiles: tuple[Profile, ...]) -> Station:
    """New profile set (sorted by id), and SmartChargingCtrlr.Entries[ChargingProfiles] counting them."""
    ordered = tuple(sorted(profiles, key=lambda p: p.profile_id))
    model = station.device_model
    if len(ordered) != len(station.smart_charging.profiles) or get_value(model, ENTRIES) != str(len(ordered)):
        model = set_value(model, ENTRIES, str(len(ordered)), respect_mutability=False).value_or(model)
    return station.with_changes(device_model=model, smart_charging=replace(station.smart_charging, profiles=ordered))


def remove(station: Station, gone: tuple[Profile, ...]) -> tuple[Station, Effects]:
    """Uninstall these profiles and delete them from storage."""
    if not gone:
        return station, ()
    kept = tuple(p for p in station.smart_charging.profiles if p not in gone)
    deletions = tuple((f"{PERSIST_PREFIX}{p.profile_id}", None) for p in gone)
    return _with_profiles(station, kept), (Persist(deletions),)


def install(station: Station, profile: Profile) -> tuple[Station, Effects]:
    """Install a validated profile; one with the same id is replaced (K01.FR.05). A CSMS that sends the profile it
    already set (a load manager resending the station's TxDefaultProfile) leaves the station value as it was, so
    the step that follows has nothing to recompute; the entry is stored again all the same."""
    persisted = Persist((_persist_entry(profile),))
    if any(_received_again(installed, profile) for installed in station.smart_charging.profiles):
        return station, (persisted,)
    kept = tuple(p for p in station.smart_charging.profiles if p.profile_id != profile.profile_id)
    return _with_profiles(station, (*kept, profile)), (persisted,)


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The profiles an earlier run persisted; an entry that is no longer a valid profile is dropped."""
    restored = []
    for key, stored in persisted.items():
        if not key.startswith(PERSIST_PREFIX) or not isinstance(stored, Mapping):
            continue
        request: dict[str, Any] = {"evseId": stored.get("evseId"), "chargingProfile": stored.get("chargingProfile")}
        if isinstance(validate("SetChargingProfile", "Request", request), Failure):
            continue
        parsed = parse_profile(request["chargingProfile"], request["evseId"], stored.get("source", "CSO"))
        if isinstance(parsed, Success):
            restored.append(parsed.unwrap())
    return _with_profiles(station, tuple(restored)) if restored else station


def on_transaction_ended(station: Station, evse_id: int, transaction_id: str, now: datetime) -> tuple[Station, Effects]:
    """K02: a TxProfile lives as long as its transaction; the transactions block calls this when one ends."""
    gone = tuple(p for p in station.smart_charging.profiles if p.purpose == TX and p.transaction_id == transaction_id)
    return remove(station, gone)


# --- SetChargingProfile (K01) ------------------------------------------------------------------------------------


def _installed_as(station: Station, payload: dict[str, Any], evse_id: int) -> Profile | None:
    """The installed profile the CSMS sends again, which is what parsing the payload would give: the rules then
    judge it as they would a new one, and installing it changes nothing."""
    return next((p for p in station.smart_charging.profiles if _parsed_from(p, payload, evse_id, "CSO")), None)


def rejected(reason_code: str, info: str) -> Reply:
    return refusal("Rejected", reason_code, info)


def handle_set_charging_profile(station: Station, call: Call, now: datetime) -> Handled:
    if not available(station):
        return station, not_supported(call), ()
    payload, evse_id = call.payload["chargingProfile"], call.payload["evseId"]
    profile = _installed_as(station, payload, evse_id)
    if profile is None:
        parsed = parse_profile(payload, evse_id)
        if isinstance(parsed, Failure):
            return station, rejected("InvalidValue", parsed.failure()), ()
        profile = parsed.unwrap()
    refused = rejection(profile, station.smart_charging.profiles, capabilities(station))
    if refused is not None:
        return station, rejected(refused.reason_code, f"{refused.info} ({refused.requirement})"), ()
    installed, effects = install(station, profile)
    return installed, Reply({"status": "Accepted"}), effects + iso15118_charging.offer_to_ev(profile)


# --- RequestStartTransaction with a charging profile (K05) -------------------------------------------------------

_PENDING_TRANSACTION = "(to be started)"


def start_profile_rejection(station: Station, evse_id: int, payload: dict[str, Any]) -> Rejection | None:
    """K05, for the transactions block: may a RequestStartTransaction on this EVSE carry this chargingProfile?
    Only a TxProfile without transactionId, that breaks no SetChargingProfile rule once its transaction runs."""
    if payload["chargingProfilePurpose"] != TX or "transactionId" in payload:
        return Rejection("K05", "InvalidValue", "RequestStartTransaction takes a TxProfile without transactionId")
    parsed = parse_profile({**payload, "transactionId": _PENDING_TRANSACTION}, evse_id)
    if isinstance(parsed, Failure):
        return Rejection("K05", "InvalidValue", parsed.failure())
    pending = Transaction(_PENDING_TRANSACTION, evse_id, 0, datetime.min)
    caps = replace(capabilities(station), transactions=MappingProxyType({evse_id: pending}))
    return rejection(parsed.unwrap(), station.smart_charging.profiles, caps)


def adopt_start_profile(
    station: Station, evse_id: int, transaction_id: str, payload: dict[str, Any]
) -> tuple[Station, Effects]:
    """K05, for the transactions block: the transaction a RequestStartTransaction asked for has started; its
    chargingProfile (checked with `start_profile_rejection`) becomes the TxProfile of that transaction."""
    parsed = parse_profile({**payload, "transactionId": transaction_id}, evse_id)
    if isinstance(parsed, Failure):
        return station, (Log("warning", f"charging profile of the started transaction dropped: {parsed.failure()}"),)
    profile = parsed.unwrap()
    installed, effects = install(station, profile)
    return installed, effects + iso15118_charging.offer_to_ev(profile)


# --- the composite schedule (K08) --------------------------------------------------------------------------------


def composite_for(station: Station, evse_id: int, now: datetime, duration: int, unit: str) -> CompositeSchedule:
    """The composite schedule of one EVSE (0: the station) from `now` on the station's (CSMS) clock."""
    start = station_clock(station, now)
    return composite_schedule(station.smart_charging.profiles, evse_id, start, duration, unit, conditions(station))


# --- limits for the hardware -------------------------------------------------------------------------------------


_STATION_INPUTS = (
    RATE_UNIT,
    IGNORED_OFFLINE,
    VariableKey("ChargingStation", "ACVoltage"),
    VariableKey("ChargingStation", "SupplyPhases"),
)
"""The station-level variables `applied_unit` and `conditions` read (Actual)."""


def _model_inputs(station: Station) -> tuple[Any, ...]:
    """The raw inputs of `applied_unit` and `conditions` that the rest of the basis does not cover: the values
    they read from the device model, and the clock offset the transactions are shifted by. Reading them costs a
    few lookups, `conditions` itself several times more."""
    model = station.device_model
    power = tuple(get_value(model, VariableKey("EVSE", "Power", e), "MaxSet") for e in _evse_ids(station))
    return station.registration.clock_offset, power, *(get_value(model, key) for key in _STATION_INPUTS)


def _basis(station: Station) -> tuple[Any, ...]:
    """What the applied limits depend on. The device model is kept by identity, next to the values read from it,
    so that a step that changed the model (most changes concern other variables) costs one comparison of
    those values, not a recomputation."""
    return (
        station.smart_charging.profiles,
        station.transactions,
        not connection.is_up(station),
        station.device_model,
        _model_inputs(station),
    )


def _parsed_from(profile: Profile, payload: dict[str, Any], evse_id: int, source: str) -> bool:
    """Whether `parse_profile(payload, evse_id, source)` gives `profile`: a `Profile` is parsed from these alone, so
    the same ones mean the same profile in every respect, the payload kept for reports included."""
    return profile.payload == payload and profile.evse_id == evse_id and profile.source == source


def _received_again(old: Profile, new: Profile) -> bool:
    """The same chargingProfile for the same EVSE from the same source."""
    return _parsed_from(old, new.payload, new.evse_id, new.source)


def _same_profile(old: Profile, new: Profile) -> bool:
    """`old == new`, cheaply for a profile replaced by an identical one (a repeated SetChargingProfile)."""
    return old is new or _received_again(old, new) or old == new


def _same_profiles(before: tuple[Profile, ...], after: tuple[Profile, ...]) -> bool:
    return len(before) == len(after) and all(map(_same_profile, before, after))


def _unchanged(station: Station, now: datetime) -> Station | None:
    """The station with its basis brought up to date when the limits cannot have changed since they were last
    computed (the same profiles, transactions and connectivity, the same model or the same values read from it,
    and no profile expired); None when they must be recomputed."""
    state = station.smart_charging
    if state.basis is None:
        return None
    profiles, transactions, offline, model, inputs = state.basis
    now_offline = not connection.is_up(station)
    if profiles is state.profiles and transactions is station.transactions and model is station.device_model:
        return station if offline == now_offline else None  # most steps: nothing the limits read changed
    same = _same_profiles(profiles, state.profiles)
    if not same or transactions != station.transactions or offline != now_offline:
        return None
    if model is not station.device_model:
        moment = station_clock(station, now)
        if inputs != _model_inputs(station) or any(_expired(p, moment) for p in state.profiles):
            return None
    basis = (state.profiles, station.transactions, offline, station.device_model, inputs)  # next step: `is` holds
    return station.with_changes(smart_charging=replace(state, basis=basis))


def settle(station: Station, now: datetime) -> tuple[Station, Effects]:
    """After every input: when the limits' inputs changed or a boundary is reached, recompute each EVSE's
    limit (its composite schedule now) and hand the changed ones to the hardware."""
    state = station.smart_charging
    if state.next_change is None or now < state.next_change:  # no boundary reached
        unchanged = _unchanged(station, now)
        if unchanged is not None:
            return unchanged, ()
    moment = station_clock(station, now)
    station, purged = remove(station, tuple(p for p in state.profiles if _expired(p, moment)))
    state, basis = station.smart_charging, _basis(station)
    unit, given = applied_unit(station), conditions(station)
    seconds = int(HORIZON.total_seconds())
    previous = {applied.evse_id: applied for applied in state.applied}
    applied: list[AppliedLimit] = []
    effects: list[Effect] = []
    next_change: datetime | None = None
    for evse_id in _evse_ids(station):
        schedule = composite_schedule(state.profiles, evse_id, moment, seconds, unit, given)
        first = schedule.periods[0]
        limit = AppliedLimit(evse_id, first.limit, unit, first.number_phases)
        before = previous.get(evse_id) or _unlimited(evse_id, unit, given)
        if limit != before:
            effects.append(ApplyChargingLimit(evse_id, limit.limit, unit, limit.phases))
        applied.append(limit)
        if len(schedule.periods) > 1:
            change = now + timedelta(seconds=schedule.periods[1].start)
            next_change = change if next_change is None else min(next_change, change)
    if next_change is None and state.profiles:
        next_change = now + HORIZON
    settled = replace(state, applied=tuple(applied), basis=basis, next_change=next_change)
    return station.with_changes(smart_charging=settled), purged + tuple(effects)


def _expired(profile: Profile, moment: datetime) -> bool:
    """Never limits again: past validTo, or an Absolute schedule whose duration is over. Such profiles are
    dropped when the limits are next recomputed, so they stop counting in Entries."""
    if profile.valid_to is not None and profile.valid_to <= moment:
        return True
    schedule = profile.schedule
    if profile.kind != "Absolute" or schedule.start is None or schedule.duration is None:
        return False
    return moment - schedule.start >= timedelta(seconds=schedule.duration)  # no overflow near year 9999


def _unlimited(evse_id: int, unit: str, given: Conditions) -> AppliedLimit:
    """What the hardware does before it was told anything: its maximum on all supply phases."""
    watts = given.evse_max_power.get(evse_id, 0.0)
    return AppliedLimit(
        evse_id, convert(watts, "W", unit, given.supply_phases, given.voltage), unit, given.supply_phases
    )


def deadline(station: Station) -> datetime | None:
    return station.smart_charging.next_change
