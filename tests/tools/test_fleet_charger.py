"""The fleet's simulated charger: the power the EV draws follows the limit the station applied
(ApplyChargingLimit, in A per phase or in W), the EVSE's maximum and the EV's own, only while the power path is
closed and the EV charges; the energy register grows with that power over time."""

from __future__ import annotations

import pytest

from chargecore.tools.fleet import charger as charger_module
from chargecore.tools.fleet.charger import FleetCharger


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(charger_module.time, "monotonic", fake)
    return fake


def test_power_follows_the_applied_limit_and_the_register_grows_with_it(clock: Clock) -> None:
    charger = FleetCharger((1, 2), 22_000.0, lambda _event: None)
    evse = charger.evses[1]
    evse.ev_power_w = 50_000.0
    assert evse.power_w() == 0.0  # no power path yet
    charger.start_energy_transfer(1)
    evse.charging = True
    assert evse.power_w() == 22_000.0  # the EVSE's maximum
    charger.apply_charging_limit(1, 16.0, "A", 3)
    assert evse.power_w() == pytest.approx(16 * 230 * 3)
    clock.now += 3600
    assert evse.advance() == pytest.approx(16 * 230 * 3)  # one hour at 11.04 kW
    charger.apply_charging_limit(1, 7_000.0, "W", 3)
    clock.now += 1800
    assert evse.advance() == pytest.approx(16 * 230 * 3 + 3_500)
    evse.ev_power_w = 3_700.0
    assert evse.power_w() == 3_700.0  # the EV takes less than the limit
    evse.charging = False  # SuspendedEV
    clock.now += 3600
    assert evse.advance() == pytest.approx(16 * 230 * 3 + 3_500)
    assert charger.evses[2].power_w() == 0.0


def test_a_station_wide_limit_reaches_every_evse_and_stopping_opens_the_power_path(clock: Clock) -> None:
    charger = FleetCharger((1, 2), 22_000.0, lambda _event: None)
    charger.apply_charging_limit(0, 10.0, "A", 1)
    for evse_id, evse in charger.evses.items():
        evse.ev_power_w, evse.charging = 11_000.0, True
        charger.start_energy_transfer(evse_id)
        assert evse.power_w() == pytest.approx(2_300.0)
    charger.stop_energy_transfer(2)
    assert charger.evses[2].power_w() == 0.0
    assert charger.connector_states() and {found.evse_id for found in charger.connector_states()} == {1, 2}
