"""Block F, remote control: TriggerMessage (F06) for BootNotification, Heartbeat and StatusNotification.

The triggered message is queued behind the TriggerMessageResponse (F06.FR.04); messages the station cannot
produce yet are answered NotImplemented (F06.FR.08).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chargecore.pure import availability, provisioning
from chargecore.pure.frames import Call
from chargecore.pure.outcome import Handled, Reply
from chargecore.pure.state import Station


def _boot(station: Station, evse: Any, now: datetime) -> Handled:
    if provisioning.is_accepted(station):  # F06.FR.17
        return station, Reply({"status": "Rejected"}), ()
    booted, effects = provisioning.send_boot(station, "Triggered", triggered=True)
    return booted, Reply({"status": "Accepted"}), effects


def _heartbeat(station: Station, evse: Any, now: datetime) -> Handled:
    beaten, effects = availability.send_heartbeat(station, now, triggered=True)
    return beaten, Reply({"status": "Accepted"}), effects


def _status(station: Station, evse: Any, now: datetime) -> Handled:
    """F06.FR.12: the status of the given connector, of every connector of the given EVSE, or of all."""
    if evse is None:
        chosen = station.connectors
    else:
        chosen = availability.find_connectors(station, evse["id"], evse.get("connectorId"))
        if not chosen:
            return station, Reply({"status": "Rejected"}), ()
    reported, effects = availability.report_statuses(station, now, everything=True, only=chosen, triggered=True)
    return reported, Reply({"status": "Accepted"}), effects


_TRIGGERS = {"BootNotification": _boot, "Heartbeat": _heartbeat, "StatusNotification": _status}


def handle_trigger_message(station: Station, call: Call, now: datetime) -> Handled:
    trigger = _TRIGGERS.get(call.payload["requestedMessage"])
    if trigger is None:
        return station, Reply({"status": "NotImplemented"}), ()
    return trigger(station, call.payload.get("evse"), now)
