"""`chargecore demo`: the embedded CSMS on a free loopback port, a station against it, and a scripted session
with every capability the station has, printed as it happens."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from chargecore.shell.csms import LocalCsms
from chargecore.shell.runtime import ChargingStation, StationOptions

STATION_ID = "DEMO-CS-001"
STEP_TIMEOUT = 8.0


def _say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def _play(csms: LocalCsms, station: ChargingStation) -> None:
    _say("station boots: BootNotification, then a StatusNotification for every connector")
    csms.wait_for("BootNotification", STEP_TIMEOUT)
    csms.wait_for("StatusNotification", STEP_TIMEOUT)

    _say("an EV plugs into EVSE 1: the connector becomes Occupied")
    station.connector(1, 1, "plug")
    csms.wait_for(
        lambda r: r.action == "StatusNotification" and r.payload.get("connectorStatus") == "Occupied",
        STEP_TIMEOUT,
    )

    _say("the EV leaves: Available again")
    station.connector(1, 1, "unplug")
    csms.wait_for(
        lambda r: r.action == "StatusNotification" and r.payload.get("connectorStatus") == "Available",
        STEP_TIMEOUT,
    )

    _say("heartbeat at the interval the CSMS set in its BootNotificationResponse (2 s)")
    csms.wait_for("Heartbeat", STEP_TIMEOUT)

    _say("the CSMS triggers a StatusNotification for EVSE 2")
    answer = csms.call(STATION_ID, "TriggerMessage", {"requestedMessage": "StatusNotification", "evse": {"id": 2}})
    print(f"TriggerMessage answered {answer}", flush=True)
    csms.wait_for(lambda r: r.action == "StatusNotification" and r.payload.get("evseId") == 2, STEP_TIMEOUT)

    _say("the CSMS sends a DataTransfer no application handler knows")
    print(
        f"DataTransfer answered {csms.call(STATION_ID, 'DataTransfer', {'vendorId': 'com.example'})}",
        flush=True,
    )

    _say("the CSMS resets the station: it reboots and boots again with reason RemoteReset")
    print(f"Reset answered {csms.call(STATION_ID, 'Reset', {'type': 'Immediate'})}", flush=True)
    csms.wait_for(lambda r: r.action == "BootNotification" and r.payload.get("reason") == "RemoteReset", STEP_TIMEOUT)
    csms.wait_for("StatusNotification", STEP_TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chargecore demo", description=__doc__)
    parser.parse_args(argv)
    csms = LocalCsms(heartbeat_interval=2)
    csms.start()
    print(f"local CSMS listening on {csms.url}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chargecore-demo-") as data_dir:
        options = StationOptions(
            csms_url=csms.url, station_id=STATION_ID, data_dir=Path(data_dir), evse_connectors=(1, 1)
        )
        station = ChargingStation(options)
        station.start()
        try:
            _play(csms, station)
        except TimeoutError as error:
            print(f"demo failed: {error}", file=sys.stderr)
            return 1
        finally:
            station.stop()
            csms.stop()
    _say(f"demo finished in {time.monotonic() - started:.1f} s")
    return 0
