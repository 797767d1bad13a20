"""The journal storage after power fails at any byte of a write: the station reloads exactly the batches that
were completely written, in order, and what it writes next survives too (E12: nothing acknowledged is lost).
The same cut after a clean stop is damage, not a crash: the same batches survive and the loss is counted."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from store_faults import written_then_crashed

from chargecore.shell.storage import StationStore

keys = st.sampled_from([f"tx_queue/{n:012d}" for n in range(6)] + ["rpc/epoch", "auth/cache/x"])
values = (
    st.none() | st.integers() | st.text(max_size=8) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
)
batches = st.lists(st.lists(st.tuples(keys, values), min_size=1, max_size=4), min_size=1, max_size=8)


def applied(batches_done: list[list[tuple[str, Any]]]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for batch in batches_done:
        for key, value in batch:
            if value is None:
                state.pop(key, None)
            else:
                state[key] = value
    return state


def cut_journal(data_dir: Path, cut: float) -> int:
    """Keep the first `cut` of the journal's bytes; returns how many batches are still complete."""
    journal = data_dir / "station.journal"
    raw = journal.read_bytes()
    keep = int(len(raw) * cut)
    journal.write_bytes(raw[:keep])  # the power failed here
    return raw[:keep].count(b"\n")


def restarted_then_written(data_dir: Path, after: list[tuple[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """What a restarted station loads, and its warnings; then it puts `after`, is stopped and started again."""
    restarted = StationStore(data_dir)
    loaded, warnings = restarted.load(), [line for level, line in restarted.notices if level == "warning"]
    restarted.put(after)
    restarted.close()
    return loaded, warnings


def reloaded(data_dir: Path) -> dict[str, Any]:
    store = StationStore(data_dir)
    store.close()
    return store.load()


@pytest.mark.requirements("E12.FR.01")
@settings(max_examples=150, deadline=None)
@given(written=batches, cut=st.floats(0, 1), after=st.lists(st.tuples(keys, values), min_size=1, max_size=3))
def test_a_crash_at_any_byte_keeps_exactly_the_complete_batches(
    written: list[list[tuple[str, Any]]], cut: float, after: list[tuple[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        written_then_crashed(data_dir, written)
        complete = cut_journal(data_dir, cut)
        loaded, warnings = restarted_then_written(data_dir, after)
        assert loaded == applied(written[:complete])
        assert warnings == [], "an interrupted write is no damage"
        assert reloaded(data_dir) == applied([*written[:complete], after])


@settings(max_examples=100, deadline=None)
@given(written=batches, cut=st.floats(0, 1), after=st.lists(st.tuples(keys, values), min_size=1, max_size=3))
def test_a_journal_cut_after_a_clean_stop_keeps_the_complete_batches_and_counts_the_rest(
    written: list[list[tuple[str, Any]]], cut: float, after: list[tuple[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        store = StationStore(data_dir)
        for batch in written:
            store.put(batch)
        store.close()
        complete = cut_journal(data_dir, cut)
        loaded, warnings = restarted_then_written(data_dir, after)
        assert loaded == applied(written[:complete])
        lost = len(written) - complete
        assert [f"{lost} of {len(written)} records lost" in line for line in warnings] == [True] * bool(lost)
        assert reloaded(data_dir) == applied([*written[:complete], after])
