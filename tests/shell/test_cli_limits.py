"""`chargecore run`'s `limits` command: the limit each EVSE obeys after the CSMS set a charging profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_cli import STATION_ID, WAIT, booted, config_file, local_csms, station


def test_limits_shows_what_each_evse_obeys_and_the_installed_profiles(tmp_path: Path) -> None:
    start = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    profile = {
        "id": 3,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": start,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}],
            }
        ],
    }
    config = config_file(tmp_path, '{"SmartChargingCtrlr": {"ExternalControlSignalsEnabled": true}}')
    with local_csms(heartbeat_interval=3600) as csms, station(csms, tmp_path, "--config", config) as running:
        booted(csms)
        answer = csms.call(STATION_ID, "SetChargingProfile", {"evseId": 1, "chargingProfile": profile}, WAIT)
        assert answer == {"status": "Accepted"}
        running.command("limits")
        assert "8.0 A on 3 phases" in running.printed("EVSE 1:")
        assert "TxDefaultProfile on EVSE 1, Absolute, stack level 1" in running.printed("profile 3:")
        running.command("external 1 5 SO")
        csms.wait_for("NotifyChargingLimit", WAIT)
        running.command("limits")
        assert "5.0 A on 3 phases" in running.printed("EVSE 1: 5.0")
        running.command("quit")
        assert running.exit_code() == 0
