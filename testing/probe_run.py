"""Run the CSMS probe from code (and `chargecore probe-csms`): the state machine against a URL, as a result.

Hypothesis runs `examples` examples of the model (testing/csms_prober.py); on the first violation it shrinks the
steps to a minimal sequence and the result carries that example's violations and transcript.
"""

from __future__ import annotations

import time
from dataclasses import replace

from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Flaky
from hypothesis.stateful import run_state_machine_as_test

from chargecore.testing.csms_prober import ProbeFailure, ProbeLog, ProbeSettings, probe_machine
from chargecore.testing.probe_report import ProbeResult

STEPS_PER_EXAMPLE = 8
"""Steps in one example: enough for a session with an offline period, few enough to shrink fast."""


def run_probe(probe: ProbeSettings, *, examples: int = 100, seed: int | None = None) -> ProbeResult:
    """Probe `probe.url` with `examples` examples; never raises for what the CSMS does."""
    log = ProbeLog()
    machine = probe_machine(probe, log)
    if seed is not None:
        machine = hypothesis_seed(seed)(machine)
    run_settings = settings(
        max_examples=examples,
        stateful_step_count=STEPS_PER_EXAMPLE,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )
    start = time.monotonic()
    error = None
    try:
        run_state_machine_as_test(machine, settings=run_settings)
    except ProbeFailure:
        pass
    except Flaky as flaky:  # the CSMS failed once but not on replay: still a finding, with the first transcript
        error = f"the failure did not reproduce on replay: {flaky}"
    except (OSError, TimeoutError, RuntimeError) as trouble:
        error = f"{type(trouble).__name__}: {trouble}"
    seconds = time.monotonic() - start
    result = ProbeResult(probe.url, probe.stations, log.examples, seed, seconds, log.frames, error=error)
    if log.failures:
        last = log.failures[-1]
        result = replace(result, violations=last.violations, transcript=last.transcript, error=None)
    return result
