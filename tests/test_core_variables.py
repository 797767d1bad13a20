"""ChangeVariable through `step`: a valid value is stored and persisted, anything else leaves the state alone."""

from __future__ import annotations

import pytest
from core_helpers import booted, calls, of_type, persisted, warnings

from chargecore.pure.device_model import VariableKey, get_value
from chargecore.pure.effects import Persist


def test_a_valid_value_is_set_and_persisted_under_its_device_model_key() -> None:
    sim = booted()
    effects = sim.change_variable("OCPPCommCtrlr", "OfflineThreshold", "900")
    assert get_value(sim.station.device_model, VariableKey("OCPPCommCtrlr", "OfflineThreshold")) == "900"
    assert of_type(effects, Persist) == [Persist((("device_model/OCPPCommCtrlr/OfflineThreshold/Actual", "900"),))]
    assert not calls(effects)


def test_a_value_of_an_evse_scoped_variable_names_its_evse_in_the_key() -> None:
    sim = booted(evse_connectors=(1, 1))
    effects = sim.change_variable("EVSE", "ISO15118EvseId", "DE*ABC*E2", evse_id=2)
    assert persisted(effects) == {"device_model/EVSE[2]/ISO15118EvseId/Actual": "DE*ABC*E2"}


def test_setting_the_value_it_already_has_persists_nothing() -> None:
    sim = booted()
    assert not of_type(sim.change_variable("OCPPCommCtrlr", "OfflineThreshold", "60"), Persist)


@pytest.mark.parametrize(
    ("component", "variable", "value"),
    [
        ("OCPPCommCtrlr", "OfflineThreshold", "soon"),  # not an integer
        ("OCPPCommCtrlr", "HeartbeatInterval", "0"),  # below minLimit 1
        ("OCPPCommCtrlr", "MessageTimeout", "10"),  # read-only (and needs its instance)
        ("OCPPCommCtrlr", "NoSuchVariable", "1"),
        ("NoSuchComponent", "Enabled", "true"),
    ],
)
def test_an_invalid_change_is_logged_and_changes_nothing(component: str, variable: str, value: str) -> None:
    sim = booted()
    before = sim.station
    effects = sim.change_variable(component, variable, value)
    assert sim.station == before
    (message,) = warnings(effects)
    assert variable in message
    assert len(effects) == 1
