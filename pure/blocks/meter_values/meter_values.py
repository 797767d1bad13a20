"""Blocks J01 and J02, meter values on a schedule: the core samples the latest hardware reading

- every SampledDataCtrlr.TxUpdatedInterval seconds of a transaction: an Updated TransactionEvent, triggerReason
  MeterValuePeriodic, context Sample.Periodic (J02.FR.02);
- every SampledDataCtrlr.TxEndedInterval seconds, and at every AlignedDataCtrlr.TxEndedInterval clock slot: a
  value kept for the Ended event (Sample.Periodic, Sample.Clock; J02.FR.03, J01.FR.03);
- at every AlignedDataCtrlr.Interval clock slot (aligned to midnight of the station clock, J01.FR.01): a
  MeterValuesRequest for an EVSE without a transaction (J01.FR.14) and an Updated TransactionEvent, triggerReason
  MeterValueClock, for one with (J01.FR.06); none at all while a transaction runs if SendDuringIdle is true.

Each timer remembers when it last fired, and its deadline is computed from the interval configured now, so a
changed interval takes effect at once. The clock slots start at the first meter reading (nothing to report before).

Clock slots are kept on the station clock, the CSMS's time: a timer remembers the slot it last fired by the time
that slot names, and fires only a later slot. A Heartbeat answer that moves the clock back therefore never sends
a slot again, and one that moves it forward past a slot boundary sends the slot now due (the latest one, when a
correction skipped several).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from chargecore.pure.blocks.authorization import authorization
from chargecore.pure.blocks.meter_values.meter_readings import (
    ALIGNED,
    SAMPLED,
    forget,
    kept_key,
    meter_value,
    non_finite,
    put_sampling,
)
from chargecore.pure.blocks.transactions import hardware_hooks, sessions, start_stop
from chargecore.pure.device_model.catalogue import DeviceModel
from chargecore.pure.device_model.derived import per_model
from chargecore.pure.device_model.model import get_bool, get_int
from chargecore.pure.effects import Effects, Log, Persist
from chargecore.pure.inputs import MeterReading
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.timestamps import later, seconds, station_time
from chargecore.pure.state import MeasuredValue, Station, TxSampling

SIGNED_FIELDS = ("signedMeterData", "signingMethod", "encodingMethod", "publicKey")
"""What an OCPP SignedMeterValueType needs; a signature without them is not passed on."""

DAY = timedelta(days=1)


def _interval(station: Station, component: str, variable: str) -> timedelta | None:
    """A configured interval, None when it is 0 (off) or its controller is disabled."""
    return _model_interval(station.device_model, component, variable)


@per_model
def _model_interval(model: DeviceModel, component: str, variable: str) -> timedelta | None:
    """Per model value: `deadline` reads four of these after every input that changes the station."""
    count = get_int(model, component, variable)
    return seconds(count) if count > 0 and get_bool(model, component, "Enabled", default=True) else None


def _slot_start(clock: datetime, interval: timedelta) -> datetime:
    """The clock-aligned slot the station-clock moment `clock` falls in: slots count from midnight (J01.FR.01)."""
    midnight = clock.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + ((clock - midnight) // interval) * interval


def _next_slot(after: datetime, interval: timedelta) -> datetime:
    """The first slot boundary strictly after the station-clock moment `after` (the last slot of a day ends at
    midnight when the interval does not divide the day)."""
    return min(_slot_start(after, interval) + interval, _slot_start(after, DAY) + DAY)


def _due_slot(station: Station, fired: datetime, interval: timedelta, now: datetime) -> datetime | None:
    """The slot to fire now, on the station clock: the one the clock is in, if it is later than the slot `fired`
    last; None before the next boundary (also when a correction moved the clock back)."""
    clock = station_time(station, now)
    return _slot_start(clock, interval) if clock >= _next_slot(fired, interval) else None


def _shell_moment(station: Station, clock: datetime) -> datetime:
    """The shell's moment the station-clock moment `clock` names, with the clock offset known now."""
    return clock - station.registration.clock_offset


def _slot_deadline(station: Station, fired: datetime, interval: timedelta) -> datetime:
    """When the slot after `fired` begins, as a deadline for the shell."""
    return _shell_moment(station, _next_slot(fired, interval))


def _advanced(due: datetime, interval: timedelta, now: datetime) -> datetime:
    """When a periodic timer counts as having fired: at its due moment if the tick came in time, else now."""
    return due if now < later(due, interval) else now


# --- deadlines --------------------------------------------------------------------------------------------


def deadline(station: Station) -> datetime | None:
    metering = station.metering
    moments: list[datetime] = []
    if metering.aligned_from is not None:
        aligned = _interval(station, ALIGNED, "Interval")
        if aligned is not None:
            moments.append(_slot_deadline(station, metering.aligned_from, aligned))
    if not metering.sampling:
        return min(moments) if moments else None
    updated = _interval(station, SAMPLED, "TxUpdatedInterval")
    ended = _interval(station, SAMPLED, "TxEndedInterval")
    aligned_ended = _interval(station, ALIGNED, "TxEndedInterval")
    for entry in metering.sampling:
        if updated is not None:
            moments.append(later(entry.updated_from, updated))
        if ended is not None:
            moments.append(later(entry.ended_from, ended))
        if aligned_ended is not None:
            moments.append(_slot_deadline(station, entry.aligned_ended_from, aligned_ended))
    return min(moments) if moments else None


# --- inputs -----------------------------------------------------------------------------------------------


def _checked(value: MeasuredValue) -> MeasuredValue:
    if value.signed is None or all(isinstance(value.signed.get(name), str) for name in SIGNED_FIELDS):
        return value
    return replace(value, signed=None)


def on_meter_reading(station: Station, event: MeterReading) -> tuple[Station, Effects]:
    """Keep the reading (hardware_hooks.py); the first one starts the clock-aligned slots. A signature without the
    fields OCPP requires is dropped with a warning rather than breaking every message that would carry it. A
    reading with a NaN or infinite value is refused whole, with a warning, and the previous reading stays."""
    problem = non_finite(event.energy_wh, event.power_w, event.measured)
    if problem is not None:
        refused = f"EVSE {event.evse_id}: meter reading refused, {problem} is not a finite number"
        return station, (Log("warning", refused),)
    measured = tuple(_checked(value) for value in event.measured)
    warned: Effects = tuple(
        Log("warning", f"EVSE {event.evse_id}: incomplete signature of {value.measurand} dropped")
        for value, kept in zip(event.measured, measured, strict=True)
        if value.signed != kept.signed
    )
    station, effects = hardware_hooks.on_meter_reading(
        station, event.evse_id, event.energy_wh, event.power_w, event.now, measured
    )
    if station.metering.aligned_from is None:
        station = replace(station, metering=replace(station.metering, aligned_from=station_time(station, event.now)))
    return station, warned + effects


# --- timers -----------------------------------------------------------------------------------------------


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    station, effects = _sample_transactions(station, now)
    station, aligned = _clock_aligned(station, now)
    return station, effects + aligned


def _sample_transactions(station: Station, now: datetime) -> tuple[Station, Effects]:
    updated = _interval(station, SAMPLED, "TxUpdatedInterval")
    ended = _interval(station, SAMPLED, "TxEndedInterval")
    aligned_ended = _interval(station, ALIGNED, "TxEndedInterval")
    effects: Effects = ()
    for entry in station.metering.sampling:
        tx = sessions.find_by_id(station, entry.transaction_id)
        if tx is None or tx.phase != "started":  # its Ended event never went out: nothing left to sample for
            station = forget(station, entry.transaction_id)
            continue
        if updated is not None and now >= later(entry.updated_from, updated):
            entry = replace(entry, updated_from=_advanced(later(entry.updated_from, updated), updated, now))
            station, more = _report(station, tx.evse_id, entry.updated_from, now)
            effects += more
        if ended is not None and now >= later(entry.ended_from, ended):
            entry = replace(entry, ended_from=_advanced(later(entry.ended_from, ended), ended, now))
            entry, kept = _keep(station, entry, tx.evse_id, SAMPLED, "Sample.Periodic", entry.ended_from)
            effects += kept
        slot = None if aligned_ended is None else _due_slot(station, entry.aligned_ended_from, aligned_ended, now)
        if slot is not None:
            entry = replace(entry, aligned_ended_from=slot)
            entry, kept = _keep(station, entry, tx.evse_id, ALIGNED, "Sample.Clock", _shell_moment(station, slot))
            effects += kept
        station = put_sampling(station, entry)
    return station, effects


def _report(station: Station, evse_id: int, moment: datetime, now: datetime) -> tuple[Station, Effects]:
    """J02.FR.02: the TxUpdatedMeasurands sample in an Updated event (nothing if the hardware reports none)."""
    value = meter_value(station, evse_id, SAMPLED, "TxUpdatedMeasurands", "Sample.Periodic", moment)
    if value is None:
        return station, ()
    return start_stop.report_meter_values(station, evse_id, "MeterValuePeriodic", [value], now)


def _keep(
    station: Station, entry: TxSampling, evse_id: int, component: str, context: str, moment: datetime
) -> tuple[TxSampling, Effects]:
    """A TxEndedMeasurands sample for the Ended event, persisted so that an Ended event after a power loss still
    carries it."""
    value = meter_value(station, evse_id, component, "TxEndedMeasurands", context, moment)
    if value is None:
        return entry, ()
    persisted = Persist(((kept_key(entry.transaction_id, len(entry.kept)), value),))
    return replace(entry, kept=(*entry.kept, value)), (persisted,)


def _clock_aligned(station: Station, now: datetime) -> tuple[Station, Effects]:
    interval = _interval(station, ALIGNED, "Interval")
    metering = station.metering
    if interval is None or metering.aligned_from is None:
        return station, ()
    slot = _due_slot(station, metering.aligned_from, interval, now)
    if slot is None:
        return station, ()
    station = replace(station, metering=replace(metering, aligned_from=slot))
    if get_bool(station.device_model, ALIGNED, "SendDuringIdle") and station.running_transactions:
        return station, ()
    moment = _shell_moment(station, slot)
    online = authorization.is_online(station)
    effects: Effects = ()
    for hw in sorted(station.evse_hardware, key=lambda hw: hw.evse_id):
        value = meter_value(station, hw.evse_id, ALIGNED, "Measurands", "Sample.Clock", moment)
        tx = sessions.find(station, hw.evse_id)
        if value is None:
            continue
        if tx is not None and tx.phase == "started":
            station, more = start_stop.report_meter_values(station, hw.evse_id, "MeterValueClock", [value], now)
            effects += more
        elif online:
            session, more = rpc.enqueue(station.rpc, "MeterValues", {"evseId": hw.evse_id, "meterValue": [value]})
            station, effects = replace(station, rpc=session), effects + more
    return station, effects
