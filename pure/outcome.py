"""What a block's handler decides about one CALL from the CSMS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chargecore.pure.effects import Ask, Effects, Question
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.state import PendingQuestion, Station


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


ADDITIONAL_INFO_LENGTH = 512
"""StatusInfoType.additionalInfo is string(512)."""


def status_info(reason_code: str, additional_info: str | None = None) -> dict[str, Any]:
    """A StatusInfoType: the reasonCode and, when there is one, the additionalInfo cut to its schema length."""
    info = {"reasonCode": reason_code}
    if additional_info:
        info["additionalInfo"] = additional_info[:ADDITIONAL_INFO_LENGTH]
    return info


def refusal(status: str, reason_code: str, additional_info: str | None = None) -> Reply:
    """A response that is not Accepted, with its statusInfo."""
    return Reply({"status": status, "statusInfo": status_info(reason_code, additional_info)})


def ask(station: Station, question: Question, call: Call | None = None) -> tuple[Station, Ask]:
    """Put a question to the application and remember it (and the CSMS call it defers, if any) until the
    `Answer` comes back."""
    question_id = station.next_question_id
    pending = (*station.questions, PendingQuestion(question_id, question, call))
    return station.with_changes(next_question_id=question_id + 1, questions=pending), Ask(question_id, question)
