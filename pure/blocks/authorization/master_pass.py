"""C16, the master pass: an accepted master pass stops every transaction, or those its holder chooses."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.transactions.events import MASTER_PASS, Cause
from chargecore.pure.blocks.transactions.start_stop import stop_transaction
from chargecore.pure.effects import Effects, Log, MasterPassAccepted, Notify
from chargecore.pure.state import Station


def stop_all(
    station: Station, cause: Cause, now: datetime, evse_ids: tuple[int, ...] | None = None
) -> tuple[Station, Effects]:
    """Stop every running transaction, or those on `evse_ids`."""
    effects: Effects = ()
    for tx in station.transactions:
        if tx.phase == "started" and (evse_ids is None or tx.evse_id in evse_ids):
            station, more = stop_transaction(station, tx, cause, now)
            effects += more
    return station, effects


def accept_master_pass(station: Station, id_token: dict[str, Any], now: datetime) -> tuple[Station, Effects]:
    """C16: an accepted master pass stops every transaction (C16.FR.02), or, with a user interface, those its
    holder chooses there (C16.FR.01)."""
    if not station.identity.master_pass_ui:
        return stop_all(station, MASTER_PASS, now)
    running = tuple(sorted(tx.evse_id for tx in station.transactions if tx.phase == "started"))
    return replace(station, master_pass=id_token), (Notify(MasterPassAccepted(id_token, running)),)


def on_master_pass_choice(station: Station, evse_ids: tuple[int, ...] | None, now: datetime) -> tuple[Station, Effects]:
    """C16.FR.01: stop the transactions the master pass holder chose (None: all); only after a master pass."""
    if station.master_pass is None:
        return station, (Log("warning", "master pass choice without an accepted master pass: ignored"),)
    return stop_all(replace(station, master_pass=None), MASTER_PASS, now, evse_ids)
