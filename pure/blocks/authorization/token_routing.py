"""Where a presented token goes (C01, E07): to the EVSE it is for, to stop a transaction (the same token or the
same GroupId), or to authorize a new session; and the verdict on it (local rules, the application, or the CSMS's
AuthorizeResponse) started or stopped there."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Failure

from chargecore.pure.blocks.authorization import authorization, token_store
from chargecore.pure.blocks.authorization.master_pass import accept_master_pass
from chargecore.pure.blocks.reservation import reservations
from chargecore.pure.blocks.transactions.events import LOCAL_STOP, Cause
from chargecore.pure.blocks.transactions.sessions import (
    STATION,
    conditions,
    ev_connected,
    evse_exists,
    find,
    leave,
    may_serve,
    new_session,
    put,
    refuse,
    with_authorization,
)
from chargecore.pure.blocks.transactions.start_stop import react, withdraw
from chargecore.pure.effects import AuthorizationDecided, Effects, Log, Notify, TokenQuestion
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.state import OutboundCall, Station, Transaction


def chosen_evse(station: Station, evse_id: int | None) -> int | None:
    """The EVSE a token presented at the station (no EVSE named) is for: one with an EV waiting for
    authorization, else one with nothing going on, else one whose session waits for an authorization without an
    EV (a parking bay start, an authorization given up at EVConnectionTimeOut: TC_E_05 step 3), else one whose
    transaction the token may stop. Inoperative EVSEs take no new session (None: no EVSE for it)."""
    if evse_id is not None:  # an Inoperative EVSE only takes a token that may stop its transaction
        usable = may_serve(station, evse_id) or _authorization(station, evse_id) == "accepted"
        return evse_id if evse_exists(station, evse_id) and usable else None
    evses = range(1, len(station.identity.evse_connectors) + 1)
    unauthorized = [e for e in evses if _authorization(station, e) == "none" and may_serve(station, e)]
    waiting = [e for e in unauthorized if ev_connected(station, e)]
    free = [e for e in evses if find(station, e) is None and may_serve(station, e)]
    idle = [e for e in evses if _authorization(station, e) in ("none", "withdrawn") and may_serve(station, e)]
    running = [e for e in evses if _authorization(station, e) == "accepted"]  # a token to stop one (C09, C16)
    return next(iter(waiting or free or idle or running), None)


def _unknown_until_plugged(station: Station, chosen: int) -> bool:
    """A token at a station-level reader when no EV waits: which of several free EVSEs the driver will use is
    unknown until the EV plugs in, so the session waits at STATION (TC_J_08) rather than on a guess."""
    several = len(station.identity.evse_connectors) > 1
    free = find(station, chosen) is None and not ev_connected(station, chosen)
    return several and free and find(station, STATION) is None


def _authorization(station: Station, evse_id: int) -> str:
    tx = find(station, evse_id)
    return "none" if tx is None else tx.authorization


def present_token(
    station: Station, id_token: dict[str, Any], evse_id: int | None, now: datetime
) -> tuple[Station, Effects]:
    """C01/E07: the same token stops its transaction; another token either stops an authorized transaction (same
    GroupId, master pass) or authorizes a new session. A token that is no valid IdTokenType is ignored."""
    if isinstance(validate("Authorize", "Request", {"idToken": id_token}), Failure):
        return station, (Log("warning", f"token presented is not a valid idToken: {id_token!r}"),)
    for running in station.transactions:
        same = running.authorization == "accepted" and authorization.same_token(running.id_token, id_token)
        if same and evse_id in (None, running.evse_id):
            return withdraw(station, running, LOCAL_STOP, now, id_token)
    reserved = None if evse_id is not None else reservations.reserved_for(station, id_token)  # H03
    target = chosen_evse(station, evse_id if reserved is None else reserved)
    if evse_id is None and reserved is None and target is not None and _unknown_until_plugged(station, target):
        target = STATION
    if target is None:
        return station, (Notify(AuthorizationDecided(evse_id, id_token, "NoEvseFree")),)
    tx = find(station, target)
    if tx is not None and tx.authorization == "authorizing":
        return station, (Log("warning", f"EVSE {target} is still authorizing a token: token ignored"),)
    if tx is not None and tx.authorization == "accepted":
        station, verdict, used = authorization.decide(station, id_token, now)
        if verdict is None:
            station, effects = authorization.send_authorize(station, id_token)
            return put(station, replace(tx, stop_token=id_token)), effects
        station, effects = _stop_verdict(station, tx, id_token, verdict, now)
        return station, used + effects
    if tx is None:
        station, tx = new_session(station, target, now)
    tx = replace(tx, id_token=id_token, remote_start_id=None, token_reported=False)
    if station.identity.validates_tokens:
        station, asked = authorization.ask_application(station, id_token, target)
        return put(station, with_authorization(tx, "ask")), asked
    return ask_or_decide(put(station, tx), tx, now)


def on_token_answer(station: Station, question: TokenQuestion, answer: Any, now: datetime) -> tuple[Station, Effects]:
    """The application's verdict on a presented token decides it; without one the station decides as usual."""
    verdict = authorization.application_verdict(answer)
    tx = _authorizing(station, question.id_token)
    if verdict is not None:  # the session may have moved from STATION to an EVSE meanwhile
        return start_verdict(station, question.evse_id if tx is None else tx.evse_id, question.id_token, verdict, now)
    if tx is None:
        return station, ()  # the session ended while the application was asked
    return ask_or_decide(station, tx, now)


def _authorizing(station: Station, id_token: dict[str, Any]) -> Transaction | None:
    """The session waiting for a verdict on this token, wherever it is now."""
    return next(
        (
            tx
            for tx in station.transactions
            if tx.authorization == "authorizing" and authorization.same_token(tx.id_token, id_token)
        ),
        None,
    )


def ask_or_decide(station: Station, tx: Transaction, now: datetime) -> tuple[Station, Effects]:
    assert tx.id_token is not None
    station, verdict, used = authorization.decide(station, tx.id_token, now)
    if verdict is not None:
        station, effects = start_verdict(station, tx.evse_id, tx.id_token, verdict, now)
        return station, used + effects
    station, effects = authorization.send_authorize(station, tx.id_token)
    return put(station, with_authorization(tx, "ask")), effects


def start_verdict(
    station: Station, evse_id: int, id_token: dict[str, Any], info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """The verdict on a token meant to start (or authorize) the session on this EVSE."""
    tx = find(station, evse_id)
    decided: Effects = (Notify(AuthorizationDecided(evse_id, id_token, info["status"])),)
    if tx is None or not authorization.same_token(tx.id_token, id_token):
        return station, decided
    if info["status"] == "Accepted" and authorization.is_master_pass(station, info):  # C16.FR.03: starts nothing
        station = put(station, with_authorization(tx, "refuse")) if tx.authorization == "authorizing" else station
        station, stopped = accept_master_pass(station, id_token, now)
        tx = find(station, evse_id)
        return (station if tx is None or tx.phase == "started" else leave(station, tx, "abandon")), decided + stopped
    late = refuse(tx, "accept" if info["status"] == "Accepted" else "refuse")  # the session moved on meanwhile
    if late:
        return station, decided + late
    admitted, used = True, None
    claimed: Effects = ()
    if info["status"] == "Accepted":  # H03: a reserved EVSE admits only the token or group of its reservation
        station, admitted, used, claimed = reservations.claim(station, evse_id, id_token, info.get("groupIdToken"))
    if info["status"] != "Accepted" or not admitted:
        if not admitted:
            decided = (Notify(AuthorizationDecided(evse_id, id_token, "Reserved")),)
        refused = replace(with_authorization(tx, "refuse"), id_token=None if tx.phase == "started" else tx.id_token)
        if refused.phase == "pending":
            return leave(station, tx, "abandon"), decided
        return put(station, refused), decided
    before = conditions(station, evse_id)
    cause = Cause("RemoteStart" if tx.remote_start_id is not None else "Authorized")
    accepted = replace(
        with_authorization(tx, "accept"), group_id_token=info.get("groupIdToken"), stop_reason=None, reservation_id=used
    )
    station, effects = react(put(station, accepted), evse_id, before, cause, now)
    return station, decided + claimed + effects


def _stop_verdict(
    station: Station, tx: Transaction, id_token: dict[str, Any], info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """The verdict on another token presented to stop `tx` (C09 GroupId, C16 master pass)."""
    station = put(station, replace(tx, stop_token=None))
    decided: Effects = (Notify(AuthorizationDecided(tx.evse_id, id_token, info["status"])),)
    if info["status"] == "Accepted" and authorization.is_master_pass(station, info):
        station, effects = accept_master_pass(station, id_token, now)
        return station, decided + effects
    if authorization.may_stop(tx.id_token, tx.group_id_token, info):
        stopping = find(station, tx.evse_id) or tx
        late = refuse(stopping, "withdraw")  # stopped by other means while the CSMS was asked
        if late:
            return station, decided + late
        station, effects = withdraw(station, stopping, LOCAL_STOP, now, id_token)
        return station, decided + effects
    return station, (*decided, Log("info", f"token may not stop transaction {tx.transaction_id}"))


def _route_verdict(
    station: Station, id_token: dict[str, Any], info: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    authorizing = _authorizing(station, id_token)
    if authorizing is not None:
        return start_verdict(station, authorizing.evse_id, id_token, info, now)
    stopping = next((tx for tx in station.transactions if authorization.same_token(tx.stop_token, id_token)), None)
    return (station, ()) if stopping is None else _stop_verdict(station, stopping, id_token, info, now)


def on_authorize_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """C01.FR: the CSMS's verdict; the token store learns it (C10.FR.04) before the session uses it."""
    id_token, info = call.payload["idToken"], payload["idTokenInfo"]
    station, remembered = token_store.remember(station, id_token, info, now)
    station, effects = _route_verdict(station, id_token, info, now)
    return station, remembered + effects


def on_authorize_failed(station: Station, call: OutboundCall, now: datetime) -> tuple[Station, Effects]:
    """No answer: decide as offline (C15)."""
    id_token = call.payload["idToken"]
    station, verdict, used = authorization.decide(station, id_token, now, unanswered=True)
    assert verdict is not None
    station, effects = _route_verdict(station, id_token, verdict, now)
    return station, used + effects
