"""Part 6 block J (meter values) test cases for the Charging Station, and the block E test cases that need
periodic meter values (TC_E_29, TC_E_33, TC_E_40). Intervals are 1 s so each case takes a few seconds."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from harness import Booted, StationFactory, boot, settle
from sessions import (
    authorize_locally,
    energy_transfer_started,
    go_offline,
    plug,
    queued,
    shape,
    transaction_event,
    transaction_id,
)

from chargecore.pure.state import MeasuredValue
from chargecore.testing.csms_double import CsmsDouble, StationCall

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
METER_KEY = "TUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FF"
SIGNATURE = {
    "signedMeterData": "c2lnbmVkIGRhdGE=",
    "signingMethod": "ECDSA",
    "encodingMethod": "OCMF",
    "publicKey": METER_KEY,
}
"""What the meter delivers: its signature and its public key; the station decides whether the key goes along."""
QUIET = {"AlignedDataCtrlr": {"Interval": 0}, "SampledDataCtrlr": {"TxUpdatedInterval": 0}}
"""No periodic report unless the test case configures it."""


CORRECTIONS = (0.3, -0.3, 0.2, -0.4, 0.1, -0.2)
"""How far ahead of (+) or behind (-) real time the CSMS clock is in its successive Heartbeat answers: each answer
moves the station clock forward or back by a fraction of the 1 s interval (never a whole interval forward)."""


def correcting_clock(csms: CsmsDouble) -> None:
    """The CSMS corrects the station clock in every Heartbeat answer, by the next of CORRECTIONS in turn."""
    shifts = itertools.cycle(CORRECTIONS)

    def answer(_: dict[str, Any]) -> dict[str, Any]:
        moment = datetime.now(UTC) + timedelta(seconds=next(shifts))
        return {"currentTime": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")}

    csms.answer_automatically("Heartbeat", answer)


CLOCKS = pytest.mark.parametrize("clock", ["steady", "corrected every second"])
"""The J01 cases run twice: with the CSMS clock as the station keeps it, and with a CSMS that corrects the
station clock back and forth in a Heartbeat answer every second."""


def booted_with(
    csms: CsmsDouble, station_factory: StationFactory, clock: str = "steady", **sections: dict[str, Any]
) -> Booted:
    config = {name: dict(values) for name, values in QUIET.items()}
    for name, values in sections.items():
        config.setdefault(name, {}).update(values)
    if clock != "steady":
        correcting_clock(csms)
    booted = boot(station_factory(config=config), csms, interval=None if clock == "steady" else 1)
    booted.station.meter(1, 1000.0, 7000.0)  # Prerequisite: the Charging Station has an energy meter
    return booted


def signed_meter(booted: Booted) -> None:
    """A meter that signs its energy register."""
    booted.station.meter(1, 1000.0, 7000.0, (MeasuredValue(ENERGY, 1000.0, signed=SIGNATURE),))


def moment(meter_value: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(meter_value["timestamp"].replace("Z", "+00:00"))


def whole_seconds_apart(meter_values: list[dict[str, Any]]) -> bool:
    """Timestamps on the interval grid: increasing by a whole number of seconds (the interval is 1 s)."""
    gaps = [(moment(later) - moment(earlier)).total_seconds() for earlier, later in itertools.pairwise(meter_values)]
    return all(gap >= 1 and gap == int(gap) for gap in gaps)


def gaps(meter_values: list[dict[str, Any]]) -> list[float]:
    """Seconds between consecutive timestamps."""
    return [(moment(later) - moment(earlier)).total_seconds() for earlier, later in itertools.pairwise(meter_values)]


def measurands(meter_value: dict[str, Any]) -> set[str]:
    return {sample.get("measurand", ENERGY) for sample in meter_value["sampledValue"]}


def contexts(meter_values: list[dict[str, Any]]) -> list[str]:
    return [meter_value["sampledValue"][0]["context"] for meter_value in meter_values]


def meter_values_requests(csms: CsmsDouble, count: int) -> list[StationCall]:
    calls = []
    for _ in range(count):
        call = csms.expect_call("MeterValues", timeout=5)
        csms.reply(call, {})
        calls.append(call)
    return calls


def ended_after(booted: Booted, csms: CsmsDouble, seconds: float) -> StationCall:
    """Reusable State ParkingBayUnoccupied after <Configured transaction duration>: the EV leaves, the transaction
    ends (TxStopPoint EVConnected); the Ended event, after the Updated events of the transaction."""
    time.sleep(seconds)
    plug(booted, csms, "unplug")
    while True:
        call = transaction_event(csms)
        if call.payload["eventType"] == "Ended":
            return call


# --- J01 clock-aligned --------------------------------------------------------------------------------------


@pytest.mark.requirements("J01.FR.01", "J01.FR.02", "J01.FR.07", "J01.FR.08", "J01.FR.14")
@CLOCKS
def test_TC_J_01_CS_clock_aligned_no_transaction(csms: CsmsDouble, station_factory: StationFactory, clock: str) -> None:
    """Steps 1-2 until three MeterValuesRequests (six while the clock is corrected, so that corrections fall
    between slots); post scenario: the timestamps are AlignedDataInterval apart."""
    booted = booted_with(csms, station_factory, clock, AlignedDataCtrlr={"Interval": 1})
    calls = meter_values_requests(csms, 3 if clock == "steady" else 6)
    values = [call.payload["meterValue"][0] for call in calls]
    assert all(call.payload["evseId"] == 1 for call in calls)
    assert contexts(values) == ["Sample.Clock"] * len(values)
    assert all(measurands(value) == {ENERGY} for value in values), "AlignedDataMeasurands"
    assert gaps(values) == [1.0] * (len(values) - 1), [value["timestamp"] for value in values]
    assert booted.station.state.transactions == ()


@pytest.mark.requirements("J01.FR.01", "J01.FR.02", "J01.FR.06", "J01.FR.07", "J01.FR.08")
@CLOCKS
def test_TC_J_02_CS_clock_aligned_transaction_ongoing(
    csms: CsmsDouble, station_factory: StationFactory, clock: str
) -> None:
    """EnergyTransferStarted, then steps 3-4 (the only EVSE has the transaction, so no step 1) for the
    transaction duration; post scenario: the MeterValueClock events are AlignedDataInterval apart."""
    aligned = {"Interval": 1, "SendDuringIdle": False, "Measurands": f"{ENERGY},{POWER}"}
    booted = booted_with(csms, station_factory, clock, AlignedDataCtrlr=aligned)
    energy_transfer_started(booted, csms)
    updates = [transaction_event(csms) for _ in range(3 if clock == "steady" else 6)]
    assert [shape(call)[:2] for call in updates] == [("Updated", "MeterValueClock")] * len(updates)
    values = [call.payload["meterValue"][0] for call in updates]
    assert contexts(values) == ["Sample.Clock"] * len(values)
    assert all(measurands(value) == {ENERGY, POWER} for value in values), "AlignedDataMeasurands"
    assert gaps(values) == [1.0] * (len(values) - 1), [value["timestamp"] for value in values]
    assert csms.calls("MeterValues") == []


@pytest.mark.requirements("J01.FR.03", "E06.FR.11")
@CLOCKS
def test_TC_J_03_CS_clock_aligned_ended(csms: CsmsDouble, station_factory: StationFactory, clock: str) -> None:
    """EnergyTransferStarted; step 1, ParkingBayUnoccupied after the transaction duration; post scenario: the
    Ended event has a Sample.Clock value per AlignedDataTxEndedInterval slot, that interval apart."""
    booted = booted_with(
        csms, station_factory, clock, AlignedDataCtrlr={"TxEndedInterval": 1, "SendDuringIdle": False}
    )
    energy_transfer_started(booted, csms)
    ended = ended_after(booted, csms, 2.5 if clock == "steady" else 5.5)
    values = ended.payload["meterValue"]
    clock_values = [value for value in values if value["sampledValue"][0]["context"] == "Sample.Clock"]
    assert len(clock_values) >= (2 if clock == "steady" else 4), values
    assert gaps(clock_values) == [1.0] * (len(clock_values) - 1), [value["timestamp"] for value in clock_values]
    assert all(measurands(value) == {ENERGY} for value in clock_values), "AlignedDataTxEndedMeasurands"


@pytest.mark.requirements("J01.FR.21")
def test_TC_J_04_CS_clock_aligned_signed(csms: CsmsDouble, station_factory: StationFactory) -> None:
    aligned = {"TxEndedInterval": 1, "SendDuringIdle": False, "SignReadings": True}
    booted = booted_with(csms, station_factory, AlignedDataCtrlr=aligned)
    signed_meter(booted)
    energy_transfer_started(booted, csms)
    ended = ended_after(booted, csms, 2.5)
    clock = [value for value in ended.payload["meterValue"] if value["sampledValue"][0]["context"] == "Sample.Clock"]
    assert len(clock) >= 2
    without_key = {**SIGNATURE, "publicKey": ""}  # PublicKeyWithSignedMeterValue is Never by default
    assert all(value["sampledValue"][0]["signedMeterValue"] == without_key for value in clock)


def test_TC_J_06_CS_no_clock_aligned_values_during_transaction(
    csms: CsmsDouble, station_factory: StationFactory
) -> None:
    booted = booted_with(csms, station_factory, AlignedDataCtrlr={"Interval": 1, "SendDuringIdle": True})
    [idle] = meter_values_requests(csms, 1)
    assert contexts(idle.payload["meterValue"]) == ["Sample.Clock"]
    energy_transfer_started(booted, csms)
    settle(booted.station, csms)  # a MeterValues of the last idle slot may still have been on its way
    before = len(csms.calls("MeterValues"))
    time.sleep(1 + 1.5)  # <Configured clock-aligned Meter Values interval + 5 seconds>, shortened
    settle(booted.station, csms)
    assert len(csms.calls("MeterValues")) == before
    assert [call.payload["eventType"] for call in csms.calls("TransactionEvent")] == ["Started"]
    ended_after(booted, csms, 0)
    [after] = meter_values_requests(csms, 1)
    assert contexts(after.payload["meterValue"]) == ["Sample.Clock"]


# --- J02 sampled --------------------------------------------------------------------------------------------


@pytest.mark.requirements("J02.FR.01", "J02.FR.10", "E01.FR.09")
def test_TC_J_07_CS_sampled_started_evse_known(csms: CsmsDouble, station_factory: StationFactory) -> None:
    sampled = {"TxStartedMeasurands": f"{ENERGY},{POWER}"}
    booted = booted_with(csms, station_factory, SampledDataCtrlr=sampled, TxCtrlr={"TxStartPoint": "EVConnected"})
    plug(booted, csms)  # EVConnectedPreSession
    started = transaction_event(csms)
    assert shape(started)[:2] == ("Started", "CablePluggedIn")
    [value] = started.payload["meterValue"]
    assert contexts([value]) == ["Transaction.Begin"] and measurands(value) == {ENERGY, POWER}


@pytest.mark.requirements("J02.FR.01", "J02.FR.10", "E01.FR.17", "E03.FR.11")
def test_TC_J_08_CS_sampled_started_evse_not_known(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """Two EVSEs and a station-level reader (NOT AQ-8): the token starts the transaction before the EVSE is
    known; the EV plugging in at EVSE 2 names it, and that Updated event carries the Transaction.Begin values."""
    config = {
        **QUIET,
        "TxCtrlr": {"TxStartPoint": "Authorized"},
        "SampledDataCtrlr": {**QUIET["SampledDataCtrlr"], "TxStartedMeasurands": f"{ENERGY},{POWER}"},
    }
    booted = boot(station_factory(config=config, evse_connectors=(1, 1)), csms)
    settle(booted.station, csms)
    booted.station.meter(1, 1000.0, 0.0)
    booted.station.meter(2, 2000.0, 7000.0)
    authorize_locally(booted, csms)  # Reusable State Authorized, at the station's reader
    started = transaction_event(csms)
    assert shape(started)[:2] == ("Started", "Authorized") and "evse" not in started.payload
    booted.station.connector(2, 1, "plug")  # EVConnectedPreSession, at the EVSE the driver chose
    status = csms.expect_call("StatusNotification")
    assert (status.payload["evseId"], status.payload["connectorStatus"]) == (2, "Occupied")
    updated = transaction_event(csms)
    assert shape(updated) == ("Updated", "CablePluggedIn", "EVConnected")
    assert updated.payload["evse"] == {"id": 2, "connectorId": 1}
    [value] = updated.payload["meterValue"]
    assert contexts([value]) == ["Transaction.Begin"] and measurands(value) == {ENERGY, POWER}
    assert shape(transaction_event(csms)) == ("Updated", "ChargingStateChanged", "Charging")  # EnergyTransferStarted


@pytest.mark.requirements("J02.FR.02", "J02.FR.10", "J02.FR.11", "J02.FR.14")
def test_TC_J_09_CS_sampled_updated(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, SampledDataCtrlr={"TxUpdatedInterval": 1})
    energy_transfer_started(booted, csms)
    updates = [transaction_event(csms) for _ in range(3)]
    assert [shape(call)[:2] for call in updates] == [("Updated", "MeterValuePeriodic")] * 3
    values = [call.payload["meterValue"][0] for call in updates]
    assert contexts(values) == ["Sample.Periodic"] * 3
    assert all(measurands(value) == {ENERGY, POWER} for value in values), "SampledDataTxUpdatedMeasurands"
    assert whole_seconds_apart(values)


@pytest.mark.requirements("J02.FR.03", "J02.FR.04", "J02.FR.10", "E06.FR.11")
def test_TC_J_10_CS_sampled_ended(csms: CsmsDouble, station_factory: StationFactory) -> None:
    booted = booted_with(csms, station_factory, SampledDataCtrlr={"TxEndedInterval": 1})
    energy_transfer_started(booted, csms)
    values = ended_after(booted, csms, 2.5).payload["meterValue"]
    assert contexts(values)[-1] == "Transaction.End"
    assert set(contexts(values)[:-1]) == {"Sample.Periodic"} and len(values) >= 3
    assert whole_seconds_apart(values[:-1])
    assert all(measurands(value) == {ENERGY} for value in values), "SampledDataTxEndedMeasurands"


def public_keys(calls: list[StationCall]) -> list[str]:
    """The publicKey of every signed value these TransactionEvents carried, in the order they went out."""
    return [
        sample["signedMeterValue"]["publicKey"]
        for call in calls
        for value in call.payload.get("meterValue", [])
        for sample in value["sampledValue"]
    ]


@pytest.mark.requirements("J02.FR.21")
@pytest.mark.parametrize("policy", ["Never", "OncePerTransaction", "EveryMeterValue"])
def test_TC_J_11_CS_sampled_signed(csms: CsmsDouble, station_factory: StationFactory, policy: str) -> None:
    """Post scenario validations: the Ended event's meter values are Sample.Periodic on the TxEndedInterval grid and
    one Transaction.End, every sampledValue signed, and publicKey is "" or the meter's key as
    OCPPCommCtrlr.PublicKeyWithSignedMeterValue says (OncePerTransaction: the first signed value of the
    transaction, in the Started event, carries it)."""
    sampled = {"TxEndedInterval": 1, "SignReadings": True}
    booted = booted_with(
        csms, station_factory, SampledDataCtrlr=sampled, OCPPCommCtrlr={"PublicKeyWithSignedMeterValue": policy}
    )
    signed_meter(booted)
    started = energy_transfer_started(booted, csms)
    ended = ended_after(booted, csms, 2.5)
    values = ended.payload["meterValue"]
    assert contexts(values)[-1] == "Transaction.End" and set(contexts(values)[:-1]) == {"Sample.Periodic"}
    assert len(values) >= 3 and whole_seconds_apart(values[:-1])
    assert all(measurands(value) == {ENERGY} for value in values), "SampledDataTxEndedMeasurands"
    keys = public_keys([started, ended])
    assert len(keys) == 1 + len(values), "every sampled value is signed"
    expected = {
        "Never": [""] * len(keys),
        "OncePerTransaction": [METER_KEY] + [""] * (len(keys) - 1),
        "EveryMeterValue": [METER_KEY] * len(keys),
    }
    assert keys == expected[policy]


# --- E11, E14 with periodic meter values ---------------------------------------------------------------------

OFFLINE = {
    "SampledDataCtrlr": {"TxUpdatedInterval": 1, "TxUpdatedMeasurands": ENERGY},
    "OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 2, "RetryBackOffRandomRange": 0, "OfflineThreshold": 62},
}


def offline_with_meter_values(csms: CsmsDouble, station_factory: StationFactory) -> tuple[Booted, str]:
    """EnergyTransferStarted, then the OCTT closes the connection and refuses the reconnect that comes after
    RetryBackOffWaitMinimum, and accepts the next: Updated events with meter values pile up in the queue."""
    booted = booted_with(csms, station_factory, **OFFLINE)
    started = energy_transfer_started(booted, csms)
    go_offline(booted, csms)
    refused = len(csms.attempts)
    queued(booted, 2)
    csms.wait_attempts(refused + 1)
    csms.accept_connections()
    csms.wait_session(2, timeout=10)
    return booted, transaction_id(started)


def queued_updates(csms: CsmsDouble) -> list[StationCall]:
    """The TransactionEvents the station empties its queue with (all marked offline), answered."""
    calls = [transaction_event(csms, timeout=10)]
    while calls[-1].payload.get("offline"):
        calls.append(transaction_event(csms, timeout=5))
    return calls[:-1]


def check_queued(calls: list[StationCall]) -> None:
    assert len(calls) >= 2
    for call in calls:
        assert call.payload["eventType"] == "Updated" and call.payload["offline"] is True
        assert contexts(call.payload["meterValue"]) == ["Sample.Periodic"]


@pytest.mark.requirements("E14.FR.02", "E14.FR.04", "E11.FR.03")
def test_TC_E_29_CS_status_ongoing_with_message_in_queue(csms: CsmsDouble, station_factory: StationFactory) -> None:
    _, transaction = offline_with_meter_values(csms, station_factory)
    reply = csms.call("GetTransactionStatus", {"transactionId": transaction})
    assert reply.payload == {"ongoingIndicator": True, "messagesInQueue": True}
    check_queued(queued_updates(csms))


@pytest.mark.requirements("E14.FR.06", "E14.FR.07")
def test_TC_E_33_CS_status_without_id_with_message_in_queue(csms: CsmsDouble, station_factory: StationFactory) -> None:
    offline_with_meter_values(csms, station_factory)
    reply = csms.call("GetTransactionStatus", {})
    assert reply.payload == {"messagesInQueue": True}
    check_queued(queued_updates(csms))


@pytest.mark.requirements("E11.FR.01", "E11.FR.02", "E11.FR.06")
def test_TC_E_40_CS_connection_loss_during_transaction(csms: CsmsDouble, station_factory: StationFactory) -> None:
    offline_with_meter_values(csms, station_factory)
    check_queued(queued_updates(csms))
