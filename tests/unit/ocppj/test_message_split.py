"""Splitting item lists over messages by ItemsPerMessage and BytesPerMessage (B07/B08, N02, K09)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chargecore.pure.ocppj.message_split import frame_size, split


def _report(items: Sequence[Any], seq_no: int, tbc: bool) -> dict[str, Any]:
    return {
        "requestId": 7,
        "generatedAt": "2026-11-25T00:00:00Z",
        "seqNo": seq_no,
        "tbc": tbc,
        "reportData": list(items),
    }


_ITEMS = st.lists(st.fixed_dictionaries({"name": st.text(max_size=40), "value": st.integers()}), max_size=40)


@given(_ITEMS, st.integers(1, 12), st.integers(200, 2000))
def test_every_item_once_in_order_and_no_message_over_a_limit(items, per_message, max_bytes):
    result = split("NotifyReport", items, _report, per_message, max_bytes)
    fits_alone = all(frame_size("NotifyReport", _report([item], 0, False)) <= max_bytes for item in items)
    if not fits_alone:
        assert "does not fit" in result.failure()
        return
    payloads = result.unwrap()
    assert [item for payload in payloads for item in payload["reportData"]] == items
    assert [payload["seqNo"] for payload in payloads] == list(range(len(payloads)))
    assert [payload["tbc"] for payload in payloads] == [True] * (len(payloads) - 1) + [False]
    for payload in payloads:
        assert len(payload["reportData"]) <= per_message
        assert frame_size("NotifyReport", payload) <= max_bytes


def test_no_limits_gives_one_message():
    items = [{"n": n} for n in range(500)]
    (payload,) = split("NotifyReport", items, _report, None, None).unwrap()
    assert payload["reportData"] == items and payload["tbc"] is False


def test_items_per_message_alone_splits_evenly():
    payloads = split("NotifyReport", [{"n": n} for n in range(10)], _report, 4, None).unwrap()
    assert [len(payload["reportData"]) for payload in payloads] == [4, 4, 2]


def test_greedy_packing_uses_the_byte_budget():
    items = [{"n": n} for n in range(30)]
    limit = frame_size("NotifyReport", _report(items[:10], 0, False))
    payloads = split("NotifyReport", items, _report, None, limit).unwrap()
    assert len(payloads[0]["reportData"]) >= 9  # seqNo growing from 0 to 1 digit costs nothing here
