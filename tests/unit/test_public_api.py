"""What an embedder imports: `chargecore.pure` names the core's API in `__all__` (every input and effect type among
it), `boot_station` is the one way a station is built from config and storage, and `chargecore.__version__` is the
installed distribution's version."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import pytest
from returns.result import Failure

import chargecore
import chargecore.pure
from chargecore.pure import boot_station, effects, initial_station, inputs, next_deadline, step
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import build_device_model, persist_key
from chargecore.pure.state import StationIdentity

IDENTITY = StationIdentity("CS-API", "ws://csms.invalid/ocpp", (1, 2))


def public_classes(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if inspect.isclass(value) and value.__module__ == getattr(module, "__name__", None) and not name.startswith("_")
    }


def test_the_core_api_is_importable_from_the_package() -> None:
    assert callable(step) and callable(next_deadline) and callable(boot_station) and callable(initial_station)
    assert {"step", "next_deadline", "initial_station", "boot_station", "Station", "StationIdentity"} <= set(
        chargecore.pure.__all__
    )
    assert all(hasattr(chargecore.pure, name) for name in chargecore.pure.__all__)
    assert len(set(chargecore.pure.__all__)) == len(chargecore.pure.__all__)


@pytest.mark.parametrize("module", [inputs, effects], ids=lambda module: module.__name__)
def test_every_input_and_effect_type_is_exported(module: object) -> None:
    """A new input or effect is part of the API the day it is written."""
    assert public_classes(module) <= set(chargecore.pure.__all__)
    for name in ("Input",) if module is inputs else ("Effect", "Effects"):
        assert name in chargecore.pure.__all__


def test_boot_station_builds_what_the_device_model_and_initial_station_build() -> None:
    config = {"SampledDataCtrlr": {"TxUpdatedInterval": 30}}
    heartbeat = persist_key(VariableKey("OCPPCommCtrlr", "HeartbeatInterval"), "Actual")
    persisted = {"rpc/epoch": 4, heartbeat: "120"}
    model = build_device_model(IDENTITY.evse_connectors, config, {heartbeat: "120"})
    assert boot_station(IDENTITY, config, persisted).unwrap() == initial_station(IDENTITY, model.unwrap(), persisted)


def test_boot_station_refuses_a_config_the_catalogue_refuses() -> None:
    assert isinstance(boot_station(IDENTITY, {"OCPPCommCtrlr": {"HeartbeatInterval": "often"}}, {}), Failure)


def test_the_version_is_the_installed_distributions() -> None:
    assert chargecore.__version__ == version("chargecore")
