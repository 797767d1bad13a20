"""Network connection profiles through `step`: SetNetworkProfile (B09), which profile each connection attempt uses
and the fallback between them (B10), and the rule that the security profile never goes down (A05, A00.FR.005)."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, booted, calls, connection_data, make_station, of_type, persisted, replies
from returns.result import Failure, Success

from chargecore.pure.blocks.provisioning.network_profiles import (
    LAST_CONNECTED_KEY,
    PROFILES_KEY,
    ClientCertificateMissing,
    check_client_certificate,
)
from chargecore.pure.boot import initial_station
from chargecore.pure.device_model.catalogue import CATALOGUE, VariableKey
from chargecore.pure.device_model.model import build_device_model, get_value
from chargecore.pure.effects import Ask, Connect, Effects, NetworkProfileQuestion, Notify, RegistrationChanged
from chargecore.pure.state import StationIdentity

CONFIGURED_URL = "ws://csms.example/ocpp"
"""The CSMS URL `make_station` configures."""
PRIORITY = VariableKey("OCPPCommCtrlr", "NetworkConfigurationPriority")


def stored(*profiles: tuple[int, dict[str, Any]], **more: Any) -> dict[str, Any]:
    """What an earlier run persisted: these profiles (slot, connectionData) and any other keys."""
    return {PROFILES_KEY: [{"configurationSlot": slot, "connectionData": data} for slot, data in profiles], **more}


def set_network_profile(sim: Sim, slot: int, data: dict[str, Any]) -> Effects:
    return sim.csms_call("SetNetworkProfile", {"configurationSlot": slot, "connectionData": data})


def response(effects: Effects) -> dict[str, Any]:
    [reply] = replies(effects)
    assert reply[0] == 3, reply
    payload: dict[str, Any] = reply[2]
    return payload


def dialled(effects: Effects) -> list[str]:
    return [effect.url for effect in of_type(effects, Connect)]


def attempts(sim: Sim, count: int) -> list[str]:
    """Fail the attempt under way `count` times; the URL of each attempt that follows."""
    urls = []
    for _ in range(count):
        sim.lose()
        urls += dialled(sim.tick_deadline())
    return urls


# --- SetNetworkProfile (B09) ---------------------------------------------------------------------------------


@pytest.mark.requirements("B09.FR.01")
def test_a_valid_profile_is_put_to_the_application_and_stored_when_it_agrees() -> None:
    sim = booted()
    data = connection_data("ws://other.example:9000/ocpp")

    [ask] = of_type(set_network_profile(sim, 2, data), Ask)
    assert ask.question == NetworkProfileQuestion(2, data)
    effects = sim.answer(ask.question_id, True)

    assert response(effects) == {"status": "Accepted"}
    assert persisted(effects)[PROFILES_KEY] == [
        {"configurationSlot": 1, "connectionData": connection_data(CONFIGURED_URL)},
        {"configurationSlot": 2, "connectionData": data},
    ], "the configured profile is stored with the new one, so both survive a restart"
    assert not of_type(effects, Connect), "a stored profile changes nothing until NetworkConfigurationPriority does"


@pytest.mark.requirements("B09.FR.02", "B09.FR.03")
@pytest.mark.parametrize(("answer", "status"), [(False, "Rejected"), (None, "Failed")])
def test_a_profile_the_application_cannot_use_or_take_is_not_stored(answer: bool | None, status: str) -> None:
    sim = booted()
    [ask] = of_type(set_network_profile(sim, 2, connection_data("ws://other.example")), Ask)
    effects = sim.answer(ask.question_id, answer)
    assert response(effects)["status"] == status
    assert "statusInfo" in response(effects)
    assert PROFILES_KEY not in persisted(effects)


@pytest.mark.requirements("B09.FR.02", "B09.FR.05")
@pytest.mark.parametrize("slot", [0, 4, 999, -1])
def test_a_slot_outside_the_values_list_is_rejected(slot: int) -> None:
    sim = booted()
    effects = set_network_profile(sim, slot, connection_data("ws://other.example"))
    assert response(effects)["status"] == "Rejected"
    assert response(effects)["statusInfo"]["reasonCode"] == "InvalidConfSlot"
    assert not of_type(effects, Ask)


def test_the_slot_of_the_connection_in_use_is_rejected() -> None:
    sim = booted()
    assert get_value(sim.station.device_model, VariableKey("OCPPCommCtrlr", "ActiveNetworkProfile")) == "1"
    effects = set_network_profile(sim, 1, connection_data("ws://other.example"))
    assert response(effects)["status"] == "Rejected"
    assert not of_type(effects, Ask)


@pytest.mark.requirements("B09.FR.02")
@pytest.mark.parametrize(
    "data",
    [
        connection_data("ws://other.example", ocppVersion="OCPP16"),
        connection_data("ws://other.example", ocppTransport="SOAP"),
        connection_data("ws://other.example", messageTimeout=0),
        connection_data("http://other.example"),
        connection_data("ws://"),
        connection_data("ws://[::1"),
        connection_data("wss://other.example", 1),
        connection_data("ws://other.example", 2),
        connection_data("wss://other.example", 4),
    ],
)
def test_a_profile_the_station_cannot_use_is_rejected(data: dict[str, Any]) -> None:
    sim = booted()
    effects = set_network_profile(sim, 2, data)
    assert response(effects)["status"] == "Rejected"
    assert response(effects)["statusInfo"]["reasonCode"] == "InvalidNetworkConf"
    assert not of_type(effects, Ask)


@pytest.mark.requirements("B09.FR.02")
@pytest.mark.parametrize(
    ("port", "usable"), [("0", False), ("65536", False), ("99999", False), ("1", True), ("65535", True)]
)
def test_a_url_with_a_port_outside_1_to_65535_is_rejected(port: str, usable: bool) -> None:
    """A port the shell cannot dial would fail every attempt on that slot (and, before, killed the link)."""
    data = connection_data(f"ws://127.0.0.1:{port}/ocpp")
    effects = set_network_profile(booted(), 2, data)
    if usable:
        [ask] = of_type(effects, Ask)
        assert ask.question == NetworkProfileQuestion(2, data)
    else:
        assert response(effects)["statusInfo"]["reasonCode"] == "InvalidNetworkConf"
        assert port in response(effects)["statusInfo"]["additionalInfo"]


@pytest.mark.requirements("B09.FR.01", "A05.FR.03")
@pytest.mark.parametrize("has_client_certificate", [False, True])
def test_profile_3_is_put_to_the_application_with_or_without_a_client_certificate(has_client_certificate: bool) -> None:
    """TC_A_21 step 2: SetNetworkProfile of a profile 3 is Accepted without a ChargingStationCertificate; the
    NetworkConfigurationPriority naming it is what A05.FR.03 refuses (test_core_security_upgrade.py)."""
    data = connection_data("wss://secure.example/ocpp", 3)
    [ask] = of_type(set_network_profile(booted(has_client_certificate=has_client_certificate), 2, data), Ask)
    assert ask.question == NetworkProfileQuestion(2, data)


@pytest.mark.requirements("B09.FR.02")
def test_profile_3_needs_a_wss_url() -> None:
    effects = set_network_profile(booted(has_client_certificate=True), 2, connection_data("ws://plain.example", 3))
    assert response(effects)["statusInfo"]["reasonCode"] == "InvalidNetworkConf"
    assert "wss://" in response(effects)["statusInfo"]["additionalInfo"]


@pytest.mark.requirements("B09.FR.04", "A00.FR.005")
def test_at_profile_3_a_profile_2_is_a_downgrade() -> None:
    sim = booted(config={"SecurityCtrlr": {"SecurityProfile": 3}}, has_client_certificate=True)
    effects = set_network_profile(sim, 2, connection_data("wss://other.example", 2))
    assert response(effects)["statusInfo"]["reasonCode"] == "NoSecurityDowngrade"


@pytest.mark.requirements("B09.FR.04", "A00.FR.005")
def test_a_profile_below_the_current_security_profile_is_rejected() -> None:
    sim = booted(config={"SecurityCtrlr": {"SecurityProfile": 2}})
    effects = set_network_profile(sim, 2, connection_data("ws://other.example", 1))
    assert response(effects)["status"] == "Rejected"
    assert response(effects)["statusInfo"]["reasonCode"] == "NoSecurityDowngrade"


# --- connecting with profiles (B10) ---------------------------------------------------------------------------


@pytest.mark.requirements("B10.FR.04")
def test_without_stored_profiles_the_configured_url_is_the_first_slot() -> None:
    sim = Sim(make_station())
    assert dialled(sim.power_up(0)) == [CONFIGURED_URL]
    assert sim.station.network.slot == 1


@pytest.mark.requirements("B10.FR.04")
def test_after_a_restart_the_first_entry_of_the_priority_list_is_dialled_with_its_security_profile() -> None:
    slot_3 = connection_data("wss://three.example/ocpp", 2)
    sim = Sim(
        make_station(
            config={"OCPPCommCtrlr": {"NetworkConfigurationPriority": "3,1"}},
            stored=stored((1, connection_data("ws://one.example")), (3, slot_3)),
        )
    )
    [connect] = of_type(sim.power_up(0), Connect)
    assert (connect.url, connect.security_profile, connect.station_id) == ("wss://three.example/ocpp", 2, "CS001")


@pytest.mark.requirements("B10.FR.03")
def test_after_connection_attempts_on_a_slot_the_next_one_is_tried_in_priority_order_wrapping_around() -> None:
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "2,3,1", "NetworkProfileConnectionAttempts": 2}}
    profiles = stored(*((slot, connection_data(f"ws://slot{slot}.example")) for slot in (1, 2, 3)))
    sim = Sim(make_station(config=config, stored=profiles))
    first = dialled(sim.power_up(0))
    assert first + attempts(sim, 7) == [
        "ws://slot2.example", "ws://slot2.example",
        "ws://slot3.example", "ws://slot3.example",
        "ws://slot1.example", "ws://slot1.example",
        "ws://slot2.example", "ws://slot2.example",
    ]  # fmt: skip


@pytest.mark.requirements("B10.FR.07")
def test_when_every_entry_failed_the_station_falls_back_to_its_last_successful_profile_and_stays() -> None:
    """TC_B_49's scenario: the priority names only the new slot, which does not answer."""
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "2", "NetworkProfileConnectionAttempts": 1}}
    profiles = stored((1, connection_data("ws://old.example")), (2, connection_data("ws://new.example")))
    sim = Sim(make_station(config=config, stored={**profiles, LAST_CONNECTED_KEY: 1}))
    first = dialled(sim.power_up(0))
    assert first + attempts(sim, 3) == ["ws://new.example", "ws://old.example", "ws://old.example", "ws://old.example"]


def test_a_lost_connection_starts_again_at_the_first_entry_so_a_new_priority_takes_effect() -> None:
    profiles = stored((1, connection_data(CONFIGURED_URL)), (2, connection_data("ws://new.example")))
    sim = booted(stored=profiles)
    sim.change_variable("OCPPCommCtrlr", "NetworkConfigurationPriority", "2,1")
    sim.lose()
    assert dialled(sim.tick_deadline()) == ["ws://new.example"]


def test_a_connection_records_the_active_slot_and_persists_it_as_the_last_successful_one() -> None:
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "2,1", "NetworkProfileConnectionAttempts": 1}}
    profiles = stored((1, connection_data(CONFIGURED_URL)), (2, connection_data("ws://new.example")))
    sim = Sim(make_station(config=config, stored=profiles))
    sim.power_up(0)
    attempts(sim, 1)
    effects = sim.connect()
    assert get_value(sim.station.device_model, VariableKey("OCPPCommCtrlr", "ActiveNetworkProfile")) == "1"
    assert persisted(effects)[LAST_CONNECTED_KEY] == 1


@pytest.mark.requirements("B10.FR.10")
def test_connected_through_a_different_profile_the_station_boots_again() -> None:
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "1,2", "NetworkProfileConnectionAttempts": 1}}
    profiles = stored((1, connection_data(CONFIGURED_URL)), (2, connection_data("ws://new.example")))
    sim = booted(config=config, stored=profiles)
    sim.lose()
    assert dialled(sim.tick_deadline()) + attempts(sim, 1) == [CONFIGURED_URL, "ws://new.example"]
    effects = sim.connect()
    assert [call.action for call in calls(effects)] == ["BootNotification"]
    assert sim.station.registration.status == "Unknown"
    assert RegistrationChanged("Unknown") in [notify.event for notify in of_type(effects, Notify)]
    sim.reply()
    assert sim.station.registration.status == "Accepted"


def test_reconnecting_through_the_same_profile_does_not_boot_again() -> None:
    sim = booted()
    sim.lose()
    sim.tick_deadline()
    assert not calls(sim.connect())


def test_a_catalogue_without_network_configuration_priority_dials_the_configured_url_as_slot_1() -> None:
    components = [
        {**component, "variables": [v for v in component["variables"] if v["name"] != PRIORITY.variable]}
        for component in CATALOGUE["components"]
    ]
    model = build_device_model((1,), catalogue={**CATALOGUE, "components": components}).unwrap()
    assert PRIORITY not in model.definitions
    sim = Sim(initial_station(StationIdentity("CS001", CONFIGURED_URL, (1,)), model, {}))
    assert dialled(sim.power_up(0)) == [CONFIGURED_URL]
    assert sim.station.network.slot == 1


def test_malformed_stored_profiles_are_ignored() -> None:
    sim = Sim(make_station(stored={PROFILES_KEY: [{"configurationSlot": "x"}, 7], LAST_CONNECTED_KEY: "1"}))
    assert dialled(sim.power_up(0)) == [CONFIGURED_URL]


# --- never downgrade (A05) -------------------------------------------------------------------------------------


@pytest.mark.requirements("A05.FR.05", "A05.FR.06", "A00.FR.005")
def test_a_connection_at_a_higher_security_profile_raises_it_and_removes_the_profiles_below() -> None:
    """TC_A_19's scenario: the CSMS stores a profile 2 in slot 2 and puts it first; the station reboots."""
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "2,1"}}
    secure = connection_data("wss://secure.example/ocpp", 2)
    sim = Sim(make_station(config=config, stored=stored((1, connection_data(CONFIGURED_URL)), (2, secure))))
    assert dialled(sim.power_up(0)) == ["wss://secure.example/ocpp"]
    effects = sim.connect(1)

    model = sim.station.device_model
    assert get_value(model, VariableKey("SecurityCtrlr", "SecurityProfile")) == "2"
    assert get_value(model, PRIORITY) == "2"
    assert [profile.slot for profile in sim.station.network.profiles] == [2]
    assert persisted(effects) == {
        "device_model/OCPPCommCtrlr/NetworkConfigurationPriority/Actual": "2",
        "device_model/SecurityCtrlr/SecurityProfile/Actual": "2",
        PROFILES_KEY: [{"configurationSlot": 2, "connectionData": secure}],
        LAST_CONNECTED_KEY: 2,
    }


def test_a_configured_profile_3_dials_with_security_profile_3() -> None:
    model = build_device_model((1,), {"SecurityCtrlr": {"SecurityProfile": 3}}).unwrap()
    identity = StationIdentity("CS001", "wss://secure.example/ocpp", (1,), has_client_certificate=True)
    sim = Sim(initial_station(identity, model, {}))
    [connect] = of_type(sim.power_up(0), Connect)
    assert (connect.url, connect.security_profile) == ("wss://secure.example/ocpp", 3)


@pytest.mark.requirements("A05.FR.06", "A00.FR.005")
def test_a_connection_at_profile_3_raises_the_security_profile_and_removes_profile_2() -> None:
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "2,1"}, "SecurityCtrlr": {"SecurityProfile": 2}}
    profiles = stored((1, connection_data("wss://two.example", 2)), (2, connection_data("wss://three.example", 3)))
    sim = Sim(make_station(config=config, stored=profiles, has_client_certificate=True))
    [connect] = of_type(sim.power_up(0), Connect)
    assert (connect.url, connect.security_profile) == ("wss://three.example", 3)
    sim.connect(1)

    assert get_value(sim.station.device_model, VariableKey("SecurityCtrlr", "SecurityProfile")) == "3"
    assert [profile.slot for profile in sim.station.network.profiles] == [2]


@pytest.mark.requirements("A00.FR.005")
def test_a_profile_below_the_achieved_security_profile_is_never_dialled() -> None:
    """Slot 1 still holds a profile 1 (stored before the upgrade); priority and fallback both skip it."""
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "1,2", "NetworkProfileConnectionAttempts": 1}}
    profiles = stored((1, connection_data(CONFIGURED_URL)), (2, connection_data("wss://secure.example", 2)))
    more = {LAST_CONNECTED_KEY: 1, "device_model/SecurityCtrlr/SecurityProfile/Actual": "2"}
    sim = Sim(make_station(config=config, stored={**profiles, **more}))
    assert set(dialled(sim.power_up(0)) + attempts(sim, 4)) == {"wss://secure.example"}


def test_a_priority_list_naming_no_stored_profile_falls_back_to_the_stored_ones() -> None:
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "3", "NetworkProfileConnectionAttempts": 1}}
    profiles = stored((1, connection_data("ws://one.example")), (2, connection_data("ws://two.example")))
    sim = Sim(make_station(config=config, stored=profiles))
    first = dialled(sim.power_up(0))
    assert first + attempts(sim, 2) == ["ws://one.example", "ws://two.example", "ws://one.example"]


def test_with_no_usable_entry_the_configured_url_is_dialled_at_the_achieved_security_profile() -> None:
    config = {"OCPPCommCtrlr": {"NetworkConfigurationPriority": "3"}}
    more = {"device_model/SecurityCtrlr/SecurityProfile/Actual": "2"}
    sim = Sim(make_station(config=config, stored={**stored((1, connection_data(CONFIGURED_URL))), **more}))
    [connect] = of_type(sim.power_up(0), Connect)
    assert (connect.url, connect.security_profile) == (CONFIGURED_URL, 2)


@pytest.mark.parametrize(
    ("profile", "has_client_certificate", "startable"),
    [(3, False, False), (3, True, True), (2, False, True), (1, False, True)],
)
def test_a_station_at_profile_3_without_a_client_certificate_does_not_start(
    profile: int, has_client_certificate: bool, startable: bool
) -> None:
    model = build_device_model((1,), {"SecurityCtrlr": {"SecurityProfile": profile}}).unwrap()
    identity = StationIdentity("CS001", CONFIGURED_URL, (1,), has_client_certificate=has_client_certificate)
    checked = check_client_certificate(model, identity)
    if startable:
        assert checked == Success(model)
    else:
        assert checked == Failure(ClientCertificateMissing(3))
        assert str(checked.failure()) == "security profile 3 needs a client certificate"


def test_a_security_profile_3_reached_before_a_restart_needs_the_certificate_too() -> None:
    stored_model = build_device_model((1,), persisted={"device_model/SecurityCtrlr/SecurityProfile/Actual": "3"})
    identity = StationIdentity("CS001", CONFIGURED_URL, (1,))
    assert check_client_certificate(stored_model.unwrap(), identity) == Failure(ClientCertificateMissing(3))
