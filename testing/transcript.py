"""A readable transcript of the frames a station exchanged, for failure output and reports.

One line per frame: time offset from the first frame, an arrow (station -> CSMS or back), the message kind and
action (an answer is named after the CALL it answers), the message id and the payload, shortened. The frames that
show a violation are marked, so that a shrunk failure reads at a glance.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence

from chargecore.pure.ocppj.frames import Call, CallError, CallResult
from chargecore.testing.rules import Parsed, TappedFrameLike, parse

PAYLOAD_WIDTH = 96
"""Characters of payload shown per line: enough to see the field at fault in a shrunk example."""


def _shorten(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def _describe(item: Parsed) -> tuple[str, str]:
    """The kind-and-action label and the payload text of one frame."""
    frame = item.frame
    action = item.action or "?"
    if isinstance(frame, Call):
        return f"{frame.action} #{frame.message_id}", json.dumps(frame.payload, separators=(",", ":"))
    if isinstance(frame, CallResult):
        return f"{action}.result #{frame.message_id}", json.dumps(frame.payload, separators=(",", ":"))
    if isinstance(frame, CallError):
        return f"{action}.error #{frame.message_id}", f"{frame.code} {frame.description!r}"
    return "(not an OCPP-J frame)", repr(item.text)


def render(
    frames: Sequence[TappedFrameLike],
    marked: Collection[int] = (),
    *,
    first: int = 0,
    width: int = PAYLOAD_WIDTH,
    title: str = "",
) -> str:
    """The transcript from frame `first` on; frames whose index is in `marked` carry a "!!" in front. Earlier frames
    are read too, so that an answer shown is named after a CALL that is not."""
    shown = parse(frames)[first:]
    start = shown[0].at if shown else 0.0
    lines = [title] if title else []
    for item in shown:
        arrow = "CS -> CSMS" if item.direction == "sent" else "CS <- CSMS"
        label, payload = _describe(item)
        mark = "!!" if item.index in marked else "  "
        lines.append(f"{mark} {item.at - start:+8.3f}s  {arrow}  {label}  {_shorten(payload, width)}")
    return "\n".join(lines)
