"""Block E after a restart: the running transactions are restored from their records and, at PowerUp, ended
with PowerLoss (or with the reset that caused the restart)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.meter_values import meter_readings
from chargecore.pure.blocks.transactions.events import POWER_LOSS, RECORD_NAMESPACE, RESET, Cause
from chargecore.pure.blocks.transactions.start_stop import end_transaction
from chargecore.pure.effects import Effects
from chargecore.pure.ocppj import rpc
from chargecore.pure.state import Station, Transaction


def restore(station: Station, persisted: dict[str, Any]) -> Station:
    """The lane and the transactions that were running when the station stopped."""
    restored = []
    for key in sorted(persisted):
        record = persisted[key]
        if not key.startswith(RECORD_NAMESPACE) or not isinstance(record, dict):
            continue
        restored.append(
            Transaction(
                record["transaction_id"],
                record["evse_id"],
                record["connector_id"],
                datetime.fromisoformat(record["started_at"]),
                phase="started",
                id_token=record["id_token"],
                token_reported=True,
                seq_no=record["seq_no"],
                charging_state=record["charging_state"],
                public_key_sent=record.get("public_key_sent", False),
            )
        )
    station = replace(station, rpc=rpc.restore_lane(station.rpc, persisted), transactions=tuple(restored))
    return meter_readings.restore_kept(station, persisted)


_RESTART_CAUSES = {
    "RemoteReset": RESET,
    "LocalReset": Cause("ResetCommand", "Reboot"),
}
"""Why a transaction running before a restart ended, by the boot reason the restart persisted; PowerLoss else."""


def on_power_up(station: Station, now: datetime) -> tuple[Station, Effects]:
    """A transaction the station was running when it stopped ends now: PowerLoss after a crash or power cut,
    ImmediateReset (Reboot) after a reset the CSMS (the operator) asked for."""
    cause = _RESTART_CAUSES.get(station.registration.boot_reason, POWER_LOSS)
    effects: Effects = ()
    for tx in station.transactions:
        if tx.phase == "started":
            station, more = end_transaction(station, tx, cause.trigger, cause.stopped_reason or "PowerLoss", now)
            effects += more
    return station, effects
