"""Block O, display messages as data, and the one rule that decides what a display shows.

Theory of operation: the CSMS stores messages (SetDisplayMessage, O01/O02/O06); each has a priority, and may be
limited to a time window (startDateTime, endDateTime), an EVSE state (MessageStateEnumType), a transaction and a
display (the `display` component's EVSE). `choose` turns the stored messages, one EVSE's situation and one moment
into the ordered list that EVSE's display must show:

1. Only the messages that apply: inside their window (start included, end excluded), in the
   EVSE's state when they name one, for the EVSE's running transaction when they name one (O02), for the EVSE
   when their display names one, and in the display's language when they have one (`speaks`).
2. An AlwaysFront message is shown alone, in front of everything, the station's own messages included; of several,
   the one set last wins (MessagePriorityEnumType: "when a newer message with this priority is received, this
   message is replaced").
3. Otherwise the InFront messages in the order they were set, then the station's own driver messages (the personal
   message of IdTokenInfo, tariff and cost texts), then the NormalCycle messages in the order they were set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chargecore.pure.effects import MessageContent, ShownMessage

PRIORITIES = ("AlwaysFront", "InFront", "NormalCycle")
STATES = ("Charging", "Faulted", "Idle", "Unavailable")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One message the CSMS set; `info` is its MessageInfoType as received, reported back by GetDisplayMessages."""

    message_id: int
    priority: str
    content: MessageContent
    order: int
    """When it was set, counting up: the newer of two messages has the higher order."""
    info: dict[str, Any]
    state: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    """The window in the CSMS's clock (station time)."""
    transaction_id: str | None = None
    evse_id: int | None = None
    """The EVSE of the display component it names, None for every display."""


@dataclass(frozen=True, slots=True)
class EvseSituation:
    """What `choose` needs to know of one EVSE at one moment."""

    evse_id: int
    state: str
    """A MessageStateEnumType value."""
    transaction_id: str | None = None
    language: str | None = None
    """The language the EVSE's display speaks now: its driver's, else DisplayMessageCtrlr.Language."""


@dataclass(frozen=True, slots=True)
class Display:
    """The stored messages, and what each EVSE's display was last told to show."""

    messages: tuple[StoredMessage, ...] = ()
    next_order: int = 1
    shown: tuple[tuple[int, tuple[ShownMessage, ...]], ...] = ()
    """(evse id, the list last emitted in ShowMessages), for EVSEs whose list is not empty or once was."""
    next_edge: datetime | None = None
    """The first window edge after the last evaluation (station time): the block's deadline."""
    basis: tuple[Any, ...] | None = None
    """What the last evaluation depended on besides the time (messages, the station's own, connector statuses,
    running transactions, clock offset): a step that changed none of them and passed no edge skips evaluating."""


def applies(message: StoredMessage, situation: EvseSituation, moment: datetime) -> bool:
    """Rule 1."""
    return (
        (message.start is None or message.start <= moment)
        and (message.end is None or moment < message.end)
        and (message.state is None or message.state == situation.state)
        and (message.transaction_id is None or message.transaction_id == situation.transaction_id)
        and (message.evse_id is None or message.evse_id == situation.evse_id)
        and speaks(situation.language, message.content.language)
    )


def speaks(display: str | None, language: str | None) -> bool:
    """A message in a language is for a display in that language (RFC 5646: `en-US` is English like `en`); one
    without a language, or a display whose language is unknown, takes any."""
    if display is None or language is None:
        return True
    return language.split("-")[0].lower() == display.split("-")[0].lower()


def choose(
    messages: Iterable[StoredMessage], situation: EvseSituation, moment: datetime, own: tuple[ShownMessage, ...] = ()
) -> tuple[ShownMessage, ...]:
    """Rules 2 and 3: the ordered list the display of `situation.evse_id` shows at `moment` (station time)."""
    live = sorted((m for m in messages if applies(m, situation, moment)), key=lambda m: m.order)
    front = [m for m in live if m.priority == "AlwaysFront"]
    if front:
        return (_shown(front[-1]),)
    in_front = tuple(_shown(m) for m in live if m.priority == "InFront")
    normal = tuple(_shown(m) for m in live if m.priority == "NormalCycle")
    return in_front + own + normal


def next_edge(messages: Iterable[StoredMessage], after: datetime) -> datetime | None:
    """The first window start or end later than `after`: when a display may have to change by itself."""
    edges = [edge for m in messages for edge in (m.start, m.end) if edge is not None and edge > after]
    return min(edges) if edges else None


def _shown(message: StoredMessage) -> ShownMessage:
    return ShownMessage(message.content, message.priority, message.message_id)
