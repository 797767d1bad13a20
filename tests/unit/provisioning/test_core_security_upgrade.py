"""A05.FR.02/03 through `step`: SetVariables of NetworkConfigurationPriority naming a profile above the current
security profile needs the credentials of that profile, valid now on the station clock (TC_A_20, TC_A_21)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from core_helpers import Sim, answer_boot, connection_data, make_station, replies

from chargecore.pure.blocks.provisioning.network_profiles import PROFILES_KEY
from chargecore.pure.blocks.security.certificate_store import (
    CSMS_ROOT,
    STATION_CERTIFICATE,
    CertificateFacts,
    CertificateHashData,
    InstalledCertificate,
)
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value
from chargecore.pure.inputs import CertificatesLoaded

PRIORITY = VariableKey("OCPPCommCtrlr", "NetworkConfigurationPriority")
VALID = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))
"""Around the CSMS time the test station keeps (2030)."""
EXPIRED = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC))


def certificate(use: str, validity: tuple[datetime, datetime]) -> InstalledCertificate:
    hash_data = CertificateHashData("SHA256", f"{use}-names", f"{use}-keys", "1")
    facts = CertificateFacts(use, (hash_data,), use, None, use, *validity, is_ca=use == CSMS_ROOT, self_signed=True)
    return InstalledCertificate(use, facts)


def station_with(*installed: InstalledCertificate, level: int = 1) -> Sim:
    """Booted at security profile `level` through slot 1, with a profile 2 in slot 2 and a profile 3 in slot 3."""
    profiles = [
        {"configurationSlot": 1, "connectionData": connection_data("ws://csms.example/ocpp", level)},
        {"configurationSlot": 2, "connectionData": connection_data("wss://csms.example/two", 2)},
        {"configurationSlot": 3, "connectionData": connection_data("wss://csms.example/three", 3)},
    ]
    config = {"SecurityCtrlr": {"SecurityProfile": level}}
    sim = Sim(make_station(config=config, stored={PROFILES_KEY: profiles}))
    sim.feed(CertificatesLoaded(sim.now, installed))
    sim.power_up(0)
    sim.connect(1)
    answer_boot(sim)
    sim.answer_all()
    return sim


def set_priority(sim: Sim, value: str) -> dict[str, Any]:
    variable = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NetworkConfigurationPriority"}}
    [reply] = replies(sim.csms_call("SetVariables", {"setVariableData": [{**variable, "attributeValue": value}]}))
    result: dict[str, Any] = reply[2]["setVariableResult"][0]
    return result


ROOT = certificate(CSMS_ROOT, VALID)
OWN = certificate(STATION_CERTIFICATE, VALID)


@pytest.mark.requirements("A05.FR.02")
@pytest.mark.parametrize("installed", [(), (certificate(CSMS_ROOT, EXPIRED),)], ids=["none", "expired"])
@pytest.mark.parametrize("value", ["2,1", "3,1", "1,2"])
def test_a_higher_profile_without_a_valid_csms_root_is_rejected(
    installed: tuple[InstalledCertificate, ...], value: str
) -> None:
    sim = station_with(*installed, OWN)
    result = set_priority(sim, value)
    assert result["attributeStatus"] == "Rejected"
    assert "CSMSRootCertificate" in result["attributeStatusInfo"]["additionalInfo"]
    assert get_value(sim.station.device_model, PRIORITY) == "1", "the value is unchanged"


@pytest.mark.requirements("A05.FR.03")
@pytest.mark.parametrize("installed", [(ROOT,), (ROOT, certificate(STATION_CERTIFICATE, EXPIRED))])
def test_profile_3_without_a_valid_charging_station_certificate_is_rejected(
    installed: tuple[InstalledCertificate, ...],
) -> None:
    sim = station_with(*installed)
    result = set_priority(sim, "3,1")
    assert result["attributeStatus"] == "Rejected"
    assert "ChargingStationCertificate" in result["attributeStatusInfo"]["additionalInfo"]


@pytest.mark.requirements("A05.FR.04")
@pytest.mark.parametrize(("installed", "value"), [((ROOT,), "2,1"), ((ROOT, OWN), "3,2,1")])
def test_with_the_credentials_of_the_profile_the_priority_is_taken(
    installed: tuple[InstalledCertificate, ...], value: str
) -> None:
    sim = station_with(*installed)
    assert set_priority(sim, value)["attributeStatus"] in ("Accepted", "RebootRequired")
    assert get_value(sim.station.device_model, PRIORITY) == value


def test_profiles_at_the_current_level_are_not_checked_again() -> None:
    """Reached at profile 2 already: the station connected with what it has, whatever the store says now."""
    sim = station_with(level=2)
    assert set_priority(sim, "2,1")["attributeStatus"] in ("Accepted", "RebootRequired")
