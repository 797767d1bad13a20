"""Time as OCPP sees it: the station clock is the shell's clock plus the offset the CSMS set (B01, G02), and
ClockCtrlr.DateTime reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from returns.result import Failure, Result, Success

from chargecore.pure.device_model import DeviceModel, VariableKey, set_value
from chargecore.pure.state import Station

DATE_TIME = VariableKey("ClockCtrlr", "DateTime")


def station_time(station: Station, now: datetime) -> datetime:
    """The station clock at the shell's moment `now`: what the CSMS calls that moment."""
    return now + station.registration.clock_offset


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


def offset_from(current_time: str, now: datetime, previous: timedelta) -> timedelta:
    """The clock offset that makes the station agree with the CSMS's currentTime; unchanged if unreadable."""
    parsed = parse_ocpp_time(current_time)
    return parsed.unwrap() - now if isinstance(parsed, Success) else previous


def with_live_clock(station: Station, now: datetime) -> DeviceModel:
    """The device model as a reader sees it at `now`: ClockCtrlr.DateTime is the station clock at that moment,
    computed for each reading (a stored value would be stale the moment it was stored)."""
    model = station.device_model
    return set_value(model, DATE_TIME, ocpp_time(station, now), respect_mutability=False).value_or(model)
