"""The local CSMS's tariff (`chargecore csms --tariff FILE`): the file, the running cost it computes, and the
totalCost it answers TransactionEvents with."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import websocket

from chargecore.testing.csms_double import wait_until
from chargecore.tools.csms import LocalCsms, main
from chargecore.tools.tariff import Tariff, TariffError, load_tariff


def event(event_type: str, seconds: int, energy_wh: float | None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": f"2025-01-01T10:{seconds // 60:02d}:{seconds % 60:02d}Z",
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx1"},
    }
    if energy_wh is not None:
        sample = {"value": energy_wh, "measurand": "Energy.Active.Import.Register"}
        request["meterValue"] = [{"timestamp": request["timestamp"], "sampledValue": [sample]}]
    return request


def tariff_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tariff.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_tariff_is_read_as_decimals(tmp_path: Path) -> None:
    tariff = load_tariff(tariff_file(tmp_path, '{"currency": "eur", "perKWh": 0.30, "perMinute": 0.05}'))
    assert tariff == Tariff("EUR", Decimal("0.30"), Decimal("0.05"))
    assert tariff.cost(Decimal(1500), Decimal(10)) == Decimal("0.95")


@pytest.mark.parametrize(
    "text",
    ['{"currency": "EURO"}', '{"currency": "EUR", "perKWh": -1}', '{"currency": "EUR", "perMinute": "x"}', "[", "[]"],
    ids=["currency", "negative", "not-a-number", "not-json", "not-an-object"],
)
def test_a_bad_tariff_is_refused_and_the_csms_does_not_start(tmp_path: Path, text: str) -> None:
    path = tariff_file(tmp_path, text)
    with pytest.raises(TariffError):
        load_tariff(path)
    assert main(["--port", "0", "--tariff", str(path)]) == 2


def test_transaction_events_are_answered_with_the_running_total_cost(tmp_path: Path) -> None:
    tariff = load_tariff(tariff_file(tmp_path, '{"currency": "EUR", "perKWh": 0.30, "perMinute": 0.05}'))
    with LocalCsms(on_log=lambda _: None, tariff=tariff) as csms:
        ws = websocket.create_connection(csms.url + "/CS001", subprotocols=["ocpp2.0.1"], timeout=5)
        wait_until(lambda: csms.stations() == ["CS001"], "the station registered", 5)
        totals = []
        for request in (event("Started", 0, 1000.0), event("Updated", 120, 3000.0), event("Ended", 600, 6000.0)):
            message_id = str(uuid.uuid4())
            ws.send(json.dumps([2, message_id, "TransactionEvent", request]))
            reply = json.loads(ws.recv())
            assert reply[:2] == [3, message_id]
            totals.append(reply[2]["totalCost"])
        ws.close()
    assert totals == [0.0, 0.7, 2.0], "2 kWh and 2 minutes: 0.70; 5 kWh and 10 minutes: 2.00"
