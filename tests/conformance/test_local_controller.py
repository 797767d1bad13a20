"""K14 topology over loopback: the station connected to a Local Controller (the embedded LocalCsms in that role).

K14's requirements bind the Local Controller, not the station (docs/smart_charging.md "Local controller (K14)"):
the Local Controller imposes its limits with the ordinary CSMS messages, and OCPP-J Part 4 section 6.1 says a
station SHALL not have to behave differently behind one. These tests show what the station does there: the
Local Controller's profiles are CSO profiles like any CSMS's, it cannot set ChargingStationExternalConstraints,
and the station's own local limit (EMS) is reported to it, kept apart by chargingLimitSource (K09) and out of
reach of ClearChargingProfile (K10).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from charging_profiles import constant_profile
from harness import StationFactory

from chargecore.pure.inputs import ExternalLimit
from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import wait_until
from chargecore.tools.csms import LocalCsms, Record

STATION_ID = "CS-LC-1"


@pytest.fixture
def local_controller() -> Iterator[LocalCsms]:
    with LocalCsms(heartbeat_interval=60, on_log=lambda _line: None) as controller:
        yield controller


def reports(controller: LocalCsms, request_id: int) -> list[dict[str, Any]]:
    """The ReportChargingProfiles of one request, up to the one with tbc false."""
    found: list[dict[str, Any]] = []

    def of_request(record: Record) -> bool:
        return (
            record.kind == "CALL"
            and record.action == "ReportChargingProfiles"
            and (record.payload["requestId"] == request_id)
        )

    since = 0
    while not found or found[-1]["tbc"]:
        record = controller.wait_for(of_request, since=since)
        since = controller.messages.index(record) + 1
        found.append(record.payload)
    return found


@pytest.mark.requirements("K01.FR.22", "K09.FR.01", "K10.FR.03", "K12.FR.02", "K12.FR.04", "K13.FR.02")
def test_K14_the_station_behind_a_local_controller(
    local_controller: LocalCsms, station_factory: StationFactory
) -> None:
    station = station_factory(
        csms_url=local_controller.url,
        station_id=STATION_ID,
        evse_connectors=(1,),
        config={"SmartChargingCtrlr": {"ExternalControlSignalsEnabled": True}},
    )
    local_controller.wait_for("StatusNotification")
    assert isinstance(station.application, SimulatedCharger)
    limits = station.application.limits

    def call(action: str, payload: dict[str, Any]) -> dict[str, Any]:
        return local_controller.call(STATION_ID, action, payload)

    # the Local Controller shares out the site's capacity with an ordinary profile: it is obeyed
    profile = {"evseId": 0, "chargingProfile": constant_profile(7, "ChargingStationMaxProfile", 10.0)}
    assert call("SetChargingProfile", profile) == {"status": "Accepted"}
    wait_until(lambda: limits.get(1, (0,))[0] == 10.0, "EVSE 1 to obey the Local Controller's 10 A")

    # it is a CSMS to the station: ChargingStationExternalConstraints stay the station's own (K01.FR.22)
    external = {"evseId": 1, "chargingProfile": constant_profile(8, "ChargingStationExternalConstraints", 6.0)}
    assert call("SetChargingProfile", external)["status"] == "Rejected"

    assert not [r for r in local_controller.messages if r.action == "NotifyChargingLimit"], "a CSO limit is no news"

    # a local EMS limits EVSE 1: it is obeyed and the Local Controller hears of it with its source, not CSO (K12)
    since = len(local_controller.messages)
    station.submit(lambda now: ExternalLimit(now, 1, 6.0, source="EMS"))
    notice = local_controller.wait_for("NotifyChargingLimit", since=since)
    assert notice.payload["chargingLimit"]["chargingLimitSource"] == "EMS"
    wait_until(lambda: limits.get(1, (0,))[0] == 6.0, "EVSE 1 to obey the EMS's 6 A")

    # GetChargingProfiles keeps the two apart by chargingLimitSource (K09)
    assert call("GetChargingProfiles", {"requestId": 1, "chargingProfile": {"chargingLimitSource": ["CSO"]}}) == {
        "status": "Accepted"
    }
    (cso,) = reports(local_controller, 1)
    assert (cso["chargingLimitSource"], [p["id"] for p in cso["chargingProfile"]]) == ("CSO", [7])
    assert call("GetChargingProfiles", {"requestId": 2, "chargingProfile": {"chargingLimitSource": ["EMS"]}}) == {
        "status": "Accepted"
    }
    (ems,) = reports(local_controller, 2)
    assert (ems["chargingLimitSource"], ems["evseId"]) == ("EMS", 1)
    assert [p["chargingProfilePurpose"] for p in ems["chargingProfile"]] == ["ChargingStationExternalConstraints"]
    assert call("GetChargingProfiles", {"requestId": 3, "chargingProfile": {"chargingLimitSource": ["SO"]}}) == {
        "status": "NoProfiles"
    }

    # ClearChargingProfile never reaches the EMS limit (K10): clearing everything removes only the CSO profile
    external_id = ems["chargingProfile"][0]["id"]
    assert call("ClearChargingProfile", {"chargingProfileId": external_id}) == {"status": "Unknown"}
    assert call("ClearChargingProfile", {}) == {"status": "Accepted"}
    assert call("GetChargingProfiles", {"requestId": 4, "chargingProfile": {"chargingLimitSource": ["CSO"]}}) == {
        "status": "NoProfiles"
    }
    assert limits.get(1, (0,))[0] == 6.0, "the EMS limit still holds"

    # the EMS releases its limit: the Local Controller hears ClearedChargingLimit (K13)
    since = len(local_controller.messages)
    station.submit(lambda now: ExternalLimit(now, 1, None, source="EMS"))
    cleared = local_controller.wait_for("ClearedChargingLimit", since=since)
    assert cleared.payload == {"chargingLimitSource": "EMS", "evseId": 1}
    wait_until(lambda: limits.get(1, (0,))[0] > 6.0, "EVSE 1 to be released")
