"""Fixtures shared by the kit's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_against_ocpp_package_csms import PackageCsmsServer


@pytest.fixture
def package_csms() -> Iterator[PackageCsmsServer]:
    """A CSMS built with the `ocpp` package, as its users write one, on loopback."""
    server = PackageCsmsServer()
    server.start()
    yield server
    server.stop()
