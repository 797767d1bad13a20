"""Block I, tariff and cost: the driver's tariff from IdTokenInfo.personalMessage (I01) or TariffFallbackMessage
(I04), the running cost from CostUpdated and TransactionEventResponse.totalCost (I02), the final cost at the end or
TotalCostFallbackMessage (I03, I05), tariff updates from updatedPersonalMessage (I06), and the California pricing
customData (org.openchargealliance.costmsg) on all of them.

Rules:
1. The personal message of an IdTokenInfo is shown on the EVSE of the session it authorizes, cut to
   DisplayMessageCtrlr.PersonalMessageSize (0: none kept). With Enabled[Tariff], an accepted token without one shows
   TariffFallbackMessage, or OfflineTariffFallbackMessage when the CSMS did not answer (I04).
2. With Enabled[Cost], every totalCost (CostUpdated, TransactionEventResponse) reaches the `ShowCost` hook as an
   exact decimal in Currency; an Ended event answered without one, or a transaction ending while the station is
   offline, shows TotalCostFallbackMessage (I05). Without Enabled[Cost] a CostUpdated is answered and ignored.
3. With CustomizationCtrlr.CustomImplementationEnabled[org.openchargealliance.costmsg], the costmsg customData adds
   running-cost triggers (cost_triggers.py), texts in other languages (shown in DisplayMessageCtrlr.Language when
   given, languages outside SupportedLanguages dropped) and a QR code. A CostUpdated whose costmsg does not follow
   the format, or names another currency, gets a CALLERROR and changes nothing; in a response to our CALL it is
   ignored with a warning.
4. A driver's texts stay while its session lives; a final cost stays until another session starts on the EVSE.
5. The driver's languages (IdTokenInfo.language1, language2) come before DisplayMessageCtrlr.Language when the texts
   and the fallback messages are chosen.
6. A refused token's personal message (Blocked, Invalid, ...: the driver learns why) is shown for REFUSED_SHOWN,
   whatever becomes of the session (I01/C01).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chargecore.pure.blocks.authorization import authorization
from chargecore.pure.blocks.tariff_cost import cost_triggers, stored_views
from chargecore.pure.blocks.tariff_cost.costs import (
    COSTMSG,
    DriverView,
    common_problem,
    cost_problem,
    costmsg,
    exact_cost,
    extra_messages,
    in_language,
    next_period,
    prices,
    running_cost_problem,
)
from chargecore.pure.blocks.transactions.sessions import find_by_id
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_int, get_value
from chargecore.pure.effects import CostShown, Effects, Log, MessageContent, Persist, ShowCost, ShownMessage
from chargecore.pure.ocppj import connection
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.outcome import Handled, Reply
from chargecore.pure.state import OutboundCall, Station

CTRLR = "TariffCostCtrlr"
DEFAULT_DECIMALS = 3
REFUSED_SHOWN = timedelta(seconds=30)
"""How long a refused token's personal message stays on the display (rule 6): long enough to read, then it goes."""


# --- settings --------------------------------------------------------------------------------------------------


def enabled(station: Station, instance: str) -> bool:
    """TariffCostCtrlr Available and Enabled for Tariff or Cost."""
    model = station.device_model
    return get_bool(model, CTRLR, "Available", instance) and get_bool(model, CTRLR, "Enabled", instance)


def california(station: Station) -> bool:
    return get_bool(station.device_model, "CustomizationCtrlr", "CustomImplementationEnabled", COSTMSG)


def _text(station: Station, component: str, variable: str) -> str:
    return get_value(station.device_model, VariableKey(component, variable)) or ""


def _languages(station: Station) -> frozenset[str]:
    return frozenset(x for x in _text(station, "DisplayMessageCtrlr", "SupportedLanguages").split(",") if x)


def _station_language(station: Station) -> tuple[str, ...]:
    language = get_value(station.device_model, VariableKey("DisplayMessageCtrlr", "Language"))
    return () if language is None else (language,)


def _fallback(station: Station, variable: str, driver: tuple[str, ...] = ()) -> tuple[MessageContent, ...]:
    """A fallback text in the first of the driver's languages and DisplayMessageCtrlr.Language for which
    `variable[<language>]` has one (rule 5), else the plain one."""
    model = station.device_model
    for language in (*driver, *_station_language(station)):
        translated = get_value(model, VariableKey(CTRLR, variable, variable_instance=language))
        if translated:
            return (MessageContent(translated, "UTF8", language),)
    text = _text(station, CTRLR, variable)
    return (MessageContent(text, "UTF8"),) if text else ()


def _fallback_text(station: Station, variable: str, view: DriverView | None) -> str:
    return "".join(text.text for text in _fallback(station, variable, () if view is None else view.languages))


def _cost(station: Station, transaction_id: str, total: Any, final: bool, extra: dict[str, Any] | None) -> CostShown:
    decimals = get_int(station.device_model, CTRLR, "NumberOfDecimalsForCostValues", default=DEFAULT_DECIMALS)
    return CostShown(
        transaction_id=transaction_id,
        total=None if total is None else exact_cost(total, decimals),
        currency=_text(station, CTRLR, "Currency"),
        final=final,
        texts=_extra_texts(station, extra),
        qr_code=None if extra is None or not _qr_capable(station) else extra.get("qrCodeText"),
    )


def _with_prices(station: Station, cost: CostShown, data: dict[str, Any]) -> CostShown:
    decimals = get_int(station.device_model, CTRLR, "NumberOfDecimalsForCostValues", default=DEFAULT_DECIMALS)
    next_at, next_prices = next_period(data, decimals)
    return replace(cost, prices=prices(data, decimals), next_at=next_at, next_prices=next_prices)


def _qr_capable(station: Station) -> bool:
    """DisplayMessageCtrlr.QRCodeDisplayCapable: a display without QR codes gets no qrCodeText (as libocpp)."""
    return get_bool(station.device_model, "DisplayMessageCtrlr", "QRCodeDisplayCapable")


def _extra_texts(station: Station, extra: dict[str, Any] | None) -> tuple[MessageContent, ...]:
    """The updatedPersonalMessageExtra of a costmsg customData already checked (common_problem)."""
    texts, _ = extra_messages(extra or {}, "updatedPersonalMessageExtra")
    return _supported(station, texts)


def _supported(station: Station, texts: tuple[MessageContent, ...]) -> tuple[MessageContent, ...]:
    languages = _languages(station)
    return tuple(text for text in texts if text.language in languages)


def _costmsg(station: Station, custom_data: Any) -> tuple[dict[str, Any] | None, Effects]:
    """The costmsg customData of a response when California pricing is on and it follows the format (rule 3)."""
    data = costmsg(custom_data) if california(station) else None
    problem = None if data is None else common_problem(data)
    if problem is None:
        return data, ()
    return None, (Log("warning", f"{COSTMSG} customData ignored: {problem}"),)


# --- views -----------------------------------------------------------------------------------------------------


def _view(station: Station, evse_id: int) -> DriverView | None:
    return next((v for v in station.tariff_cost.views if v.evse_id == evse_id), None)


def _put(station: Station, view: DriverView) -> Station:
    others = tuple(v for v in station.tariff_cost.views if v.evse_id != view.evse_id)
    return replace(station, tariff_cost=replace(station.tariff_cost, views=(*others, view)))


def authorizing_evse(station: Station, id_token: dict[str, Any]) -> int | None:
    """The EVSE of the session waiting for this token's verdict (0: a station-wide reader), None if none is."""
    for tx in station.transactions:
        if tx.authorization == "authorizing" and authorization.same_token(tx.id_token, id_token):
            return tx.evse_id
    return None


def on_token_info(
    station: Station,
    evse_id: int | None,
    id_token: dict[str, Any],
    info: dict[str, Any],
    now: datetime,
    *,
    offline: bool = False,
) -> tuple[Station, Effects]:
    """Rules 1, 5 and 6 (and rule 3's personalMessageExtra) for an IdTokenInfo about a session on `evse_id`."""
    if evse_id is None:
        return station, ()
    size = get_int(station.device_model, "DisplayMessageCtrlr", "PersonalMessageSize")
    texts: tuple[MessageContent, ...] = ()
    if "personalMessage" in info and size > 0:
        personal = MessageContent.of(info["personalMessage"])
        texts = (replace(personal, text=personal.text[:size]),)
    data = costmsg(info.get("customData")) if california(station) else None
    extra, problem = extra_messages(data or {}, "personalMessageExtra")
    warned: Effects = () if problem is None else (Log("warning", f"{COSTMSG} customData ignored: {problem}"),)
    texts += tuple(replace(text, text=text.text[:size]) for text in _supported(station, extra) if size > 0)
    languages = tuple(info[key] for key in ("language1", "language2") if isinstance(info.get(key), str))
    accepted = info.get("status") == "Accepted"
    if not texts and accepted and enabled(station, "Tariff"):
        variable = "OfflineTariffFallbackMessage" if offline else "TariffFallbackMessage"
        texts = _fallback(station, variable, languages)
    until = None if accepted or not texts else now + REFUSED_SHOWN
    view = DriverView(evse_id, id_token.get("idToken"), texts=texts, languages=languages, until=until)
    return _put(station, view), warned


def on_local_verdict(station: Station, id_token: dict[str, Any], now: datetime) -> tuple[Station, Effects]:
    """A token accepted without an AuthorizeResponse (local list, cache, offline rules): rule 1's fallback tariff on
    its EVSE, the offline one when the CSMS is out of reach. The TransactionEventResponse may bring the real one."""
    for tx in station.transactions:
        if tx.authorization == "accepted" and authorization.same_token(tx.id_token, id_token):
            view = _view(station, tx.evse_id)
            if view is None or view.id_token != id_token.get("idToken"):
                offline = not connection.is_up(station)
                return on_token_info(station, tx.evse_id, id_token, {"status": "Accepted"}, now, offline=offline)
    return station, ()


def on_event_answered(
    station: Station, call: OutboundCall, response: dict[str, Any], now: datetime
) -> tuple[Station, Effects]:
    """A TransactionEventResponse: idTokenInfo (rule 1), updatedPersonalMessage (I06), totalCost (rule 2)."""
    request = call.payload
    transaction_id = request["transactionInfo"]["transactionId"]
    evse_id = _evse_of(station, request, transaction_id)
    if evse_id is None:
        return station, ()
    ended = request["eventType"] == "Ended"
    effects: Effects = ()
    if "idTokenInfo" in response and "idToken" in request:
        station, effects = on_token_info(station, evse_id, request["idToken"], response["idTokenInfo"], now)
    extra, warned = _costmsg(station, response.get("customData"))
    total = response.get("totalCost")
    if total is not None and cost_problem(total) is not None:
        warned += (Log("warning", f"TransactionEventResponse: {cost_problem(total)}; not shown"),)
        total = None
    view = _view(station, evse_id) or DriverView(evse_id)
    if "updatedPersonalMessage" in response and enabled(station, "Tariff"):
        updated = (MessageContent.of(response["updatedPersonalMessage"]), *_extra_texts(station, extra))
        view = replace(view, texts=updated)
    view = replace(view, transaction_id=transaction_id)
    if enabled(station, "Cost") and (total is not None or ended):
        cost = _cost(station, transaction_id, total, ended, extra)
        if cost.total is None:
            cost = replace(cost, fallback=_fallback_text(station, "TotalCostFallbackMessage", view))
        view = replace(view, cost=cost)
        effects += (ShowCost(evse_id, cost),)
    if not _taken_over(station, evse_id, transaction_id):
        station = _put(station, view)
    if ended:
        station = _forget(station, transaction_id)
    return station, warned + effects


def _taken_over(station: Station, evse_id: int, transaction_id: str) -> bool:
    """Another session runs on the EVSE now (an answer about an earlier transaction came late, e.g. after an
    offline spell): the cost goes to the hook with its transaction id, the display stays the new driver's."""
    return any(tx.evse_id == evse_id and tx.transaction_id != transaction_id for tx in station.transactions)


def handle_cost_updated(station: Station, call: Call, now: datetime) -> Handled:
    """I02 through CostUpdated (rules 2 and 3). Its response has no status: an unknown transaction is answered and
    logged."""
    request = call.payload
    data = costmsg(request.get("customData")) if california(station) else None
    problem = cost_problem(request["totalCost"])
    if problem is None and data is not None:
        found = running_cost_problem(data)
        problem = None if found is None else f"{COSTMSG}: {found}"
    currency = _text(station, CTRLR, "Currency")
    if problem is None and data is not None and data.get("currency", currency) != currency:
        problem = f"{COSTMSG}: the cost is in {data.get('currency')!r}, the station shows {currency}"
    if problem is not None:
        return station, CallError(call.message_id, "PropertyConstraintViolation", problem), ()
    if not enabled(station, "Cost"):
        return station, Reply({}), (Log("info", "CostUpdated ignored: TariffCostCtrlr Cost is not enabled"),)
    transaction_id = request["transactionId"]
    evse_id = _evse_of(station, {}, transaction_id)
    if evse_id is None:
        return station, Reply({}), (Log("warning", f"CostUpdated for unknown transaction {transaction_id!r}"),)
    final = data is not None and data.get("state") == "Idle" and find_by_id(station, transaction_id) is None
    cost = _cost(station, transaction_id, request["totalCost"], final, data)
    if data is not None:  # checked by running_cost_problem: the prices, the idle fee and the next period
        cost = _with_prices(station, cost, data)
    view = replace(_view(station, evse_id) or DriverView(evse_id), transaction_id=transaction_id, cost=cost)
    if not _taken_over(station, evse_id, transaction_id):
        station = _put(station, view)
    if data is not None:
        station = cost_triggers.set_triggers(station, transaction_id, evse_id, data.get("triggerMeterValue", {}))
    return station, Reply({}), (ShowCost(evse_id, cost),)


def _evse_of(station: Station, request: dict[str, Any], transaction_id: str) -> int | None:
    tx = find_by_id(station, transaction_id)
    if tx is not None:
        return tx.evse_id
    if "evse" in request:
        return int(request["evse"]["id"])
    known = dict(station.tariff_cost.evse_of).get(transaction_id)
    if known is not None:
        return known
    # a view restored after a restart knows its transaction's EVSE (stored_views.py)
    return next((v.evse_id for v in station.tariff_cost.views if v.transaction_id == transaction_id), None)


def _forget(station: Station, transaction_id: str) -> Station:
    kept = tuple(entry for entry in station.tariff_cost.evse_of if entry[0] != transaction_id)
    return replace(station, tariff_cost=replace(station.tariff_cost, evse_of=kept))


# --- after every step ------------------------------------------------------------------------------------------


def settle(station: Station, now: datetime) -> tuple[Station, Effects]:
    """Track the running transactions' EVSEs, show the offline fallback (rule 2), and drop the texts of sessions
    that are gone (rule 4)."""
    station, measured = cost_triggers.fire(station, now)
    state = station.tariff_cost
    if not state.views and not state.evse_of and not station.transactions:
        return station, measured
    language = _station_language(station)
    basis_now = (station.transactions, connection.is_up(station), state.views, state.evse_of, language)
    if state.basis == basis_now and not any(v.until is not None and v.until <= now for v in state.views):
        return station, measured
    running = {tx.transaction_id: tx.evse_id for tx in station.running_transactions}
    known = dict(state.evse_of)
    effects: Effects = ()
    sessions = {tx.evse_id: tx for tx in station.transactions}
    for transaction_id, evse_id in tuple(known.items()):
        if transaction_id in running or connection.is_up(station) or not enabled(station, "Cost"):
            continue
        if not _awaits_final_cost(_view(station, evse_id), sessions.get(evse_id), transaction_id):
            continue
        view = _view(station, evse_id) or DriverView(evse_id)
        cost = replace(
            _cost(station, transaction_id, None, True, None),
            fallback=_fallback_text(station, "TotalCostFallbackMessage", view),
        )
        station = _put(station, replace(view, transaction_id=transaction_id, cost=cost))
        effects += (ShowCost(evse_id, cost),)
    known.update(running)
    views = tuple(_moved(v, station) for v in station.tariff_cost.views)
    views = tuple(v for v in views if _lives(v, sessions, now))
    evse_of = tuple(sorted(known.items()))
    basis = (station.transactions, connection.is_up(station), views, evse_of, language)
    own = _own(station, views, language)
    entries = stored_views.persist_entries(station.tariff_cost.saved, views)
    effects = ((Persist(entries),) if entries else ()) + effects + _replayed(station, views, effects)
    tariff_cost = replace(
        station.tariff_cost, views=views, evse_of=evse_of, own=own, basis=basis, saved=views, replay=()
    )
    return replace(station, tariff_cost=tariff_cost), measured + effects


def _replayed(station: Station, views: tuple[DriverView, ...], shown: Effects) -> Effects:
    """After a restart: the restored costs shown again, unless this settle showed a newer one already."""
    replay = set(station.tariff_cost.replay) - {e.evse_id for e in shown if isinstance(e, ShowCost)}
    return tuple(ShowCost(v.evse_id, v.cost) for v in views if v.evse_id in replay and v.cost is not None)


def _awaits_final_cost(view: DriverView | None, session: Any, transaction_id: str) -> bool:
    """Does the display of the EVSE still belong to this ended transaction, without its final cost yet? Not once
    a final cost is shown, nor once another session has started there."""
    if session is not None and session.transaction_id != transaction_id:
        return False
    if view is None:
        return True
    final = view.cost is not None and view.cost.final
    return not final and view.transaction_id in (None, transaction_id)


def _moved(view: DriverView, station: Station) -> DriverView:
    """A station-wide reader's view follows its session to the EVSE where the EV plugged in."""
    if view.evse_id != 0:
        return view
    for tx in station.transactions:
        if tx.evse_id != 0 and tx.id_token is not None and tx.id_token.get("idToken") == view.id_token:
            return replace(view, evse_id=tx.evse_id)
    return view


def _lives(view: DriverView, sessions: Mapping[int, Any], now: datetime) -> bool:
    if view.until is not None:  # rule 6: a refused token's message, whatever the session does
        return now < view.until
    session = sessions.get(view.evse_id)
    if view.cost is not None and view.cost.final:
        return session is None or session.transaction_id == view.transaction_id
    if session is None:
        return view.evse_id == 0 and any(s.evse_id == 0 for s in sessions.values())
    return view.transaction_id in (None, session.transaction_id)


def display_languages(station: Station) -> dict[int, str]:
    """Each EVSE's display language for block O (rule 5): its driver's first language the station supports, else
    DisplayMessageCtrlr.Language."""
    station_language = _station_language(station)
    supported = _languages(station)
    views = {v.evse_id: v for v in station.tariff_cost.views}
    spoken: dict[int, str] = {}
    for evse_id in range(1, len(station.identity.evse_connectors) + 1):
        view = views.get(evse_id, views.get(0))
        driver = () if view is None else tuple(x for x in view.languages if x in supported)
        chosen = (*driver, *station_language)
        if chosen:
            spoken[evse_id] = chosen[0]
    return spoken


def own_messages(station: Station) -> dict[int, tuple[ShownMessage, ...]]:
    """The station's own messages per EVSE for the display block, as the last settle worked them out."""
    return dict(station.tariff_cost.own)


def _own(
    station: Station, views: tuple[DriverView, ...], language: tuple[str, ...]
) -> tuple[tuple[int, tuple[ShownMessage, ...]], ...]:
    """Each driver's texts in the driver's or else the station's language (rule 5), shown InFront; a station-wide
    reader's on every EVSE without its own."""
    everywhere = next((v for v in views if v.evse_id == 0), None)
    own: list[tuple[int, tuple[ShownMessage, ...]]] = []
    for evse_id in range(1, len(station.identity.evse_connectors) + 1):
        view = next((v for v in views if v.evse_id == evse_id), everywhere)
        texts = () if view is None else in_language(view.texts, (*view.languages, *language))
        if texts:
            own.append((evse_id, tuple(ShownMessage(text, "InFront") for text in texts)))
    return tuple(own)


def deadline(station: Station) -> datetime | None:
    """When a refused token's personal message leaves the display (rule 6)."""
    ends = [view.until for view in station.tariff_cost.views if view.until is not None]
    return min(ends) if ends else None
