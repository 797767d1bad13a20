"""Every effect the core can emit is carried out by both runtimes, and by the same collaborator: the dispatch tables
of `shell/runtime.py` and `aio/station.py` are complete and agree.

The effect classes come from the core itself (`pure.effects.Effect`, the union every block's effects belong to), so
a new effect fails `test_every_effect_of_the_core_has_a_sample` until it gets a sample here, and then fails
`test_both_runtimes_carry_out` for each runtime without a branch for it (the runtime's fallback logs `no_branch`).
Each sample is executed on a real, unstarted station whose link, store, certificate store, transfer jobs,
application and log are recorders.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

import pytest

from chargecore.aio import AsyncChargingStation
from chargecore.pure import effects as fx
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.drive import no_branch
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import ChargingStation, StationOptions

Call = tuple[str, str]
"""(collaborator, method) of one recorded call."""

SAMPLES: dict[type, tuple[fx.Effect, tuple[Call, ...]]] = {
    fx.Connect: (fx.Connect("ws://127.0.0.1:9/", "CS001", 1, None), (("link", "connect"),)),
    fx.Disconnect: (fx.Disconnect(), (("link", "close"),)),
    fx.SendFrame: (fx.SendFrame('[2,"1","Heartbeat",{}]'), (("link", "send"),)),
    fx.Persist: (fx.Persist((("key", 1),)), (("store", "put"),)),
    fx.Ask: (fx.Ask(7, fx.ResetQuestion("Immediate", 1)), (("application", "is_reset_allowed"),)),
    fx.PerformReset: (fx.PerformReset("Immediate", 1), (("application", "reset_evse"),)),
    fx.Notify: (fx.Notify(fx.RegistrationChanged("Accepted")), (("application", "on_event"),)),
    fx.Log: (fx.Log("warning", "a line of the core"), (("log", "event"),)),
    fx.InternalError: (fx.InternalError("a bug of the core"), (("log", "event"),)),
    fx.StartEnergyTransfer: (fx.StartEnergyTransfer(1), (("application", "start_energy_transfer"),)),
    fx.StopEnergyTransfer: (fx.StopEnergyTransfer(1), (("application", "stop_energy_transfer"),)),
    fx.UnlockConnector: (fx.UnlockConnector(1, 1), (("application", "unlock_connector"),)),
    fx.ApplyChargingLimit: (fx.ApplyChargingLimit(1, 16.0, "A", 3), (("application", "apply_charging_limit"),)),
    fx.DownloadFirmware: (fx.DownloadFirmware(1, "http://127.0.0.1:9/fw.bin"), (("jobs", "carry_out"),)),
    fx.CancelFirmwareDownload: (fx.CancelFirmwareDownload(1), (("jobs", "carry_out"),)),
    fx.VerifyFirmware: (fx.VerifyFirmware(1, "/nowhere/fw.bin", "PEM", "c2ln"), (("jobs", "carry_out"),)),
    fx.InstallFirmware: (
        fx.InstallFirmware(1, "/nowhere/fw.bin"),
        (("application", "install_firmware"), ("jobs", "installed")),
    ),
    fx.DownloadToPublish: (fx.DownloadToPublish(2, "http://127.0.0.1:9/fw.bin", "0" * 32), (("jobs", "carry_out"),)),
    fx.PublishFile: (fx.PublishFile(2, "/nowhere/fw.bin"), (("jobs", "carry_out"),)),
    fx.UnpublishFile: (fx.UnpublishFile("0" * 32), (("jobs", "carry_out"),)),
    fx.UploadLog: (
        fx.UploadLog(3, 1, "DiagnosticsLog", "http://127.0.0.1:9/", "diagnostics.log"),
        (("jobs", "carry_out"),),
    ),
    fx.CancelLogUpload: (fx.CancelLogUpload(3), (("jobs", "carry_out"),)),
    fx.CommitCertificate: (fx.CommitCertificate("ChargingStationCertificate"), (("certificates", "drop_previous"),)),
    fx.RevertCertificate: (
        fx.RevertCertificate("ChargingStationCertificate"),
        (("certificates", "restore_previous"),),
    ),
    fx.ShowMessages: (fx.ShowMessages(1, ()), (("application", "show_messages"),)),
    fx.ShowCost: (fx.ShowCost(1, fx.CostShown("tx-1", Decimal("1.50"), "EUR", False)), (("application", "show_cost"),)),
}
"""One instance of each effect class, and the calls that carry it out (the same in both runtimes)."""


class Recorder:
    """Any method call is recorded as (name, method) and answers None; the `awaited` methods answer a coroutine."""

    def __init__(self, name: str, calls: list[Call], awaited: frozenset[str] = frozenset()) -> None:
        self._name, self._calls, self._awaited = name, calls, awaited

    def __getattr__(self, method: str) -> Any:
        def call(*_args: Any, **_kwargs: Any) -> Any:
            self._calls.append((self._name, method))
            return _nothing() if method in self._awaited else None

        call.__name__ = method
        return call


class RecordingLog(Recorder):
    def __init__(self, calls: list[Call]) -> None:
        super().__init__("log", calls)
        self.lines: list[str] = []

    def event(self, _level: str, message: str, *_where: Any) -> None:
        self._calls.append(("log", "event"))
        self.lines.append(message)


async def _nothing() -> None:
    return None


def test_every_effect_of_the_core_has_a_sample() -> None:
    assert set(SAMPLES) == set(get_args(fx.Effect))
    assert all(type(effect) is kind for kind, (effect, _) in SAMPLES.items())


@pytest.fixture(params=["threaded", "asyncio"])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    options = StationOptions(csms_url="ws://127.0.0.1:9", station_id="CS001", data_dir=tmp_path / "station")
    log = FrameLog("CS001", stream=io.StringIO())
    station: Any
    if request.param == "threaded":
        station = ChargingStation(options, SimulatedCharger(), log)
    else:
        station = AsyncChargingStation(options, SimulatedCharger(), log)
    store = station._store
    yield station
    store.close()


@pytest.mark.parametrize("kind", list(SAMPLES), ids=lambda kind: kind.__name__)
def test_both_runtimes_carry_out(runtime: Any, kind: type) -> None:
    effect, expected = SAMPLES[kind]
    calls: list[Call] = []
    log = RecordingLog(calls)
    asynchronous = isinstance(runtime, AsyncChargingStation)
    runtime._link = Recorder("link", calls, frozenset({"send", "close"} if asynchronous else set()))
    runtime._store = Recorder("store", calls)
    runtime._certificates = Recorder("certificates", calls)
    runtime._jobs = Recorder("jobs", calls)
    runtime.application = Recorder("application", calls)
    runtime.log = log
    if asynchronous:
        asyncio.run(runtime._execute(effect))
    else:
        runtime._execute(effect)
    assert no_branch(effect) not in log.lines
    assert [call for call in calls if call in expected] == list(expected), calls
