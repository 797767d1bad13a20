"""A realistic simulated charger for the fleet: per EVSE an energy register that grows with the power the EV
takes, never more than the limit the station applied (ApplyChargingLimit) nor the EVSE's own maximum, and only
while the power path is closed and the EV charges. It tells the runner what the core decided (`on_event`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chargecore.pure.effects import CostShown, CustomerReference, Event, ShownMessage
from chargecore.pure.inputs import ConnectorFound

VOLTS_PER_PHASE = 230.0


class SimulatedEvse:
    """One EVSE's power electronics and meter."""

    __slots__ = ("_since", "charging", "energy_wh", "ev_power_w", "flowing", "limit_w", "max_w")

    def __init__(self, max_w: float) -> None:
        self.max_w = max_w
        self.limit_w: float | None = None
        self.ev_power_w = 0.0
        """What the plugged EV can take (0: no EV)."""
        self.flowing = False
        """The power path is closed (StartEnergyTransfer)."""
        self.charging = False
        """The EV draws (Charging) rather than suspends."""
        self.energy_wh = 0.0
        self._since = time.monotonic()

    def power_w(self) -> float:
        if not (self.flowing and self.charging):
            return 0.0
        limit = self.max_w if self.limit_w is None else min(self.max_w, self.limit_w)
        return max(0.0, min(self.ev_power_w, limit))

    def advance(self) -> float:
        """Add the energy of the power drawn since the last call; returns the register (Wh)."""
        now = time.monotonic()
        self.energy_wh += self.power_w() * (now - self._since) / 3600
        self._since = now
        return self.energy_wh


class FleetCharger:
    """The ChargerApplication of one fleet station: every reset allowed, tokens left to the station and the CSMS,
    the power path and limits kept per EVSE. Nothing is remembered beyond the present (an idle station is small)."""

    __slots__ = ("evses", "notify")

    def __init__(self, evse_ids: tuple[int, ...], max_w: float, notify: Callable[[Event], None]) -> None:
        self.evses = {evse_id: SimulatedEvse(max_w) for evse_id in evse_ids}
        self.notify = notify

    def _switch(self, evse_id: int, **values: Any) -> None:
        evse = self.evses.get(evse_id)
        if evse is not None:
            evse.advance()
            for name, value in values.items():
                setattr(evse, name, value)

    def is_reset_allowed(self, reset_type: str, evse_id: int | None) -> bool:
        return True

    def reset_evse(self, evse_id: int, reset_type: str) -> None:
        self._switch(evse_id, flowing=False)

    def reboot(self, reset_type: str) -> None:
        for evse_id in self.evses:
            self._switch(evse_id, flowing=False)

    def handle_data_transfer(self, vendor_id: str, message_id: str | None, data: Any) -> dict[str, Any] | None:
        return None

    def on_event(self, event: Event) -> None:
        self.notify(event)

    def validate_network_profile(self, slot: int, profile: dict[str, Any]) -> bool:
        return True

    def apply_charging_limit(self, evse_id: int, limit: float, unit: str, phases: int) -> None:
        watts = limit if unit == "W" else limit * VOLTS_PER_PHASE * max(1, phases)
        targets = self.evses if evse_id == 0 else (evse_id,)
        for target in targets:
            self._switch(target, limit_w=watts)

    def start_energy_transfer(self, evse_id: int) -> bool:
        self._switch(evse_id, flowing=True)
        return True

    def stop_energy_transfer(self, evse_id: int) -> bool:
        self._switch(evse_id, flowing=False)
        return True

    def unlock_connector(self, evse_id: int, connector_id: int) -> bool:
        return True

    def validate_token(self, id_token: dict[str, Any], evse_id: int) -> dict[str, Any] | None:
        return None

    def customer_information(self, kind: CustomerReference, reference: Any, clear: bool) -> tuple[str, ...]:
        return ()

    def show_messages(self, evse_id: int, messages: tuple[ShownMessage, ...]) -> None:
        """No display: the station's log has the line."""

    def show_cost(self, evse_id: int, cost: CostShown) -> None:
        """No display: the station's log has the line."""

    def install_firmware(self, path: str, request_id: int) -> str:
        return "InstallationFailed"  # the asyncio runtime downloads no firmware, so this is never asked

    def firmware_version(self) -> str | None:
        return None

    def connector_states(self) -> tuple[ConnectorFound, ...]:
        plugged = (evse_id for evse_id, evse in self.evses.items() if evse.ev_power_w)
        return tuple(ConnectorFound(evse_id, 1, plugged=True) for evse_id in plugged)
