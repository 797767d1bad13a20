"""The fleet on one event loop: N `AsyncChargingStation`s started at the ramp rate, each EVSE driven by its plan
(tools/fleet/plan.py), the network of some stations dropped now and then, and the statistics kept.

The runner only plays the world around the stations (EVs, drivers, cables, the network); every OCPP decision is
the core's, heard back through the charger's `on_event`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from chargecore.aio import AsyncChargingStation
from chargecore.pure.effects import AuthorizationDecided, Event, RegistrationChanged, TransactionChanged
from chargecore.shell.drive import ConfigurationError
from chargecore.shell.runtime import StationOptions
from chargecore.tools.fleet.charger import FleetCharger
from chargecore.tools.fleet.plan import Fault, Outage, Visit, evse_plan, network_plan
from chargecore.tools.fleet.scenario import Scenario
from chargecore.tools.fleet.stats import CountingLog, FleetStats

ANSWER_WAIT_S = 15.0
"""How long a driver waits for the station to start or end a transaction before it walks away."""


@dataclass(frozen=True, slots=True)
class FleetOptions:
    csms_url: str
    stations: int
    id_prefix: str = "FLEET"
    evses: int = 1
    data_dir: Path = Path("fleet-data")
    seed: int = 0
    duration_s: float = 60.0
    ramp: float = 100.0
    """Stations started per second (0: all at once)."""
    password: str | None = None

    def station_id(self, index: int) -> str:
        return f"{self.id_prefix}{index + 1:05d}"


class SimulatedSite:
    """One station with its charger and the EVs, drivers and network around it."""

    __slots__ = ("_changed", "_started_wh", "charger", "evse_tx", "id", "scenario", "seed", "station", "stats")

    def __init__(self, station_id: str, options: FleetOptions, scenario: Scenario, stats: FleetStats) -> None:
        self.id = station_id
        self.scenario = scenario
        self.seed = options.seed
        self.stats = stats
        evse_ids = tuple(range(1, options.evses + 1))
        self.charger = FleetCharger(evse_ids, scenario.evse_max_kw * 1000, self._heard)
        self.evse_tx: dict[int, str | None] = dict.fromkeys(evse_ids)
        """The transaction running on each EVSE, as the core reported it."""
        self._started_wh: dict[int, float] = {}
        """The meter register of each EVSE when its transaction started."""
        self._changed = {evse_id: asyncio.Event() for evse_id in evse_ids}
        station_options = StationOptions(
            csms_url=options.csms_url,
            station_id=station_id,
            data_dir=options.data_dir / station_id,
            evse_connectors=(1,) * options.evses,
            password=options.password,
        )
        self.station = AsyncChargingStation(
            station_options, self.charger, CountingLog(station_id, stats), on_crash=self._crashed
        )

    def _crashed(self, message: str, _exit_code: int) -> None:
        self.stats.crashed += 1
        self.stats.error(self.id, message)

    def _heard(self, event: Event) -> None:
        """What the core decided, told by the charger's on_event."""
        stats = self.stats
        if isinstance(event, RegistrationChanged) and event.status == "Accepted":
            stats.station_booted()
        elif isinstance(event, AuthorizationDecided) and event.status != "Accepted":
            stats.refused(event.status)
        elif isinstance(event, TransactionChanged) and event.evse_id in self.evse_tx:
            evse_id, register = event.evse_id, self.charger.evses[event.evse_id].advance()
            if event.event_type == "Started":
                self.evse_tx[evse_id] = event.transaction_id
                self._started_wh[evse_id] = register
                stats.transactions_started += 1
                stats.transactions_running += 1
            elif event.event_type == "Ended" and self.evse_tx[evse_id] == event.transaction_id:
                self.evse_tx[evse_id] = None
                stats.transaction_ended(register - self._started_wh.pop(evse_id, register))
            self._changed[evse_id].set()

    def wake(self) -> None:
        """Wake the drivers waiting for the core, so that they see the fleet stopping."""
        for changed in self._changed.values():
            changed.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Drive every EVSE and the network until `stop`."""
        drivers = [self._evse(evse_id, stop) for evse_id in self.charger.evses]
        await asyncio.gather(*drivers, self._network(stop))

    async def _evse(self, evse_id: int, stop: asyncio.Event) -> None:
        for step in evse_plan(self.scenario, self.seed, self.id, evse_id):
            if await _sleep(stop, step.wait_s):
                return
            if isinstance(step, Fault):
                await self._fault(evse_id, step, stop)
            else:
                await self._visit(evse_id, step, stop)

    async def _fault(self, evse_id: int, fault: Fault, stop: asyncio.Event) -> None:
        self.stats.faults += 1
        self.station.connector(evse_id, None, "fault")
        await _sleep(stop, fault.down_s)
        self.station.connector(evse_id, None, "recover")

    async def _visit(self, evse_id: int, visit: Visit, stop: asyncio.Event) -> None:
        evse, station = self.charger.evses[evse_id], self.station
        evse.ev_power_w = visit.ev_power_w
        station.meter(evse_id, evse.advance(), 0.0)
        station.connector(evse_id, 1, "plug")
        try:
            if await _sleep(stop, visit.badge_after_s):
                return
            self.stats.badges += 1
            station.present_token(visit.token, evse_id=evse_id)
            if not await self._until(evse_id, True, stop):
                return
            evse.charging = True
            station.ev_state(evse_id, "Charging")
            if await self._charge(evse_id, visit, stop):
                return
            evse.charging = False
            if visit.stop_by_token:
                station.present_token(visit.token, evse_id=evse_id)
                await self._until(evse_id, False, stop)
            station.meter(evse_id, evse.advance(), 0.0)
            await _sleep(stop, visit.stay_s)
        finally:
            evse.charging = False
            evse.ev_power_w = 0.0
            if not stop.is_set():
                station.connector(evse_id, 1, "unplug")
            self._changed[evse_id].clear()

    async def _charge(self, evse_id: int, visit: Visit, stop: asyncio.Event) -> bool:
        """Charge for the visit's time, a meter reading every interval, the pause on the way; True on stop."""
        evse, station, interval = self.charger.evses[evse_id], self.station, self.scenario.meter_interval_s
        charged, paused = 0.0, visit.pause_at_s is None
        while charged < visit.charge_s:
            step = min(interval, visit.charge_s - charged)
            if not paused and visit.pause_at_s is not None and charged + step >= visit.pause_at_s:
                step, paused = max(0.0, visit.pause_at_s - charged), True
                if await _sleep(stop, step):
                    return True
                evse.charging = False
                station.meter(evse_id, evse.advance(), 0.0)
                station.ev_state(evse_id, "SuspendedEV")
                if await _sleep(stop, visit.pause_s):
                    return True
                evse.charging = True
                station.ev_state(evse_id, "Charging")
            elif await _sleep(stop, step):
                return True
            charged += step
            station.meter(evse_id, evse.advance(), evse.power_w())
        return False

    async def _until(self, evse_id: int, running: bool, stop: asyncio.Event) -> bool:
        """Wait until a transaction runs on the EVSE (or none does); False when it does not come in time."""
        changed = self._changed[evse_id]
        deadline = asyncio.get_running_loop().time() + ANSWER_WAIT_S
        while (self.evse_tx[evse_id] is not None) != running:
            changed.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0 or stop.is_set():
                return False
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return True

    async def _network(self, stop: asyncio.Event) -> None:
        outages: Iterator[Outage] = network_plan(self.scenario, self.seed, self.id)
        for outage in outages:
            if await _sleep(stop, outage.wait_s):
                return
            self.stats.network_drops += 1
            self.station.set_network(False)
            await _sleep(stop, outage.down_s)
            self.station.set_network(True)


async def _sleep(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, or less when the fleet stops; True when it stops."""
    if stop.is_set():
        return True
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def run_fleet(
    options: FleetOptions, scenario: Scenario, stats: FleetStats, stop: asyncio.Event
) -> list[SimulatedSite]:
    """Start the stations at the ramp rate, drive them until `duration_s` has passed or `stop` is set, then stop
    every station (a normal close) and return the sites."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    sites: list[SimulatedSite] = []
    drivers: list[asyncio.Task[None]] = []
    ends = loop.call_later(options.duration_s, stop.set)
    try:
        for index in range(options.stations):
            if stop.is_set():
                break
            if options.ramp > 0 and await _sleep(stop, began + index / options.ramp - loop.time()):
                break
            try:
                site = SimulatedSite(options.station_id(index), options, scenario, stats)
            except ConfigurationError as refusal:  # its data dir cannot be used: the others go on
                stats.crashed += 1
                stats.error(options.station_id(index), str(refusal))
                continue
            sites.append(site)
            await site.station.start()
            stats.started += 1
            drivers.append(loop.create_task(site.run(stop)))
        await stop.wait()
    finally:
        ends.cancel()
        stop.set()
        for site in sites:
            site.wake()
        await asyncio.gather(*drivers, return_exceptions=True)
        await asyncio.gather(*(site.station.stop() for site in sites), return_exceptions=True)
    return sites
