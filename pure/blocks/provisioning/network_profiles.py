"""Block B, network connection profiles: SetNetworkProfile (B09), connecting by NetworkConfigurationPriority with
fallback (B10), and the security-profile rules of A05.

The configuration slots are the valuesList of OCPPCommCtrlr.NetworkConfigurationPriority; its value orders the
slots to try. While no profile has ever been stored, the station's configured CSMS URL is the profile of the first
slot (at the current security profile); once the CSMS stores one, the whole set is persisted under
`PROFILES_KEY`. Which slot the connection uses is decided here and nowhere else: `dialling.py` asks
`current_profile` for every `Connect`, and reports every failed attempt and every connection.

The security profile never goes down (A00.FR.005, B09.FR.04): a profile below SecurityCtrlr.SecurityProfile is
never stored nor used, and a connection at a higher security profile raises SecurityProfile and removes the
profiles below it, from the store and from NetworkConfigurationPriority (A05).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from returns.result import Failure, Result, Success

from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.model import get_int, get_value, persistent_changes, set_value
from chargecore.pure.effects import Effects, NetworkProfileQuestion, Notify, Persist, RegistrationChanged
from chargecore.pure.lifecycle import REGISTRATION_LIFECYCLE
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.ocppj.timestamps import station_time
from chargecore.pure.outcome import Defer, Handled, Reply, status_info
from chargecore.pure.state import Network, NetworkProfile, Station, StationIdentity

PROFILES_KEY = "network/profiles"
LAST_CONNECTED_KEY = "network/last_connected_slot"

PRIORITY = VariableKey("OCPPCommCtrlr", "NetworkConfigurationPriority")
FIRST_SLOT = 1
"""The configured profile's slot when the catalogue has no NetworkConfigurationPriority (slots are 1-5, TC_B_53)."""
ACTIVE_PROFILE = VariableKey("OCPPCommCtrlr", "ActiveNetworkProfile")
SECURITY_PROFILE = VariableKey("SecurityCtrlr", "SecurityProfile")

SUPPORTED_SECURITY_PROFILES = (1, 2, 3)
BASIC_AUTH_PROFILES = (1, 2)
"""Profiles 1 and 2 authenticate the station by HTTP Basic auth with SecurityCtrlr.BasicAuthPassword."""
CLIENT_CERTIFICATE_PROFILE = 3
"""Profile 3 authenticates the station by its client-side certificate: only a station that has one can use it."""
SCHEME_OF_SECURITY_PROFILE: Mapping[int, str] = {1: "ws", 2: "wss", 3: "wss"}
"""Profile 1 is plain websocket with Basic auth, profile 2 TLS with Basic auth, profile 3 TLS with a client-side
certificate (Part 2 A00 security profiles)."""
_CSMS_URL = re.compile(r"(?P<scheme>wss?)://(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#:@\[\]]+)(?::(?P<port>[0-9]+))?(?:[/?#]\S*)?")
"""ws(s)://host[:port][/path]: what the shell can dial (urllib is off limits in the core)."""
PORTS = range(1, 65536)
"""The TCP ports a CSMS URL may name."""


# --- reading the device model -----------------------------------------------------------------------------


def configuration_slots(model: DeviceModel) -> tuple[int, ...]:
    """The slots this station has: the valuesList of NetworkConfigurationPriority (B09 errata scenario); none when
    the catalogue lacks the variable."""
    definition = model.definitions.get(PRIORITY)
    return tuple(int(slot) for slot in (definition.values_list if definition else None) or ())


def priority(model: DeviceModel) -> tuple[int, ...]:
    value = get_value(model, PRIORITY) or ""
    return tuple(int(slot) for slot in value.split(",") if slot)


def security_level(model: DeviceModel) -> int:
    """The security profile achieved so far: no connection may use a lower one."""
    return get_int(model, "SecurityCtrlr", "SecurityProfile", default=1)


@dataclass(frozen=True, slots=True)
class ClientCertificateMissing:
    """The station cannot start: its security profile authenticates it by a client certificate it lacks."""

    security_profile: int

    def __str__(self) -> str:
        return f"security profile {self.security_profile} needs a client certificate"


def check_client_certificate(
    model: DeviceModel, identity: StationIdentity
) -> Result[DeviceModel, ClientCertificateMissing]:
    """At boot: a station at security profile 3 without a client certificate could never connect (and may not go
    down a profile, A00.FR.005), so it does not start."""
    level = security_level(model)
    if level == CLIENT_CERTIFICATE_PROFILE and not identity.has_client_certificate:
        return Failure(ClientCertificateMissing(level))
    return Success(model)


# --- which profile to use -----------------------------------------------------------------------------------


def configured_profile(station: Station) -> NetworkProfile:
    """The station's own configuration (`--csms-url`) as the profile of the first slot, at the current level."""
    model = station.device_model
    data = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": station.identity.csms_url,
        "messageTimeout": get_int(model, "OCPPCommCtrlr", "MessageTimeout", instance="Default", default=30),
        "securityProfile": security_level(model),
        "ocppInterface": "Wired0",
    }
    return NetworkProfile(next(iter(configuration_slots(model)), FIRST_SLOT), data)


def _usable(station: Station, slot: int | None) -> NetworkProfile | None:
    """The stored profile of `slot` unless it would lower the security profile (A05, A00.FR.005)."""
    level = security_level(station.device_model)
    found = next((profile for profile in station.network.profiles if profile.slot == slot), None)
    return found if found is not None and found.security_profile >= level else None


def connection_order(station: Station) -> tuple[NetworkProfile, ...]:
    """The usable profiles in NetworkConfigurationPriority order. When the list names none of them: every usable
    profile by slot, else the configured profile at the current level, so the station always has somewhere to
    connect without lowering its security."""
    listed = tuple(profile for slot in priority(station.device_model) if (profile := _usable(station, slot)))
    stored = tuple(profile for profile in station.network.profiles if _usable(station, profile.slot))
    return listed or stored or (configured_profile(station),)


def current_profile(station: Station) -> NetworkProfile:
    """The profile of the attempt under way (or about to start)."""
    return _usable(station, station.network.slot) or connection_order(station)[0]


def start_cycle(station: Station) -> Station:
    """After a (re)boot or a lost connection: begin with the first entry of NetworkConfigurationPriority
    (B10.FR.04, B10.FR.03), which is how a changed priority takes effect."""
    first = connection_order(station)[0].slot
    network = replace(station.network, slot=first, failed_attempts=0, exhausted=0)
    return replace(station, network=network)


def attempt_failed(station: Station) -> Station:
    """B10.FR.03: NetworkProfileConnectionAttempts failed attempts on a slot move on to the next entry of the
    priority list, wrapping around; once every entry has been given up on since the last connection, fall back
    to the profile of the last successful connection and keep reconnecting there with the normal back-off
    (B10.FR.07, Part 5 C-47)."""
    network = station.network
    failed = network.failed_attempts + 1
    if failed < get_int(station.device_model, "OCPPCommCtrlr", "NetworkProfileConnectionAttempts", default=3):
        return replace(station, network=replace(network, failed_attempts=failed))
    order = [profile.slot for profile in connection_order(station)]
    exhausted = network.exhausted + 1
    fallback = _usable(station, network.last_connected)
    if exhausted >= len(order) and fallback is not None:
        slot = fallback.slot
    elif network.slot in order:
        slot = order[(order.index(network.slot) + 1) % len(order)]
    else:
        slot = order[0]
    return replace(station, network=replace(network, slot=slot, failed_attempts=0, exhausted=exhausted))


def on_connected(station: Station) -> tuple[Station, Effects]:
    """ActiveNetworkProfile names the slot in use; a connection at a higher security profile raises
    SecurityProfile and removes every profile below it, from the store and the priority list (A05.FR.06).
    Runs before provisioning sees the connection, so a registration started over here boots on it."""
    profile = current_profile(station)
    before = station.device_model
    model = set_value(before, ACTIVE_PROFILE, str(profile.slot), respect_mutability=False).value_or(before)
    if profile.security_profile > security_level(model):
        raised = set_value(model, SECURITY_PROFILE, str(profile.security_profile), respect_mutability=False)
        model = raised.value_or(model)
    level = security_level(model)
    kept = tuple(stored for stored in station.network.profiles if stored.security_profile >= level)
    removed = {stored.slot for stored in station.network.profiles} - {stored.slot for stored in kept}
    remaining = ",".join(str(slot) for slot in priority(model) if slot not in removed)
    model = set_value(model, PRIORITY, remaining).value_or(model)
    entries: list[tuple[str, Any]] = list(persistent_changes(before, model))
    if kept != station.network.profiles:
        entries.append((PROFILES_KEY, _stored_form(kept)))
    if station.network.last_connected != profile.slot:
        entries.append((LAST_CONNECTED_KEY, profile.slot))
    network = replace(station.network, profiles=kept, slot=profile.slot, failed_attempts=0, exhausted=0)
    connected = replace(station, device_model=model, network=replace(network, last_connected=profile.slot))
    persisted: Effects = (Persist(tuple(entries)),) if entries else ()
    if station.network.last_connected in (None, profile.slot):
        return connected, persisted
    return _register_again(connected, persisted)


def _register_again(station: Station, effects: Effects) -> tuple[Station, Effects]:
    """B10.FR.10: connected through a different profile, the station boots again even without a reboot (the CSMS
    there may never have accepted it); the registration starts over, so it sends BootNotification at once."""
    status = REGISTRATION_LIFECYCLE.move(station.registration.status, "new_csms")
    if status == station.registration.status:  # never registered: nothing to start over
        return station, effects
    registration = replace(station.registration, status=status, retry_at=None)
    return replace(station, registration=registration), (*effects, Notify(RegistrationChanged(status)))


# --- SetNetworkProfile (B09) --------------------------------------------------------------------------------


def _status(status: str, reason: str | None = None, info: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": status}
    if reason is not None:
        payload["statusInfo"] = status_info(reason, info)
    return payload


def csms_url_problem(url: str) -> str | None:
    """Why the station cannot dial `url`, or None: it must be ws:// or wss:// with a host, and a port, if it names
    one, from 1 to 65535. Checked before a URL is taken (the command line, SetNetworkProfile), so an unusable one is
    refused at once instead of failing every connection attempt."""
    parsed = _CSMS_URL.fullmatch(url)
    if parsed is None:
        return f"{url!r} is not a ws:// or wss:// URL with a host"
    port = parsed["port"]
    if port is not None and (len(port) > 5 or int(port) not in PORTS):  # 5 digits at most: never int() a huge one
        return f"{url!r} names port {port}, not one from 1 to 65535"
    return None


def _url_problem(url: str, security_profile: int) -> str | None:
    scheme = SCHEME_OF_SECURITY_PROFILE[security_profile]
    problem = csms_url_problem(url)
    if problem is None and not url.startswith(f"{scheme}://"):
        problem = f"{url!r} is not a {scheme}:// URL, as security profile {security_profile} needs"
    return None if problem is None else f"ocppCsmsUrl {problem}"


def _refusal(station: Station, slot: int, data: dict[str, Any]) -> tuple[str, str] | None:
    """(reasonCode, additionalInfo) of why the profile is Rejected, or None when the core has no objection."""
    model = station.device_model
    slots = configuration_slots(model)
    level = security_level(model)
    security_profile = data["securityProfile"]
    if slot not in slots:  # B09.FR.05
        return "InvalidConfSlot", f"configurationSlot {slot} is not one of {','.join(map(str, slots))}"
    if station.connection.phase == "up" and slot == station.network.slot:
        return "PriorityNetworkConf", f"configurationSlot {slot} holds the profile of the connection in use"
    if security_profile < level:  # B09.FR.04
        return "NoSecurityDowngrade", f"securityProfile {security_profile} is below the current {level}"
    if security_profile not in SUPPORTED_SECURITY_PROFILES:  # B09.FR.02 from here on
        return "InvalidNetworkConf", f"securityProfile {security_profile} is not supported"
    if data["ocppVersion"] != "OCPP20" or data["ocppTransport"] != "JSON":
        return "InvalidNetworkConf", "only ocppVersion OCPP20 over ocppTransport JSON is supported"
    if data["messageTimeout"] < 1:
        return "InvalidNetworkConf", "messageTimeout must be at least 1 second"
    problem = _url_problem(data["ocppCsmsUrl"], security_profile)
    return None if problem is None else ("InvalidNetworkConf", problem)


def handle_set_network_profile(station: Station, call: Call, now: datetime) -> Handled:
    """B09: check the profile against the station's slots, its security profile and what it supports, then let
    the application judge what only it can (APN, VPN, interface)."""
    slot = call.payload["configurationSlot"]
    data = call.payload["connectionData"]
    refusal = _refusal(station, slot, data)
    if refusal is not None:
        return station, Reply(_status("Rejected", *refusal)), ()
    return station, Defer(NetworkProfileQuestion(slot, data)), ()


def resume_set_network_profile(station: Station, call: Call, usable: Any, now: datetime) -> Handled:
    """B09.FR.01: store an accepted profile (it takes effect through NetworkConfigurationPriority, B10)."""
    if usable is False:
        return station, Reply(_status("Rejected", "InvalidNetworkConf", "the charger cannot use this profile")), ()
    if usable is not True:  # B09.FR.03
        return station, Reply(_status("Failed", "InternalError", "the charger failed to take the profile")), ()
    stored = NetworkProfile(call.payload["configurationSlot"], call.payload["connectionData"])
    others = tuple(profile for profile in station.network.profiles if profile.slot != stored.slot)
    profiles = tuple(sorted((*others, stored), key=lambda profile: profile.slot))
    saved = replace(station, network=replace(station.network, profiles=profiles))
    return saved, Reply(_status("Accepted")), (Persist(((PROFILES_KEY, _stored_form(profiles)),)),)


# --- NetworkConfigurationPriority (A05) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the station holds to authenticate a TLS connection, valid now (the certificate store's facts)."""

    csms_root: bool
    """A valid CSMSRootCertificate: profiles 2 and 3 verify the CSMS with it."""
    station_certificate: bool
    """A valid ChargingStationCertificate with its key: profile 3 authenticates the station with it."""


def credentials(station: Station, now: datetime) -> Credentials:
    """The credentials the certificate store holds, valid now on the station clock."""
    moment = station_time(station, now)
    own = station.certificates.station_certificate
    return Credentials(
        csms_root=bool(station.certificates.usable_csms_roots(moment)),
        station_certificate=own is not None and own.certificate.valid_at(moment),
    )


def priority_refusal(station: Station, value: str, credentials: Credentials) -> str | None:
    """Why SetVariables of NetworkConfigurationPriority = `value` is Rejected, or None. A slot whose profile would raise
    the security profile needs the credentials of its profile (A05.FR.02: a valid CSMSRootCertificate for 2 and 3;
    A05.FR.03: a valid ChargingStationCertificate for 3): SetNetworkProfile stores such a profile, the priority
    list that would make the station dial it is refused (TC_A_20, TC_A_21). Profiles at the current level were
    reached with the credentials the station has."""
    level = security_level(station.device_model)
    for slot in (int(entry) for entry in value.split(",") if entry.isdigit()):
        profile = next((stored for stored in station.network.profiles if stored.slot == slot), None)
        if profile is None or profile.security_profile <= level:
            continue
        if not credentials.csms_root:  # A05.FR.02
            return f"slot {slot} needs security profile {profile.security_profile}: no valid CSMSRootCertificate"
        if profile.security_profile == CLIENT_CERTIFICATE_PROFILE and not credentials.station_certificate:
            return f"slot {slot} needs security profile 3: no valid ChargingStationCertificate"  # A05.FR.03
    return None


# --- persistence ----------------------------------------------------------------------------------------


def _stored_form(profiles: tuple[NetworkProfile, ...]) -> list[dict[str, Any]]:
    return [{"configurationSlot": profile.slot, "connectionData": profile.data} for profile in profiles]


def _restored(stored: Any) -> tuple[NetworkProfile, ...]:
    """Profiles from the store; anything malformed is left out rather than crash the start."""
    if not isinstance(stored, list):
        return ()
    return tuple(
        NetworkProfile(entry["configurationSlot"], dict(entry["connectionData"]))
        for entry in stored
        if isinstance(entry, dict)
        and isinstance(entry.get("configurationSlot"), int)
        and isinstance(entry.get("connectionData"), dict)
        and {"ocppCsmsUrl", "securityProfile"} <= entry["connectionData"].keys()
    )


def restore(station: Station, persisted: Mapping[str, Any]) -> Station:
    """The stored profiles, or the configured one while none has been stored."""
    profiles = _restored(persisted.get(PROFILES_KEY)) or (configured_profile(station),)
    last = persisted.get(LAST_CONNECTED_KEY)
    network = Network(profiles=profiles, last_connected=last if isinstance(last, int) else None)
    return replace(station, network=network)
