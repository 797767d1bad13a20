"""The kit's CSMS rules on hand-made transcripts: each rule quiet on a correct exchange, loud on its violation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from chargecore.testing.rules import RULES, Injection, ProbeContext, Violation, check
from chargecore.testing.transcript import render

T = "2026-12-04T13:00:00Z"
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
TOKEN = {"idToken": "TAG1", "type": "ISO14443"}
TX_INFO = {"transactionId": "tx1"}


@dataclass(frozen=True)
class Tapped:
    direction: Literal["sent", "received"]
    text: str
    at: float


class Transcript:
    """Builds a tap: `cs` frames go station -> CSMS, `csms` frames come back, each 10 ms after the last."""

    def __init__(self) -> None:
        self.frames: list[Tapped] = []
        self.clock = 100.0

    def _add(self, direction: Literal["sent", "received"], body: list[Any], after: float) -> Transcript:
        self.clock += after
        self.frames.append(Tapped(direction, json.dumps(body), self.clock))
        return self

    def cs(self, body: list[Any], after: float = 0.01) -> Transcript:
        return self._add("sent", body, after)

    def csms(self, body: list[Any], after: float = 0.01) -> Transcript:
        return self._add("received", body, after)

    def raw(self, direction: Literal["sent", "received"], text: str) -> Transcript:
        self.clock += 0.01
        self.frames.append(Tapped(direction, text, self.clock))
        return self

    def booted(self, status: str = "Accepted", interval: Any = 300, time: Any = T) -> Transcript:
        self.cs([2, "b1", "BootNotification", BOOT])
        return self.csms([3, "b1", {"currentTime": time, "interval": interval, "status": status}])

    def violations(self, **context: Any) -> list[Violation]:
        return check(self.frames, ProbeContext(**{"now": self.clock, **context}))


def ids(violations: list[Violation]) -> list[str]:
    return [violation.rule_id for violation in violations]


def charging_session() -> Transcript:
    """Boot, a status, a badge-started transaction with a meter value, and a CSMS request answered."""
    return (
        Transcript()
        .booted()
        .cs(
            [
                2,
                "s1",
                "StatusNotification",
                {"timestamp": T, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
            ]
        )
        .csms([3, "s1", {}])
        .cs([2, "a1", "Authorize", {"idToken": TOKEN}])
        .csms([3, "a1", {"idTokenInfo": {"status": "Accepted"}}])
        .cs(
            [
                2,
                "t1",
                "TransactionEvent",
                {
                    "eventType": "Started",
                    "timestamp": T,
                    "triggerReason": "Authorized",
                    "seqNo": 0,
                    "transactionInfo": TX_INFO,
                    "idToken": TOKEN,
                },
            ]
        )
        .csms([3, "t1", {"idTokenInfo": {"status": "Accepted"}}])
        .cs(
            [
                2,
                "t2",
                "TransactionEvent",
                {
                    "eventType": "Updated",
                    "timestamp": T,
                    "triggerReason": "MeterValuePeriodic",
                    "seqNo": 1,
                    "transactionInfo": TX_INFO,
                    "meterValue": [{"timestamp": T, "sampledValue": [{"value": 12.5}]}],
                },
            ]
        )
        .csms([3, "t2", {}])
        .csms(
            [
                2,
                "c1",
                "GetVariables",
                {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "MessageTimeout"}}]},
            ]
        )
        .cs(
            [
                3,
                "c1",
                {
                    "getVariableResult": [
                        {
                            "attributeStatus": "Accepted",
                            "component": {"name": "OCPPCommCtrlr"},
                            "variable": {"name": "MessageTimeout"},
                            "attributeValue": "30",
                        }
                    ]
                },
            ]
        )
    )


def test_a_correct_session_breaks_no_rule() -> None:
    assert charging_session().violations() == []


def test_every_rule_has_an_id_requirements_and_a_description() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    assert all(rule.requirements and rule.description for rule in RULES)


@pytest.mark.requirements("B01.FR.02")
@pytest.mark.parametrize(
    ("interval", "time"),
    [("300", T), (300.5, T), (-1, T), (10**9, T), (300, "yesterday"), (300, "2026-12-04T13:00:00"), (None, T)],
)
def test_a_boot_answer_needs_an_integer_interval_and_an_rfc3339_time(interval: Any, time: Any) -> None:
    found = Transcript().booted(interval=interval, time=time).violations()
    assert "boot-answer" in ids(found)
    assert found[ids(found).index("boot-answer")].frames == (1,)


def test_a_string_interval_also_breaks_the_response_schema() -> None:
    assert {"answer-schema", "boot-answer"} <= set(ids(Transcript().booted(interval="300").violations()))


@pytest.mark.requirements("E01.FR.03", "E03.FR.02")
def test_a_transaction_event_with_an_id_token_needs_id_token_info() -> None:
    session = charging_session()
    started = next(i for i, f in enumerate(session.frames) if '"t1"' in f.text and f.direction == "received")
    session.frames[started] = Tapped("received", json.dumps([3, "t1", {}]), session.frames[started].at)
    found = session.violations()
    assert ids(found) == ["transaction-token"]
    assert found[0].frames == (started - 1, started)


def test_a_transaction_event_without_id_token_needs_no_id_token_info() -> None:
    session = charging_session()
    assert not [f for f in session.frames if '"t2"' in f.text and "idTokenInfo" in f.text]
    assert session.violations() == []


@pytest.mark.requirements("B02.FR.01", "B02.FR.05")
def test_while_pending_the_csms_may_only_configure_and_ask() -> None:
    pending = Transcript().booted(status="Pending")
    pending.csms([2, "c1", "GetBaseReport", {"requestId": 1, "reportBase": "FullInventory"}])
    pending.cs([3, "c1", {"status": "Accepted"}])
    assert pending.violations() == []
    pending.csms([2, "c2", "RequestStartTransaction", {"idToken": TOKEN, "remoteStartId": 1}])
    found = pending.violations()
    assert ids(found) == ["calls-before-accepted"]
    assert "RequestStartTransaction while the boot is Pending" in found[0].message


@pytest.mark.requirements("B03.FR.03")
@pytest.mark.parametrize("status", ["Rejected", None])
def test_when_rejected_or_before_any_answer_the_csms_sends_no_call(status: str | None) -> None:
    session = Transcript().booted(status=status) if status else Transcript()
    session.csms(
        [2, "c1", "GetVariables", {"getVariableData": [{"component": {"name": "X"}, "variable": {"name": "Y"}}]}]
    )
    assert ids(session.violations()) == ["calls-before-accepted"]


def test_calls_are_fine_once_a_later_boot_is_accepted() -> None:
    session = Transcript().booted(status="Pending").booted(status="Accepted")
    session.csms([2, "c1", "Reset", {"type": "Immediate"}])
    assert session.violations() == []


def test_an_unanswered_call_is_late_only_after_message_timeout() -> None:
    session = Transcript().booted().cs([2, "h1", "Heartbeat", {}])
    assert session.violations(now=session.clock + 29, message_timeout=30) == []
    found = session.violations(now=session.clock + 31, message_timeout=30)
    assert ids(found) == ["answer-in-time"]
    assert found[0].frames == (2,)


def test_a_late_answer_breaks_the_timeout_rule() -> None:
    session = Transcript().booted().cs([2, "h1", "Heartbeat", {}]).csms([3, "h1", {"currentTime": T}], after=5)
    assert ids(session.violations(message_timeout=2)) == ["answer-in-time"]
    assert session.violations(message_timeout=10) == []


def test_a_call_outstanding_when_the_line_is_cut_is_not_late() -> None:
    session = Transcript().booted().cs([2, "h1", "Heartbeat", {}])
    assert session.violations(now=session.clock + 60, breaks=(session.clock + 1,)) == []


def test_an_answer_that_fails_its_schema_is_caught() -> None:
    session = Transcript().booted().cs([2, "h1", "Heartbeat", {}]).csms([3, "h1", {"currentTime": 5}])
    found = session.violations()
    assert ids(found) == ["answer-schema"]
    assert "TypeConstraintViolation" in found[0].message


def test_a_callerror_needs_a_part4_code() -> None:
    session = Transcript().booted().cs([2, "h1", "Heartbeat", {}]).csms([4, "h1", "Oops", "", {}])
    assert ids(session.violations()) == ["error-code"]
    fine = Transcript().booted().cs([2, "h1", "Heartbeat", {}]).csms([4, "h1", "InternalError", "", {}])
    assert fine.violations() == []


def test_a_csms_call_must_fit_its_schema() -> None:
    session = Transcript().booted().csms([2, "c1", "Reset", {"type": "Sometime"}])
    assert ids(session.violations()) == ["csms-call-schema"]


def test_text_that_is_no_frame_is_caught() -> None:
    assert ids(Transcript().booted().raw("received", "hello").violations()) == ["rpc-frame"]


def test_a_reused_message_id_on_one_connection_is_caught_but_not_across_a_reconnect() -> None:
    def session() -> Transcript:
        s = Transcript().booted()
        s.csms([2, "c1", "Reset", {"type": "OnIdle"}]).cs([3, "c1", {"status": "Accepted"}])
        return s

    reused = session()
    reused.csms([2, "c1", "Reset", {"type": "OnIdle"}]).cs([3, "c1", {"status": "Accepted"}])
    assert ids(reused.violations()) == ["unique-ids"]
    reconnected = session()
    cut = reconnected.clock + 0.005
    reconnected.csms([2, "c1", "Reset", {"type": "OnIdle"}]).cs([3, "c1", {"status": "Accepted"}])
    assert reconnected.violations(breaks=(cut,)) == []


def test_a_second_call_before_the_first_is_answered_is_caught() -> None:
    session = Transcript().booted()
    session.csms([2, "c1", "Reset", {"type": "OnIdle"}]).csms([2, "c2", "Reset", {"type": "OnIdle"}])
    session.cs([3, "c1", {"status": "Accepted"}]).cs([3, "c2", {"status": "Accepted"}])
    assert ids(session.violations()) == ["one-call-at-a-time"]


def test_answers_to_nothing_and_double_answers_are_caught() -> None:
    stray = charging_session().csms([4, "zz", "NotImplemented", "", {}])
    assert ids(stray.violations()) == ["replies-match"]
    twice = Transcript().booted().csms([3, "b1", {"currentTime": T, "interval": 300, "status": "Accepted"}])
    assert ids(twice.violations()) == ["replies-match"]


def _injected(session: Transcript, text: str, message_id: str | None, expected: str | None) -> Injection:
    session.raw("sent", text)
    return Injection(text, message_id, expected, "a test frame", session.clock)


def test_garbage_must_get_the_right_error_code() -> None:
    session = Transcript().booted()
    wrong = _injected(session, '[2,"g1","Heartbeat",{"x":1}]', "g1", "FormatViolation")
    session.csms([4, "g1", "FormatViolation", "", {}])
    assert session.violations(injections=(wrong,)) == []
    other = Transcript().booted()
    injection = _injected(other, '[2,"g1","Heartbeat",{"x":1}]', "g1", "FormatViolation")
    other.csms([4, "g1", "GenericError", "", {}])
    found = other.violations(injections=(injection,))
    assert ids(found) == ["garbage-answered"]
    assert "GenericError" in found[0].message and found[0].frames == (2, 3)


def test_unreadable_garbage_is_answered_with_message_id_minus_one() -> None:
    session = Transcript().booted()
    injection = _injected(session, "not json", None, "RpcFrameworkError")
    session.csms([4, "-1", "RpcFrameworkError", "", {}])
    assert session.violations(injections=(injection,)) == []


def test_unanswered_garbage_and_a_dropped_line_are_caught() -> None:
    session = Transcript().booted()
    injection = _injected(session, '[7,"g1"]', "g1", "MessageTypeNotSupported")
    session.cs([2, "h1", "Heartbeat", {}])
    assert session.violations(injections=(injection,), now=session.clock + 1) == []
    found = session.violations(injections=(injection,), now=session.clock + 60)
    assert set(ids(found)) == {"garbage-answered", "keeps-connection", "answer-in-time"}


def test_the_transcript_names_answers_after_their_call_and_marks_the_fault() -> None:
    session = Transcript().booted(interval="300")
    text = render(session.frames, marked={1})
    first, second = text.splitlines()
    assert "CS -> CSMS  BootNotification #b1" in first and first.startswith("  ")
    assert "CS <- CSMS  BootNotification.result #b1" in second and second.startswith("!!")
    assert '"interval":"300"' in second
    long = render(Transcript().cs([2, "d1", "DataTransfer", {"vendorId": "v", "data": "x" * 500}]).frames)
    assert long.endswith("...") and len(long) < 200


def test_the_docs_list_every_rule_with_its_requirements() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "testing_kit.md").read_text(encoding="utf-8")
    table = docs.split("## Rules checked", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:4] for line in table.splitlines() if line.startswith("| `")]
    listed = [(rule.strip(" `"), requirements.strip(), what.strip()) for rule, requirements, what in rows]
    assert listed == [(rule.id, ", ".join(rule.requirements), rule.description) for rule in RULES]


def test_garbage_repeating_a_message_id_may_be_answered_each_time() -> None:
    session = Transcript().booted()
    first = _injected(session, '[2,"0","Authorize",{"x":1}]', "0", "FormatViolation")
    session.csms([4, "0", "FormatViolation", "", {}])
    second = _injected(session, '["2","0","Heartbeat",{}]', "0", "RpcFrameworkError")
    session.csms([4, "0", "RpcFrameworkError", "", {}])
    assert session.violations(injections=(first, second)) == []


def test_a_transcript_window_still_names_answers_after_calls_before_it() -> None:
    text = render(Transcript().booted().frames, marked={1}, first=1)
    assert text.startswith("!! ") and "BootNotification.result #b1" in text and "+0.000s" in text
