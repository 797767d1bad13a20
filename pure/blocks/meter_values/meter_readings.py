"""What a meter reading becomes in OCPP (J01, J02): meterValue elements holding the configured measurands the
hardware reports, signed when the meter signs and SignReadings asks for it (with the meter's public key as
OCPPCommCtrlr.PublicKeyWithSignedMeterValue says: TC_J_11), and the values a transaction keeps for
its Ended event (TxEndedMeasurands). The TransactionEvent builder (transactions/events.py) asks `for_event`; the timers
that sample during a transaction live in meter_values.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_value
from chargecore.pure.ocppj.timestamps import ocpp_time, station_time
from chargecore.pure.state import EvseHardware, MeasuredValue, Metering, Station, Transaction, TxSampling

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"

_UNITS = {"Energy": "Wh", "Power": "W", "Current": "A", "Voltage": "V", "SoC": "Percent", "Frequency": "Hz"}
"""Default unit by the first word of a measurand, for values the hardware reports without one."""

KEPT_NAMESPACE = "meter_values/kept/"
"""Persist key prefix of the values kept for a transaction's Ended event (`<transaction id>/<index>`), so the
Ended event a restart sends (PowerLoss) still carries them; deleted with the transaction's record."""

SAMPLED = "SampledDataCtrlr"
ALIGNED = "AlignedDataCtrlr"


def measurands(station: Station, component: str, variable: str) -> frozenset[str]:
    """A MemberList variable of SampledDataCtrlr or AlignedDataCtrlr as a set of measurand names."""
    value = get_value(station.device_model, VariableKey(component, variable)) or ""
    return frozenset(name.strip() for name in value.split(",") if name.strip())


def enabled(station: Station, component: str) -> bool:
    return get_bool(station.device_model, component, "Enabled", default=True)


def readings(hw: EvseHardware) -> tuple[MeasuredValue, ...]:
    """Everything the latest reading holds: the energy register and the power, unless the meter reported them
    itself (with phases or a signature) among its other values."""
    own = {(value.measurand, value.phase) for value in hw.measured}
    base = (
        MeasuredValue(ENERGY, hw.energy_wh) if hw.energy_wh is not None else None,
        MeasuredValue(POWER, hw.power_w) if hw.power_w is not None else None,
    )
    return (*(v for v in base if v is not None and (v.measurand, None) not in own), *hw.measured)


def non_finite(energy_wh: float, power_w: float | None, measured: tuple[MeasuredValue, ...]) -> str | None:
    """The first value of a reading that is NaN or infinite, named ("energy nan Wh"), or None. OCPP's decimal
    and JSON have no such numbers: one kept would make every later TransactionEvent, Ended included, unsendable."""
    values = [("energy", energy_wh, "Wh"), ("power", power_w, "W")]
    values += [(value.measurand, value.value, value.unit or "") for value in measured]
    for name, number, unit in values:
        if number is not None and not math.isfinite(number):
            return f"{name} {number} {unit}".rstrip()
    return None


def _key_policy(station: Station) -> str:
    return get_value(station.device_model, VariableKey("OCPPCommCtrlr", "PublicKeyWithSignedMeterValue")) or "Never"


def _sampled(value: MeasuredValue, context: str, signed: bool, with_key: bool) -> dict[str, Any]:
    sample: dict[str, Any] = {"value": value.value, "context": context, "measurand": value.measurand}
    if value.phase is not None:
        sample["phase"] = value.phase
    unit = value.unit or _UNITS.get(value.measurand.split(".")[0])
    if unit is not None and unit != "Wh":  # Wh is OCPP's default unit
        sample["unitOfMeasure"] = {"unit": unit}
    if signed and value.signed is not None:
        sample["signedMeterValue"] = {**value.signed, "publicKey": value.signed["publicKey"] if with_key else ""}
    return sample


def meter_value(
    station: Station, evse_id: int, component: str, variable: str, context: str, moment: datetime
) -> dict[str, Any] | None:
    """One meterValue element: the measurands `component.variable` names that the hardware reports (J01.FR.07,
    J02.FR.10: others are left out), signed per `component.SignReadings` (J01.FR.21, J02.FR.21), the energy
    register without its phase values if RegisterValuesWithoutPhases; None if nothing is left. A signed value
    carries the meter's public key unless PublicKeyWithSignedMeterValue is Never (publicKey "" then)."""
    wanted = measurands(station, component, variable)
    hw = next((hw for hw in station.evse_hardware if hw.evse_id == evse_id), EvseHardware(evse_id))
    signed = get_bool(station.device_model, component, "SignReadings")
    with_key = _key_policy(station) != "Never"
    total_only = get_bool(station.device_model, SAMPLED, "RegisterValuesWithoutPhases")
    sampled = [
        _sampled(value, context, signed, with_key)
        for value in readings(hw)
        if value.measurand in wanted and not (total_only and value.measurand == ENERGY and value.phase is not None)
    ]
    return {"timestamp": ocpp_time(station, moment), "sampledValue": sampled} if sampled else None


def key_once(station: Station, meter: list[dict[str, Any]], key_sent: bool) -> tuple[list[dict[str, Any]], bool]:
    """PublicKeyWithSignedMeterValue OncePerTransaction: in the TransactionEvents of one transaction, only the first
    signed value that goes out carries the meter's public key, the others publicKey "". Returns the meter values
    and whether the key has gone out now (or before)."""
    if _key_policy(station) != "OncePerTransaction":
        return meter, key_sent
    values = []
    for value in meter:
        samples = []
        for sample in value["sampledValue"]:
            signature = sample.get("signedMeterValue")
            if signature is not None and signature["publicKey"]:
                if key_sent:
                    sample = {**sample, "signedMeterValue": {**signature, "publicKey": ""}}
                key_sent = True
            samples.append(sample)
        values.append({**value, "sampledValue": samples})
    return values, key_sent


def sampling(station: Station, transaction_id: str) -> TxSampling | None:
    return next((entry for entry in station.metering.sampling if entry.transaction_id == transaction_id), None)


def put_sampling(station: Station, entry: TxSampling) -> Station:
    others = tuple(other for other in station.metering.sampling if other.transaction_id != entry.transaction_id)
    return replace(station, metering=replace(station.metering, sampling=(*others, entry)))


def kept_key(transaction_id: str, index: int) -> str:
    return f"{KEPT_NAMESPACE}{transaction_id}/{index:06d}"


def kept_keys(station: Station, transaction_id: str) -> tuple[str, ...]:
    """The persist keys of the values kept for this transaction's Ended event."""
    entry = sampling(station, transaction_id)
    return () if entry is None else tuple(kept_key(transaction_id, index) for index in range(len(entry.kept)))


def restore_kept(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The values kept for the Ended events of the transactions a restart brought back, in order."""
    kept: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for key, value in persisted.items():
        if key.startswith(KEPT_NAMESPACE) and isinstance(value, dict):
            transaction_id, _, index = key.removeprefix(KEPT_NAMESPACE).rpartition("/")
            kept.setdefault(transaction_id, []).append((index, value))
    for tx in station.transactions:
        values = tuple(value for _, value in sorted(kept.get(tx.transaction_id, [])))
        station = put_sampling(
            station,
            TxSampling(tx.transaction_id, tx.started_at, tx.started_at, station_time(station, tx.started_at), values),
        )
    return station


def forget(station: Station, transaction_id: str) -> Station:
    kept = tuple(entry for entry in station.metering.sampling if entry.transaction_id != transaction_id)
    return replace(station, metering=Metering(station.metering.aligned_from, kept))


def transaction_begin(station: Station, evse_id: int, now: datetime) -> tuple[dict[str, Any], ...]:
    """The TxStartedMeasurands (Transaction.Begin, J02.FR.01): in the Started event, or in the first event after
    the EVSE became known when the transaction started before it was (TC_J_08)."""
    if not enabled(station, SAMPLED):
        return ()
    value = meter_value(station, evse_id, SAMPLED, "TxStartedMeasurands", "Transaction.Begin", now)
    return () if value is None else (value,)


def for_event(
    station: Station, tx: Transaction, event_type: str, trigger: str, now: datetime
) -> tuple[Station, list[dict[str, Any]]]:
    """The meterValue of a TransactionEvent the transaction block sends: TxStartedMeasurands in Started
    (Transaction.Begin, J02.FR.01, E01.FR.09), the kept TxEnded values plus Transaction.End in Ended (J02.FR.03,
    E06.FR.11), TxUpdatedMeasurands for a triggered Updated (F06). Started begins the transaction's sampling."""
    sampled = enabled(station, SAMPLED)
    values: list[dict[str, Any] | None] = []
    if event_type == "Started":
        station = put_sampling(station, TxSampling(tx.transaction_id, now, now, station_time(station, now)))
        values = [*transaction_begin(station, tx.evse_id, now)]
    elif event_type == "Ended":
        entry = sampling(station, tx.transaction_id)
        values = list(entry.kept) if entry is not None else []
        if sampled:
            values.append(meter_value(station, tx.evse_id, SAMPLED, "TxEndedMeasurands", "Transaction.End", now))
        station = forget(station, tx.transaction_id)
    elif trigger == "Trigger" and sampled:
        values = [meter_value(station, tx.evse_id, SAMPLED, "TxUpdatedMeasurands", "Trigger", now)]
    return station, [value for value in values if value is not None]
