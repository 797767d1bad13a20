"""Block N, customer information: CustomerInformation (N09 get, N10 clear), answered by NotifyCustomerInformation.

Rules, in the order the handler applies them:

1. N09.FR.09 (errata 2023-12): a request naming no customer, or more than one of idToken, customerCertificate and
   customerIdentifier, is answered Invalid.
2. N09.FR.07 / N10.FR.07: report and clear both false is answered Rejected (there is nothing to do).
3. Otherwise the application is asked first (`CustomerDataQuestion`): it reports, and with clear deletes, what it
   holds about the customer. A hook that fails is answered Rejected (N09.FR.03, N10.FR.05) and nothing is cleared.
4. The station adds what it holds itself about an idToken (customerCertificate and customerIdentifier name data
   only the application has):
   - the local authorization list entry: reported, never cleared: only the CSMS changes the list (N10.FR.03 and
     its note; the CSMS updates it with SendLocalList, N10.FR.02);
   - the authorization cache entry: reported and, with clear, removed (N10.FR.03, N10.FR.06);
   - the sessions and transactions the token authorized, and the TransactionEvents queued for the CSMS that carry
     it: reported, never cleared: they are the billing record the CSMS is owed (E13), and it holds them anyway.
5. The reply is Accepted (N09.FR.02, N10.FR.01), and after it NotifyCustomerInformation parts (seqNo from 0, tbc
   true on all but the last, generatedAt, the requestId), each `data` at most 512 characters (the schema):
   - report: the data found (N09.FR.05, N10.FR.03), or one part with empty data when nothing was found
     (N09.FR.06, N10.FR.04; TC_N_62 step 7 expects it empty);
   - clear without report: one part saying the data was cleared (N10.FR.06).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.blocks.authorization import auth_cache
from chargecore.pure.blocks.authorization.tokens import TokenKey, token_key
from chargecore.pure.effects import CustomerDataQuestion, CustomerReference, Effects, Persist
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import ocpp_time
from chargecore.pure.outcome import Defer, Handled, Reply, refusal
from chargecore.pure.state import Station

REFERENCES: tuple[CustomerReference, ...] = ("idToken", "customerCertificate", "customerIdentifier")
DATA_LENGTH = 512
"""NotifyCustomerInformationRequest.data is string(512)."""
MAX_PARTS = 128
"""At most this many parts (64 KiB of text) per request: more data than that is cut, and the last part says so."""
CLEARED = "Customer information cleared"
CUT = "[more data not sent]"


def handle_customer_information(station: Station, call: Call, now: datetime) -> Handled:
    request = call.payload
    named = [name for name in REFERENCES if name in request]
    if len(named) != 1:  # N09.FR.09
        return station, refusal("Invalid", "InvalidValue", "name exactly one of " + ", ".join(REFERENCES)), ()
    if not request["report"] and not request["clear"]:  # N09.FR.07, N10.FR.07
        return station, refusal("Rejected", "InvalidValue", "neither report nor clear asked for"), ()
    return station, Defer(CustomerDataQuestion(named[0], request[named[0]], request["clear"])), ()


def resume_customer_information(station: Station, call: Call, answer: Any, now: datetime) -> Handled:
    """The application answered with its lines about the customer (None: it failed, so nothing is cleared)."""
    if answer is None:
        return station, refusal("Rejected", "InternalError", "the charger could not take the request"), ()
    request = call.payload
    lines = [str(line) for line in answer]
    cleared: Effects = ()
    if "idToken" in request:
        key = token_key(request["idToken"])
        lines += station_data(station, key)
        if request["clear"]:
            station, cleared = _clear_cache_entry(station, key)
    texts = _texts(lines) if request["report"] else [CLEARED]
    session = station.rpc
    queued: Effects = ()
    for payload in _parts(texts, request["requestId"], ocpp_time(station, now)):
        session, more = rpc.enqueue(session, "NotifyCustomerInformation", payload, triggered=True)
        queued += more
    return replace(station, rpc=session), Reply({"status": "Accepted"}), cleared + queued


def station_data(station: Station, key: TokenKey) -> list[str]:
    """What the station itself holds about one idToken, one line per record."""
    lines = []
    listed = station.tokens.local_list.entries.get(key)
    if listed is not None:
        lines.append(f"Local authorization list: {_token(listed['idToken'])}, {_info(listed.get('idTokenInfo'))}")
    cached = station.tokens.cache.get(key)
    if cached is not None:
        lines.append(
            f"Authorization cache: {_token(cached.id_token)}, {_info(cached.id_token_info)}, "
            f"last used {cached.last_used.isoformat(timespec='seconds')}"
        )
    for tx in station.transactions:
        if tx.id_token is not None and token_key(tx.id_token) == key:
            lines.append(f"Transaction {tx.transaction_id} on EVSE {tx.evse_id} ({tx.phase}), authorized by it")
    for message in station.rpc.lane:
        token = message.payload.get("idToken") if message.action == "TransactionEvent" else None
        if isinstance(token, dict) and token_key(token) == key:
            info = message.payload.get("transactionInfo", {})
            lines.append(
                f"TransactionEvent {message.payload.get('eventType')} seqNo {message.payload.get('seqNo')} of "
                f"transaction {info.get('transactionId')} queued for the CSMS"
            )
    return lines


def _token(id_token: Any) -> str:
    return f"idToken {id_token.get('idToken')} ({id_token.get('type')})" if isinstance(id_token, dict) else "idToken"


def _info(info: Any) -> str:
    if not isinstance(info, dict):
        return "no idTokenInfo"
    group = info.get("groupIdToken")
    status = f"status {info.get('status')}"
    return f"{status}, group {group.get('idToken')}" if isinstance(group, dict) else status


def _clear_cache_entry(station: Station, key: TokenKey) -> tuple[Station, Effects]:
    """N10.FR.03/06: the cache entry goes, persisted; the local list stays (only the CSMS changes it)."""
    if key not in station.tokens.cache:
        return station, ()
    remaining = {kept: entry for kept, entry in station.tokens.cache.items() if kept != key}
    return auth_cache.hold(station, remaining), (Persist(((auth_cache.persist_key(key), None),)),)


def _texts(lines: Sequence[str]) -> list[str]:
    """The report text cut into `data` values of at most DATA_LENGTH characters, at most MAX_PARTS of them; no
    data gives one empty value (N09.FR.06)."""
    text = "\n".join(lines)
    chunks = [text[start : start + DATA_LENGTH] for start in range(0, len(text), DATA_LENGTH)] or [""]
    if len(chunks) > MAX_PARTS:
        chunks = chunks[:MAX_PARTS]
        chunks[-1] = chunks[-1][: DATA_LENGTH - len(CUT)] + CUT
    return chunks


def _parts(texts: Sequence[str], request_id: int, generated_at: str) -> list[dict[str, Any]]:
    last = len(texts) - 1
    return [
        {"data": text, "tbc": seq_no < last, "seqNo": seq_no, "generatedAt": generated_at, "requestId": request_id}
        for seq_no, text in enumerate(texts)
    ]
