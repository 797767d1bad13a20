"""What happens to a message of the persistent lane (E11-E13) when the CSMS answers it or it fails: TransactionEvent
(transactions/events.py) and SecurityEventNotification (security_events.py) are persisted before they are sent and leave
the disk only when answered or given up.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chargecore.pure.device_model.model import get_int
from chargecore.pure.effects import Effects, Log, Persist
from chargecore.pure.ocppj import connection, rpc
from chargecore.pure.ocppj.timestamps import seconds
from chargecore.pure.state import OutboundCall, Station


def answered(station: Station, call: OutboundCall) -> tuple[Station, Effects]:
    """The CSMS has it: drop it from the lane and from disk."""
    if call.lane_key is None:
        return station, ()
    return replace(station, rpc=rpc.acknowledge(station.rpc, call.lane_key)), (Persist(((call.lane_key, None),)),)


def failed(station: Station, call: OutboundCall, now: datetime, attempts: int | None = None) -> tuple[Station, Effects]:
    """E13: a timeout, CALLERROR or invalid answer counts an attempt; a lost connection does not (E11: the message
    goes again after the reconnect). After `attempts` attempts (default OCPPCommCtrlr.MessageAttempts), spaced by
    MessageAttemptInterval (the TransactionEvent instances: the device model has no others), the message is given
    up. Effects come back only when it was given up."""
    if call.lane_key is None or not connection.is_up(station):
        return station, ()
    model = station.device_model
    if attempts is None:
        attempts = get_int(model, "OCPPCommCtrlr", "MessageAttempts", instance="TransactionEvent", default=3)
    interval = get_int(model, "OCPPCommCtrlr", "MessageAttemptInterval", instance="TransactionEvent", default=60)
    session, dropped = rpc.retry_later(station.rpc, call.lane_key, now, max(1, attempts), seconds(interval))
    station = replace(station, rpc=session)
    if not dropped:
        return station, ()
    given_up = Log("warning", f"{call.action} {call.lane_key} given up after {attempts} attempts")
    return station, (Persist(((call.lane_key, None),)), given_up)


def on_tick(station: Station, now: datetime) -> tuple[Station, Effects]:
    """The head's MessageAttemptInterval wait is over: it may go again."""
    return replace(station, rpc=rpc.release_lane(station.rpc, now)), ()


def deadline(station: Station) -> datetime | None:
    return rpc.lane_deadline(station.rpc)
