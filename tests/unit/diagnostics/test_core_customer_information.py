"""CustomerInformation (N09, N10) through `step`: the question to the application, what the station adds about an
idToken, the parts the report is cut into, and the bound on their number."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from core_helpers import Sim, booted, of_type, replies

from chargecore.pure.blocks.authorization.tokens import token_key
from chargecore.pure.blocks.diagnostics.customer_information import CUT, DATA_LENGTH, MAX_PARTS, station_data
from chargecore.pure.effects import Ask, CustomerDataQuestion
from chargecore.pure.ocppj import rpc

TOKEN = {"idToken": "AB12", "type": "ISO14443"}


def request(sim: Sim, **payload: Any) -> Ask:
    effects = sim.csms_call("CustomerInformation", {"requestId": 9, "report": True, "clear": False, **payload})
    assert not replies(effects), "the application is asked before the answer"
    (ask,) = of_type(effects, Ask)
    return ask


def parts(sim: Sim) -> list[dict[str, Any]]:
    """Answer every CALL the station sends; the NotifyCustomerInformation payloads among them."""
    sent = []
    while sim.station.rpc.in_flight is not None:
        call = sim.outstanding()
        if call.action == "NotifyCustomerInformation":
            sent.append(call.payload)
        sim.reply({})
    return sent


@pytest.mark.requirements("N09.FR.02", "N09.FR.05")
def test_the_application_is_asked_with_the_one_reference_given() -> None:
    sim = booted()
    ask = request(
        sim,
        customerCertificate={
            "hashAlgorithm": "SHA256",
            "issuerNameHash": "a",
            "issuerKeyHash": "b",
            "serialNumber": "c",
        },
        clear=True,
    )
    question = ask.question
    assert isinstance(question, CustomerDataQuestion)
    assert (question.kind, question.reference["serialNumber"], question.clear) == ("customerCertificate", "c", True)
    (reply,) = replies(sim.answer(ask.question_id, ["contract certificate c: EMAID DE-ABC"]))
    assert reply[2] == {"status": "Accepted"}
    (part,) = parts(sim)
    assert part["data"] == "contract certificate c: EMAID DE-ABC" and part["seqNo"] == 0 and part["tbc"] is False


def test_report_parts_are_cut_at_the_schema_length_and_bounded_in_number() -> None:
    sim = booted()
    ask = request(sim, customerIdentifier="big")
    sim.answer(ask.question_id, ["y" * (DATA_LENGTH * (MAX_PARTS + 5))])
    sent = parts(sim)
    assert len(sent) == MAX_PARTS
    assert all(len(part["data"]) == DATA_LENGTH for part in sent)
    assert [part["seqNo"] for part in sent] == list(range(MAX_PARTS))
    assert [part["tbc"] for part in sent] == [True] * (MAX_PARTS - 1) + [False]
    assert sent[-1]["data"].endswith(CUT)


def test_queued_transaction_events_and_sessions_of_the_token_are_reported_and_kept() -> None:
    sim = booted()
    event = {
        "eventType": "Ended",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "triggerReason": "StopAuthorized",
        "seqNo": 4,
        "transactionInfo": {"transactionId": "tx-1"},
        "idToken": {"idToken": "ab12", "type": "ISO14443"},  # idToken is case insensitive
    }
    session, _, _ = rpc.enqueue_persistent(sim.station.rpc, "TransactionEvent", event)
    sim.station = replace(sim.station, rpc=session)
    lines = station_data(sim.station, token_key(TOKEN))
    assert lines == ["TransactionEvent Ended seqNo 4 of transaction tx-1 queued for the CSMS"]
    ask = request(sim, idToken=TOKEN, clear=True)
    sim.answer(ask.question_id, [])
    assert len(sim.station.rpc.lane) == 1, "the CSMS is still owed its TransactionEvent"
    assert "transaction tx-1 queued" in "".join(part["data"] for part in parts(sim))
