"""Fixtures shared by the kit's tests: `package_csms`, a CSMS built with the `ocpp` package as its users write
one, on loopback (the conformance tests' fixture)."""

from test_against_ocpp_package_csms import package_csms

__all__ = ["package_csms"]
