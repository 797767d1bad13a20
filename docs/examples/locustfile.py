"""N chargecore stations against a CSMS, with Locust.

    locust -f docs/examples/locustfile.py --headless -u 100 -r 10 --host ws://127.0.0.1:9000

Each user is one station (identity LOCUST-<random>, two EVSEs) that boots, sends its status and heartbeats, and
every 5-15 s runs a charging session. Per-action response times appear in Locust's statistics: type OCPP for the
station's CALLs (BootNotification, TransactionEvent...), type CSMS for the CSMS's CALLs the station answers.
"""

from locust import between

from chargecore.locust import StationUser


class Station(StationUser):
    evses = 2
    wait_time = between(5, 15)
    charge_seconds = 10.0
