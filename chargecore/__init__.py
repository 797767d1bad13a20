"""chargecore: the charging-station side of OCPP 2.0.1. The core is `chargecore.pure`, the runtime
`chargecore.shell`, the local CSMS and the demo `chargecore.tools`."""

from importlib.metadata import version

__version__ = version("chargecore")
"""From the installed distribution's metadata, so pyproject.toml stays the one place the version is written."""
