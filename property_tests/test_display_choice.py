"""Property tests of the display choice (block O, messages.choose) against a naive reference written from the
MessagePriorityEnumType and MessageInfoType descriptions, message by message.

Hypothesis draws stored messages of every priority, with or without a state, a window, a transaction, a display
EVSE and a language, one EVSE's situation (with or without a display language), a moment, and the station's own
messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.display.messages import PRIORITIES, STATES, EvseSituation, StoredMessage, choose
from chargecore.pure.effects import MessageContent, ShownMessage

T0 = datetime(2025, 5, 6, 12, 0, 0, tzinfo=UTC)
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

offsets = st.one_of(st.none(), st.integers(-5, 5).map(lambda minutes: T0 + timedelta(minutes=minutes)))


@st.composite
def stored_messages(draw: st.DrawFn) -> tuple[StoredMessage, ...]:
    count = draw(st.integers(0, 7))
    orders = draw(st.lists(st.integers(1, 100), min_size=count, max_size=count, unique=True))
    messages = []
    for message_id, order in enumerate(orders, start=1):
        messages.append(
            StoredMessage(
                message_id=message_id,
                priority=draw(st.sampled_from(PRIORITIES)),
                content=MessageContent(f"m{message_id}", "UTF8", draw(languages)),
                order=order,
                info={},
                state=draw(st.one_of(st.none(), st.sampled_from(STATES))),
                start=draw(offsets),
                end=draw(offsets),
                transaction_id=draw(st.sampled_from([None, "tx1", "tx2"])),
                evse_id=draw(st.sampled_from([None, 1, 2])),
            )
        )
    return tuple(messages)


languages: st.SearchStrategy[str | None] = st.sampled_from([None, "en", "en-US", "EN", "es", "es-MX"])
situations = st.builds(
    EvseSituation,
    st.sampled_from([1, 2]),
    st.sampled_from(STATES),
    st.sampled_from([None, "tx1", "tx2"]),
    st.sampled_from([None, "en", "es", "en-GB"]),
)
moments = st.integers(-6, 6).map(lambda minutes: T0 + timedelta(minutes=minutes))
own_messages = st.lists(st.sampled_from(["tariff", "welcome"]), max_size=2).map(
    lambda texts: tuple(ShownMessage(MessageContent(t, "UTF8"), "InFront") for t in texts)
)


def reference(
    messages: tuple[StoredMessage, ...], where: EvseSituation, at: datetime, own: tuple[ShownMessage, ...]
) -> list[ShownMessage]:
    """Each message on its own: is it due, in its state, for this transaction, display and language? Then
    AlwaysFront alone (the newest), else InFront in set order, the station's own, NormalCycle in set order."""
    due = []
    for m in messages:
        started = m.start is None or not at < m.start
        ended = m.end is not None and not at < m.end
        if not started or ended:
            continue
        if m.state not in (None, where.state) or m.transaction_id not in (None, where.transaction_id):
            continue
        if m.evse_id not in (None, where.evse_id):
            continue
        language, display = m.content.language, where.language
        if language and display and language[:2].lower() != display[:2].lower():  # two-letter primary subtags here
            continue
        due.append(m)
    always = [m for m in due if m.priority == "AlwaysFront"]
    if always:
        newest = max(always, key=lambda m: m.order)
        return [ShownMessage(newest.content, newest.priority, newest.message_id)]
    by_order = sorted(due, key=lambda m: m.order)
    front = [ShownMessage(m.content, m.priority, m.message_id) for m in by_order if m.priority == "InFront"]
    cycle = [ShownMessage(m.content, m.priority, m.message_id) for m in by_order if m.priority == "NormalCycle"]
    return front + list(own) + cycle


@PROPERTY
@given(stored_messages(), situations, moments, own_messages)
def test_choose_matches_the_naive_reference(
    messages: tuple[StoredMessage, ...], where: EvseSituation, at: datetime, own: tuple[ShownMessage, ...]
) -> None:
    assert list(choose(messages, where, at, own)) == reference(messages, where, at, own)


@PROPERTY
@given(stored_messages(), situations, moments, own_messages)
def test_an_always_front_message_is_shown_alone(
    messages: tuple[StoredMessage, ...], where: EvseSituation, at: datetime, own: tuple[ShownMessage, ...]
) -> None:
    shown = choose(messages, where, at, own)
    if any(s.priority == "AlwaysFront" for s in shown):
        assert len(shown) == 1, "AlwaysFront is not cycled with other messages, nor overridden by the station's own"
