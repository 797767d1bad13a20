"""FileTransferProtocols tells the CSMS which URL schemes the station takes for firmware and logs: its default
must be exactly what shell/transfer can do, no more (a CSMS would send URLs that fail) and no less."""

from __future__ import annotations

from core_helpers import booted

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.shell.transfer.locations import SCHEMES


def test_the_default_lists_every_scheme_the_transfer_supports() -> None:
    sim = booted()
    value = get_value(sim.station.device_model, VariableKey("OCPPCommCtrlr", "FileTransferProtocols"))
    assert value is not None
    assert sorted(value.split(",")) == sorted(scheme.upper() for scheme in SCHEMES)
