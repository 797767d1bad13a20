"""What a block's handler decides about one CALL from the CSMS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chargecore.pure.effects import Effects, Question
from chargecore.pure.frames import CallError
from chargecore.pure.state import Station


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer now with this response payload (validated against the schema before it is sent)."""

    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Defer:
    """Answer once the application has answered this question."""

    question: Question


Decision = Reply | Defer | CallError
Handled = tuple[Station, Decision, Effects]
"""The new state, the decision, and effects to run after the reply has been sent."""
