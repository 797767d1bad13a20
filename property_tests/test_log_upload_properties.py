"""GetLog (N01) under random interleavings of requests, attempt outcomes (current or stale), time passing and
TriggerMessage(LogStatusNotification).

The oracle is written here from N01.FR.07-13/20 and the errata's N01.FR.10 note, not read from logs.py:

- every LogStatusNotification but Idle names a request that was answered Accepted or AcceptedCanceled;
- per request, its statuses are Uploading (once, plus any a trigger asked for) and then at most one final status;
  nothing after the final one;
- a request is answered AcceptedCanceled exactly when an earlier one had no final status yet, and that earlier one
  then ends AcceptedCanceled (N01.FR.12, N01.FR.20);
- a request gets at most retries + 1 attempts (UploadLog effects), and its failure is final only after the last
  one unless the location itself is unusable (BadMessage, NotSupportedOperation);
- a triggered status is Uploading with the unfinished request's id when there is one, else Idle (N01.FR.13).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from core_helpers import Sim, at, booted, of_type, replies
from hypothesis import given, settings
from hypothesis import strategies as st

from chargecore.pure.effects import Effects, UploadLog
from chargecore.pure.inputs import LogUploadEnded

FINAL = {"Uploaded", "UploadFailure", "PermissionDenied", "BadMessage", "NotSupportedOperation", "AcceptedCanceled"}
LOCATIONS = {"good": "http://logs.example.com/up/", "bad": "not a url", "unsupported": "sftp://logs.example.com/"}
FAILURES = [None, "unreachable", "access denied", "bad url", "server error"]

GET = st.tuples(st.just("get"), st.integers(0, 3), st.integers(0, 5), st.sampled_from(sorted(LOCATIONS)), st.booleans())
END = st.tuples(st.just("end"), st.sampled_from(FAILURES), st.booleans())
WAIT = st.tuples(st.just("wait"), st.integers(0, 8))
TRIGGER = st.tuples(st.just("trigger"))
STEPS = st.lists(st.one_of(GET, END, WAIT, TRIGGER), max_size=25)


class Oracle:
    def __init__(self) -> None:
        self.accepted: list[int] = []
        self.statuses: dict[int, list[str]] = defaultdict(list)
        self.attempts: dict[int, int] = defaultdict(int)
        self.retries: dict[int, int] = {}

    def unfinished(self) -> int | None:
        open_ = [rid for rid in self.accepted if not FINAL & set(self.statuses[rid])]
        assert len(open_) <= 1, f"two uploads at once: {open_}"
        return open_[0] if open_ else None

    def sent(self, payload: dict[str, Any], triggered_while: int | None = None) -> None:
        status = payload["status"]
        if status == "Idle":
            assert "requestId" not in payload
            return
        rid = payload["requestId"]
        assert rid in self.accepted, payload
        history = self.statuses[rid]
        assert not FINAL & set(history), f"{status} after the final status of {rid}: {history}"
        if status == "Uploading" and triggered_while is None:
            assert "Uploading" not in history, "Uploading once per request (triggers aside)"
        history.append(status)


def drain(sim: Sim, effects: Effects, oracle: Oracle, triggered: dict[str, Any] | None = None) -> None:
    """Count the attempts in `effects`, then answer every CALL, feeding each LogStatusNotification to the oracle;
    `triggered` is what the first one must be (the queue is empty before a trigger: every step drains it)."""
    for upload in of_type(effects, UploadLog):
        oracle.attempts[upload.request_id] += 1
        assert oracle.attempts[upload.request_id] <= oracle.retries[upload.request_id] + 1
    while sim.station.rpc.in_flight is not None:
        call = sim.outstanding()
        if call.action == "LogStatusNotification":
            if triggered is not None:
                assert call.payload == triggered
                triggered = None
            else:
                oracle.sent(call.payload)
        sim.reply({})
    assert triggered is None, "the triggered LogStatusNotification went out"


@settings(max_examples=150, deadline=None)
@given(STEPS)
def test_log_status_sequences_follow_n01(steps: list[tuple[Any, ...]]) -> None:
    sim, oracle, next_id = booted(), Oracle(), 1
    for step in steps:
        if step[0] == "get":
            _, retries, interval, where, wrong_order = step
            log: dict[str, Any] = {"remoteLocation": LOCATIONS[where]}
            if wrong_order:
                log |= {"oldestTimestamp": "2026-01-02T00:00:00Z", "latestTimestamp": "2026-01-01T00:00:00Z"}
            payload = {"logType": "DiagnosticsLog", "requestId": next_id, "log": log, "retries": retries}
            payload["retryInterval"] = interval
            running = oracle.unfinished()
            effects = sim.csms_call("GetLog", payload, f"get-{next_id}")
            (reply,) = replies(effects)
            if wrong_order:
                assert reply[2]["status"] == "Rejected"
            else:
                assert reply[2]["status"] == ("Accepted" if running is None else "AcceptedCanceled")
                oracle.accepted.append(next_id)
                oracle.retries[next_id] = retries
                drain(sim, effects, oracle)
                if running is not None:
                    assert oracle.statuses[running][-1] == "AcceptedCanceled"
                if where != "good":
                    assert oracle.statuses[next_id] == ["BadMessage" if where == "bad" else "NotSupportedOperation"]
            next_id += 1
        elif step[0] == "end":
            _, failure, stale = step
            upload = sim.station.log_upload
            if upload is None or upload.retry_at is not None:
                continue  # no attempt is running
            attempt = upload.attempt - 1 if stale else upload.attempt
            drain(sim, sim.feed(LogUploadEnded(sim.now, upload.request_id, attempt, failure)), oracle)
            final = not stale and (failure in (None, "bad url") or upload.retries_left == 0)
            assert bool(FINAL & set(oracle.statuses[upload.request_id])) == final, (step, upload)
        elif step[0] == "wait":
            drain(sim, sim.tick((sim.now - at(0)).total_seconds() + step[1]), oracle)
        else:
            running = oracle.unfinished()
            expected = {"status": "Idle"} if running is None else {"status": "Uploading", "requestId": running}
            effects = sim.csms_call("TriggerMessage", {"requestedMessage": "LogStatusNotification"}, "trigger")
            drain(sim, effects, oracle, expected)
    oracle.unfinished()
