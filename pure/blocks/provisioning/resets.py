"""Block B, Reset (B11, B12): the CSMS resets the station or one EVSE, also while transactions run.

The application is asked first (B11.FR.01). Without a transaction in the way the reset happens right after the
response. OnIdle with a transaction running is answered Scheduled and waits until the transactions end (B12.FR.01,
B12.FR.03, B12.FR.07); Immediate ends them at once with stoppedReason ImmediateReset (B12.FR.02, B12.FR.08). A
waiting station reset also lets the Ended TransactionEvents reach the CSMS before the station reboots, so they go
out before the next BootNotification; `settle` performs each waiting reset once nothing holds it any more.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.provisioning.provisioning import BOOT_REASON_KEY
from chargecore.pure.blocks.transactions import events, sessions, start_stop
from chargecore.pure.effects import Effects, PerformReset, Persist, ResetQuestion
from chargecore.pure.ocppj import connection
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.outcome import Defer, Handled, Reply
from chargecore.pure.state import PendingReset, Station


def handle_reset(station: Station, call: Call, now: datetime) -> Handled:
    """B11.FR.01/B12.FR.01: ask the application whether the reset may happen; an EVSE reset on a station
    that cannot reset single EVSEs is Rejected (B11.FR.09, B12.FR.09)."""
    evse_id = call.payload.get("evseId")
    if evse_id is not None and (not station.identity.supports_evse_reset or not sessions.evse_exists(station, evse_id)):
        return station, Reply({"status": "Rejected"}), ()
    return station, Defer(ResetQuestion(call.payload["type"], evse_id)), ()


def _holds(station: Station, reset: PendingReset) -> bool:
    """Whether something still keeps the reset from happening: a transaction on what is reset, or, for the
    station, TransactionEvents the CSMS has not received while it can still receive them."""
    if any(reset.evse_id in (None, tx.evse_id) for tx in station.running_transactions):
        return True
    unsent = events.messages_in_queue(station, None)
    return reset.evse_id is None and unsent and connection.is_up(station)


def _perform(reset: PendingReset, boot_reason: str) -> Effects:
    """A station reset reboots and tells the CSMS why on the next boot (B11.FR.03, B12.FR.04)."""
    if reset.evse_id is not None:
        return (PerformReset(reset.reset_type, reset.evse_id),)
    return (Persist(((BOOT_REASON_KEY, boot_reason),)), PerformReset(reset.reset_type, None))


def resume_reset(station: Station, call: Call, allowed: Any, now: datetime) -> Handled:
    if allowed is not True:
        return station, Reply({"status": "Rejected"}), ()
    reset = PendingReset(call.payload["type"], call.payload.get("evseId"))
    if not _holds(station, reset):
        return station, Reply({"status": "Accepted"}), _perform(reset, "RemoteReset")
    pending = replace(station, pending_resets=(*station.pending_resets, reset))
    if reset.reset_type == "OnIdle":
        return pending, Reply({"status": "Scheduled"}), ()
    ended, effects = start_stop.end_for_reset(pending, reset.evse_id, now)
    return ended, Reply({"status": "Accepted"}), effects


def settle(station: Station, now: datetime) -> tuple[Station, Effects]:
    """After every input: perform the waiting resets nothing holds any more; a station reset that waited for
    transactions to end boots with reason ScheduledReset (OnIdle) or RemoteReset (Immediate)."""
    if not station.pending_resets:
        return station, ()
    due = [reset for reset in station.pending_resets if not _holds(station, reset)]
    if not due:
        return station, ()
    station = replace(station, pending_resets=tuple(r for r in station.pending_resets if r not in due))
    effects: Effects = ()
    for reset in sorted(due, key=lambda r: r.evse_id is None):  # EVSE resets before a station reboot
        effects += _perform(reset, "ScheduledReset" if reset.reset_type == "OnIdle" else "RemoteReset")
    return station, effects
