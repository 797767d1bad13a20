"""chargecore.aio: the asyncio runtime, the same pure core as chargecore.shell driven on an event loop (docs/aio.md)."""

from chargecore.aio.station import AsyncChargingStation
from chargecore.shell.drive import ConfigurationError
from chargecore.shell.runtime import StationOptions

__all__ = ["AsyncChargingStation", "ConfigurationError", "StationOptions"]
