"""The OCPP-J RPC session of our own CALLs (Part 4 4.1.1): one outstanding CALL, the rest queued in order.

Every outbound payload is checked against its schema before it is queued; one that fails never leaves the
station and becomes an `InternalError` effect instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from returns.result import Failure

from chargecore.pure.device_model.catalogue import DeviceModel
from chargecore.pure.device_model.model import get_int
from chargecore.pure.effects import Effects, InternalError, SendFrame
from chargecore.pure.lifecycle import RPC_LIFECYCLE
from chargecore.pure.ocppj.fifo import Fifo
from chargecore.pure.ocppj.frames import Call, encode_frame
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.ocppj.timestamps import later, seconds
from chargecore.pure.state import InFlight, LaneMessage, OutboundCall, RpcSession

NOT_QUEUED_WHILE_OFFLINE = frozenset({"BootNotification", "Heartbeat", "StatusNotification"})
"""Messages that describe the present and are re-derived on reconnect instead of being replayed."""


def new_session(nonce: str, epoch: int) -> RpcSession:
    """Message ids are `<nonce>-<epoch>-<n>`: unique across reconnects (n keeps counting) and restarts
    (epoch is persisted and the nonce is random), and at most 36 characters."""
    return RpcSession(phase="closed", message_prefix=f"{nonce[:12]}-{epoch}-", next_message_number=1)


def _move(session: RpcSession, trigger: str) -> RpcSession:
    """Every caller's guard makes the edge certain; a missing one raises (lifecycle.NoEdge)."""
    return replace(session, phase=RPC_LIFECYCLE.move(session.phase, trigger))


def enqueue(
    session: RpcSession, action: str, payload: dict[str, Any], *, triggered: bool = False
) -> tuple[RpcSession, Effects]:
    checked = validate(action, "Request", payload)
    if isinstance(checked, Failure):
        problem = checked.failure()
        return session, (InternalError(f"outbound {action} refused: {problem.description}"),)
    call = OutboundCall(action, payload, triggered, session.enqueued)
    return replace(session, queue=(*session.queue, call), enqueued=session.enqueued + 1), ()


def pump(
    session: RpcSession, now: datetime, timeout: timedelta, may_send: Callable[[OutboundCall], bool]
) -> tuple[RpcSession, Effects]:
    """Send the oldest queued CALL that `may_send` allows, if the session is idle; the persistent lane's head
    competes by age with the plain queue (so it goes first after a reconnect or a restart)."""
    if RPC_LIFECYCLE.lookup(session.phase, "send") is None:
        return session, ()
    head = _lane_head(session, now)
    if head is not None and not may_send(head):
        head = None
    for index, call in enumerate(session.queue):
        if head is not None and head.order < call.order:
            break
        if may_send(call):
            return _send(replace(session, queue=session.queue[:index] + session.queue[index + 1 :]), call, now, timeout)
    return (session, ()) if head is None else _send(session, head, now, timeout)


def _send(session: RpcSession, call: OutboundCall, now: datetime, timeout: timedelta) -> tuple[RpcSession, Effects]:
    message_id = f"{session.message_prefix}{session.next_message_number}"
    frame = encode_frame(Call(message_id, call.action, call.payload))
    sent = replace(
        _move(session, "send"),
        in_flight=InFlight(message_id, call, later(now, timeout)),
        next_message_number=session.next_message_number + 1,
    )
    return sent, (SendFrame(frame),)


# --- the persistent lane (E11-E13) ------------------------------------------------------------------------

LANE_NAMESPACE = "tx_queue/"


def _lane_head(session: RpcSession, now: datetime) -> OutboundCall | None:
    """The lane's first message as a CALL, unless it waits for its MessageAttemptInterval."""
    head = session.lane.first
    if head is None:
        return None
    if head.not_before is not None and now < head.not_before:
        return None
    return OutboundCall(head.action, head.payload, False, head.order, head.key)


def enqueue_persistent(
    session: RpcSession, action: str, payload: dict[str, Any]
) -> tuple[RpcSession, tuple[tuple[str, Any], ...], Effects]:
    """Append to the lane; returns the Persist entry the caller must write in the same Persist as the state the
    message describes (so a crash keeps both or neither)."""
    checked = validate(action, "Request", payload)
    if isinstance(checked, Failure):
        return session, (), (InternalError(f"outbound {action} refused: {checked.failure().description}"),)
    key = f"{LANE_NAMESPACE}{session.next_lane_number:012d}"
    message = LaneMessage(key, action, payload, session.enqueued)
    moved = replace(
        session,
        lane=session.lane.append(message),
        next_lane_number=session.next_lane_number + 1,
        enqueued=session.enqueued + 1,
    )
    return moved, ((key, {"action": action, "payload": payload}),), ()


def acknowledge(session: RpcSession, key: str) -> RpcSession:
    """Drop the message `key`: the head, as only the head is ever sent, in O(1)."""
    head = session.lane.first
    if head is not None and head.key == key:
        return replace(session, lane=session.lane.pop())
    return replace(session, lane=session.lane.where(lambda m: m.key != key))


def retry_later(
    session: RpcSession, key: str, now: datetime, attempts: int, interval: timedelta
) -> tuple[RpcSession, bool]:
    """E13: count a failed attempt; wait interval x attempts so far before the next one, or give the message up
    after `attempts` attempts (returns True when dropped)."""
    head = session.lane.first
    if head is None or head.key != key:  # only the head is ever sent
        return session, False
    tried = head.attempts + 1
    if tried >= attempts:
        return acknowledge(session, key), True
    waiting = replace(head, attempts=tried, not_before=later(now, interval * tried))
    return replace(session, lane=session.lane.replace_first(waiting)), False


def release_lane(session: RpcSession, now: datetime) -> RpcSession:
    """The head's retry wait is over: it may go again (the timer is cleared so it does not fire twice)."""
    head = session.lane.first
    if head is None or head.not_before is None or now < head.not_before:
        return session
    return replace(session, lane=session.lane.replace_first(replace(head, not_before=None)))


def lane_deadline(session: RpcSession) -> datetime | None:
    head = session.lane.first
    return None if head is None else head.not_before


def restore_lane(session: RpcSession, persisted: Mapping[str, Any]) -> RpcSession:
    """The lane as an earlier run left it: entries in key order, numbering continuing after the last."""
    keys = sorted(key for key in persisted if key.startswith(LANE_NAMESPACE) and persisted[key] is not None)
    lane = Fifo.of(LaneMessage(key, persisted[key]["action"], persisted[key]["payload"]) for key in keys)
    number = int(keys[-1][len(LANE_NAMESPACE) :]) + 1 if keys else 1
    return replace(session, lane=lane, next_lane_number=number)


def carry_lane(fresh: RpcSession, old: RpcSession) -> RpcSession:
    """A new session (PowerUp) keeps the lane and its numbering."""
    return replace(fresh, lane=old.lane, next_lane_number=old.next_lane_number)


def take_reply(session: RpcSession, message_id: str) -> tuple[RpcSession, InFlight | None]:
    """The outstanding call a CALLRESULT/CALLERROR answers, or None for an unknown id (to be dropped)."""
    in_flight = session.in_flight
    if in_flight is None or in_flight.message_id != message_id:
        return session, None
    return replace(_move(session, "reply"), in_flight=None), in_flight


def expire(session: RpcSession, now: datetime) -> tuple[RpcSession, InFlight | None]:
    """The outstanding call whose MessageTimeout has passed, if any."""
    in_flight = session.in_flight
    if in_flight is None or now < in_flight.deadline:
        return session, None
    return replace(_move(session, "timeout"), in_flight=None), in_flight


def open_session(session: RpcSession) -> RpcSession:
    return _move(session, "open")


def close_session(session: RpcSession) -> tuple[RpcSession, tuple[OutboundCall, ...]]:
    """Close on disconnect. Returns the calls given up: the outstanding one and those that describe the
    present (re-derived on reconnect); the rest stay queued in order."""
    dropped = tuple(call for call in session.queue if call.action in NOT_QUEUED_WHILE_OFFLINE)
    lost = (session.in_flight.call,) if session.in_flight else ()
    kept = tuple(call for call in session.queue if call.action not in NOT_QUEUED_WHILE_OFFLINE)
    closed = replace(_move(session, "close"), queue=kept, in_flight=None)
    return closed, lost + dropped


def deadline(session: RpcSession) -> datetime | None:
    return session.in_flight.deadline if session.in_flight else None


def message_timeout(model: DeviceModel) -> timedelta:
    """OCPPCommCtrlr.MessageTimeout[Default]: how long our CALL waits for its reply."""
    return seconds(max(1, get_int(model, "OCPPCommCtrlr", "MessageTimeout", instance="Default", default=30)))
