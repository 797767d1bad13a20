"""chargecore's pytest plugin (entry point `pytest11`, active once `chargecore[testing]` is installed).

For CSMS teams: `ocpp_station`, a real chargecore station pointed at `--ocpp-csms URL` and booted, with a frame
tap and operator actions; `ocpp_station_config`, what the command line said. For station teams:
`ocpp_csms`, a scripted loopback CSMS double (testing/csms_double.py). Hypothesis profiles `ocpp-ci` and
`ocpp-nightly`, chosen with `--hypothesis-profile`.

The plugin is loaded by every pytest run where the package is installed, so importing it costs nothing: the
station, the shell and hypothesis are imported only by the fixtures (and hypothesis by `pytest_configure` when
`--hypothesis-profile` names one of the profiles here). A run that passes no `--ocpp-csms` sees the
`ocpp_station` tests skipped with a message that names the option.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chargecore.testing.csms_double import CsmsDouble
    from chargecore.testing.station import OcppStation

DEFAULT_STATION_ID = "chargecore-kit"
DEFAULT_ANSWER_TIMEOUT = 5.0
BOOT_TIMEOUT = 30.0
"""How long `ocpp_station` waits for the CSMS to accept its BootNotification before the tests using it error."""

PROFILES: dict[str, int] = {"ocpp-ci": 25, "ocpp-nightly": 2000}
"""Hypothesis profiles, by name: how many examples each test runs. Both drop hypothesis's per-example deadline:
an example waits on a CSMS over the network, whose pace is not the test's to judge (MessageTimeout is)."""


@dataclass(frozen=True)
class OcppStationConfig:
    """The CSMS under test and how the station meets it, from the command line."""

    url: str
    station_id: str = DEFAULT_STATION_ID
    password: str | None = None
    ca_file: str | None = None
    answer_timeout: float = DEFAULT_ANSWER_TIMEOUT
    """How long a test waits for the CSMS to answer one frame (`--ocpp-answer-timeout`)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chargecore", "chargecore: test an OCPP 2.0.1 CSMS with a real station")
    group.addoption("--ocpp-csms", metavar="URL", help="the CSMS under test, e.g. ws://localhost:9000/ocpp")
    group.addoption(
        "--ocpp-id", metavar="ID", default=DEFAULT_STATION_ID, help=f"the station's id (default {DEFAULT_STATION_ID})"
    )
    group.addoption("--ocpp-password", metavar="P", help="HTTP Basic auth password (security profiles 1 and 2)")
    group.addoption("--ocpp-ca-file", metavar="FILE", help="PEM file of the CA that signed the CSMS's certificate")
    group.addoption(
        "--ocpp-answer-timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_ANSWER_TIMEOUT,
        help=f"how long to wait for each answer of the CSMS (default {DEFAULT_ANSWER_TIMEOUT:g})",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Refuse a bad `--ocpp-answer-timeout` at once; before hypothesis's own plugin loads the profile that
    `--hypothesis-profile` names, make ours exist."""
    timeout = config.getoption("--ocpp-answer-timeout")
    if not timeout > 0:
        raise pytest.UsageError(f"--ocpp-answer-timeout must be a positive number of seconds, not {timeout}")
    if config.getoption("--hypothesis-profile", None) in PROFILES:
        register_profiles()


def register_profiles() -> None:
    """Register `ocpp-ci` and `ocpp-nightly` with hypothesis (also for `settings.load_profile` in a conftest)."""
    from hypothesis import settings

    for name, examples in PROFILES.items():
        settings.register_profile(name, max_examples=examples, deadline=None)


@pytest.fixture(scope="session")
def ocpp_station_config(request: pytest.FixtureRequest) -> OcppStationConfig:
    """What `--ocpp-csms` and its companions said; skips the test when no CSMS was named."""
    option = request.config.getoption
    url = option("--ocpp-csms")
    if not url:
        pytest.skip("no CSMS under test: pass --ocpp-csms URL (and --ocpp-id ID) to run the ocpp_station tests")
    return OcppStationConfig(
        url, option("--ocpp-id"), option("--ocpp-password"), option("--ocpp-ca-file"), option("--ocpp-answer-timeout")
    )


@pytest.fixture(scope="module")
def ocpp_station(ocpp_station_config: OcppStationConfig) -> Iterator[OcppStation]:
    """A chargecore station connected to the CSMS under test, its BootNotification accepted.

    Module scope, for two reasons: hypothesis runs every example of a `@given` test inside one call of the test
    function, so a function-scoped fixture would not be fresh per example anyway (hypothesis fails such tests with
    its `function_scoped_fixture` health check); and a real boot per test would cost more than the tests. Tests
    in one module share the station, so each leaves it as it found it (unplugged, online); each module gets a
    fresh one, with a fresh data dir."""
    from chargecore.testing.station import OcppStation

    config = ocpp_station_config
    with OcppStation(config.url, config.station_id, password=config.password, ca_file=config.ca_file) as station:
        station.wait_booted(BOOT_TIMEOUT)
        yield station
    assert not station.crashes, f"the chargecore station crashed: {station.crashes}"


@pytest.fixture
def ocpp_csms() -> Iterator[CsmsDouble]:
    """A scripted CSMS on a loopback port (`ocpp_csms.url`), fresh for each test: point your station at it, then
    `expect_call`, `reply`, `send_call`, `wait_reply` (testing/csms_double.py). Function scope: what one test
    consumed or left unanswered must not leak into the next; inside a `@given` test, start one per example with
    `with CsmsDouble() as csms:` instead."""
    from chargecore.testing.csms_double import CsmsDouble

    with CsmsDouble() as double:
        yield double
