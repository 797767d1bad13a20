"""The sessions of block E in the state: the TxStartPoint/TxStopPoint conditions that hold on an EVSE, and the
small writes every transaction input is made of (a session put, moved along its lifecycle, left, authorized)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from chargecore.pure.blocks.availability import availability
from chargecore.pure.blocks.provisioning import provisioning
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_value
from chargecore.pure.effects import Effects
from chargecore.pure.lifecycle import AUTHORIZATION_LIFECYCLE, TRANSACTION_LIFECYCLE
from chargecore.pure.state import EvseHardware, Station, Transaction

PLUGGED_PHASES = frozenset({"plugged", "plugged_faulted"})


STATION = 0
"""The evse_id of a session authorized at a station-level reader of a station with several EVSEs before its EVSE
is known: it moves to the EVSE where the EV plugs in (E01.FR.17, J02, TC_J_08). One such session at a time."""


def points(station: Station, variable: str) -> frozenset[str]:
    """TxCtrlr.TxStartPoint or TxStopPoint as a set of names."""
    value = get_value(station.device_model, VariableKey("TxCtrlr", variable)) or ""
    return frozenset(name for name in value.split(",") if name)


def stop_points(station: Station) -> frozenset[str]:
    """TxCtrlr.TxStopPoint as the conditions whose end stops a transaction. PowerPathClosed, despite its name not
    the relay, is exactly EVConnected plus Authorized (errata 2023-12 2.17.4), so a remote or local stop ends the
    transaction at once, as with Authorized (TC_E_07, TC_E_35)."""
    named = points(station, "TxStopPoint")
    if "PowerPathClosed" not in named:
        return named
    return (named - {"PowerPathClosed"}) | {"EVConnected", "Authorized"}


def find(station: Station, evse_id: int) -> Transaction | None:
    return next((tx for tx in station.transactions if tx.evse_id == evse_id), None)


def find_by_id(station: Station, transaction_id: str) -> Transaction | None:
    return next((tx for tx in station.transactions if tx.transaction_id == transaction_id), None)


def hardware(station: Station, evse_id: int) -> EvseHardware:
    return next((hw for hw in station.evse_hardware if hw.evse_id == evse_id), EvseHardware(evse_id))


def evse_exists(station: Station, evse_id: int) -> bool:
    return 1 <= evse_id <= len(station.identity.evse_connectors)


def ev_connected(station: Station, evse_id: int) -> bool:
    return any(c.evse_id == evse_id and c.phase in PLUGGED_PHASES for c in station.connectors)


def plugged_connector(station: Station, evse_id: int, default: int) -> int:
    return next(
        (c.connector_id for c in station.connectors if c.evse_id == evse_id and c.phase in PLUGGED_PHASES), default
    )


def charging_state(station: Station, evse_id: int) -> str:
    return hardware(station, evse_id).ev_state if ev_connected(station, evse_id) else "Idle"


def conditions(station: Station, evse_id: int) -> frozenset[str]:
    """Which TxStartPoint/TxStopPoint names hold now. DataSigned: the meter's latest reading for the EVSE, taken
    with an EV connected, carries a signature (E01 DataSigned, TC_E_11)."""
    hw = hardware(station, evse_id)
    tx = find(station, evse_id)
    connected = ev_connected(station, evse_id)
    held = {
        "ParkingBayOccupancy": hw.parking_bay_occupied,
        "EVConnected": connected,
        "Authorized": tx is not None and tx.authorization == "accepted",
        "PowerPathClosed": hw.power_path_closed,
        "EnergyTransfer": connected and hw.power_path_closed and hw.ev_state == "Charging",
        "DataSigned": connected and any(value.signed is not None for value in hw.measured),
    }
    return frozenset(name for name, holds in held.items() if holds)


def may_serve(station: Station, evse_id: int) -> bool:
    """Not effectively Inoperative (neither the station, the EVSE nor the connector a cable is plugged into), and
    no reset waits for the EVSE's transactions to end: a new session would keep an OnIdle reset waiting (B12)."""
    resetting = any(reset.evse_id in (None, evse_id) for reset in station.pending_resets)
    return not resetting and availability.may_serve(station, evse_id, plugged_connector(station, evse_id, 0))


def may_start(station: Station) -> bool:
    """TxBeforeAcceptedEnabled: without it no transaction starts before the CSMS accepted the boot."""
    return provisioning.is_accepted(station) or get_bool(station.device_model, "TxCtrlr", "TxBeforeAcceptedEnabled")


def deadline(station: Station) -> datetime | None:
    pending = [tx.plug_deadline for tx in station.transactions if tx.plug_deadline is not None]
    return min(pending) if pending else None


def put(station: Station, tx: Transaction) -> Station:
    others = tuple(other for other in station.transactions if other.evse_id != tx.evse_id)
    return replace(station, transactions=(*others, tx))


def drop(station: Station, tx: Transaction) -> Station:
    return replace(station, transactions=tuple(other for other in station.transactions if other.evse_id != tx.evse_id))


def put_hardware(station: Station, hw: EvseHardware) -> Station:
    others = tuple(other for other in station.evse_hardware if other.evse_id != hw.evse_id)
    return replace(station, evse_hardware=(*others, hw))


def move(tx: Transaction, trigger: str) -> Transaction:
    """Every caller's guard makes the edge certain; a missing one raises (lifecycle.NoEdge)."""
    return replace(tx, phase=TRANSACTION_LIFECYCLE.move(tx.phase, trigger))


def leave(station: Station, tx: Transaction, trigger: str) -> Station:
    """`end` (a started transaction) or `abandon` (a pending session) leads to `ended`: the transaction leaves
    the station. The other way out of an EVSE is `hardware_hooks._bind`, which moves a session without ending it."""
    TRANSACTION_LIFECYCLE.move(tx.phase, trigger)  # raises NoEdge for a trigger with no way to `ended`
    return drop(station, tx)


def with_authorization(tx: Transaction, trigger: str) -> Transaction:
    """For a caller whose guard makes the edge certain; a missing one raises (lifecycle.NoEdge)."""
    return replace(tx, authorization=AUTHORIZATION_LIFECYCLE.move(tx.authorization, trigger))


def refuse(tx: Transaction, trigger: str) -> Effects:
    """The authorization `trigger` has no edge from `tx`'s (a verdict or stop that came after the session moved
    on): nothing changes, a Log says so; empty where the edge exists."""
    if AUTHORIZATION_LIFECYCLE.lookup(tx.authorization, trigger) is not None:
        return ()
    return (AUTHORIZATION_LIFECYCLE.refusal(tx.authorization, trigger, f"authorization on EVSE {tx.evse_id}"),)


def new_session(station: Station, evse_id: int, now: datetime) -> tuple[Station, Transaction]:
    """A pending session with a transaction id unique per station: the RPC prefix holds the PowerUp nonce and the
    persisted start counter, the number counts within this run."""
    number = station.next_transaction_number
    tx = Transaction(f"{station.rpc.message_prefix}tx{number}", evse_id, plugged_connector(station, evse_id, 1), now)
    return replace(station, next_transaction_number=number + 1), tx


def hold_connector(station: Station, tx: Transaction, held: bool) -> Station:
    """A started transaction makes its connector Occupied; availability derives the status and tells the
    application and the CSMS of the change."""
    connectors = tuple(
        replace(connector, in_transaction=held)
        if (connector.evse_id, connector.connector_id) == (tx.evse_id, tx.connector_id)
        else connector
        for connector in station.connectors
    )
    return replace(station, connectors=connectors)
