"""Locust stations: each Locust user is one real chargecore station (the threaded shell, which runs on greenlets
under Locust's gevent monkey-patching, with websocket-client for the connection) against the CSMS at `--host`.

Why the real shell and not a protocol script: the load a CSMS sees is then exactly what a chargecore station sends
(boot, status, heartbeats on its own timers, transactions with the ids and seqNos the core keeps), and Locust's
master/worker mode spreads the stations over processes and machines.

What Locust reports: every CALL the station sends is a request named by its action (request type "OCPP"), timed
from the frame sent to its CALLRESULT or CALLERROR (a CALLERROR counts as a failure); every CALL the CSMS sends is
a request of type "CSMS" named by its action, timed from the frame read to the station's answer sent. A CALL
still unanswered when the station stops is not reported.

Needs the extra: `pip install 'chargecore[locust]'`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar

from locust import User, between, task

from chargecore.shell.application import SimulatedCharger
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.tools.locust_frames import LocustFrameLog


class StationUser(User):
    """One charging station per user. Subclass it in a locustfile to set `evses`, `id_prefix`, `tokens` or
    `wait_time`; `--host` is the CSMS URL without the station id (ws://host:port/path)."""

    abstract = True
    evses: ClassVar[int] = 1
    id_prefix: ClassVar[str] = "LOCUST"
    tokens: ClassVar[tuple[str, ...]] = ("LOCUST-TOKEN-1", "LOCUST-TOKEN-2")
    wait_time = between(5, 15)
    charge_seconds: ClassVar[float] = 10.0

    def on_start(self) -> None:
        if not self.host:
            raise ValueError("StationUser needs --host ws://CSMS-ADDRESS")
        self.station_id = f"{self.id_prefix}-{uuid.uuid4().hex[:12]}"
        self._data_dir = Path(tempfile.mkdtemp(prefix=f"{self.station_id}-"))
        options = StationOptions(
            csms_url=self.host,
            station_id=self.station_id,
            data_dir=self._data_dir,
            evse_connectors=(1,) * self.evses,
        )
        log = LocustFrameLog(self.station_id, self.environment.events.request.fire)
        self.charger = SimulatedCharger()
        self.station = ChargingStation(options, self.charger, log=log)
        self.station.start()

    def on_stop(self) -> None:
        self.station.stop()
        shutil.rmtree(self._data_dir, ignore_errors=True)

    @property
    def booted(self) -> bool:
        return self.station.state.registration.status == "Accepted"

    @task
    def charging_session(self) -> None:
        """An EV arrives at a random EVSE, a driver badges, it charges for `charge_seconds`, and leaves."""
        if not self.booted:
            return
        evse_id = 1 + int(uuid.uuid4().int % self.evses)
        self.charger.hardware_change(evse_id, 1, "plug")
        self.station.connector(evse_id, 1, "plug")
        self.station.present_token(self.tokens[evse_id % len(self.tokens)], evse_id=evse_id)
        time.sleep(self.charge_seconds)  # gevent-patched: the other stations run meanwhile
        self.charger.hardware_change(evse_id, 1, "unplug")
        self.station.connector(evse_id, 1, "unplug")
