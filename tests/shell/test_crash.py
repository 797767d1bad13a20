"""A short run of the crash test (tests/benchmarks/crash_test.py): the station subprocess is killed with SIGKILL at
random moments of online and offline transactions and restarted on the same data dir; every TransactionEvent the
embedded CSMS received is checked for losses, duplicates and gaps. The full run (200 kills) is the benchmark.
The random kill moment counts from each life's BootNotification, so a slow start under load cannot leave the
station without a transaction to lose."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).parents[1] / "benchmarks" / "crash_test.py"


def _crash_test_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_test", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_test"] = module  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.mark.requirements("E11.FR.01", "E11.FR.02", "E12.FR.01", "E12.FR.02")
def test_kill_9_at_random_moments_loses_and_duplicates_no_transaction_event(tmp_path: Path) -> None:
    crash = _crash_test_module()
    tally = crash.crash_test(runs=5, seed=11, data_dir=tmp_path, say=lambda _line: None)
    transactions = {key[0] for key in tally.received}
    assert len(transactions) >= 5, "the station did not get to charge"
    assert tally.lost == [] and tally.duplicated == [] and tally.inconsistent == []
