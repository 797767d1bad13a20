"""Charging profiles (block K) as values, and block K's part of the station state.

A profile is parsed once from its OCPP payload (`smart_charging.parse_profile`); the composite schedule, the
validation rules and the handlers read these dataclasses. The payload is kept beside it, unchanged, for
GetChargingProfiles reports and for persistence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, NamedTuple

MAX_PROFILE = "ChargingStationMaxProfile"
EXTERNAL = "ChargingStationExternalConstraints"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"

RECURRENCE_SECONDS = MappingProxyType({"Daily": 86_400, "Weekly": 604_800})


class Period(NamedTuple):
    """A NamedTuple, not a dataclass: a profile holds up to PeriodsPerSchedule of them, each built per
    SetChargingProfile, and a tuple is built about 4x faster than a frozen dataclass."""

    start: int
    """Seconds from the start of the schedule."""
    limit: float
    number_phases: int | None = None
    phase_to_use: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    rate_unit: str
    periods: tuple[Period, ...]
    start: datetime | None = None
    duration: int | None = None
    min_rate: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """One installed profile. `schedule` is the first chargingSchedule: the others are ISO 15118 alternatives
    offered to the EV, and the station limits by the first one."""

    profile_id: int
    evse_id: int
    purpose: str
    kind: str
    stack_level: int
    schedule: Schedule
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    source: str = "CSO"
    """chargingLimitSource: CSO for profiles the CSMS set, EMS/SO/Other for local external limits."""
    payload: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """The chargingProfile exactly as received."""


@dataclass(frozen=True, slots=True)
class AppliedLimit:
    """The limit last handed to the hardware for one EVSE."""

    evse_id: int
    limit: float
    unit: str
    phases: int


@dataclass(frozen=True, slots=True)
class SmartCharging:
    """Block K's part of the station state."""

    profiles: tuple[Profile, ...] = ()
    applied: tuple[AppliedLimit, ...] = ()
    basis: Any = None
    """What the applied limits were computed from (profiles, transactions, offline, the device model and the values
    read from it); a change recomputes them (smart_charging.settle)."""
    next_change: datetime | None = None
    """When the effective limit of some EVSE changes next (a period boundary); None without profiles."""
    notified: tuple[AppliedLimit, ...] = ()
    """The external limit per EVSE the CSMS was last told of with NotifyChargingLimit (K12)."""
