"""The integrator's side of the station: hooks the core consults or informs, as a `typing.Protocol`.

A real charger implements these against its hardware; `SimulatedCharger` is what the CLI and the demo use.
A hook that raises does not stop the station: the exception is logged with its traceback, reported back through
`on_event` as `HookFailed`, and the hook's effect counts as failed (docs/operating.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from chargecore.pure.effects import CostPrices, CostShown, CustomerReference, Event, SecurityEventLogged, ShownMessage
from chargecore.pure.inputs import ConnectorChange, ConnectorFound
from chargecore.shell.logs import SecurityLog
from chargecore.shell.reservation_view import announcement

FIRMWARE_MAGIC = "chargecore-firmware"
"""The first word of a firmware image the SimulatedCharger installs."""


class ChargerApplication(Protocol):
    def is_reset_allowed(self, reset_type: str, evse_id: int | None) -> bool:
        """May the station (evse_id None) or this EVSE reset now (B11/B12)? False answers Rejected."""
        ...

    def reset_evse(self, evse_id: int, reset_type: str) -> None:
        """Reset one EVSE's hardware (B11.FR.08)."""
        ...

    def reboot(self, reset_type: str) -> None:
        """Called just before the station restarts after an accepted station reset."""
        ...

    def handle_data_transfer(self, vendor_id: str, message_id: str | None, data: Any) -> dict[str, Any] | None:
        """Answer a CSMS DataTransfer (P01) with a DataTransferResponse payload, or None for UnknownVendorId."""
        ...

    def on_event(self, event: Event) -> None:
        """Registration changes, connector status changes, connectors becoming Operative or Inoperative
        (`OperativeChanged`: enable or disable the hardware), answers to our DataTransfers, device-model changes,
        authorization verdicts, TransactionEvents queued and answered, remote starts, security events
        (`SecurityEventLogged`): the application keeps the security log, every event critical or not (Part 2
        Appendix 1); the station sends only the critical ones to the CSMS. Certificates installed or deleted
        (`CertificateChanged`), renewed or about to end (`CertificateRenewed`, `CertificateExpiring`, A02/A03), and
        the CSMS's answers to the EV side's requests, `EVCertificateAnswered` (M01/M02) and
        `CertificateStatusAnswered` (M06). And `HookFailed` when one of these hooks raised."""
        ...

    def validate_network_profile(self, slot: int, profile: dict[str, Any]) -> bool:
        """Can the charger use this NetworkConnectionProfile (its APN, VPN, interface) in `slot` (B09)? False answers
        Rejected; an exception answers Failed. The core has already checked slot, version, URL and security."""
        ...

    def apply_charging_limit(self, evse_id: int, limit: float, unit: str, phases: int) -> None:
        """Smart charging: from now on the EVSE draws at most `limit` ("A" per phase or "W") on `phases` phases."""
        ...

    def start_energy_transfer(self, evse_id: int) -> bool:
        """Close the power path of this EVSE (the session is authorized and the EV connected). True when it
        closed: the station then reports PowerPathChanged(closed=True) to the core. Raising counts as False."""
        ...

    def stop_energy_transfer(self, evse_id: int) -> bool:
        """Open the power path of this EVSE. True when it opened (reported as PowerPathChanged(closed=False))."""
        ...

    def unlock_connector(self, evse_id: int, connector_id: int) -> bool:
        """Release the cable (F05 UnlockConnector, E09 UnlockOnEVSideDisconnect). True when it unlocked."""
        ...

    def validate_token(self, id_token: dict[str, Any], evse_id: int) -> dict[str, Any] | None:
        """Only with StationOptions.validates_tokens: decide a token presented on this EVSE with an idTokenInfo
        (e.g. {"status": "Accepted"} or {"status": "Blocked"}), or None to let the station decide (local list,
        cache, Authorize to the CSMS)."""
        ...

    def customer_information(self, kind: CustomerReference, reference: Any, clear: bool) -> Iterable[str]:
        """N09/N10: the charger's own data about the customer named by `kind` (idToken, customerCertificate or
        customerIdentifier) and `reference` (its OCPP value), as lines of readable text; with `clear`, delete that
        data and return what was deleted. The station adds what it holds itself (cache, local list, transactions).
        Raising answers the CSMS Rejected."""
    def show_messages(self, evse_id: int, messages: tuple[ShownMessage, ...]) -> None:
        """From now on the display of this EVSE shows these messages in this order (block O): an AlwaysFront
        message alone, else the InFront ones cycled, then the station's own (personal message, tariff), then the
        NormalCycle ones cycled. An empty tuple clears the display."""
        ...

    def show_cost(self, evse_id: int, cost: CostShown) -> None:
        """Show the driver of this EVSE the running or final cost of its transaction (block I): an exact decimal in
        a currency, or the fallback text when the CSMS gave none."""
        ...

    def connector_states(self) -> Iterable[ConnectorFound]:
        """At power-up (start and every station reset), before any status goes out: the connectors where the
        hardware finds a cable plugged in or a fault now; any other connector is empty and sound. An EV left
        plugged in through a reset is reported Occupied at boot (TC_B_21, TC_B_22)."""
        ...

    def install_firmware(self, path: str, request_id: int) -> str:
        """Install the downloaded and verified firmware file at `path` (L01), to run after the reboot that follows:
        "Installed", "InstallVerificationFailed" (the image is not one this charger takes) or
        "InstallationFailed". Raising counts as InstallationFailed."""
        ...

    def firmware_version(self) -> str | None:
        """The version of the firmware running now, sent in BootNotification; None for the station's default."""
        ...


class SimulatedCharger:
    """Allows every reset and network profile, answers DataTransfer for registered vendors, and remembers what it
    was told. With `security_log` (the station's default application has `logs/security.log` of its data dir)
    it keeps every security event in that rotated file, as the SecurityLog GetLog uploads (shell/logs.py)."""

    def __init__(
        self,
        vendors: dict[str, dict[str, Any]] | None = None,
        allow_reset: bool = True,
        allow_network_profiles: bool = True,
        say: Callable[[str], None] | None = None,
        security_log: Path | None = None,
    ) -> None:
        self.say = say
        """Where the charger's display would show a reservation made or ended (`chargecore run` prints it)."""
        self.vendors = dict(vendors or {})
        self.allow_reset = allow_reset
        self.allow_network_profiles = allow_network_profiles
        self.network_profiles: list[tuple[int, dict[str, Any]]] = []
        self.events: list[Event] = []
        self.resets: list[tuple[str, int | None]] = []
        self.limits: dict[int, tuple[float, str, int]] = {}
        """The charging limit each EVSE obeys: (limit, unit, phases)."""
        self.energy: dict[int, bool] = {}
        """Whether each EVSE's power path is closed."""
        self.unlocked: list[tuple[int, int]] = []
        self.unlock_works = True
        self.token_verdicts: dict[str, dict[str, Any]] = {}
        """validate_token's verdict per idToken value; other tokens are left to the station."""
        self.installed_version: str | None = None
        """The firmware version install_firmware installed, reported from the next boot on."""
        self.customers: dict[str, list[str]] = {}
        """The simulated charger's data per customer (a customerIdentifier, an idToken value or a certificate's
        serialNumber), e.g. what its display or app stored; CustomerInformation reports and clears it."""
        self.displays: dict[int, tuple[ShownMessage, ...]] = {}
        """What each EVSE's display shows (show_messages)."""
        self.costs: dict[int, list[CostShown]] = {}
        """Every cost shown on each EVSE, in order (show_cost)."""
        self.hardware: dict[tuple[int, int], ConnectorFound] = {}
        """What the simulated hardware has on its connectors, by (evse, connector); kept by `hardware_change`."""
        self.security_log = SecurityLog(security_log) if security_log is not None else None
        self._lock = threading.Lock()

    def is_reset_allowed(self, reset_type: str, evse_id: int | None) -> bool:
        return self.allow_reset

    def reset_evse(self, evse_id: int, reset_type: str) -> None:
        with self._lock:
            self.resets.append((reset_type, evse_id))

    def reboot(self, reset_type: str) -> None:
        with self._lock:
            self.resets.append((reset_type, None))

    def handle_data_transfer(self, vendor_id: str, message_id: str | None, data: Any) -> dict[str, Any] | None:
        return self.vendors.get(vendor_id)

    def on_event(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
        line = announcement(event)
        if line is not None and self.say is not None:
            self.say(line)
        if self.security_log is not None and isinstance(event, SecurityEventLogged):
            self.security_log.record(event)

    def validate_network_profile(self, slot: int, profile: dict[str, Any]) -> bool:
        with self._lock:
            self.network_profiles.append((slot, profile))
        return self.allow_network_profiles

    def apply_charging_limit(self, evse_id: int, limit: float, unit: str, phases: int) -> None:
        with self._lock:
            self.limits[evse_id] = (limit, unit, phases)

    def start_energy_transfer(self, evse_id: int) -> bool:
        with self._lock:
            self.energy[evse_id] = True
        return True

    def stop_energy_transfer(self, evse_id: int) -> bool:
        with self._lock:
            self.energy[evse_id] = False
        return True

    def unlock_connector(self, evse_id: int, connector_id: int) -> bool:
        with self._lock:
            self.unlocked.append((evse_id, connector_id))
        return self.unlock_works

    def validate_token(self, id_token: dict[str, Any], evse_id: int) -> dict[str, Any] | None:
        return self.token_verdicts.get(id_token["idToken"])

    def customer_information(self, kind: CustomerReference, reference: Any, clear: bool) -> list[str]:
        key = _customer_key(kind, reference)
        with self._lock:
            held = self.customers.pop(key, []) if clear else self.customers.get(key, [])
        return list(held)
    def show_messages(self, evse_id: int, messages: tuple[ShownMessage, ...]) -> None:
        with self._lock:
            self.displays[evse_id] = messages

    def show_cost(self, evse_id: int, cost: CostShown) -> None:
        with self._lock:
            self.costs.setdefault(evse_id, []).append(cost)

    def hardware_change(self, evse_id: int, connector_id: int, change: ConnectorChange) -> None:
        """The simulated hardware's side of `ChargingStation.connector`: whoever plays the hardware (the CLI
        operator, a test) tells it too, so that a reboot finds what is really there."""
        with self._lock:
            was = self.hardware.get((evse_id, connector_id), ConnectorFound(evse_id, connector_id))
            if change in ("plug", "unplug"):
                self.hardware[(evse_id, connector_id)] = replace(was, plugged=change == "plug")
            else:
                self.hardware[(evse_id, connector_id)] = replace(was, faulted=change == "fault")

    def connector_states(self) -> tuple[ConnectorFound, ...]:
        with self._lock:
            return tuple(found for found in self.hardware.values() if found.plugged or found.faulted)

    def install_firmware(self, path: str, request_id: int) -> str:
        """A simulated image is a text file whose first line is `FIRMWARE_MAGIC <version>`; the version runs after
        the reboot. Any other file fails its verification."""
        with open(path, "rb") as file:
            first = file.readline(256).decode("utf-8", "replace").split()
        if len(first) != 2 or first[0] != FIRMWARE_MAGIC:
            return "InstallVerificationFailed"
        with self._lock:
            self.installed_version = first[1][:50]  # firmwareVersion is string(50)
        return "Installed"

    def firmware_version(self) -> str | None:
        with self._lock:
            return self.installed_version


def _customer_key(kind: CustomerReference, reference: Any) -> str:
    """How SimulatedCharger.customers is keyed: the customerIdentifier, the idToken value, the serialNumber."""
    if kind == "idToken":
        return str(reference["idToken"])
    if kind == "customerCertificate":
        return str(reference["serialNumber"])
    return str(reference)
def describe_cost(cost: CostShown) -> str:
    """One line for the operator: the amount (or the fallback text), whether final, the CSMS's texts, the prices
    with the idle fee and the next period's, and the QR code."""
    amount = cost.fallback if cost.total is None else f"{cost.total} {cost.currency}"
    texts = "".join(f" | {text.text}" for text in cost.texts)
    prices = "" if cost.prices is None else f" | {describe_prices(cost.prices)}"
    if cost.next_prices is not None and cost.next_at is not None:
        prices += f" | from {cost.next_at.isoformat()}: {describe_prices(cost.next_prices)}"
    qr_code = "" if cost.qr_code is None else f" | QR {cost.qr_code}"
    head = f"{'final' if cost.final else 'running'} {amount} (transaction {cost.transaction_id})"
    return f"{head}{texts}{prices}{qr_code}"


def describe_prices(prices: CostPrices) -> str:
    parts = [f"{value}/{unit}" for value, unit in ((prices.kwh, "kWh"), (prices.hour, "h")) if value is not None]
    parts += [] if prices.flat_fee is None else [f"{prices.flat_fee} flat"]
    if prices.idle_hour is not None:
        grace = "" if prices.idle_grace_minutes is None else f" after {prices.idle_grace_minutes} min"
        parts.append(f"idle {prices.idle_hour}/h{grace}")
    return ", ".join(parts)
