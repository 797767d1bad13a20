"""A rule-based machine over charging sessions: plug/unplug, tokens, CSMS answers (Accepted, Invalid, Blocked,
Expired, CALLERROR, none), network loss and return, power loss and restart from what was persisted, time passing,
security events sharing the persistent lane,
and TxStartPoint/TxStopPoint combinations, on a station with two EVSEs whose tokens come at an EVSE or at the
station-level reader.

After every step: per transaction the queued TransactionEvents have seqNo 0, 1, 2... with Started first and Ended
last and at most once; nothing the CSMS acknowledged is sent again; once an event names the EVSE (which a
station-level session learns when the EV plugs in), every later event of the transaction names the same one.
After draining (network up, CSMS answering): every TransactionEvent the station ever queued was acknowledged or
given up after MessageAttempts, none lost.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import hypothesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from returns.result import Failure

from chargecore.pure.boot import boot_station
from chargecore.pure.effects import (
    Effects,
    InternalError,
    Notify,
    Persist,
    SendFrame,
    StartEnergyTransfer,
    StopEnergyTransfer,
    TransactionEventAnswered,
)
from chargecore.pure.inputs import (
    Connected,
    ConnectionLost,
    ConnectorChanged,
    FrameReceived,
    Input,
    PowerPathChanged,
    PowerUp,
    SecurityEventRaised,
    Tick,
    TokenPresented,
)
from chargecore.pure.ocppj.rpc import LANE_NAMESPACE
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import next_deadline, step

T0 = datetime(2024, 1, 1, tzinfo=UTC)
IDENTITY = StationIdentity("CS-TX", "ws://csms.invalid/ocpp", (1, 1))
START_POINTS = ["PowerPathClosed", "EVConnected", "Authorized", "EVConnected,Authorized", "EnergyTransfer"]
STOP_POINTS = ["EVConnected,Authorized", "EVConnected", "Authorized", "PowerPathClosed", "EnergyTransfer"]
STATUSES = ["Accepted", "Accepted", "Invalid", "Blocked", "Expired"]


class TransactionMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.store: dict[str, Any] = {}
        self.config: dict[str, Any] = {}
        self.station: Station
        self.network = True
        self.restarts = 0
        self.queued: dict[str, list[tuple[int, str, int | None]]] = {}
        """Per transaction id: (seqNo, eventType, evse id) of every TransactionEvent put in the persistent lane."""
        self.seen: set[tuple[str, int]] = set()
        self.acknowledged: set[tuple[str, int]] = set()
        self.dropped: set[tuple[str, int]] = set()

    # --- driving the core like the shell does -----------------------------------------------------------------

    def _feed(self, event: Input) -> None:
        self.station, effects = step(self.station, event)
        self._execute(effects)

    def _execute(self, effects: Effects) -> None:
        follow: list[Input] = []
        for effect in effects:
            assert not isinstance(effect, InternalError), effect
            if isinstance(effect, Persist):
                self._persist(effect)
            elif isinstance(effect, SendFrame):
                self._sent(json.loads(effect.text))
            elif isinstance(effect, StartEnergyTransfer | StopEnergyTransfer):
                follow.append(PowerPathChanged(self.now, effect.evse_id, isinstance(effect, StartEnergyTransfer)))
            elif isinstance(effect, Notify):
                self._notified(effect)
        for event in follow:
            self._feed(event)

    def _notified(self, notice: Notify) -> None:
        answered = notice.event
        if isinstance(answered, TransactionEventAnswered) and answered.response is None:  # given up (E13)
            self.dropped.add((answered.transaction_id, answered.seq_no))

    def _persist(self, effect: Persist) -> None:
        for key, value in effect.entries:
            if value is None:
                self.store.pop(key, None)
                continue
            self.store[key] = value
            if key.startswith(LANE_NAMESPACE) and value["action"] == "TransactionEvent":
                payload = value["payload"]
                transaction_id, seq_no = payload["transactionInfo"]["transactionId"], payload["seqNo"]
                assert (transaction_id, seq_no) not in self.seen, f"{transaction_id}/{seq_no} queued twice"
                self.seen.add((transaction_id, seq_no))
                evse_id = payload["evse"]["id"] if "evse" in payload else None
                self.queued.setdefault(transaction_id, []).append((seq_no, payload["eventType"], evse_id))

    def _sent(self, frame: list[Any]) -> None:
        if frame[0] == 2 and frame[2] == "TransactionEvent":
            sent = (frame[3]["transactionInfo"]["transactionId"], frame[3]["seqNo"])
            assert sent not in self.acknowledged, f"{sent} sent again after the CSMS acknowledged it"

    def _connect_if_asked(self) -> None:
        """The link: a connection attempt succeeds while the network is up and fails otherwise."""
        for _ in range(3):
            if self.station.connection.phase != "connecting":
                return
            self._feed(Connected(self.now) if self.network else ConnectionLost(self.now, 0.0))

    def _advance(self, seconds: float) -> None:
        target = self.now + timedelta(seconds=seconds)
        while (deadline := next_deadline(self.station)) is not None and deadline <= target:
            self.now = max(self.now, deadline)
            self._feed(Tick(self.now))
            self._connect_if_asked()
        self.now = target

    def _answer(self, outcome: str) -> None:
        in_flight = self.station.rpc.in_flight
        assert in_flight is not None
        action, payload, message_id = in_flight.call.action, in_flight.call.payload, in_flight.message_id
        if outcome == "CallError":
            self._feed(FrameReceived(self.now, json.dumps([4, message_id, "InternalError", "csms", {}])))
            return
        answers: dict[str, dict[str, Any]] = {
            "BootNotification": {"currentTime": "2024-01-01T00:00:00Z", "interval": 300, "status": "Accepted"},
            "Heartbeat": {"currentTime": "2024-01-01T00:00:00Z"},
            "Authorize": {"idTokenInfo": {"status": outcome}},
            "TransactionEvent": {"idTokenInfo": {"status": outcome}} if "idToken" in payload else {},
            "SecurityEventNotification": {},
        }
        self._feed(FrameReceived(self.now, json.dumps([3, message_id, answers.get(action, {})])))
        if action == "TransactionEvent":
            self.acknowledged.add((payload["transactionInfo"]["transactionId"], payload["seqNo"]))

    def _power_up(self) -> None:
        station = boot_station(IDENTITY, self.config, dict(self.store))
        assert not isinstance(station, Failure), station
        self.station = station.unwrap()
        self._feed(PowerUp(self.now, f"n{self.restarts}"))
        self._connect_if_asked()

    # --- rules ---------------------------------------------------------------------------------------------------

    @initialize(start=st.sampled_from(START_POINTS), stop=st.sampled_from(STOP_POINTS))
    def power_up(self, start: str, stop: str) -> None:
        self.config = {
            "TxCtrlr": {"TxStartPoint": start, "TxStopPoint": stop, "EVConnectionTimeOut": 60},
            "AuthCtrlr": {"OfflineTxForUnknownIdEnabled": True},
            "OCPPCommCtrlr": {"MessageAttempts[TransactionEvent]": 3, "MessageAttemptInterval[TransactionEvent]": 5},
        }
        self._power_up()

    @rule(change=st.sampled_from(["plug", "unplug"]), evse_id=st.sampled_from([1, 2]))
    def cable(self, change: str, evse_id: int) -> None:
        self._feed(ConnectorChanged(self.now, evse_id, 1, change))  # type: ignore[arg-type]

    @rule(token=st.sampled_from(["TOKEN1", "TOKEN2"]), evse_id=st.sampled_from([None, None, 1, 2]))
    def token(self, token: str, evse_id: int | None) -> None:
        self._feed(TokenPresented(self.now, {"idToken": token, "type": "ISO14443"}, evse_id))

    @rule()
    def tamper_detected(self) -> None:
        """A critical security event shares the persistent lane with the TransactionEvents (A04)."""
        self._feed(SecurityEventRaised(self.now, "TamperDetectionActivated"))

    @precondition(lambda self: self.station.rpc.in_flight is not None)
    @rule(outcome=st.sampled_from([*STATUSES, "CallError"]))
    def csms_answers(self, outcome: str) -> None:
        self._answer(outcome)

    @rule(seconds=st.sampled_from([1, 5, 31, 61, 200]))
    def time_passes(self, seconds: int) -> None:
        self._advance(seconds)

    @precondition(lambda self: self.network)
    @rule()
    def network_lost(self) -> None:
        self.network = False
        if self.station.connection.phase in ("up", "connecting"):
            self._feed(ConnectionLost(self.now, 0.0))

    @precondition(lambda self: not self.network)
    @rule()
    def network_returns(self) -> None:
        self.network = True

    @rule()
    def power_loss_and_restart(self) -> None:
        """kill -9: the state is gone; what was persisted comes back."""
        self.restarts += 1
        self.now += timedelta(seconds=1)
        self._power_up()

    @rule()
    def drain(self) -> None:
        """The network is up and the CSMS answers everything: every queued event gets delivered or given up."""
        self.network = True
        for _ in range(400):
            self._connect_if_asked()
            if self.station.rpc.in_flight is not None:
                self._answer("Accepted")
            elif self.station.rpc.lane or self.station.connection.phase != "up":
                self._advance(10)
            else:
                break
        assert self.station.rpc.lane == (), "the lane did not drain"
        ended = sum(1 for events in self.queued.values() if events[-1][1] == "Ended")
        unknown = sum(1 for events in self.queued.values() if events[0][2] is None)
        hypothesis.event(f"{unknown} started before the EVSE was known")
        hypothesis.event(f"drained with {len(self.queued)} transactions, {ended} ended, {len(self.dropped)} dropped")
        for transaction_id, events in self.queued.items():
            for seq_no, _, _ in events:
                done = (transaction_id, seq_no) in self.acknowledged | self.dropped
                assert done, f"{transaction_id}/{seq_no} lost"

    # --- invariants ------------------------------------------------------------------------------------------------

    @invariant()
    def sequence_numbers_are_contiguous_started_first_ended_last(self) -> None:
        for transaction_id, events in self.queued.items():
            assert [seq for seq, _, _ in events] == list(range(len(events))), (transaction_id, events)
            kinds = [kind for _, kind, _ in events]
            assert kinds[0] == "Started", (transaction_id, events)
            assert kinds.count("Started") == 1 and kinds.count("Ended") <= 1, (transaction_id, events)
            assert "Ended" not in kinds[:-1], f"an event after Ended: {events}"

    @invariant()
    def the_evse_once_named_never_changes(self) -> None:
        for transaction_id, events in self.queued.items():
            named = [evse_id for _, _, evse_id in events]
            known = next((index for index, evse_id in enumerate(named) if evse_id is not None), len(named))
            assert len(set(named[known:])) <= 1 and None not in named[known:], (transaction_id, events)


TransactionMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestTransactionMachine = TransactionMachine.TestCase
