"""The OCPP rules the kit checks on a CSMS's side, as pure functions over the frames one station saw.

Each rule reads the tap of one station (frames both ways, in order, with a monotonic time) and a `ProbeContext`
(what the prober did that the frames alone do not say: the garbage it injected, when it cut the connection, the
MessageTimeout) and returns the violations it finds. Pure, so that each rule is unit-tested on hand-made
transcripts, good and bad, without a CSMS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from returns.result import Failure, Success

from chargecore.pure.ocppj.frames import UNREADABLE_MESSAGE_ID, Call, CallError, CallResult, Frame, parse_frame
from chargecore.pure.ocppj.schemas import validate
from chargecore.testing.part4 import ERROR_CODES


class TappedFrameLike(Protocol):
    """What a rule reads of a tapped frame (testing/frame_tap.py TappedFrame): "sent" is station -> CSMS."""

    @property
    def direction(self) -> Literal["sent", "received"]: ...
    @property
    def text(self) -> str: ...
    @property
    def at(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Injection:
    """A frame the prober sent raw (near-valid or broken) and the CALLERROR code Part 4 says must answer it;
    `expected` None when no answer is due. `message_id` None when the frame's id cannot be read (answered "-1")."""

    text: str
    message_id: str | None
    expected: str | None
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class ProbeContext:
    message_timeout: float = 30.0
    """OCPPCommCtrlr.MessageTimeout of the station, seconds: how long the CSMS has to answer (Part 4 4.1.1)."""
    now: float | None = None
    """When the check runs; a CALL younger than the timeout is not yet late. None: nothing is late yet."""
    injections: tuple[Injection, ...] = ()
    breaks: tuple[float, ...] = ()
    """Times the prober cut the connection (offline, reboot): a CALL outstanding then cannot be answered."""


@dataclass(frozen=True, slots=True)
class Violation:
    rule_id: str
    message: str
    frames: tuple[int, ...] = ()
    """Indexes in the transcript of the frames that show the fault."""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    requirements: tuple[str, ...]
    description: str
    check: Callable[[Sequence[Parsed], ProbeContext], Iterator[Violation]] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Parsed:
    """One tapped frame, parsed once for all rules; `frame` None when the text is no OCPP-J frame."""

    index: int
    direction: Literal["sent", "received"]
    text: str
    at: float
    frame: Frame | None
    action: str | None
    """The CALL's action, also for the CALLRESULT / CALLERROR that answers it."""


"""Part 4 section 4.3, Table 8: the only error codes a CALLERROR may carry."""

PENDING_ALLOWED: Final = frozenset(
    {"GetVariables", "SetVariables", "GetBaseReport", "GetReport", "TriggerMessage", "SetNetworkProfile"}
)
"""B02 (Pending): the CSMS may retrieve information and change configuration (B02.FR.01: the station answers
GetVariables, SetVariables, TriggerMessage; GetBaseReport/GetReport feed B02.FR.02's triggered reports); a
transaction request while Pending is answered Rejected (B02.FR.05), so the CSMS has no business sending one."""

MAX_INTERVAL: Final = 86400
"""The kit's bound for a sane BootNotification interval: a day between heartbeats or boot retries at most."""


def parse(frames: Sequence[TappedFrameLike]) -> list[Parsed]:
    """Parse every frame and give each answer the action of the CALL it answers (per direction of the CALL)."""
    actions: dict[tuple[str, str], str] = {}
    parsed = []
    for index, tapped in enumerate(frames):
        result = parse_frame(tapped.text)
        frame = result.unwrap() if isinstance(result, Success) else None
        action = None
        if isinstance(frame, Call):
            actions[(tapped.direction, frame.message_id)] = frame.action
            action = frame.action
        elif frame is not None:
            caller = "received" if tapped.direction == "sent" else "sent"
            action = actions.get((caller, frame.message_id))
        parsed.append(Parsed(index, tapped.direction, tapped.text, tapped.at, frame, action))
    return parsed


def _calls(frames: Sequence[Parsed], direction: str) -> Iterator[tuple[Parsed, Call]]:
    for item in frames:
        if item.direction == direction and isinstance(item.frame, Call):
            yield item, item.frame


def _answer(frames: Sequence[Parsed], call: Parsed, direction: str) -> Parsed | None:
    """The first answer travelling `direction` to `call` (same message id, later)."""
    assert isinstance(call.frame, Call)
    for item in frames[call.index + 1 :]:
        if (
            item.direction == direction
            and isinstance(item.frame, CallResult | CallError)
            and item.frame.message_id == call.frame.message_id
        ):
            return item
    return None


def _short(text: str, most: int = 80) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def _rfc3339(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None


def check_rpc_frame(frames: Sequence[Parsed], _context: ProbeContext) -> Iterator[Violation]:
    for item in frames:
        if item.direction == "received" and item.frame is None:
            yield Violation(
                "rpc-frame", f"the CSMS sent a text that is no OCPP-J frame: {_short(item.text)}", (item.index,)
            )


def check_answer_schema(frames: Sequence[Parsed], _context: ProbeContext) -> Iterator[Violation]:
    for item in frames:
        if item.direction != "received" or not isinstance(item.frame, CallResult) or item.action is None:
            continue
        outcome = validate(item.action, "Response", item.frame.payload)
        if isinstance(outcome, Failure):
            problem = outcome.failure()
            yield Violation(
                "answer-schema",
                f"{item.action}Response fails its schema ({problem.code}): {problem.description}",
                (item.index,),
            )


def _cut_before(context: ProbeContext, start: float, end: float) -> bool:
    return any(start <= moment <= end for moment in context.breaks)


def check_answer_in_time(frames: Sequence[Parsed], context: ProbeContext) -> Iterator[Violation]:
    for item, call in _calls(frames, "sent"):
        answer = _answer(frames, item, "received")
        deadline = item.at + context.message_timeout
        if answer is not None:
            if answer.at > deadline and not _cut_before(context, item.at, answer.at):
                late = answer.at - item.at
                yield Violation(
                    "answer-in-time",
                    f"{call.action} answered after {late:.1f} s, MessageTimeout is {context.message_timeout:g} s",
                    (item.index, answer.index),
                )
            continue
        if context.now is not None and context.now > deadline and not _cut_before(context, item.at, deadline):
            yield Violation(
                "answer-in-time",
                f"{call.action} got no answer within MessageTimeout ({context.message_timeout:g} s)",
                (item.index,),
            )


def check_boot_answer(frames: Sequence[Parsed], _context: ProbeContext) -> Iterator[Violation]:
    for item in frames:
        if item.direction != "received" or item.action != "BootNotification" or not isinstance(item.frame, CallResult):
            continue
        payload = item.frame.payload
        interval = payload.get("interval")
        if type(interval) is not int or not 0 <= interval <= MAX_INTERVAL:
            yield Violation(
                "boot-answer",
                f"BootNotificationResponse interval {interval!r} is not an integer of 0..{MAX_INTERVAL} seconds",
                (item.index,),
            )
        current_time = payload.get("currentTime")
        if not _rfc3339(current_time):
            yield Violation(
                "boot-answer",
                f"BootNotificationResponse currentTime {current_time!r} is not an RFC 3339 time with an offset",
                (item.index,),
            )


def check_transaction_token(frames: Sequence[Parsed], _context: ProbeContext) -> Iterator[Violation]:
    for item, call in _calls(frames, "sent"):
        if call.action != "TransactionEvent" or "idToken" not in call.payload:
            continue
        answer = _answer(frames, item, "received")
        if answer is not None and isinstance(answer.frame, CallResult) and "idTokenInfo" not in answer.frame.payload:
            yield Violation(
                "transaction-token",
                f"TransactionEvent ({call.payload.get('eventType')}) carried idToken but its answer has no idTokenInfo",
                (item.index, answer.index),
            )


def check_calls_before_accepted(frames: Sequence[Parsed], _context: ProbeContext) -> Iterator[Violation]:
    status = "Unknown"
    for item in frames:
        if item.direction == "received" and item.action == "BootNotification" and isinstance(item.frame, CallResult):
            status = str(item.frame.payload.get("status", status))
        elif item.direction == "received" and isinstance(item.frame, Call) and status != "Accepted":
            action = item.frame.action
            if status == "Pending" and action in PENDING_ALLOWED:
                continue
            allowed = "only " + ", ".join(sorted(PENDING_ALLOWED)) + " are" if status == "Pending" else "no CALL is"
            when = {"Pending": "Pending", "Rejected": "Rejected"}.get(status, "not yet answered")
            yield Violation(
                "calls-before-accepted",
                f"the CSMS sent {action} while the boot is {when}; {allowed} allowed",
                (item.index,),
            )


def check_error_codes(frames: Sequence[Parsed], _context: ProbeContext) -> Iterator[Violation]:
    for item in frames:
        if item.direction == "received" and isinstance(item.frame, CallError) and item.frame.code not in ERROR_CODES:
            yield Violation(
                "error-code", f"CALLERROR code {item.frame.code!r} is not one of Part 4 Table 8", (item.index,)
            )


def check_csms_call_schema(frames: Sequence[Parsed], _context: ProbeContext) -> Iterator[Violation]:
    for item, call in _calls(frames, "received"):
        outcome = validate(call.action, "Request", call.payload)
        if isinstance(outcome, Failure):
            problem = outcome.failure()
            yield Violation(
                "csms-call-schema",
                f"{call.action}Request fails its schema ({problem.code}): {problem.description}",
                (item.index,),
            )


def _connections(frames: Sequence[Parsed], breaks: tuple[float, ...]) -> Iterator[list[Parsed]]:
    """The frames split at each connection cut."""
    current: list[Parsed] = []
    cuts = iter(sorted(breaks))
    cut = next(cuts, None)
    for item in frames:
        while cut is not None and item.at >= cut:
            yield current
            current, cut = [], next(cuts, None)
        current.append(item)
    yield current


def check_unique_ids(frames: Sequence[Parsed], context: ProbeContext) -> Iterator[Violation]:
    for connection in _connections(frames, context.breaks):
        seen: dict[str, int] = {}
        for item, call in _calls(connection, "received"):
            if call.message_id in seen:
                yield Violation(
                    "unique-ids",
                    f"the CSMS reused message id {call.message_id!r} for {call.action} on one connection",
                    (seen[call.message_id], item.index),
                )
            seen[call.message_id] = item.index


def check_one_call_at_a_time(frames: Sequence[Parsed], context: ProbeContext) -> Iterator[Violation]:
    for item, call in _calls(frames, "received"):
        answer = _answer(frames, item, "sent")
        end = answer.at if answer is not None else item.at + context.message_timeout
        for later, other in _calls(frames[item.index + 1 :], "received"):
            if later.at < end and (answer is None or later.index < answer.index):
                yield Violation(
                    "one-call-at-a-time",
                    f"the CSMS sent {other.action} while its {call.action} was not yet answered",
                    (item.index, later.index),
                )
                break


def check_replies_match(frames: Sequence[Parsed], context: ProbeContext) -> Iterator[Violation]:
    open_ids: set[str] = set()
    answered: set[str] = set()
    injected = {injection.message_id for injection in context.injections if injection.message_id is not None}
    for item in frames:
        frame = item.frame
        if item.direction == "sent" and isinstance(frame, Call):
            open_ids.add(frame.message_id)
        elif item.direction == "received" and isinstance(frame, CallResult | CallError):
            if frame.message_id in open_ids:
                open_ids.discard(frame.message_id)
                answered.add(frame.message_id)
            elif frame.message_id in injected or frame.message_id == UNREADABLE_MESSAGE_ID:
                continue  # garbage may repeat an id: `garbage-answered` judges those answers
            elif frame.message_id in answered:
                yield Violation("replies-match", f"the CSMS answered message {frame.message_id!r} twice", (item.index,))
            else:
                yield Violation(
                    "replies-match", f"the CSMS answered message {frame.message_id!r}, which nobody sent", (item.index,)
                )


def _first_received_after(frames: Sequence[Parsed], at: float, message_id: str) -> Parsed | None:
    for item in frames:
        if (
            item.direction == "received"
            and item.at >= at
            and isinstance(item.frame, CallResult | CallError)
            and item.frame.message_id == message_id
        ):
            return item
    return None


def _sent_index(frames: Sequence[Parsed], injection: Injection) -> int | None:
    return next((item.index for item in frames if item.direction == "sent" and item.text == injection.text), None)


def check_garbage_answered(frames: Sequence[Parsed], context: ProbeContext) -> Iterator[Violation]:
    for injection in context.injections:
        if injection.expected is None:
            continue
        sent = _sent_index(frames, injection)
        shown = (sent,) if sent is not None else ()
        answer = _first_received_after(frames, injection.at, injection.message_id or UNREADABLE_MESSAGE_ID)
        late = context.now is not None and context.now > injection.at + context.message_timeout
        if answer is None:
            if late:
                yield Violation(
                    "garbage-answered",
                    f"no answer to a frame that must get CALLERROR {injection.expected} ({injection.reason})",
                    shown,
                )
        elif not isinstance(answer.frame, CallError) or answer.frame.code != injection.expected:
            got = answer.frame.code if isinstance(answer.frame, CallError) else "a CALLRESULT"
            yield Violation(
                "garbage-answered",
                f"{injection.reason}: answered with {got}, Part 4 says CALLERROR {injection.expected}",
                (*shown, answer.index),
            )


def check_keeps_connection(frames: Sequence[Parsed], context: ProbeContext) -> Iterator[Violation]:
    """After a near-valid or broken frame, the next CALL the station sends still gets an answer."""
    for injection in context.injections:
        for item, call in _calls(frames, "sent"):
            if item.at <= injection.at or _cut_before(context, injection.at, item.at):
                continue
            due = context.now is not None and context.now > item.at + context.message_timeout
            if _answer(frames, item, "received") is None and due:
                yield Violation(
                    "keeps-connection",
                    f"after {injection.reason}, the station's {call.action} got no answer: the CSMS dropped the line",
                    (item.index,),
                )
            break


RULES: Final = (
    Rule("rpc-frame", ("OCPP-J 4.1.3", "OCPP-J 4.2"), "every text from the CSMS is an OCPP-J frame", check_rpc_frame),
    Rule(
        "answer-schema",
        ("OCPP-J 4.1.7", "OCPP-J 4.2.2"),
        "every CALLRESULT is schema-valid for the action's Response",
        check_answer_schema,
    ),
    Rule(
        "answer-in-time",
        ("OCPP-J 4.1.1", "OCPPCommCtrlr.MessageTimeout"),
        "every station CALL is answered within the station's MessageTimeout",
        check_answer_in_time,
    ),
    Rule(
        "boot-answer",
        ("B01.FR.02", "B02.FR.01", "B03.FR.05"),
        f"BootNotificationResponse: interval an integer of 0..{MAX_INTERVAL} s, currentTime RFC 3339 with offset",
        check_boot_answer,
    ),
    Rule(
        "transaction-token",
        ("E01.FR.03", "E03.FR.02", "TransactionEventResponse.idTokenInfo"),
        "a TransactionEvent carrying an idToken gets an idTokenInfo",
        check_transaction_token,
    ),
    Rule(
        "calls-before-accepted",
        ("B02.FR.01", "B02.FR.05", "B03.FR.03"),
        "before the boot is Accepted the CSMS sends only what Pending allows, nothing when Rejected or unanswered",
        check_calls_before_accepted,
    ),
    Rule("error-code", ("OCPP-J 4.3",), "every CALLERROR carries a Part 4 error code", check_error_codes),
    Rule(
        "csms-call-schema",
        ("OCPP-J 4.1.7", "OCPP-J 4.2.1"),
        "every CALL from the CSMS is schema-valid for the action's Request",
        check_csms_call_schema,
    ),
    Rule("unique-ids", ("OCPP-J 4.1.4",), "the CSMS never reuses a CALL message id on a connection", check_unique_ids),
    Rule(
        "one-call-at-a-time",
        ("OCPP-J 4.1.1",),
        "the CSMS sends no CALL while its previous one is unanswered",
        check_one_call_at_a_time,
    ),
    Rule(
        "replies-match",
        ("OCPP-J 4.1.4",),
        "every CALLRESULT/CALLERROR answers an outstanding CALL, once",
        check_replies_match,
    ),
    Rule(
        "garbage-answered",
        ("OCPP-J 4.2.3", "OCPP-J 4.3"),
        "each near-valid or broken frame is answered with the CALLERROR code Part 4 gives",
        check_garbage_answered,
    ),
    Rule(
        "keeps-connection",
        ("OCPP-J 4.2.3", "OCPP-J 5.3"),
        "after a near-valid or broken frame the CSMS keeps the connection and answers the next CALL",
        check_keeps_connection,
    ),
)
"""Every rule the kit checks, in the order their violations are reported."""


def check(frames: Sequence[TappedFrameLike], context: ProbeContext, rules: Sequence[Rule] = RULES) -> list[Violation]:
    """All violations of `rules` in one station's frames."""
    parsed = parse(frames)
    return [violation for rule in rules for violation in rule.check(parsed, context)]
