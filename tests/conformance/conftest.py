"""Fixtures: the CSMS double, real stations started against it, and the Part 6 reusable state Booted.

Stations run in-process through the shell (`ChargingStation` with a `SimulatedCharger`), each in its own
temporary data dir, and are stopped at teardown even when the test failed. The modules in BOTH_RUNTIMES run every
test twice, `[threaded]` and `[asyncio]` (the `runtime` fixture): the same steps against `chargecore.aio`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from certificate_steps import PASSWORD, PROFILE_2
from harness import Booted, StationFactory, boot
from pki import Pki
from runtimes import RUNTIMES, AsyncStationInThread, LoopThread

from chargecore.aio import AsyncChargingStation
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.testing.csms_double import CsmsDouble

STATION_ID = "CS001"

FAST_CONFIG: Mapping[str, Mapping[str, Any]] = {
    "OCPPCommCtrlr": {"RetryBackOffWaitMinimum": 1, "RetryBackOffRandomRange": 0, "MessageTimeout[Default]": 5},
    "AlignedDataCtrlr": {"Interval": 0},
}
"""Reconnect after 1 s without jitter and give up on a CALL after 5 s, so no test waits on defaults; no
clock-aligned meter values unless a test asks for them, so no test meets a quarter-hour slot by chance."""


BOTH_RUNTIMES = frozenset(
    {
        "test_provisioning",
        "test_reset_transactions",
        "test_reports",
        "test_network_profiles",
        "test_variables",
        "test_transactions",
        "test_meter_values",
        "test_smart_charging",
        "test_start_profile",
        "test_firmware",
        "test_firmware_end_to_end",
        "test_get_log",
        "test_diagnostics_with_ocpp_package",
        "test_customer_information",
        "test_certificates",
        "test_certificate_trust",
        "test_certificate_refusals",
        "test_certificate_renewal",
        "test_renewal_against_ocpp_package_csms",
        "test_iso15118_certificates",
        "test_root_migration",
    }
)
"""Blocks B, E, J and K, and the blocks whose effects run in the background or on the certificate store (L01-L04
firmware, N01 GetLog, N09/N10 customer information, A/M certificates): run against the threaded and the asyncio
runtime."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "runtime" in metafunc.fixturenames and metafunc.module.__name__ in BOTH_RUNTIMES:
        metafunc.parametrize("runtime", RUNTIMES, indirect=True)


@pytest.fixture
def runtime(request: pytest.FixtureRequest) -> str:
    """Which runtime drives the stations of this test: "threaded" unless the module runs on both."""
    return str(getattr(request, "param", "threaded"))


def merged_config(overrides: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """FAST_CONFIG with a test's device-model values laid over it, section by section."""
    config = {section: dict(values) for section, values in FAST_CONFIG.items()}
    for section, values in (overrides or {}).items():
        config.setdefault(section, {}).update(values)
    return config


@pytest.fixture
def csms() -> Iterator[CsmsDouble]:
    with CsmsDouble() as double:
        yield double


@pytest.fixture
def station_factory(csms: CsmsDouble, tmp_path: Path, runtime: str) -> Iterator[StationFactory]:
    """Start stations (default: against `csms`, one EVSE with one connector) on `runtime`; all are stopped at
    teardown, where a station that crashed (a bug, a failed store write) fails the test instead of ending the
    test process."""
    started: list[Any] = []
    crashes: list[str] = []
    resources = ExitStack()
    loop = LoopThread() if runtime == "asyncio" else None
    if loop is not None:
        resources.callback(loop.close)

    def start(
        *,
        application: SimulatedCharger | None = None,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> ChargingStation:
        options.setdefault("csms_url", csms.url)
        options.setdefault("station_id", STATION_ID)
        options.setdefault("data_dir", tmp_path / f"station-{len(started) + 1}")
        options.setdefault("log_file", tmp_path / f"station-{len(started) + 1}.log")
        station_options = StationOptions(config=merged_config(config), **options)
        station: Any
        if loop is not None:
            aio = AsyncChargingStation(
                station_options, application or SimulatedCharger(), on_crash=lambda m, _code: crashes.append(m)
            )
            station = AsyncStationInThread(aio, loop)
        else:
            station = ChargingStation(
                station_options, application or SimulatedCharger(), on_crash=lambda m, _code: crashes.append(m)
            )
        started.append(station)
        station.start()
        return station

    with resources:
        yield start
        for station in started:
            station.stop(timeout=5)
    assert not crashes, f"the station crashed: {crashes}"


@pytest.fixture
def tls_csms(pki: Pki) -> Iterator[CsmsDouble]:
    """A CSMS double behind TLS with the test PKI's server certificate (security profile 2)."""
    with CsmsDouble(tls=pki.server_context()) as double:
        yield double


@pytest.fixture
def profile_2_station(tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki) -> Booted:
    """Booted at security profile 2 against `tls_csms`, trusting the test CA: its one CSMSRootCertificate."""
    started = station_factory(csms_url=tls_csms.url, ca_file=str(pki.ca), password=PASSWORD, config=PROFILE_2)
    return boot(started, tls_csms)


@pytest.fixture
def booted(csms: CsmsDouble, station_factory: StationFactory) -> Booted:
    """Part 6 Reusable State Booted for the default station."""
    return boot(station_factory(), csms)
