"""Blocks O and I against a CSMS built on the independent `ocpp` package: Set/Get/ClearDisplayMessage round-trip
with NotifyDisplayMessages, and a running cost from CostUpdated and the final cost of the Ended event reaching the
application's display hooks."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from harness import StationFactory
from ocpp.routing import on  # type: ignore[import-untyped]
from ocpp.v201 import call, call_result  # type: ignore[import-untyped]
from ocpp.v201.enums import Action  # type: ignore[import-untyped]
from test_against_ocpp_package_csms import PackageCsms, PackageCsmsServer

from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import wait_until

FINAL_COST = 7.35


class DisplayCsms(PackageCsms):
    """The package CSMS that also takes NotifyDisplayMessages and prices the Ended event."""

    @on(Action.notify_display_messages)  # type: ignore[untyped-decorator]
    def on_notify_display_messages(
        self, request_id: int, message_info: list[dict[str, Any]] | None = None, **extra: Any
    ) -> Any:
        self._record("NotifyDisplayMessages", request_id=request_id, messages=message_info or [], tbc=extra.get("tbc"))
        return call_result.NotifyDisplayMessages()

    @on(Action.transaction_event)  # type: ignore[untyped-decorator]
    def on_transaction_event(self, event_type: str, transaction_info: dict[str, Any], **extra: Any) -> Any:
        self._record("TransactionEvent", event_type=event_type, transaction_id=transaction_info["transaction_id"])
        accepted = {"id_token_info": {"status": "Accepted"}} if extra.get("id_token") is not None else {}
        total = {"total_cost": FINAL_COST} if event_type == "Ended" else {}
        return call_result.TransactionEvent(**accepted, **total)


@pytest.fixture
def display_csms() -> Iterator[PackageCsmsServer]:
    with PackageCsmsServer(DisplayCsms) as server:
        yield server


def shown(application: SimulatedCharger) -> list[str]:
    return [message.content.text for message in application.displays.get(1, ())]


@pytest.mark.requirements("O03.FR.02", "O05.FR.01")
def test_display_messages_round_trip_with_the_ocpp_package_csms(
    display_csms: PackageCsmsServer, station_factory: StationFactory
) -> None:
    application = SimulatedCharger()
    station_factory(csms_url=display_csms.url, application=application)
    display_csms.wait_for("StatusNotification")
    message = {"id": 1, "priority": "InFront", "message": {"format": "UTF8", "content": "Free parking today"}}
    assert display_csms.call(call.SetDisplayMessage(message=message)).status == "Accepted"
    wait_until(lambda: shown(application) == ["Free parking today"], "the message on the display")

    assert display_csms.call(call.GetDisplayMessages(request_id=3)).status == "Accepted"
    [notified] = display_csms.wait_for("NotifyDisplayMessages")
    assert notified.fields["request_id"] == 3
    assert [(m["id"], m["message"]["content"]) for m in notified.fields["messages"]] == [(1, "Free parking today")]

    assert display_csms.call(call.ClearDisplayMessage(id=1)).status == "Accepted"
    wait_until(lambda: shown(application) == [], "the display cleared")
    assert display_csms.call(call.GetDisplayMessages(request_id=4)).status == "Unknown"


@pytest.mark.requirements("I02.FR.02", "I03.FR.01")
def test_running_and_final_cost_reach_the_display_hook(
    display_csms: PackageCsmsServer, station_factory: StationFactory
) -> None:
    application = SimulatedCharger()
    station = station_factory(csms_url=display_csms.url, application=application)
    display_csms.wait_for("StatusNotification")
    station.connector(1, 1, "plug")
    station.present_token("TOKEN1", evse_id=1)
    [started] = display_csms.wait_for("TransactionEvent")
    transaction_id = started.fields["transaction_id"]

    display_csms.call(call.CostUpdated(total_cost=1.23, transaction_id=transaction_id))
    wait_until(lambda: application.costs.get(1), "the running cost on the display")
    running = application.costs[1][-1]
    assert (running.total, running.currency, running.final) == (Decimal("1.230"), "EUR", False)

    station.present_token("TOKEN1", evse_id=1)  # the same token ends the transaction
    wait_until(lambda: application.costs[1][-1].final, "the final cost on the display")
    final = application.costs[1][-1]
    assert (final.transaction_id, final.total) == (transaction_id, Decimal("7.350"))
