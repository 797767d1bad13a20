"""Block K over loopback: a scripted CSMS steers the real station's limits (K01, K08, K09, K10).

Part 6 of this edition has one K test case, TC_K_38_CS, for stations that do NOT support smart charging; it runs
with smart charging switched off in test_start_profile.py. These tests drive the K messages end to end.
"""

from __future__ import annotations

from typing import Any

import pytest
from charging_profiles import constant_profile
from harness import StationFactory, boot, sent_in_order

from chargecore.testing.csms_double import CsmsDouble, wait_until


@pytest.mark.requirements("K01.FR.05", "K09.FR.01", "K10.FR.03")
def test_the_csms_steers_every_evse_and_the_station(csms: CsmsDouble, station_factory: StationFactory) -> None:
    csms.answer_automatically("ReportChargingProfiles", {})
    booted = boot(station_factory(evse_connectors=(1, 1)), csms)
    hardware = booted.application

    def set_profile(evse_id: int, charging_profile: dict[str, Any]) -> None:
        reply = csms.call("SetChargingProfile", {"evseId": evse_id, "chargingProfile": charging_profile})
        assert reply.payload == {"status": "Accepted"}

    set_profile(0, constant_profile(1, "ChargingStationMaxProfile", 20.0))
    set_profile(1, constant_profile(2, "TxDefaultProfile", 16.0))
    set_profile(2, constant_profile(3, "TxDefaultProfile", 12.0, stack_level=1))
    wait_until(lambda: hardware.limits.get(1, (0,))[0] == 16.0, "EVSE 1 to obey 16 A", 5)
    wait_until(lambda: hardware.limits.get(2, (0,))[0] == 12.0, "EVSE 2 to obey 12 A", 5)

    composite = csms.call("GetCompositeSchedule", {"evseId": 0, "duration": 600, "chargingRateUnit": "A"})
    assert composite.payload["status"] == "Accepted"
    assert composite.payload["schedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 20.0, "numberPhases": 3}
    ]

    mark = csms.inbound_count()
    reply = csms.call(
        "GetChargingProfiles", {"requestId": 9, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}}
    )
    assert reply.payload == {"status": "Accepted"}
    reports = csms.expect_calls("ReportChargingProfiles", 2)
    assert sent_in_order(csms, mark, reply.message_id, reports[0].message_id)
    assert [(r.payload["evseId"], r.payload["tbc"]) for r in reports] == [(1, True), (2, False)]

    set_profile(1, constant_profile(2, "TxDefaultProfile", 6.0))  # same id: replaces
    wait_until(lambda: hardware.limits.get(1, (0,))[0] == 6.0, "EVSE 1 to obey the replacement", 5)

    cleared = csms.call(
        "ClearChargingProfile", {"chargingProfileCriteria": {"chargingProfilePurpose": "TxDefaultProfile"}}
    )
    assert cleared.payload == {"status": "Accepted"}
    wait_until(lambda: hardware.limits.get(2, (0,))[0] == 20.0, "EVSE 2 back to the station maximum", 5)


def test_profiles_survive_a_restart(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Any) -> None:
    csms.answer_automatically("ReportChargingProfiles", {})
    first = boot(station_factory(data_dir=tmp_path / "kept"), csms)
    reply = csms.call(
        "SetChargingProfile", {"evseId": 1, "chargingProfile": constant_profile(5, "TxDefaultProfile", 10.0)}
    )
    assert reply.payload == {"status": "Accepted"}
    first.station.stop(timeout=5)
    again = station_factory(data_dir=tmp_path / "kept")
    wait_until(lambda: again.application.limits.get(1, (0,))[0] == 10.0, "the restored profile to be applied", 5)
    boot(again, csms)
    reply = csms.call("GetChargingProfiles", {"requestId": 1, "chargingProfile": {"chargingProfileId": [5]}})
    assert reply.payload == {"status": "Accepted"}
    assert csms.expect_call("ReportChargingProfiles").payload["chargingProfile"][0]["id"] == 5
