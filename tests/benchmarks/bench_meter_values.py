"""Cost of meter values through the pure core: one periodic sample (MeterReading, then the Tick the shell feeds at
`next_deadline`, which sends an Updated event with TxUpdatedMeasurands and keeps a TxEnded value, and the CSMS's
answer), and of `next_deadline` itself, which the shell asks after every input.

    python tests/benchmarks/bench_meter_values.py [--samples N]

A transaction runs with TxUpdatedInterval = TxEndedInterval = 1 s and AlignedDataCtrlr.Interval = 1 s, the meter
reporting energy and power plus three per-phase voltages. This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import time

from bench_transactions import TOKEN, booted

from chargecore.pure.inputs import ConnectorChanged, MeterReading, Tick, TokenPresented
from chargecore.pure.state import MeasuredValue
from chargecore.pure.station import next_deadline

CONFIG = {
    "SampledDataCtrlr": {
        "TxUpdatedInterval": 1,
        "TxEndedInterval": 1,
        "TxUpdatedMeasurands": "Voltage,Power.Active.Import",
    },
    "AlignedDataCtrlr": {"Interval": 1},
}
VOLTAGES = tuple(MeasuredValue("Voltage", 230.0, phase=phase) for phase in ("L1-N", "L2-N", "L3-N"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    args = parser.parse_args()
    driver = booted(CONFIG)
    driver.feed(ConnectorChanged(driver.now, 1, 1, "plug"))
    driver.feed(TokenPresented(driver.now, TOKEN, 1))
    assert driver.station.running_transactions
    lookups = 0.0
    start = time.perf_counter()
    for sample in range(args.samples):
        driver.feed(MeterReading(driver.now, 1, 1000.0 + sample, 7000.0, VOLTAGES))
        before = time.perf_counter()
        deadline = next_deadline(driver.station)
        lookups += time.perf_counter() - before
        assert deadline is not None
        driver.now = deadline
        driver.feed(Tick(deadline))
    elapsed = time.perf_counter() - start
    kept = len(driver.station.metering.sampling[0].kept)
    print(f"{elapsed / args.samples * 1e6:8.1f} µs per periodic sample (reading + tick + events + answers)")
    print(f"{lookups / args.samples * 1e6:8.1f} µs per next_deadline with meter timers running ({kept} values kept)")


if __name__ == "__main__":
    main()
