"""`chargecore run`'s `display` command and display log lines: a message the CSMS set, and the running cost from the
local CSMS's tariff (`chargecore csms --tariff`)."""

from __future__ import annotations

from pathlib import Path

from test_cli import STATION_ID, WAIT, booted, config_file, station

from chargecore.tools.csms import LocalCsms
from chargecore.tools.tariff import load_tariff


def test_display_shows_the_csms_message_and_the_running_cost(tmp_path: Path) -> None:
    tariff_path = tmp_path / "tariff.json"
    tariff_path.write_text('{"currency": "EUR", "perKWh": 0.30, "perMinute": 0.00}', encoding="utf-8")
    config = config_file(tmp_path, '{"SampledDataCtrlr": {"TxUpdatedInterval": 1}}')
    with (
        LocalCsms(heartbeat_interval=3600, on_log=lambda _line: None, tariff=load_tariff(tariff_path)) as csms,
        station(csms, tmp_path, "--config", config) as running,
    ):
        booted(csms)
        info = {"id": 1, "priority": "InFront", "message": {"format": "UTF8", "content": "Free parking today"}}
        assert csms.call(STATION_ID, "SetDisplayMessage", {"message": info}, WAIT) == {"status": "Accepted"}
        assert "Free parking today" in running.printed("EVSE 1 display:")
        running.command("display")
        assert "[InFront] Free parking today" in running.printed("EVSE 1: [InFront]")
        running.command("meter 1 1000 7000")
        running.command("plug 1")
        running.command("auth TOKEN1 1")
        csms.wait_for("TransactionEvent", WAIT)
        running.command("meter 1 3000 7000")  # the next periodic TransactionEvent carries it: the cost rises
        assert "running 0.600 EUR" in running.printed("EVSE 1 cost: running 0.6")
        running.command("quit")
        assert running.exit_code() == 0
