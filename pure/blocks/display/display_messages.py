"""Block O, display messages: SetDisplayMessage (O01, O02, O06), GetDisplayMessages answered by
NotifyDisplayMessages (O03, O04), ClearDisplayMessage (O05), the stored messages persisted, and after every step
the `ShowMessages` each EVSE's display needs (messages.choose).

Rules that do not fit the choice:
1. A SetDisplayMessage is refused, nothing stored, in this order: the block switched off (DisplayMessageCtrlr
   Available/Enabled false: Rejected), a priority outside SupportedPriorities (NotSupportedPriority, O01.FR.03), a
   format outside SupportedFormats (NotSupportedMessageFormat, O01.FR.02), a state outside SupportedStates
   (NotSupportedState), a transactionId of no running transaction (UnknownTransaction, O02.FR.01), then Rejected
   for what cannot be shown: ASCII text that is not ASCII, an EVSE the station lacks, an empty or past window, or
   a new id beyond DisplayMessageCtrlr.DisplayMessages maxLimit.
2. The same id replaces the stored message (O06.FR.01) and counts as set anew.
3. A message leaves the store when its endDateTime has passed or its transaction has ended (the station "can remove
   messages when they are out-dated, or transactions have ended", TC_O_02); DisplayMessages counts what is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from returns.result import Failure, Success

from chargecore.pure.blocks.display.messages import Display, EvseSituation, StoredMessage, choose
from chargecore.pure.blocks.display.messages import next_edge as _next_edge
from chargecore.pure.blocks.provisioning.reports import report_limits
from chargecore.pure.blocks.transactions.sessions import evse_exists, find_by_id
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_bool, get_value, set_value
from chargecore.pure.effects import Effects, Log, MessageContent, Persist, ShowMessages, ShownMessage
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call, CallError
from chargecore.pure.ocppj.message_split import split
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.ocppj.timestamps import later, parse_ocpp_time, station_time
from chargecore.pure.outcome import Handled, Reply, refusal
from chargecore.pure.state import Station, Transaction

CTRLR = "DisplayMessageCtrlr"
COUNT = VariableKey(CTRLR, "DisplayMessages")
KEY_PREFIX = "display/message/"


def in_use(station: Station) -> bool:
    """DisplayMessageCtrlr Available and Enabled."""
    model = station.device_model
    return get_bool(model, CTRLR, "Available") and get_bool(model, CTRLR, "Enabled")


def _members(station: Station, variable: str) -> frozenset[str]:
    value = get_value(station.device_model, VariableKey(CTRLR, variable)) or ""
    return frozenset(member for member in value.split(",") if member)


def capacity(station: Station) -> int:
    """How many messages the station stores: the maxLimit of DisplayMessageCtrlr.DisplayMessages."""
    definition = station.device_model.definitions.get(COUNT)
    return 0 if definition is None or definition.max_limit is None else int(definition.max_limit)


# --- SetDisplayMessage (O01, O02, O06) --------------------------------------------------------------------------


def handle_set_display_message(station: Station, call: Call, now: datetime) -> Handled:
    info: dict[str, Any] = call.payload["message"]
    status = _refused_status(station, info)
    if status is not None:
        return station, refusal(*status), ()
    parsed = parse_message(station, info, station.display.next_order)
    if isinstance(parsed, str):
        return station, refusal("Rejected", "InvalidValue", parsed), ()
    if parsed.end is not None and parsed.end <= station_time(station, now):
        return station, refusal("Rejected", "InvalidValue", "endDateTime has passed"), ()
    kept = tuple(m for m in station.display.messages if m.message_id != parsed.message_id)
    if len(kept) >= capacity(station):
        return station, refusal("Rejected", "TooManyElements", f"{capacity(station)} messages stored already"), ()
    display = replace(station.display, messages=(*kept, parsed), next_order=parsed.order + 1)
    station, counted = _stored(station, display)
    entry = (f"{KEY_PREFIX}{parsed.message_id}", {"info": info, "order": parsed.order})
    return station, Reply({"status": "Accepted"}), (Persist((entry,)), *counted)


def _refused_status(station: Station, info: dict[str, Any]) -> tuple[str, str, str] | None:
    """Rule 1 up to UnknownTransaction: (status, reasonCode, additionalInfo), or None."""
    if not in_use(station):
        return "Rejected", "NotEnabled", "DisplayMessageCtrlr is not available or not enabled"
    if info["priority"] not in _members(station, "SupportedPriorities"):
        return "NotSupportedPriority", "UnsupportedParam", info["priority"]
    if info["message"]["format"] not in _members(station, "SupportedFormats"):
        return "NotSupportedMessageFormat", "UnsupportedParam", info["message"]["format"]
    state = info.get("state")
    if state is not None and state not in _members(station, "SupportedStates"):
        return "NotSupportedState", "UnsupportedParam", state
    transaction_id = info.get("transactionId")
    if transaction_id is not None and not _running(station, transaction_id):
        return "UnknownTransaction", "TxNotFound", transaction_id
    return None


def _running(station: Station, transaction_id: str) -> bool:
    tx = find_by_id(station, transaction_id)
    return tx is not None and tx.phase == "started"


def parse_message(station: Station, info: dict[str, Any], order: int) -> StoredMessage | str:
    """A schema-valid MessageInfoType as a stored message, or why it cannot be shown."""
    content = MessageContent.of(info["message"])
    if content.format == "ASCII" and not content.text.isascii():
        return "ASCII content holds characters outside ASCII"
    window: list[datetime | None] = []
    for field in ("startDateTime", "endDateTime"):
        parsed = None if field not in info else parse_ocpp_time(info[field])
        if isinstance(parsed, Failure):
            return f"{field}: {parsed.failure()}"
        window.append(None if parsed is None else parsed.unwrap())
    start, end = window
    if start is not None and end is not None and end <= start:
        return "endDateTime is not after startDateTime"
    evse = info.get("display", {}).get("evse")
    if evse is not None and not evse_exists(station, evse["id"]):
        return f"the station has no EVSE {evse['id']}"
    return StoredMessage(
        message_id=info["id"],
        priority=info["priority"],
        content=content,
        order=order,
        info=info,
        state=info.get("state"),
        start=start,
        end=end,
        transaction_id=info.get("transactionId"),
        evse_id=None if evse is None else evse["id"],
    )


def _stored(station: Station, display: Display) -> tuple[Station, Effects]:
    """Keep `display` and make DisplayMessages count its messages."""
    counted = set_value(station.device_model, COUNT, str(len(display.messages)), respect_mutability=False)
    if isinstance(counted, Failure):  # more stored than maxLimit: a catalogue changed under persisted messages
        return replace(station, display=display), (Log("warning", f"DisplayMessages: {counted.failure()}"),)
    return replace(station, display=display, device_model=counted.unwrap()), ()


# --- GetDisplayMessages (O03, O04) and ClearDisplayMessage (O05) -----------------------------------------------


def handle_get_display_messages(station: Station, call: Call, now: datetime) -> Handled:
    """O03/O04: every criterion given must match (ids, priority, state); Unknown when nothing does, otherwise
    Accepted and then NotifyDisplayMessages, split by ItemsPerMessage/BytesPerMessage[GetReport], tbc on all but
    the last."""
    request = call.payload
    ids = request.get("id")
    found = [
        m.info
        for m in sorted(station.display.messages, key=lambda m: m.order)
        if (ids is None or m.message_id in ids)
        and request.get("priority", m.priority) == m.priority
        and ("state" not in request or request["state"] == m.state)
    ]
    if not found:
        return station, Reply({"status": "Unknown"}), ()
    request_id = request["requestId"]

    def payload_of(chunk: Any, seq_no: int, tbc: bool) -> dict[str, Any]:
        return {"requestId": request_id, "messageInfo": list(chunk), "tbc": tbc}

    items, size = report_limits(station.device_model)
    messages = split("NotifyDisplayMessages", found, payload_of, items, size)
    if isinstance(messages, Failure):
        return station, CallError(call.message_id, "InternalError", messages.failure()), ()
    session = station.rpc
    effects: Effects = ()
    for payload in messages.unwrap():
        session, queued = rpc.enqueue(session, "NotifyDisplayMessages", payload)
        effects += queued
    return replace(station, rpc=session), Reply({"status": "Accepted"}), effects


def handle_clear_display_message(station: Station, call: Call, now: datetime) -> Handled:
    message_id = call.payload["id"]
    kept = tuple(m for m in station.display.messages if m.message_id != message_id)
    if len(kept) == len(station.display.messages):
        return station, Reply({"status": "Unknown"}), ()
    station, counted = _stored(station, replace(station.display, messages=kept))
    return station, Reply({"status": "Accepted"}), (Persist(((f"{KEY_PREFIX}{message_id}", None),)), *counted)


# --- the displays --------------------------------------------------------------------------------------------


def situation(
    station: Station, evse_id: int, running: tuple[Transaction, ...], language: str | None = None
) -> EvseSituation:
    """The EVSE's MessageStateEnumType: Faulted or Unavailable as its connectors show, else Charging while a
    transaction runs on it, else Idle."""
    statuses = {
        status
        for connector, (status, _) in zip(station.connectors, station.availability.shown, strict=False)
        if connector.evse_id == evse_id
    }
    transaction = next((tx for tx in running if tx.evse_id == evse_id), None)
    if "Faulted" in statuses:
        state = "Faulted"
    elif "Unavailable" in statuses:
        state = "Unavailable"
    else:
        state = "Idle" if transaction is None else "Charging"
    return EvseSituation(evse_id, state, None if transaction is None else transaction.transaction_id, language)


def settle(
    station: Station,
    now: datetime,
    own: Mapping[int, tuple[ShownMessage, ...]] | None = None,
    languages: Mapping[int, str] | None = None,
) -> tuple[Station, Effects]:
    """Rule 3, then a ShowMessages for every EVSE whose list changed. `own` holds the station's own messages per
    EVSE and `languages` each EVSE's display language (both the tariff and cost block's: its driver's language,
    else DisplayMessageCtrlr.Language); a message in another language is not shown there (rule 1)."""
    own = own or {}
    languages = languages or {}
    display = station.display
    if not display.messages and not display.shown and not own:
        # Nothing left to show: an edge of a message cleared before it began must not stay due as a timer.
        if display.next_edge is not None:
            station = replace(station, display=replace(display, next_edge=None))
        return station, ()
    moment = station_time(station, now)
    running_transactions = station.running_transactions
    transactions = tuple((tx.evse_id, tx.transaction_id) for tx in running_transactions)
    offset = station.registration.clock_offset
    spoken = tuple(sorted(languages.items()))
    basis = (display.messages, tuple(sorted(own.items())), station.availability.shown, transactions, offset, spoken)
    if basis == display.basis and (display.next_edge is None or moment < display.next_edge):
        return station, ()
    running = {transaction_id for _, transaction_id in transactions}
    kept = tuple(
        m
        for m in display.messages
        if (m.end is None or moment < m.end) and (m.transaction_id is None or m.transaction_id in running)
    )
    effects: Effects = ()
    if len(kept) != len(display.messages):
        gone = tuple((f"{KEY_PREFIX}{m.message_id}", None) for m in display.messages if m not in kept)
        station, counted = _stored(station, replace(display, messages=kept))
        display, effects = station.display, (Persist(gone), *counted)
    before = dict(display.shown)
    shown: list[tuple[int, tuple[ShownMessage, ...]]] = []
    for evse_id in range(1, len(station.identity.evse_connectors) + 1):
        where = situation(station, evse_id, running_transactions, languages.get(evse_id))
        chosen = choose(kept, where, moment, own.get(evse_id, ()))
        if chosen or evse_id in before:
            shown.append((evse_id, chosen))
        if chosen != before.get(evse_id, ()):
            effects += (ShowMessages(evse_id, chosen),)
    basis = (kept, *basis[1:])
    shown_now = tuple((e, s) for e, s in shown if s)
    display = replace(display, shown=shown_now, next_edge=_next_edge(kept, moment), basis=basis)
    return replace(station, display=display), effects


def deadline(station: Station) -> datetime | None:
    """The next window edge after the last evaluation, in shell time."""
    edge = station.display.next_edge
    return None if edge is None else later(edge, -station.registration.clock_offset)


def _record_problem(record: Any) -> str | None:
    """Why a stored record is not as `handle_set_display_message` writes it (a schema-valid MessageInfo and its
    order), or None."""
    if not isinstance(record, dict) or not isinstance(record.get("order"), int):
        return "not a record with its order"
    checked = validate("SetDisplayMessage", "Request", {"message": record.get("info")})
    return None if isinstance(checked, Success) else f"not a valid MessageInfo ({checked.failure()})"


def _read_stored(station: Station, persisted: Mapping[str, Any]) -> tuple[tuple[StoredMessage, ...], tuple[str, ...]]:
    """The messages an earlier run stored, and each record that cannot be one, named with its key and why."""
    messages: list[StoredMessage] = []
    problems: list[str] = []
    for stored_key, record in persisted.items():
        if not stored_key.startswith(KEY_PREFIX):
            continue
        problem = _record_problem(record)
        parsed = problem if problem is not None else parse_message(station, record["info"], record["order"])
        if isinstance(parsed, StoredMessage):
            messages.append(parsed)
        else:
            problems.append(f"{stored_key}: stored display message dropped: {parsed}")
    return tuple(messages), tuple(problems)


def dropped_at_restore(station: Station, persisted: Mapping[str, Any]) -> tuple[str, ...]:
    """What `restore` drops, one line each, for the shell to log (stored data is never lost silently)."""
    return _read_stored(station, persisted)[1]


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The messages an earlier run stored; a record that no longer parses (damaged, a changed catalogue) is dropped
    and named by `dropped_at_restore`."""
    messages, _ = _read_stored(station, persisted)
    if not messages:
        return station
    ordered = tuple(sorted(messages, key=lambda m: m.order))
    display = Display(messages=ordered, next_order=ordered[-1].order + 1)
    restored, _ = _stored(station, display)
    return restored
