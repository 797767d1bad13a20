"""The station as a state machine driven by a hostile-but-legal world: a flaky connection, a CSMS that answers
late, twice, with errors or not at all, hardware changes, and time passing.

The test keeps its own oracle of what the test double has sent and received; it never reads the core's
tables (`may_send`, the lifecycles). Checked after every input:

- before the last boot response was Accepted only BootNotification goes out as a CALL, and while Pending
  also what a TriggerMessage asked for (B02.FR.02, B03.FR.02);
- at most one CALL of ours is outstanding: a new one only after the previous was answered, errored, timed
  out (a Tick at its MessageTimeout) or its connection dropped;
- every outbound CALL is valid for its Request schema; message ids are unique over the whole run (across
  disconnects and reboots) and at most 36 characters;
- a CSMS request gets exactly one reply with its id, before any CALL it causes (F06.FR.04): SecurityError
  unless the last boot response was Pending or Accepted (B03.FR.08), else a schema-valid CALLRESULT;
- no InternalError; a Tick leaves no deadline at or before its time (else the shell would spin);
- an input the core refuses leaves the state unchanged, and a reply it no longer waits for is dropped;
- the recorded inputs replay to identical effects and state.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from chargecore.pure.effects import Ask, Connect, DataTransferAnswered, Effects, Log, Notify, PerformReset, SendFrame
from chargecore.pure.inputs import (
    Answer,
    Connected,
    ConnectionLost,
    ConnectorChange,
    ConnectorChanged,
    FrameReceived,
    LocalReset,
    PowerUp,
    SendDataTransfer,
    Tick,
)
from chargecore.pure.station import next_deadline

from .support import (
    CALL,
    CALLERROR,
    CALLRESULT,
    CONNECTORS,
    MESSAGE_TIMEOUT,
    PART4_ERROR_CODES,
    T0,
    Event,
    Harness,
    Reboot,
    SentFrame,
    boot_response,
    inbound_view,
    read_sent,
    replay,
    response_to,
    schema_valid,
)

pauses = st.integers(0, 3)
"""Seconds between one input and the next."""
registration_statuses = st.sampled_from(["Accepted", "Pending", "Rejected"])
intervals = st.integers(0, 600)
"""BootNotificationResponse.interval: heartbeat interval once Accepted, else the wait before the next boot."""
nonces = st.text("0123456789abcdef", min_size=1, max_size=20)
json_leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
json_data = st.recursive(
    json_leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
)
"""DataTransfer data; without NaN, which would make equal runs compare unequal."""
garbage = (
    st.text().filter(lambda text: not text.lstrip().startswith("["))
    | st.builds(lambda type_id: json.dumps([type_id, "csms-x"]), st.sampled_from([0, 1, 5, 9, -1]))
    | st.builds(lambda length: json.dumps([CALL, "x" * length, "Reset", {"type": "Immediate"}]), st.integers(37, 60))
    | st.just('[2,"csms-x","Reset"]')
)
"""Frames no CSMS request or reply can hide in: not a JSON array, unknown message types, unreadable ids."""

PHYSICAL_CHANGES: dict[ConnectorChange, Callable[[bool, bool], tuple[bool, bool] | None]] = {
    "plug": lambda plugged, faulted: (True, faulted) if not plugged else None,
    "unplug": lambda plugged, faulted: (False, faulted) if plugged else None,
    "fault": lambda plugged, faulted: (plugged, True) if not faulted else None,
    "recover": lambda plugged, faulted: (plugged, False) if faulted else None,
}
"""What a change does to a connector's (plugged, faulted); None where it cannot happen physically."""


@dataclass(frozen=True)
class Outstanding:
    """A CALL of ours the CSMS has not answered yet, as the test double saw it go out."""

    message_id: str
    action: str
    sent_at: datetime


@dataclass(frozen=True)
class CsmsRequest:
    """A frame the CSMS sent that must get exactly one reply; `well_formed`: a valid request of a known action."""

    message_id: str
    action: str
    well_formed: bool


class StationMachine(RuleBasedStateMachine):
    """The world around one station; the attributes are the test double's own record, the oracle."""

    def __init__(self) -> None:
        super().__init__()
        self.harness = Harness()
        self.now = T0
        self.nonce = ""
        self.flaky_network = True
        self.dialing = False
        self.up = False
        self.boot_status = "Unknown"
        """The status of the last boot response the CSMS sent since the station (re)started."""
        self.boot_reason = "PowerUp"
        self.allowance: Counter[str] = Counter()
        """Messages a TriggerMessage asked for and the station has not sent yet."""
        self.outstanding: Outstanding | None = None
        self.gone: list[Outstanding] = []
        """Our CALLs no longer outstanding (answered, errored, timed out, lost): a reply to them is stale."""
        self.sent_ids: set[str] = set()
        self.hardware = dict.fromkeys(CONNECTORS, (False, False))
        self.request: CsmsRequest | None = None
        self.reply: SentFrame | None = None
        self.csms_ids = itertools.count(1)
        self.app_transfers = 0
        """DataTransfers the application sent whose outcome it has not been told yet."""
        self.calls_before_boot = 0
        """How many CALLs had gone out when the station last (re)started."""

    # --- feeding the core and checking every effect -----------------------------------------------------------

    def _feed(self, event: Event, *, reboot_reason: str | None = None) -> Effects:
        """Run one input and check its effects in order, executing them as the shell would."""
        effects = self.harness.run(event)
        for effect in effects:
            if isinstance(effect, Connect):
                assert not self.up and not self.dialing, "Connect while a connection is up or being made"
                self.dialing = True
            elif isinstance(effect, SendFrame):
                assert self.up, f"frame sent without a connection: {effect.text}"
                frame = read_sent(effect.text)
                (self._our_call if frame.type_id == CALL else self._reply_sent)(frame)
            elif isinstance(effect, Notify) and isinstance(effect.event, DataTransferAnswered):
                assert self.app_transfers > 0, "the application is told the outcome of a transfer twice"
                self.app_transfers -= 1
            elif isinstance(effect, PerformReset) and effect.evse_id is None:
                assert reboot_reason is not None, f"{event} reset the station"
                self._reboot(reboot_reason)
                break
        return effects

    def _our_call(self, frame: SentFrame) -> None:
        assert frame.action is not None
        assert self.request is None, f"{frame.action} went out before the reply to {self.request} (F06.FR.04)"
        assert frame.message_id not in self.sent_ids, f"message id {frame.message_id} used twice"
        self.sent_ids.add(frame.message_id)
        assert self.outstanding is None, f"{frame.action} sent while {self.outstanding} awaits its reply"
        if frame.action == "BootNotification":
            reason = frame.payload["reason"]
            if reason == "Triggered":
                assert self.allowance["BootNotification"] > 0, "a Triggered boot nobody asked for"
                self.allowance["BootNotification"] -= 1
            else:
                assert reason == self.boot_reason, f"boot reason {reason}, expected {self.boot_reason}"
        elif self.boot_status != "Accepted":
            assert self.boot_status == "Pending", f"{frame.action} sent while {self.boot_status}"
            assert self.allowance[frame.action] > 0, f"{frame.action} sent while Pending, not triggered"
            self.allowance[frame.action] -= 1
        if frame.action == "StatusNotification":
            assert (frame.payload["evseId"], frame.payload["connectorId"]) in CONNECTORS, frame
        self.outstanding = Outstanding(frame.message_id, frame.action, self.now)
        hypothesis.event(f"sent {frame.action} while {self.boot_status}")

    def _reply_sent(self, frame: SentFrame) -> None:
        request = self.request
        assert request is not None and frame.message_id == request.message_id, f"unexpected reply {frame}"
        self.request, self.reply = None, frame
        if not request.well_formed:
            assert frame.type_id == CALLERROR, frame
        elif self.boot_status in ("Unknown", "Rejected"):
            assert (frame.type_id, frame.code) == (CALLERROR, "SecurityError"), frame
        else:
            assert frame.type_id == CALLRESULT, frame
            assert schema_valid(request.action, "Response", frame.payload), f"{request.action}: {frame.payload}"

    def _forget_outstanding(self) -> None:
        if self.outstanding is not None:
            self.gone = [*self.gone[-9:], self.outstanding]
            self.outstanding = None

    def _reboot(self, reason: str) -> None:
        """The shell reboots: the connection is gone and the core starts afresh from storage."""
        self.dialing = self.up = False
        self._forget_outstanding()
        self.boot_status, self.boot_reason = "Unknown", reason
        self.allowance.clear()
        self.app_transfers = 0  # queued with the state the reboot discards
        self.calls_before_boot = len(self.sent_ids)
        hypothesis.event(f"reboot: {reason}")
        self.hardware = dict.fromkeys(CONNECTORS, (False, False))  # the rebuilt core knows nothing plugged
        self._feed(Reboot(self.now, self.nonce))

    def _unchanged(self, event: Event) -> Effects:
        """Feed an input the core must refuse or drop: same state, nothing but logs (and a CALLERROR for a
        frame that must be answered)."""
        before = self.harness.station
        effects = self._feed(event)
        assert self.harness.station == before, f"{event} changed the state"
        assert all(isinstance(effect, Log | SendFrame) for effect in effects), effects
        return effects

    def _advance(self, seconds: float) -> None:
        """Let time pass as the shell does: a Tick at every deadline reached on the way."""
        target = self.now + timedelta(seconds=seconds)
        while (deadline := next_deadline(self.harness.station)) is not None and deadline <= target:
            self._tick(max(self.now, deadline))
        self.now = target

    def _tick(self, now: datetime) -> None:
        assert now >= self.now, "time went backwards"
        self.now = now
        if self.outstanding is not None and now >= self.outstanding.sent_at + MESSAGE_TIMEOUT:
            hypothesis.event(f"{self.outstanding.action} timed out")
            self._forget_outstanding()
        self._feed(Tick(now))
        deadline = next_deadline(self.harness.station)
        assert deadline is None or deadline > now, f"a Tick at {now} left deadline {deadline} due: the shell spins"

    def _csms_sends(self, action: str, payload: Any, answer: Any = None, reboot_reason: str | None = None) -> Effects:
        """The CSMS sends a request; an Ask is answered at once (the shell's contract); exactly one reply."""
        message_id = f"csms-{next(self.csms_ids)}"
        self.request = CsmsRequest(message_id, action, well_formed=True)
        effects = self._feed(FrameReceived(self.now, json.dumps([CALL, message_id, action, payload])))
        asks = [effect for effect in effects if isinstance(effect, Ask)]
        if asks:
            assert len(asks) == 1 and self.request is not None, effects
            effects += self._feed(Answer(self.now, asks[0].question_id, answer), reboot_reason=reboot_reason)
        assert self.request is None, f"{action} got no reply"
        return effects

    def _answer_ours(self, pause: int, status: str, interval: int, *, twice: bool) -> None:
        """After `pause`, a CALLRESULT for our outstanding CALL, unless it timed out meanwhile."""
        self._advance(pause)
        if self.outstanding is None:
            return
        if self.outstanding.action != "BootNotification":
            payload = response_to(self.outstanding.action, self.now)
        else:
            payload = boot_response(self.now, status, interval)
            self.boot_status = status
            if status == "Accepted":
                self.allowance.clear()
        self._reply_to_ours([CALLRESULT, self.outstanding.message_id, payload], twice=twice)

    def _reply_to_ours(self, reply: list[Any], *, twice: bool) -> None:
        """Deliver a reply to our outstanding CALL, and maybe a copy of it, which must be dropped."""
        text = json.dumps(reply)
        self._forget_outstanding()
        self._feed(FrameReceived(self.now, text))
        if twice:
            assert not [e for e in self._unchanged(FrameReceived(self.now, text)) if isinstance(e, SendFrame)]

    # --- the world ------------------------------------------------------------------------------------------

    @initialize(nonce=nonces, flaky_network=st.booleans())
    def power_up(self, nonce: str, flaky_network: bool) -> None:
        """Start connected. The same nonce on every reboot: ids must stay unique by the persisted epoch alone.
        Half the runs keep their connection, so that they get deeper into the protocol."""
        self.nonce, self.flaky_network = nonce, flaky_network
        self._feed(PowerUp(self.now, nonce))
        self.dialing, self.up = False, True
        self._feed(Connected(self.now))

    @precondition(lambda self: self.dialing)
    @rule(pause=pauses)
    def connected(self, pause: int) -> None:
        self._advance(pause)  # ticks may start an attempt, never end one
        self.dialing, self.up = False, True
        self._feed(Connected(self.now))

    @precondition(lambda self: self.flaky_network and (self.dialing or self.up))
    @rule(pause=pauses, jitter=st.floats(0, 1, exclude_max=True))
    def connection_lost(self, pause: int, jitter: float) -> None:
        self._advance(pause)
        self.dialing = self.up = False
        self._forget_outstanding()
        self._feed(ConnectionLost(self.now, jitter))

    @rule(pause=pauses, data=st.data())
    def input_out_of_place(self, pause: int, data: st.DataObject) -> None:
        """Connected with no attempt under way, ConnectionLost with no connection, an Answer to a question
        never asked (every Ask is answered at once): the core refuses them."""
        self._advance(pause)
        candidates: list[Event] = [Answer(self.now, data.draw(st.integers(-3, 10**6), label="question id"), True)]
        if not self.dialing:
            candidates.append(Connected(self.now))
        if not (self.dialing or self.up):
            candidates.append(ConnectionLost(self.now, 0.5))
        self._unchanged(data.draw(st.sampled_from(candidates), label="input"))

    @rule(seconds=st.none() | st.integers(1, 200))
    def time_passes(self, seconds: int | None) -> None:
        """Time moves to the next deadline (None), or jumps: the shell ticks at every deadline on the way,
        then once more at that arbitrary moment."""
        if seconds is None:
            deadline = next_deadline(self.harness.station)
            if deadline is not None:
                self._advance(max((deadline - self.now).total_seconds(), 0))
            return
        self._advance(seconds)
        self._tick(self.now)

    @rule(
        pause=pauses,
        evse=st.sampled_from([1, 2, 3]),
        connector=st.sampled_from([None, 1, 2]),
        change=st.sampled_from(sorted(PHYSICAL_CHANGES)),
    )
    def connector_changes(self, pause: int, evse: int, connector: int | None, change: ConnectorChange) -> None:
        self._advance(pause)
        event = ConnectorChanged(self.now, evse, connector, change)
        targets = [key for key in self.hardware if key[0] == evse and connector in (None, key[1])]
        moved = {key: PHYSICAL_CHANGES[change](*self.hardware[key]) for key in targets}
        possible = {key: after for key, after in moved.items() if after is not None}
        if not possible:
            self._unchanged(event)
            return
        self.hardware.update(possible)
        self._feed(event)

    @precondition(lambda self: self.app_transfers < 2)
    @rule(pause=pauses, vendor=st.sampled_from(["com.example", "org.other"]), data=st.none() | json_data)
    def application_sends_data_transfer(self, pause: int, vendor: str, data: Any) -> None:
        self._advance(pause)
        self.app_transfers += 1
        self._feed(SendDataTransfer(self.now, vendor, None, data))

    @precondition(lambda self: self.boot_status == "Accepted" and len(self.sent_ids) - self.calls_before_boot >= 3)
    @rule(pause=pauses)
    def operator_resets_locally(self, pause: int) -> None:
        """A reboot once the station is Accepted and has sent a few CALLs: no id of the earlier start repeats."""
        self._advance(pause)
        self._feed(LocalReset(self.now), reboot_reason="LocalReset")

    # --- the CSMS answering our CALLs ---------------------------------------------------------------------

    @precondition(lambda self: self.up and self.outstanding is not None)
    @rule(pause=pauses, status=registration_statuses, interval=intervals)
    def csms_answers_our_call(self, pause: int, status: str, interval: int) -> None:
        """The CSMS answers our outstanding CALL; a boot with `status`."""
        self._answer_ours(pause, status, interval, twice=False)

    @precondition(lambda self: self.up and self.outstanding is not None)
    @rule(pause=pauses, status=registration_statuses, interval=intervals)
    def csms_answer_arrives_twice(self, pause: int, status: str, interval: int) -> None:
        """The same answer is delivered twice; the copy must be dropped."""
        self._answer_ours(pause, status, interval, twice=True)

    @precondition(lambda self: self.up and self.outstanding is not None)
    @rule(pause=pauses, code=st.sampled_from(sorted(PART4_ERROR_CODES)))
    def csms_errors_our_call(self, pause: int, code: str) -> None:
        self._advance(pause)
        if self.outstanding is not None:  # else it timed out while the pause passed
            self._reply_to_ours([CALLERROR, self.outstanding.message_id, code, "", {}], twice=False)

    @precondition(lambda self: self.up and self.gone)
    @rule(pause=pauses, data=st.data(), as_error=st.booleans())
    def csms_answers_too_late(self, pause: int, data: st.DataObject, as_error: bool) -> None:
        """A reply to a CALL that was answered, timed out or lost with its connection is dropped."""
        self._advance(pause)
        if not self.up:
            return
        stale = data.draw(st.sampled_from(self.gone))
        reply = (
            [CALLERROR, stale.message_id, "GenericError", "late", {}]
            if as_error
            else [CALLRESULT, stale.message_id, response_to(stale.action, self.now)]
        )
        effects = self._unchanged(FrameReceived(self.now, json.dumps(reply)))
        assert not [effect for effect in effects if isinstance(effect, SendFrame)], effects

    # --- the CSMS calling us --------------------------------------------------------------------------------

    @precondition(lambda self: self.up)
    @rule(
        pause=pauses,
        requested=st.sampled_from(["BootNotification", "Heartbeat", "StatusNotification", "MeterValues"]),
        evse=st.sampled_from([None, {"id": 1}, {"id": 2, "connectorId": 2}, {"id": 3}]),
    )
    def csms_triggers_message(self, pause: int, requested: str, evse: dict[str, int] | None) -> None:
        self._advance(pause)
        if not self.up:
            return
        # granted before the request: the triggered message may follow its reply within the same input
        granted = {
            "BootNotification": 1,
            "Heartbeat": 1,
            "StatusNotification": len(_connectors_of(evse)),
            "MeterValues": len({evse_id for evse_id, _ in _connectors_of(evse and {"id": evse["id"]})}),
        }
        self.allowance[requested] += granted.get(requested, 0)
        was_accepted = self.boot_status == "Accepted"
        self._csms_sends("TriggerMessage", {"requestedMessage": requested} | ({"evse": evse} if evse else {}))
        assert self.reply is not None
        status = self.reply.payload["status"] if self.reply.type_id == CALLRESULT else None
        if status != "Accepted":
            self.allowance[requested] -= granted.get(requested, 0)
        if requested == "BootNotification" and was_accepted:
            assert status == "Rejected", "F06.FR.17: once Accepted, a triggered boot is Rejected"
        if status == "Accepted":
            assert granted.get(requested, 0) > 0, f"TriggerMessage {requested} {evse} Accepted: nothing to send"

    @precondition(lambda self: self.up)
    @rule(
        pause=pauses,
        kind=st.sampled_from(["Immediate", "OnIdle"]),
        evse=st.sampled_from([None, 1, 2, 3]),
        allowed=st.booleans(),
    )
    def csms_resets(self, pause: int, kind: str, evse: int | None, allowed: bool) -> None:
        self._advance(pause)
        if not self.up:
            return
        payload = {"type": kind} | ({"evseId": evse} if evse is not None else {})
        effects = self._csms_sends("Reset", payload, answer=allowed, reboot_reason="RemoteReset")
        assert self.reply is not None
        done = self.reply.type_id == CALLRESULT and self.reply.payload["status"] == "Accepted"
        if self.reply.type_id == CALLRESULT:
            assert done == (allowed and evse != 3), f"Reset {payload} allowed={allowed}: {self.reply}"
        assert [e for e in effects if isinstance(e, PerformReset)] == ([PerformReset(kind, evse)] if done else [])

    @precondition(lambda self: self.up)
    @rule(
        pause=pauses,
        vendor=st.sampled_from(["com.example", "org.other"]),
        data=st.none() | json_data,
        answer=st.none()
        | st.fixed_dictionaries({"status": st.sampled_from(["Accepted", "Rejected", "UnknownMessageId"])}),
    )
    def csms_sends_data_transfer(self, pause: int, vendor: str, data: Any, answer: dict[str, str] | None) -> None:
        self._advance(pause)
        if not self.up:
            return
        payload = {"vendorId": vendor} | ({"data": data} if data is not None else {})
        self._csms_sends("DataTransfer", payload, answer=answer)
        assert self.reply is not None
        if self.reply.type_id == CALLRESULT:
            assert self.reply.payload == (answer or {"status": "UnknownVendorId"}), self.reply

    @precondition(lambda self: self.up)
    @rule(pause=pauses, text=garbage)
    def csms_sends_garbage(self, pause: int, text: str) -> None:
        self._advance(pause)
        if not self.up:
            return
        self.request = CsmsRequest(inbound_view(text)[1] or "-1", "", well_formed=False)
        self._unchanged(FrameReceived(self.now, text))
        assert self.request is None, f"no CALLERROR for {text!r}"

    def teardown(self) -> None:
        """Replay: the recorded inputs on a fresh station give the same effects, step by step, and state."""
        again = replay(self.harness.events)
        for recorded, expected, actual in zip(self.harness.events, self.harness.outputs, again.outputs, strict=True):
            assert actual == expected, f"replaying {recorded} gave different effects"
        assert again.station == self.harness.station


def _connectors_of(evse: dict[str, int] | None) -> list[tuple[int, int]]:
    """The connectors a TriggerMessage's evse field designates (F06.FR.12): all, an EVSE's, or one."""
    if evse is None:
        return list(CONNECTORS)
    return [key for key in CONNECTORS if key[0] == evse["id"] and evse.get("connectorId", key[1]) == key[1]]


StationMachine.TestCase.settings = settings(
    max_examples=200, stateful_step_count=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestStationMachine = pytest.mark.requirements("B02.FR.02", "B03.FR.02", "B03.FR.08", "F06.FR.04", "F06.FR.17")(
    StationMachine.TestCase
)
