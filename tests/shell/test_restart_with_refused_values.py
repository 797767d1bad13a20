"""A value an earlier run persisted that the catalogue now refuses (stored before its variable got a maxLimit) does
not stop the station at the next start: it starts on its config or default value and names the value it left."""

from __future__ import annotations

import io
from pathlib import Path

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.shell.storage import StationStore

HEARTBEAT = "device_model/OCPPCommCtrlr/HeartbeatInterval/Actual"
OFFLINE_THRESHOLD = "device_model/OCPPCommCtrlr/OfflineThreshold/Actual"


def test_a_persisted_value_above_max_limit_is_left_out_and_named_in_the_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = StationStore(data_dir)
    store.put([(HEARTBEAT, "999999999999"), (OFFLINE_THRESHOLD, "90")])
    store.close()
    stdout = io.StringIO()
    options = StationOptions(
        csms_url="ws://127.0.0.1:9", station_id="CS-RESTART", data_dir=data_dir, config={"OCPPCommCtrlr": {}}
    )
    station = ChargingStation(options, log=FrameLog("CS-RESTART", None, stdout))
    try:
        model = station.state.device_model
        assert get_value(model, VariableKey("OCPPCommCtrlr", "HeartbeatInterval")) == "60"  # the default
        assert get_value(model, VariableKey("OCPPCommCtrlr", "OfflineThreshold")) == "90"  # intact values kept
        (line,) = [line for line in stdout.getvalue().splitlines() if "HeartbeatInterval" in line]
        assert "[warning]" in line and "999999999999" in line and "maxLimit 86400" in line
    finally:
        station.stop(timeout=2)
