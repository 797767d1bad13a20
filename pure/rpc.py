"""The OCPP-J RPC session of our own CALLs (Part 4 4.1.1): one outstanding CALL, the rest queued in order.

Every outbound payload is checked against its schema before it is queued; one that fails never leaves the
station and becomes an `InternalError` effect instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from returns.result import Failure

from chargecore.pure.device_model import DeviceModel, get_int
from chargecore.pure.effects import Effects, InternalError, SendFrame
from chargecore.pure.frames import Call, encode_frame
from chargecore.pure.schemas import validate
from chargecore.pure.state import RPC_LIFECYCLE, InFlight, OutboundCall, RpcSession

NOT_QUEUED_WHILE_OFFLINE = frozenset({"BootNotification", "Heartbeat", "StatusNotification"})
"""Messages that describe the present and are re-derived on reconnect instead of being replayed."""


def new_session(nonce: str, epoch: int) -> RpcSession:
    """Message ids are `<nonce>-<epoch>-<n>`: unique across reconnects (n keeps counting) and restarts
    (epoch is persisted and the nonce is random), and at most 36 characters."""
    return RpcSession(phase="closed", message_prefix=f"{nonce[:12]}-{epoch}-", next_message_number=1)


def _move(session: RpcSession, trigger: str) -> RpcSession:
    phase = RPC_LIFECYCLE.next_state(session.phase, trigger)
    return session if phase is None else replace(session, phase=phase)


def enqueue(
    session: RpcSession, action: str, payload: dict[str, Any], *, triggered: bool = False
) -> tuple[RpcSession, Effects]:
    checked = validate(action, "Request", payload)
    if isinstance(checked, Failure):
        problem = checked.failure()
        return session, (InternalError(f"outbound {action} refused: {problem.description}"),)
    call = OutboundCall(action, payload, triggered)
    return replace(session, queue=(*session.queue, call)), ()


def pump(
    session: RpcSession, now: datetime, timeout: timedelta, may_send: Callable[[OutboundCall], bool]
) -> tuple[RpcSession, Effects]:
    """Send the first queued CALL that `may_send` allows, if the session is idle."""
    if RPC_LIFECYCLE.next_state(session.phase, "send") is None:
        return session, ()
    for index, call in enumerate(session.queue):
        if may_send(call):
            message_id = f"{session.message_prefix}{session.next_message_number}"
            frame = encode_frame(Call(message_id, call.action, call.payload))
            sent = replace(
                _move(session, "send"),
                queue=session.queue[:index] + session.queue[index + 1 :],
                in_flight=InFlight(message_id, call, now + timeout),
                next_message_number=session.next_message_number + 1,
            )
            return sent, (SendFrame(frame),)
    return session, ()


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
    return timedelta(seconds=max(1, get_int(model, "OCPPCommCtrlr", "MessageTimeout", instance="Default", default=30)))
