"""The reported connector status never shows a transient (G01, G03, G04).

Random sequences of ChangeAvailability requests (station, EVSE, connector, unknown ones), hardware changes
(plug, unplug, fault, recover, per connector or per EVSE) and transactions starting and ending, on a booted
station with EVSE 1 (one connector) and EVSE 2 (two). After every input, with the CSMS answering each CALL:

- each StatusNotification for a connector differs from the previous one for that connector, and so does each
  ConnectorStatusChanged / OperativeChanged the application hears;
- the last status reported (to the CSMS and to the application) is what this test's own model of the
  precedence rule (docs/availability.md) gives for the final state, and equals `connector_status`;
- ChangeAvailability is answered Rejected for an unknown EVSE/connector, Scheduled for Inoperative while a
  transaction runs on an affected EVSE, Accepted otherwise.

Transactions are put into the state directly, as the transactions block does; when that block ends one (an
EV-side disconnect), the model follows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import timedelta
from itertools import pairwise
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.blocks.availability.availability import connector_status, refresh
from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.model import build_device_model
from chargecore.pure.effects import ConnectorStatusChanged, Effects, InternalError, Notify, OperativeChanged, SendFrame
from chargecore.pure.inputs import Connected, ConnectorChanged, FrameReceived, Input, PowerUp, Tick
from chargecore.pure.state import Station, Transaction
from chargecore.pure.station import step

from .support import CALL, CALLRESULT, CONNECTORS, EVSE_CONNECTORS, IDENTITY, T0

Key = tuple[int, int]

TARGETS: list[dict[str, int] | None] = [
    None,
    {"id": 1},
    {"id": 2},
    {"id": 1, "connectorId": 1},
    {"id": 2, "connectorId": 1},
    {"id": 2, "connectorId": 2},
    {"id": 3},
    {"id": 2, "connectorId": 3},
]

operations = st.one_of(
    st.tuples(st.just("change"), st.sampled_from(["Operative", "Inoperative"]), st.sampled_from(TARGETS)),
    st.tuples(
        st.just("hardware"),
        st.sampled_from([(1, 1), (1, None), (2, 1), (2, 2), (2, None)]),
        st.sampled_from(["plug", "unplug", "fault", "recover"]),
    ),
    st.tuples(st.just("start"), st.sampled_from([1, 2])),
    st.tuples(st.just("end"), st.sampled_from([1, 2])),
)


@dataclass
class Model:
    """The test's own statement of the precedence rule."""

    inoperative: set[Key] = field(default_factory=set)
    plugged: set[Key] = field(default_factory=set)
    faulted: set[Key] = field(default_factory=set)
    transactions: set[int] = field(default_factory=set)

    def operative(self, key: Key) -> bool:
        evse = key[0]
        if evse in self.transactions:
            return True
        return not ({(0, 0), (evse, 0), key} & self.inoperative)

    def status(self, key: Key) -> str:
        if key in self.faulted:
            return "Faulted"
        if not self.operative(key):
            return "Unavailable"
        return "Occupied" if key in self.plugged else "Available"

    def answer(self, status: str, target: dict[str, int] | None) -> str:
        component = (0, 0) if target is None else (target["id"], target.get("connectorId", 0))
        known = component == (0, 0) or any(
            component in ((evse, 0), (evse, connector)) for evse, connector in CONNECTORS
        )
        if not known:
            return "Rejected"
        if status == "Inoperative":
            self.inoperative.add(component)
            if self.transactions and component[0] in (0, *self.transactions):
                return "Scheduled"
        else:
            self.inoperative.discard(component)
        return "Accepted"


@dataclass
class Run:
    station: Station
    now: Any = T0
    sent: dict[Key, list[str]] = field(default_factory=dict)
    heard: dict[Key, list[str]] = field(default_factory=dict)
    operative: dict[Key, list[bool]] = field(default_factory=dict)
    replies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def record(self, effects: Effects) -> None:
        assert not [e for e in effects if isinstance(e, InternalError)], effects
        for effect in effects:
            if isinstance(effect, SendFrame):
                frame = json.loads(effect.text)
                if frame[0] == CALL and frame[2] == "StatusNotification":
                    payload = frame[3]
                    key = (payload["evseId"], payload["connectorId"])
                    self.sent.setdefault(key, []).append(payload["connectorStatus"])
                elif frame[0] == CALLRESULT:
                    self.replies[frame[1]] = frame[2]
            elif isinstance(effect, Notify) and isinstance(effect.event, ConnectorStatusChanged):
                event = effect.event
                self.heard.setdefault((event.evse_id, event.connector_id), []).append(event.status)
            elif isinstance(effect, Notify) and isinstance(effect.event, OperativeChanged):
                changed = effect.event
                self.operative.setdefault((changed.evse_id, changed.connector_id), []).append(changed.operative)

    def feed(self, event: Input) -> None:
        self.station, effects = step(self.station, event)
        self.record(effects)
        self.answer_all()

    def answer_all(self) -> None:
        """The CSMS answers every CALL of ours, one at a time as the station sends them."""
        while (in_flight := self.station.rpc.in_flight) is not None:
            answers = {
                "BootNotification": {"currentTime": "2030-01-01T00:00:00Z", "interval": 3600, "status": "Accepted"},
                "Heartbeat": {"currentTime": "2030-01-01T00:00:00Z"},
            }
            payload = answers.get(in_flight.call.action, {})
            self.station, effects = step(
                self.station, FrameReceived(self.now, json.dumps([CALLRESULT, in_flight.message_id, payload]))
            )
            self.record(effects)

    def later(self) -> None:
        self.now += timedelta(seconds=1)


def booted() -> Run:
    model = build_device_model(EVSE_CONNECTORS).unwrap()
    run = Run(initial_station(IDENTITY, model, {}))
    run.feed(PowerUp(T0, "cafe"))
    run.feed(Connected(T0))
    return run


def apply(run: Run, model: Model, operation: tuple[Any, ...], number: int) -> None:
    run.later()
    kind = operation[0]
    if kind == "change":
        _, status, target = operation
        payload: dict[str, Any] = {"operationalStatus": status} | ({} if target is None else {"evse": target})
        message_id = f"csms-{number}"
        run.feed(FrameReceived(run.now, json.dumps([CALL, message_id, "ChangeAvailability", payload])))
        assert run.replies[message_id]["status"] == model.answer(status, target), (operation, run.replies[message_id])
    elif kind == "hardware":
        _, (evse, connector), change = operation
        run.feed(ConnectorChanged(run.now, evse, connector, change))
        for key in CONNECTORS:
            if key[0] == evse and connector in (None, key[1]):
                target = model.plugged if change in ("plug", "unplug") else model.faulted
                (target.add if change in ("plug", "fault") else target.discard)(key)
        # the transactions block may end a transaction on an EV-side disconnect (E10); the model follows it
        model.transactions &= {transaction.evse_id for transaction in run.station.running_transactions}
    elif kind == "start" and operation[1] not in model.transactions:
        evse = operation[1]
        model.transactions.add(evse)
        started = Transaction(f"tx-{number}", evse, 1, run.now, phase="started")
        run.station = replace(run.station, transactions=(*run.station.transactions, started))
        run.feed(Tick(run.now))
    elif kind == "end" and operation[1] in model.transactions:
        evse = operation[1]
        model.transactions.discard(evse)
        remaining = tuple(t for t in run.station.transactions if t.evse_id != evse)
        run.station, effects = refresh(replace(run.station, transactions=remaining))
        run.record(effects)
        run.feed(Tick(run.now))


def check(run: Run, model: Model) -> None:
    for key in CONNECTORS:
        connector = next(c for c in run.station.connectors if (c.evse_id, c.connector_id) == key)
        expected = model.status(key)
        assert connector_status(run.station, connector) == expected, key
        for told in (run.sent[key], ["Available", *run.heard.get(key, [])], [True, *run.operative.get(key, [])]):
            assert all(a != b for a, b in pairwise(told)), (key, told)
        assert run.sent[key][-1] == expected, (key, run.sent[key])
        assert run.heard.get(key, ["Available"])[-1] == expected, (key, run.heard.get(key))
        assert run.operative.get(key, [True])[-1] == model.operative(key), (key, run.operative.get(key))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(operations, max_size=30))
def test_reported_statuses_never_contain_a_transient(script: list[tuple[Any, ...]]) -> None:
    run = booted()
    model = Model()
    check(run, model)
    for number, operation in enumerate(script):
        apply(run, model, operation, number)
        check(run, model)
