"""Meter values (J01 clock-aligned, J02 sampled) driven through `step`."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from core_helpers import T0, Sim, answer_boot, booted, calls, make_station, persisted, warnings

from chargecore.pure.blocks.meter_values.meter_readings import KEPT_NAMESPACE
from chargecore.pure.inputs import MeterReading
from chargecore.pure.state import MeasuredValue, Metering, TxSampling
from chargecore.pure.station import next_deadline

SIGNATURE = {"signedMeterData": "c2lnbmVk", "signingMethod": "ECDSA", "encodingMethod": "OCMF", "publicKey": ""}
QUIET = {"AlignedDataCtrlr": {"Interval": 0}, "SampledDataCtrlr": {"TxUpdatedInterval": 0}}
"""Every periodic report off: tests switch on the one they look at."""


def config(**sections: dict[str, Any]) -> dict[str, dict[str, Any]]:
    merged = {name: dict(values) for name, values in QUIET.items()}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return merged


def sent(sim: Sim, action: str = "TransactionEvent") -> list[dict[str, Any]]:
    return [call.payload for call in calls(tuple(sim.log)) if call.action == action]


def charging(sim: Sim, energy_wh: float = 1000.0, power_w: float | None = 7000.0) -> None:
    """Meter read, plug, TOKEN1 accepted, power path closed: the transaction starts (TxStartPoint PowerPathClosed)."""
    sim.meter(energy_wh, power_w)
    charging_without_reading(sim)


def stored(sim: Sim, before: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a store holding `before` and then every Persist of `sim` contains (deleted keys gone)."""
    store = {**(before or {}), **persisted(tuple(sim.log))}
    return {key: value for key, value in store.items() if value is not None}


def samples(meter_value: dict[str, Any]) -> dict[str, Any]:
    return {sample["measurand"]: sample for sample in meter_value["sampledValue"]}


def run_until(sim: Sim, seconds: float) -> None:
    """Let time pass to T0 + `seconds`, the CSMS answering everything, as the shell ticks at each deadline."""
    while (deadline := next_deadline(sim.station)) is not None and deadline <= T0 + timedelta(seconds=seconds):
        sim.tick_deadline()
        sim.answer_all()


@pytest.mark.requirements("J02.FR.01", "J02.FR.10", "E01.FR.09")
def test_started_carries_the_started_measurands_the_hardware_reports() -> None:
    sampled = {"TxStartedMeasurands": "Energy.Active.Import.Register,Voltage,SoC"}
    sim = booted(config=config(SampledDataCtrlr=sampled))
    sim.feed(MeterReading(sim.now, 1, 1000.0, 7000.0, (MeasuredValue("Voltage", 230.0, phase="L1-N"),)))
    charging_without_reading(sim)
    [started] = sent(sim)
    [meter_value] = started["meterValue"]
    by_measurand = samples(meter_value)
    assert set(by_measurand) == {"Energy.Active.Import.Register", "Voltage"}, "SoC is not reported, Power not asked"
    assert by_measurand["Voltage"] == {
        "value": 230.0,
        "context": "Transaction.Begin",
        "measurand": "Voltage",
        "phase": "L1-N",
        "unitOfMeasure": {"unit": "V"},
    }
    assert by_measurand["Energy.Active.Import.Register"]["value"] == 1000.0


def charging_without_reading(sim: Sim) -> None:
    """Plug, TOKEN1 accepted, power path closed, with whatever reading the hardware has (or none)."""
    sim.plug()
    sim.answer_all()
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted"}})
    sim.power_path()
    sim.answer_all()


@pytest.mark.requirements("J02.FR.02", "J02.FR.11", "J02.FR.14")
def test_updated_every_tx_updated_interval_with_sample_periodic() -> None:
    sim = booted(config=config(SampledDataCtrlr={"TxUpdatedInterval": 10}))
    charging(sim)
    start = sim.now
    run_until(sim, 35)
    updates = [event for event in sent(sim) if event["eventType"] == "Updated"]
    assert [event["triggerReason"] for event in updates] == ["MeterValuePeriodic"] * 3
    stamps = [event["meterValue"][0]["timestamp"] for event in updates]
    assert len(set(stamps)) == 3
    assert [event["seqNo"] for event in updates] == [1, 2, 3]
    first = samples(updates[0]["meterValue"][0])
    assert set(first) == {"Energy.Active.Import.Register", "Power.Active.Import"}
    assert {sample["context"] for sample in first.values()} == {"Sample.Periodic"}
    assert first["Power.Active.Import"]["unitOfMeasure"] == {"unit": "W"}
    assert next_deadline(sim.station) == start + timedelta(seconds=40)


@pytest.mark.requirements("J02.FR.03", "J02.FR.04", "E06.FR.11")
def test_ended_carries_the_values_sampled_every_tx_ended_interval_and_the_end() -> None:
    sim = booted(config=config(SampledDataCtrlr={"TxEndedInterval": 10}))
    charging(sim)
    for seconds, energy in ((15, 1100.0), (25, 1200.0)):
        run_until(sim, seconds)
        sim.meter(energy, 7000.0)
    run_until(sim, 28)
    sim.plug(change="unplug")
    sim.answer_all()
    ended = sent(sim)[-1]
    assert ended["eventType"] == "Ended"
    contexts = [value["sampledValue"][0]["context"] for value in ended["meterValue"]]
    energies = [value["sampledValue"][0]["value"] for value in ended["meterValue"]]
    assert contexts == ["Sample.Periodic", "Sample.Periodic", "Transaction.End"]
    assert energies == [1000.0, 1100.0, 1200.0]
    assert sim.station.metering.sampling == (), "nothing is kept after the Ended event"


def test_the_kept_values_survive_a_power_loss_into_the_ended_event() -> None:
    """The TxEnded samples are persisted as they are taken: the PowerLoss Ended event after a restart carries
    them, and the Ended event deletes them from storage."""
    settings = config(SampledDataCtrlr={"TxEndedInterval": 10})
    sim = booted(config=settings)
    charging(sim)
    for seconds, energy in ((15, 1100.0), (25, 1200.0)):
        run_until(sim, seconds)
        sim.meter(energy, 7000.0)
    run_until(sim, 28)
    store = stored(sim)
    assert [key for key in store if key.startswith(KEPT_NAMESPACE)] != [], "kept values are on disk"

    restarted = Sim(make_station(config=settings, stored=store))
    restarted.now = sim.now
    restarted.power_up()
    restarted.connect()
    answer_boot(restarted, at_s=30)
    restarted.answer_all()
    [ended] = [event for event in sent(restarted) if event["eventType"] == "Ended"]
    assert ended["transactionInfo"]["stoppedReason"] == "PowerLoss"
    contexts = [value["sampledValue"][0]["context"] for value in ended["meterValue"]]
    energies = [value["sampledValue"][0]["value"] for value in ended["meterValue"]][:2]
    assert contexts[:2] == ["Sample.Periodic", "Sample.Periodic"] and energies == [1000.0, 1100.0]
    assert not [key for key in stored(restarted, store) if key.startswith(KEPT_NAMESPACE)], "deleted with Ended"


@pytest.mark.requirements("J01.FR.01", "J01.FR.14")
def test_clock_aligned_meter_values_for_an_idle_evse_fall_on_the_station_clock() -> None:
    sim = booted(config=config(AlignedDataCtrlr={"Interval": 60}))
    sim.meter(500.0)
    run_until(sim, 200)
    reports = sent(sim, "MeterValues")
    assert len(reports) >= 3
    stamps = [report["meterValue"][0]["timestamp"] for report in reports]
    assert all(stamp.endswith(":00.000Z") for stamp in stamps), stamps  # CSMS clock is 2030-01-01T00:00:00
    assert reports[0] == {
        "evseId": 1,
        "meterValue": [
            {
                "timestamp": stamps[0],
                "sampledValue": [
                    {"value": 500.0, "context": "Sample.Clock", "measurand": "Energy.Active.Import.Register"}
                ],
            }
        ],
    }


@pytest.mark.requirements("J01.FR.06", "J01.FR.07")
def test_clock_aligned_values_during_a_transaction_go_in_updated_events() -> None:
    sim = booted(config=config(AlignedDataCtrlr={"Interval": 60}))
    charging(sim)
    run_until(sim, 200)
    clock = [event for event in sent(sim) if event["triggerReason"] == "MeterValueClock"]
    assert len(clock) >= 2 and sent(sim, "MeterValues") == []
    assert {sample["context"] for event in clock for sample in event["meterValue"][0]["sampledValue"]} == {
        "Sample.Clock"
    }


def test_send_during_idle_stops_clock_aligned_values_while_a_transaction_runs() -> None:
    sim = booted(config=config(AlignedDataCtrlr={"Interval": 60, "SendDuringIdle": True}))
    charging(sim)
    run_until(sim, 200)
    assert sent(sim, "MeterValues") == []
    assert [event["eventType"] for event in sent(sim)] == ["Started"]


@pytest.mark.requirements("J01.FR.03")
def test_ended_carries_clock_aligned_tx_ended_values() -> None:
    sim = booted(config=config(AlignedDataCtrlr={"TxEndedInterval": 30}))
    charging(sim)
    run_until(sim, 100)
    sim.plug(change="unplug")
    sim.answer_all()
    ended = sent(sim)[-1]
    contexts = [value["sampledValue"][0]["context"] for value in ended["meterValue"]]
    assert contexts[-1] == "Transaction.End" and set(contexts[:-1]) == {"Sample.Clock"} and len(contexts) >= 3
    assert all(value["timestamp"][17:19] in ("00", "30") for value in ended["meterValue"][:-1])


def stamps_of(meter_values: list[dict[str, Any]]) -> list[datetime]:
    return [datetime.fromisoformat(value["timestamp"].replace("Z", "+00:00")) for value in meter_values]


def gaps(meter_values: list[dict[str, Any]]) -> list[float]:
    """Seconds between consecutive meterValue timestamps."""
    return [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(stamps_of(meter_values))]


def next_slot(sim: Sim) -> None:
    """Let time run to the next timer (a clock slot here), the CSMS answering everything."""
    sim.tick_deadline()
    sim.answer_all()


@pytest.mark.requirements("J01.FR.01", "J01.FR.14")
@pytest.mark.parametrize("corrections", [(-0.3,), (-0.3, -0.3, -0.3), (0.4, -0.7), (-0.2, 0.5, -0.9, 0.3)])
def test_clock_corrections_between_slots_never_send_a_slot_twice(corrections: tuple[float, ...]) -> None:
    """The CSMS corrects the clock by fractions of a second right after each slot and again half-way to the next
    one: every slot still goes out once, one Interval after the one before."""
    sim = booted(config=config(AlignedDataCtrlr={"Interval": 60}))
    sim.meter(500.0)
    for _ in range(4):
        next_slot(sim)
        for correction in corrections:
            sim.correct_clock(correction)
        run_until(sim, (sim.now - T0).total_seconds() + 30)
        sim.correct_clock(corrections[0])
    next_slot(sim)
    reports = [report["meterValue"][0] for report in sent(sim, "MeterValues")]
    assert len(reports) == 5 and gaps(reports) == [60.0] * 4, stamps_of(reports)


@pytest.mark.requirements("J01.FR.01", "J01.FR.06")
def test_a_clock_moved_back_in_a_transaction_never_sends_a_meter_value_clock_event_twice() -> None:
    sim = booted(config=config(AlignedDataCtrlr={"Interval": 60}))
    charging(sim)
    for _ in range(3):
        next_slot(sim)
        sim.correct_clock(-0.5)
    next_slot(sim)
    clock = [event["meterValue"][0] for event in sent(sim) if event["triggerReason"] == "MeterValueClock"]
    assert len(clock) == 4 and gaps(clock) == [60.0] * 3, stamps_of(clock)


@pytest.mark.requirements("J01.FR.01")
def test_a_correction_that_jumps_over_slots_sends_only_the_slot_now_due() -> None:
    """Forward by 150 s: the clock passed two boundaries at once; the slot it is in goes out at once, then the
    slots follow one Interval apart again."""
    sim = booted(config=config(AlignedDataCtrlr={"Interval": 60}))
    sim.meter(500.0)
    next_slot(sim)
    sim.correct_clock(150)
    assert next_deadline(sim.station) <= sim.now, "the slot the clock jumped into is due now"
    sim.tick()
    sim.answer_all()
    next_slot(sim)
    reports = [report["meterValue"][0] for report in sent(sim, "MeterValues")]
    assert gaps(reports) == [120.0, 60.0], stamps_of(reports)


@pytest.mark.requirements("J01.FR.03")
def test_ended_clock_values_stay_one_tx_ended_interval_apart_while_the_clock_is_corrected() -> None:
    sim = booted(config=config(AlignedDataCtrlr={"TxEndedInterval": 30}))
    charging(sim)
    for correction in (-0.4, 0.3, -0.8, -0.1):
        next_slot(sim)
        sim.correct_clock(correction)
    sim.plug(change="unplug")
    sim.answer_all()
    ended = sent(sim)[-1]
    clock = [value for value in ended["meterValue"] if value["sampledValue"][0]["context"] == "Sample.Clock"]
    assert len(clock) == 4 and gaps(clock) == [30.0] * 3, stamps_of(clock)


@pytest.mark.requirements("J02.FR.21", "J01.FR.21")
def test_signed_values_pass_through_only_when_sign_readings_is_on() -> None:
    energy = (MeasuredValue("Energy.Active.Import.Register", 1000.0, signed=SIGNATURE),)
    for sign, expected in ((True, SIGNATURE), (False, None)):
        sim = booted(config=config(SampledDataCtrlr={"SignReadings": sign}))
        sim.feed(MeterReading(sim.now, 1, 1000.0, None, energy))
        charging_without_reading(sim)
        [started] = sent(sim)
        [sample] = started["meterValue"][0]["sampledValue"]
        assert sample.get("signedMeterValue") == expected


KEYED = {**SIGNATURE, "publicKey": "bWV0ZXIga2V5"}
"""A signature from a meter that knows its public key."""


def public_keys(payloads: list[dict[str, Any]]) -> list[str]:
    """The publicKey of every signed value in these messages, in the order they went out."""
    return [
        sample["signedMeterValue"]["publicKey"]
        for payload in payloads
        for value in payload.get("meterValue", [])
        for sample in value["sampledValue"]
        if "signedMeterValue" in sample
    ]


@pytest.mark.requirements("J02.FR.21")
@pytest.mark.parametrize(
    ("policy", "in_transaction", "idle"),
    [
        ("Never", ["", "", "", "", "", ""], [""]),
        ("EveryMeterValue", ["bWV0ZXIga2V5"] * 6, ["bWV0ZXIga2V5"]),
        ("OncePerTransaction", ["bWV0ZXIga2V5", "", "", "", "", ""], ["bWV0ZXIga2V5"]),
    ],
)
def test_the_public_key_goes_with_signed_values_as_public_key_with_signed_meter_value_says(
    policy: str, in_transaction: list[str], idle: list[str]
) -> None:
    """TC_J_11: the key comes from the meter; OCPPCommCtrlr.PublicKeyWithSignedMeterValue decides where it goes
    (Never: publicKey ""). Started, two periodic Updated events, an Ended event with two kept values and the
    Transaction.End value; then a clock-aligned MeterValues of the idle EVSE (no transaction: the key goes)."""
    settings = config(
        SampledDataCtrlr={"SignReadings": True, "TxUpdatedInterval": 10, "TxEndedInterval": 10},
        AlignedDataCtrlr={"SignReadings": True},
        OCPPCommCtrlr={"PublicKeyWithSignedMeterValue": policy},
    )
    sim = booted(config=settings)
    sim.feed(
        MeterReading(sim.now, 1, 1000.0, None, (MeasuredValue("Energy.Active.Import.Register", 1000.0, signed=KEYED),))
    )
    charging_without_reading(sim)
    run_until(sim, sim.now.timestamp() - T0.timestamp() + 25)
    sim.plug(change="unplug")
    sim.answer_all()
    events = sent(sim)
    assert [event["eventType"] for event in events] == ["Started", "Updated", "Updated", "Ended"]
    assert public_keys(events) == in_transaction
    sim.change_variable("AlignedDataCtrlr", "Interval", "60")
    run_until(sim, sim.now.timestamp() - T0.timestamp() + 60)
    assert public_keys(sent(sim, "MeterValues")) == idle


def test_an_incomplete_signature_is_dropped_with_a_warning() -> None:
    sim = booted(config=config(SampledDataCtrlr={"SignReadings": True}))
    broken = (MeasuredValue("Energy.Active.Import.Register", 1000.0, signed={"signedMeterData": "x"}),)
    effects = sim.feed(MeterReading(sim.now, 1, 1000.0, None, broken))
    assert warnings(effects) == ["EVSE 1: incomplete signature of Energy.Active.Import.Register dropped"]
    charging_without_reading(sim)
    [started] = sent(sim)
    assert "signedMeterValue" not in started["meterValue"][0]["sampledValue"][0]


def test_no_reading_no_meter_value_and_no_clock_timer() -> None:
    sim = booted(config=config(AlignedDataCtrlr={"Interval": 60}))
    charging_without_reading(sim)
    [started] = sent(sim)
    assert "meterValue" not in started
    run_until(sim, 300)
    assert sent(sim, "MeterValues") == [] and len(sent(sim)) == 1


def test_sampling_of_a_transaction_that_is_gone_is_dropped_not_fired_forever() -> None:
    sim = booted(config=config(SampledDataCtrlr={"TxUpdatedInterval": 10}))
    gone = TxSampling("never-ended", T0, T0, T0)
    sim.station = replace(sim.station, metering=Metering(None, (gone,)))
    sim.tick_deadline()
    assert sim.station.metering.sampling == () and sent(sim) == []


def test_register_values_without_phases_leaves_out_the_phase_values_of_the_energy_register() -> None:
    phases = tuple(MeasuredValue("Energy.Active.Import.Register", 300.0 + n, phase=f"L{n}") for n in (1, 2, 3))
    for total_only, expected in ((True, [None]), (False, [None, "L1", "L2", "L3"])):
        sim = booted(config=config(SampledDataCtrlr={"RegisterValuesWithoutPhases": total_only}))
        sim.feed(MeterReading(sim.now, 1, 906.0, None, phases))
        charging_without_reading(sim)
        [started] = sent(sim)
        assert [sample.get("phase") for sample in started["meterValue"][0]["sampledValue"]] == expected


@pytest.mark.parametrize(
    ("energy_wh", "power_w", "measured"),
    [
        (float("nan"), 7000.0, ()),
        (float("inf"), None, ()),
        (1500.0, float("-inf"), ()),
        (1500.0, 7000.0, (MeasuredValue("Voltage", float("nan"), phase="L1-N"),)),
    ],
)
def test_a_reading_that_is_not_a_finite_number_is_refused_and_the_transaction_ends_normally(
    energy_wh: float, power_w: float | None, measured: tuple[MeasuredValue, ...]
) -> None:
    """One NaN once made every later TransactionEvent of the transaction, Ended included, an internal error."""
    sampled = {"TxEndedMeasurands": "Energy.Active.Import.Register,Voltage", "TxUpdatedInterval": 60}
    sim = booted(config=config(SampledDataCtrlr=sampled))
    charging(sim, 1000.0, 7000.0)
    before = sim.station
    effects = sim.feed(MeterReading(sim.now, 1, energy_wh, power_w, measured))
    assert sim.station == before, "the reading is refused whole: the previous one stays"
    (warning,) = warnings(effects)
    assert "EVSE 1" in warning and "finite" in warning
    sim.tick(60)  # a periodic Updated event still goes out
    sim.answer_all()
    sim.present_token()  # the same token ends the transaction
    sim.answer_all()
    sim.plug(change="unplug")
    sim.answer_all()
    ended = [payload for payload in sent(sim) if payload["eventType"] == "Ended"]
    assert len(ended) == 1
    end_values = [s for m in ended[0]["meterValue"] for s in m["sampledValue"] if s["context"] == "Transaction.End"]
    assert [s["value"] for s in end_values] == [1000.0]
