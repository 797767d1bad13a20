"""The journal storage after power fails at any byte of a write: the station reloads exactly the batches that
were completely written, in order, and what it writes next survives too (E12: nothing acknowledged is lost)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


@pytest.mark.requirements("E12.FR.01")
@settings(max_examples=150, deadline=None)
@given(written=batches, cut=st.floats(0, 1), after=st.lists(st.tuples(keys, values), min_size=1, max_size=3))
def test_a_crash_at_any_byte_keeps_exactly_the_complete_batches(
    written: list[list[tuple[str, Any]]], cut: float, after: list[tuple[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        data_dir = Path(scratch)
        store = StationStore(data_dir)
        ends = []
        journal = data_dir / "station.journal"
        for batch in written:
            store.put(batch)
            ends.append(journal.stat().st_size)
        store.close()
        raw = journal.read_bytes()
        keep = int(len(raw) * cut)
        journal.write_bytes(raw[:keep])  # the power failed here

        complete = sum(1 for end in ends if end <= keep)
        restarted = StationStore(data_dir)
        assert restarted.load() == applied(written[:complete])
        restarted.put(after)
        restarted.close()
        assert StationStore(data_dir).load() == applied([*written[:complete], after])
