"""Block P, DataTransfer both ways (P01, P02): vendor-specific messages handled by the application."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from chargecore.pure.effects import DataTransferAnswered, DataTransferQuestion, Effects, Notify
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import Call
from chargecore.pure.outcome import Defer, Handled, Reply
from chargecore.pure.state import Station

UNKNOWN_VENDOR = {"status": "UnknownVendorId"}


def handle_data_transfer(station: Station, call: Call, now: datetime) -> Handled:
    """P01: the application decides; the answer comes back through `resume_data_transfer`."""
    payload = call.payload
    return (
        station,
        Defer(DataTransferQuestion(payload["vendorId"], payload.get("messageId"), payload.get("data"))),
        (),
    )


def resume_data_transfer(station: Station, call: Call, answer: Any, now: datetime) -> Handled:
    """P01.FR.05/06: no handler for the vendor means UnknownVendorId."""
    return station, Reply(answer if isinstance(answer, dict) else UNKNOWN_VENDOR), ()


def transfer_payload(vendor_id: str, message_id: str | None, data: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"vendorId": vendor_id}
    if message_id is not None:
        payload["messageId"] = message_id
    if data is not None:
        payload["data"] = data
    return payload


def send_data_transfer(station: Station, vendor_id: str, message_id: str | None, data: Any) -> tuple[Station, Effects]:
    """P02: queue the application's DataTransfer; its answer reaches the application as a notification."""
    session, effects = rpc.enqueue(station.rpc, "DataTransfer", transfer_payload(vendor_id, message_id, data))
    return replace(station, rpc=session), effects


def on_response(request: dict[str, Any], response: dict[str, Any] | None) -> Effects:
    return (Notify(DataTransferAnswered(request["vendorId"], request.get("messageId"), response)),)
