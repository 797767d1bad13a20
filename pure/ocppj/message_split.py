"""Split a long list of items over several messages (NotifyReport, NotifyMonitoringReport,
ReportChargingProfiles...), honouring an items-per-message and a bytes-per-message limit; and refuse a CSMS
request over such limits.

A message's size is measured as its whole OCPP-J CALL frame with the longest message id this station uses
(36 characters) and `tbc` at its longer value, so a message never exceeds `bytes_per_message` whatever id and
flag it finally gets. Items are packed greedily in order; each item is encoded once to measure it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from returns.result import Failure, Result, Success

from chargecore.pure.ocppj.frames import (
    MAX_MESSAGE_ID_LENGTH,
    Call,
    CallError,
    compact_json,
    encode_frame,
    encoded_length_at_most,
)

Item = TypeVar("Item")

PayloadOf = Callable[[Sequence[Any], int, bool], dict[str, Any]]
"""(items of one message, seqNo, tbc) -> the message payload; the items must appear in it as one JSON array."""


def frame_size(action: str, payload: dict[str, Any]) -> int:
    """Bytes of the CALL frame carrying this payload, with a message id of the maximum length."""
    return len(encode_frame(Call("x" * MAX_MESSAGE_ID_LENGTH, action, payload)))


def split(
    action: str,
    items: Sequence[Item],
    payload_of: PayloadOf,
    items_per_message: int | None,
    bytes_per_message: int | None,
) -> Result[tuple[dict[str, Any], ...], str]:
    """The payloads of the messages carrying `items` in order (seqNo from 0, tbc true on all but the last).

    Fails when a single item does not fit in `bytes_per_message` on its own. No items gives one message
    with an empty list, so the caller can decide whether to send it.
    """
    per_message = items_per_message if items_per_message and items_per_message > 0 else max(len(items), 1)
    chunks: list[list[Item]] = [[]]
    empty = frame_size(action, payload_of([], 0, False))  # "false" is longer than "true"
    used = 0
    for item in items:
        item_bytes = len(compact_json(item))
        if chunks[-1] and (len(chunks[-1]) >= per_message or _over(empty, used + 1 + item_bytes, bytes_per_message)):
            chunks.append([])
            empty, used = frame_size(action, payload_of([], len(chunks) - 1, False)), 0
        if not chunks[-1] and _over(empty, item_bytes, bytes_per_message):
            return Failure(f"an item of {item_bytes} bytes does not fit in a {action} of {bytes_per_message} bytes")
        used += item_bytes + (1 if chunks[-1] else 0)  # a comma before every item but the first
        chunks[-1].append(item)
    last = len(chunks) - 1
    return Success(tuple(payload_of(chunk, seq_no, seq_no < last) for seq_no, chunk in enumerate(chunks)))


def _over(empty: int, used: int, limit: int | None) -> bool:
    return limit is not None and empty + used > limit


def oversize(call: Call, instance: str, items: int, most_items: int | None, most_bytes: int | None) -> CallError | None:
    """The CALLERROR for a request carrying more than `most_items` items (OccurrenceConstraintViolation) or a
    frame longer than `most_bytes` (FormatViolation), as B06.FR.16/17 and their twins ask; None means no limit.
    `instance` names the ItemsPerMessage/BytesPerMessage instance the limits come from."""
    if most_items is not None and items > most_items:
        problem = f"{items} items, more than ItemsPerMessage[{instance}] {most_items}"
        return CallError(call.message_id, "OccurrenceConstraintViolation", problem)
    bound = encoded_length_at_most(call)
    if most_bytes is not None and (bound is None or bound > most_bytes):  # else it fits: skip encoding (~10 us)
        size = len(encode_frame(call))  # ASCII only: characters are bytes
        if size > most_bytes:
            return CallError(
                call.message_id, "FormatViolation", f"{size} bytes, more than BytesPerMessage[{instance}] {most_bytes}"
            )
    return None
