"""The physical shape of the station a generated message talks about: how many EVSEs, and connectors on each.

Generated evseId / connectorId values stay inside it, so that a system under test sees plausible messages
(a StatusNotification about EVSE 7 of a two-EVSE station tests its error path, not its happy path).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StationShape:
    """`evses[i]` is the number of connectors of EVSE i + 1 (OCPP numbers EVSEs and connectors from 1)."""

    evses: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.evses or any(count < 1 for count in self.evses):
            raise ValueError(f"a station has at least one EVSE and each at least one connector, not {self.evses}")

    @classmethod
    def default(cls) -> StationShape:
        """Two EVSEs, the first with two connectors (say CCS and CHAdeMO), the second with one."""
        return cls(evses=(2, 1))

    @property
    def evse_ids(self) -> tuple[int, ...]:
        return tuple(range(1, len(self.evses) + 1))

    @property
    def connectors(self) -> tuple[tuple[int, int], ...]:
        """Every (evseId, connectorId) pair of the station."""
        return tuple((evse, connector) for evse, count in enumerate(self.evses, 1) for connector in range(1, count + 1))
