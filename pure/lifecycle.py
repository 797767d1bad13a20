"""State graphs declared as data and consulted as read-only lookup tables.

A `transitions.Machine` is built once per graph with `model=None` and `auto_transitions=False`; the core never
binds a model to it nor triggers it. It only asks "from this state, where does this trigger lead?", so the
current state always lives in the immutable `Station`, never in the machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transitions import Machine


@dataclass(frozen=True, slots=True)
class Edge:
    trigger: str
    source: str
    dest: str


class Lifecycle:
    """A named state graph: `next_state(state, trigger)` is None where the graph has no such edge."""

    __slots__ = ("_machine", "name", "states")

    def __init__(self, name: str, states: Sequence[str], edges: Sequence[Edge]) -> None:
        self.name = name
        self.states = tuple(states)
        self._machine = Machine(
            model=None,
            states=list(states),
            transitions=[{"trigger": e.trigger, "source": e.source, "dest": e.dest} for e in edges],
            initial=states[0],
            auto_transitions=False,
        )

    def next_state(self, state: str, trigger: str) -> str | None:
        event = self._machine.events.get(trigger)
        if event is None:
            return None
        edges = event.transitions.get(state)
        if not edges:
            return None
        dest: str | None = edges[0].dest
        return dest

    def triggers(self) -> frozenset[str]:
        return frozenset(self._machine.events)
