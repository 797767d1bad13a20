"""Property: any sequence of smart-charging requests from the CSMS (valid and invalid SetChargingProfile,
ClearChargingProfile, GetCompositeSchedule, GetChargingProfiles), local external limits, transactions starting
and ending and time passing keeps the station consistent:

- every request gets exactly one answer, a schema-valid CALLRESULT, and no InternalError;
- SmartChargingCtrlr.Entries[ChargingProfiles] counts the installed profiles, ids are unique, and no two
  installed profiles of one purpose, EVSE and stack level have overlapping validity (K01.FR.06, K01.FR.39);
- what was persisted restores exactly the installed profiles;
- the hardware holds the composite limit of now for every EVSE.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.smart_charging import smart_charging
from chargecore.pure.blocks.smart_charging.charging_profiles import Profile
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import set_value
from chargecore.pure.effects import ApplyChargingLimit, Effects, InternalError, Persist
from chargecore.pure.inputs import ExternalLimit, FrameReceived, Tick
from chargecore.pure.state import Station, Transaction
from chargecore.pure.station import step
from property_tests.support import CALL, CALLRESULT, T0, csms_time, fresh_station, schema_valid, sent_frames
from property_tests.test_inbound_frames import registered

PURPOSES = ["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile", "ChargingStationExternalConstraints"]
offsets = st.integers(-7200, 7200)


@st.composite
def charging_profiles(draw: Any) -> dict[str, Any]:
    """Mostly profiles a station accepts once it has a transaction; one in four has random defects."""
    flawed = draw(st.integers(0, 3)) == 0

    def defect() -> bool:
        return flawed and draw(st.booleans())

    kind = draw(st.sampled_from(["Absolute", "Recurring", "Relative"]))
    schedule: dict[str, Any] = {"id": 1, "chargingRateUnit": draw(st.sampled_from(["A", "W"]))}
    if (kind != "Relative") != defect():  # K01.FR.40/41
        schedule["startSchedule"] = csms_time(T0 + timedelta(seconds=draw(offsets)))
    starts = sorted(set(draw(st.lists(st.integers(1, 5000), max_size=3))))
    starts = [0, *starts] if not defect() else draw(st.lists(st.integers(0, 5000), min_size=1, max_size=4))
    periods = []
    for start in starts:
        limit = draw(st.integers(-1, 64)) if defect() else draw(st.integers(0, 64))
        period: dict[str, Any] = {"startPeriod": start, "limit": limit * 1.0}
        phases = draw(st.sampled_from([None, 1, 3, 4] if defect() else [None, None, 1, 3]))
        if phases is not None:
            period["numberPhases"] = phases
        if defect():
            period["phaseToUse"] = 1
        periods.append(period)
    schedule["chargingSchedulePeriod"] = periods
    if draw(st.booleans()):
        schedule["duration"] = draw(st.integers(1, 20_000))
    purposes = PURPOSES if defect() else PURPOSES[:3]
    profile: dict[str, Any] = {
        "id": draw(st.integers(1, 4)),
        "stackLevel": draw(st.integers(0, 1)),
        "chargingProfilePurpose": draw(st.sampled_from(purposes)),
        "chargingProfileKind": kind,
        "chargingSchedule": [schedule],
    }
    if (kind == "Recurring") != defect():
        profile["recurrencyKind"] = draw(st.sampled_from(["Daily", "Weekly"]))
    for name in ("validFrom", "validTo"):
        if draw(st.booleans()):
            profile[name] = csms_time(T0 + timedelta(seconds=draw(offsets)))
    if profile["chargingProfilePurpose"] == "TxProfile" and not defect():
        profile["transactionId"] = draw(st.sampled_from(["tx-1", "tx-2", "tx-9"]))
    return profile


@st.composite
def set_profile(draw: Any) -> tuple[str, dict[str, Any]]:
    profile = draw(charging_profiles())
    if profile["chargingProfilePurpose"] == "ChargingStationMaxProfile":
        evse_id = draw(st.sampled_from([0, 0, 0, 1]))
    elif profile.get("transactionId") in ("tx-1", "tx-2"):
        evse_id = int(profile["transactionId"][-1])
    else:
        evse_id = draw(st.integers(0, 3))
    return "SetChargingProfile", {"evseId": evse_id, "chargingProfile": profile}


requests = st.one_of(
    set_profile(),
    set_profile(),
    set_profile(),
    set_profile(),
    st.builds(lambda i: ("ClearChargingProfile", {"chargingProfileId": i}), st.integers(1, 4)),
    st.builds(
        lambda criteria: ("ClearChargingProfile", {"chargingProfileCriteria": criteria}),
        st.fixed_dictionaries(
            {},
            optional={
                "evseId": st.integers(0, 2),
                "chargingProfilePurpose": st.sampled_from(PURPOSES),
                "stackLevel": st.integers(0, 3),
            },
        ),
    ),
    st.builds(
        lambda evse, duration, unit: ("GetCompositeSchedule", {"evseId": evse, "duration": duration, **unit}),
        st.integers(0, 3),
        st.integers(0, 100_000),
        st.sampled_from([{}, {"chargingRateUnit": "A"}, {"chargingRateUnit": "W"}]),
    ),
    st.builds(
        lambda evse: ("GetChargingProfiles", {"requestId": 1, "chargingProfile": {}, **evse}),
        st.sampled_from([{}, {"evseId": 0}, {"evseId": 1}]),
    ),
)
local_events = st.one_of(
    st.tuples(st.just("external"), st.integers(0, 2), st.none() | st.integers(0, 40)),
    st.tuples(st.just("start"), st.integers(1, 2)),
    st.tuples(st.just("end"), st.integers(1, 2)),
    st.tuples(st.just("wait"), st.integers(1, 5000)),
)


def _apply(storage: dict[str, Any], effects: Effects) -> None:
    for effect in effects:
        assert not isinstance(effect, InternalError), effect
        if isinstance(effect, Persist):
            for key, value in effect.entries:
                if value is None:
                    storage.pop(key, None)
                else:
                    storage[key] = value


def _local(station: Station, now: Any, event: tuple[Any, ...]) -> tuple[Station, Effects]:
    kind = event[0]
    if kind == "external":
        return step(station, ExternalLimit(now, event[1], None if event[2] is None else float(event[2])))
    if kind == "start":
        evse_id = event[1]
        if any(tx.evse_id == evse_id for tx in station.transactions):
            return station, ()
        running = Transaction(f"tx-{evse_id}", evse_id, 1, now, phase="started")
        return step(replace(station, transactions=(*station.transactions, running)), Tick(now))
    if kind == "end":
        ending = [tx for tx in station.transactions if tx.evse_id == event[1]]
        if not ending:
            return station, ()
        kept = tuple(tx for tx in station.transactions if tx.evse_id != event[1])
        ended, effects = smart_charging.on_transaction_ended(station, event[1], ending[0].transaction_id, now)
        station, more = step(replace(ended, transactions=kept), Tick(now))
        return station, effects + more
    return step(station, Tick(now))


def _answered(station: Station, now: Any, number: int, action: str, payload: Any) -> tuple[Station, Effects]:
    """Exactly one answer, a CALLRESULT whose payload passes the response schema."""
    message_id = f"csms-{number}"
    station, effects = step(station, FrameReceived(now, json.dumps([CALL, message_id, action, payload])))
    answers = [frame for frame in sent_frames(effects) if frame.message_id == message_id]
    assert len(answers) == 1, effects
    assert answers[0].type_id == CALLRESULT, answers[0]
    assert schema_valid(action, "Response", answers[0].payload), answers[0]
    event(f"{action} {answers[0].payload.get('status')}")
    return station, effects


def _overlap(one: Profile, other: Profile) -> bool:
    """Whether two validity intervals [validFrom, validTo) share an instant (absent: unbounded)."""
    starts = [p.valid_from for p in (one, other) if p.valid_from is not None]
    ends = [p.valid_to for p in (one, other) if p.valid_to is not None]
    return not starts or not ends or max(starts) < min(ends)


def _check(station: Station, storage: dict[str, Any], hardware: dict[int, float], now: Any) -> None:
    profiles = station.smart_charging.profiles
    assert len({p.profile_id for p in profiles}) == len(profiles)
    assert station.device_model.values[(smart_charging.ENTRIES, "Actual")] == str(len(profiles))
    for index, one in enumerate(profiles):
        for other in profiles[index + 1 :]:
            if (one.purpose, one.evse_id, one.stack_level) != (other.purpose, other.evse_id, other.stack_level):
                continue
            if one.purpose == "TxProfile":
                assert one.transaction_id != other.transaction_id, (one, other)
            else:
                assert not _overlap(one, other), (one, other)
    restored = smart_charging.restore(fresh_station({}), storage)
    assert restored.smart_charging.profiles == profiles
    for evse_id in (1, 2):
        expected = smart_charging.composite_for(station, evse_id, now, 1, "A").periods[0].limit
        assert math.isclose(hardware[evse_id], expected, rel_tol=1e-9, abs_tol=1e-9), evse_id


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(requests.map(lambda r: ("csms", r)), local_events.map(lambda e: ("local", e))), max_size=20))
def test_any_sequence_keeps_profiles_storage_and_hardware_consistent(script: list[tuple[str, Any]]) -> None:
    station = registered("Accepted")
    model = station.device_model
    enabled = set_value(model, VariableKey("SmartChargingCtrlr", "ExternalControlSignalsEnabled"), "true").unwrap()
    station = replace(station, device_model=enabled)
    storage: dict[str, Any] = {}
    hardware = {e: 22_000 / 690 for e in (1, 2)}
    now = T0 + timedelta(seconds=5)
    for number, (origin, item) in enumerate(script):
        if origin == "csms":
            station, effects = _answered(station, now, number, *item)
        else:
            if item[0] == "wait":
                now += timedelta(seconds=item[1])
            station, effects = _local(station, now, item)
        _apply(storage, effects)
        for effect in effects:
            if isinstance(effect, ApplyChargingLimit):
                hardware[effect.evse_id] = effect.limit
        _check(station, storage, hardware, now)
