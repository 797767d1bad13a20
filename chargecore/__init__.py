"""chargecore: the charging-station side of OCPP 2.0.1. The core is `chargecore.pure`, the runtime
`chargecore.shell`, the local CSMS and the demo `chargecore.tools`."""

from typing import Any


def __getattr__(name: str) -> Any:
    """`__version__` from the installed distribution's metadata, so pyproject.toml stays the one place the version
    is written; looked up on first use, because importlib.metadata costs ~70 ms of every station's start-up."""
    if name == "__version__":
        from importlib.metadata import version

        return version("chargecore")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
