"""Time as OCPP sees it: the station clock is the shell's clock plus the offset the CSMS set (B01, G02), and
ClockCtrlr.DateTime reads it.

Timer arithmetic saturates (`seconds`, `later`): a wait the CSMS or a config file chose, however large, makes
a deadline at the end of the calendar, never an OverflowError. A currentTime outside `PLAUSIBLE_CLOCK` is
not a clock (year 9999 would overflow as soon as a second is added to the station clock): it is ignored and
the station says so, keeping the offset it had.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from returns.result import Failure, Result, Success

from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import set_value
from chargecore.pure.effects import Effects, Log

if TYPE_CHECKING:  # state.py holds monitors, whose periods are built with `seconds`
    from chargecore.pure.state import Station

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)

PLAUSIBLE_CLOCK = (datetime(1970, 1, 1, tzinfo=UTC), datetime(3000, 1, 1, tzinfo=UTC))
"""The currentTime a CSMS may set, from the Unix epoch up to (not including) the year 3000: far enough from
both ends of the calendar that the station clock and every timer computed on it stay representable."""


def seconds(count: float) -> timedelta:
    """A wait of `count` seconds, saturated at timedelta's range (about 2.7 million years) instead of raising."""
    if math.isnan(count):
        return timedelta(0)
    limit = timedelta.max.total_seconds()
    return timedelta(seconds=min(max(count, -limit), limit))


def later(moment: datetime, wait: timedelta) -> datetime:
    """moment + wait, saturated at the ends of the calendar instead of raising OverflowError."""
    try:
        return moment + wait
    except OverflowError:
        return LATEST if wait > timedelta(0) else EARLIEST

DATE_TIME = VariableKey("ClockCtrlr", "DateTime")


def station_time(station: Station, now: datetime) -> datetime:
    """The station clock at the shell's moment `now`: what the CSMS calls that moment."""
    return later(now, station.registration.clock_offset)


def ocpp_time(station: Station, now: datetime) -> str:
    """RFC 3339 UTC timestamp with milliseconds, as OCPP dateTime fields expect."""
    moment = station_time(station, now).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_ocpp_time(text: str) -> Result[datetime, str]:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return Failure(f"not an RFC 3339 time: {text!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return Success(moment)


def _plausible(current_time: str) -> datetime | None:
    parsed = parse_ocpp_time(current_time)
    if not isinstance(parsed, Success):
        return None
    moment = parsed.unwrap()
    try:
        earliest, latest = PLAUSIBLE_CLOCK
        return moment if earliest <= moment < latest else None
    except OverflowError:  # an offset of +-24 h on year 1 or 9999 cannot even be compared
        return None


def offset_from(current_time: str, now: datetime, previous: timedelta) -> timedelta:
    """The clock offset that makes the station agree with the CSMS's currentTime; unchanged if unreadable or
    outside PLAUSIBLE_CLOCK."""
    moment = _plausible(current_time)
    return previous if moment is None else moment - now


def refused_clock(action: str, current_time: str) -> Effects:
    """The warning for a currentTime `offset_from` ignores (none when the time was taken)."""
    if _plausible(current_time) is not None:
        return ()
    return (Log("warning", f"{action} currentTime {current_time!r} ignored: not a plausible clock"),)


def with_live_clock(station: Station, now: datetime) -> DeviceModel:
    """The device model as a reader sees it at `now`: ClockCtrlr.DateTime is the station clock at that moment,
    computed for each reading (a stored value would be stale the moment it was stored)."""
    model = station.device_model
    return set_value(model, DATE_TIME, ocpp_time(station, now), respect_mutability=False).value_or(model)
