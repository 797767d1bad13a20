"""Station-side helpers shared by the conformance tests: the Part 6 reusable state Booted and a barrier.

They need both ends (the running station and the CSMS double), so they live here rather than in either.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from chargecore.pure.inputs import ConnectorChange
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import DEFAULT_TIMEOUT, CsmsDouble, StationCall, wait_until

SETTLE_VENDOR = "org.chargecore.conformance"


class StationFactory(Protocol):
    """The `station_factory` fixture: start a station against the double with StationOptions overrides and
    device-model `config` sections laid over the fast defaults."""

    def __call__(
        self,
        *,
        application: SimulatedCharger | None = None,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> ChargingStation: ...


@dataclass(frozen=True)
class Booted:
    """Part 6 "Reusable State Booted": the boot was accepted and the status of every connector answered."""

    station: ChargingStation
    application: SimulatedCharger
    boot: StationCall
    statuses: list[StationCall]


def hardware(booted: Booted, evse_id: int, connector_id: int, change: ConnectorChange) -> None:
    """The simulated hardware sees a cable plugged in or pulled out (a fault raised or cleared): it keeps it, so
    that a reboot finds it there (ChargerApplication.connector_states), and reports it to the station."""
    booted.application.hardware_change(evse_id, connector_id, change)
    booted.station.connector(evse_id, connector_id, change)


def connector_count(station: ChargingStation) -> int:
    return sum(station.options.evse_connectors)


def boot(station: ChargingStation, csms: CsmsDouble, interval: int | None = None) -> Booted:
    """Accept the station's next BootNotification and collect one StatusNotification per connector."""
    application = station.application
    assert isinstance(application, SimulatedCharger), "the conformance station runs a SimulatedCharger"
    accepted = csms.answer_boot("Accepted", interval)
    statuses = csms.expect_calls("StatusNotification", connector_count(station))
    return Booted(station, application, accepted, statuses)


def settle(station: ChargingStation, csms: CsmsDouble, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Wait until every CALL the station has queued so far has reached the CSMS.

    The station sends its CALLs one at a time in queue order, so a DataTransfer queued now arrives after all
    of them; that turns "the station sent nothing else" into a check that needs no fixed sleep. It first waits
    until the station has taken in its (re)connection: the double sees a new connection before the station's
    core does, and a DataTransfer queued earlier would overtake what the core queues on reconnecting.
    """
    wait_until(lambda: station.state.connection.phase == "up", "the station to be connected", timeout)
    marker = uuid.uuid4().hex
    station.send_data_transfer(SETTLE_VENDOR, marker)
    while True:
        call = csms.expect_call("DataTransfer", timeout)
        csms.reply(call, {"status": "Accepted"})
        if call.payload.get("messageId") == marker:
            return


def status_by_connector(calls: list[StationCall]) -> dict[tuple[int, int], str]:
    """StatusNotification payloads as {(evseId, connectorId): connectorStatus}, failing on a duplicate."""
    reported: dict[tuple[int, int], str] = {}
    for call in calls:
        key = (call.payload["evseId"], call.payload["connectorId"])
        assert key not in reported, f"connector {key} reported twice: {[c.payload for c in calls]}"
        reported[key] = call.payload["connectorStatus"]
    return reported


def sent_in_order(csms: CsmsDouble, mark: int, *message_ids: str) -> bool:
    """Did the station's frames with these message ids arrive (after `mark`) in the given order?"""
    seen = [inbound.frame[1] for inbound in csms.inbound_since(mark) if inbound.frame and len(inbound.frame) > 1]
    positions = [seen.index(message_id) for message_id in message_ids]
    return positions == sorted(positions)


def receive_report(csms: CsmsDouble, request_id: int) -> list[StationCall]:
    """Steps 3-4: take NotifyReport messages until one has tbc false, answering each; every message carries the
    request id, a generatedAt near now, and a seqNo one higher than the one before, starting at 0."""
    notifies: list[StationCall] = []
    while True:
        notify = csms.expect_call("NotifyReport")
        payload = notify.payload
        assert payload["requestId"] == request_id
        assert payload["seqNo"] == len(notifies), "seqNo starts at 0 and grows by one"
        generated_at = datetime.fromisoformat(payload["generatedAt"].replace("Z", "+00:00"))
        assert abs((generated_at - datetime.now(UTC)).total_seconds()) < 60, payload["generatedAt"]
        csms.reply(notify, {})
        notifies.append(notify)
        if not payload.get("tbc", False):
            return notifies
