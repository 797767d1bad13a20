"""A stored display message that is damaged (no longer a valid MessageInfo, or not a record at all) does not stop
the station at the next start: the intact ones are shown again and the shell names each one it dropped (stored data
is never lost silently, docs/storage.md)."""

from __future__ import annotations

import io
from pathlib import Path

from chargecore.pure.blocks.display.display_messages import KEY_PREFIX
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.shell.storage import StationStore

INTACT = {"id": 1, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Welcome"}}


def test_a_damaged_display_message_is_named_in_the_log_and_the_intact_one_kept(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = StationStore(data_dir)
    store.put(
        [
            (f"{KEY_PREFIX}1", {"info": INTACT, "order": 1}),
            (f"{KEY_PREFIX}2", {"info": {"id": 2}, "order": 2}),
            (f"{KEY_PREFIX}3", "garbage"),
        ]
    )
    store.close()
    stdout = io.StringIO()
    options = StationOptions(csms_url="ws://127.0.0.1:9", station_id="CS-DISPLAY", data_dir=data_dir)
    station = ChargingStation(options, log=FrameLog("CS-DISPLAY", None, stdout))
    try:
        assert [m.message_id for m in station.state.display.messages] == [1]
        named = [line for line in stdout.getvalue().splitlines() if "stored display message dropped" in line]
        assert len(named) == 2 and all("[warning]" in line for line in named)
        assert any(f"{KEY_PREFIX}2" in line and "MessageInfo" in line for line in named)
        assert any(f"{KEY_PREFIX}3" in line for line in named)
    finally:
        station.stop(timeout=2)
