"""chargecore's testing kit: OCPP 2.0.1 strategies, a station that probes a CSMS, and a pytest plugin.

Installed as `chargecore.testing` with the `testing` extra (`pip install chargecore[testing]`), which brings
hypothesis and pytest. Nothing here is imported by the station itself.
"""
