"""Block O (display messages) over loopback against the CSMS double. Part 6 of this edition has no O test cases
for the Charging Station: each test follows a use case of Part 2 (O01-O06) and names the requirements it checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from harness import Booted, StationFactory, boot
from sessions import energy_transfer_started

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.testing.csms_double import CsmsDouble, wait_until

COUNT = VariableKey("DisplayMessageCtrlr", "DisplayMessages"), "Actual"


def message(message_id: int, text: str, priority: str = "NormalCycle", **extra: Any) -> dict[str, Any]:
    return {"id": message_id, "priority": priority, "message": {"format": "UTF8", "content": text}, **extra}


def texts(booted: Booted, evse_id: int = 1) -> list[str]:
    return [shown.content.text for shown in booted.application.displays.get(evse_id, ())]


def shows(booted: Booted, expected: list[str], evse_id: int = 1) -> None:
    wait_until(lambda: texts(booted, evse_id) == expected, f"EVSE {evse_id} to show {expected}")


def set_message(csms: CsmsDouble, info: dict[str, Any]) -> dict[str, Any]:
    reply = csms.call("SetDisplayMessage", {"message": info})
    assert reply.payload is not None, reply
    return reply.payload


def notified(csms: CsmsDouble) -> Any:
    """The next NotifyDisplayMessages, answered."""
    notify = csms.expect_call("NotifyDisplayMessages")
    csms.reply(notify, {})
    return notify


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.requirements("O06.FR.01")
def test_O01_set_display_message_is_shown_and_replaced(csms: CsmsDouble, booted: Booted) -> None:
    """O01: an accepted message reaches the display hook; O06: the same id replaces it."""
    assert set_message(csms, message(1, "Welcome")) == {"status": "Accepted"}
    shows(booted, ["Welcome"])
    assert set_message(csms, message(1, "Welcome back")) == {"status": "Accepted"}
    shows(booted, ["Welcome back"])
    assert booted.station.state.device_model.values[COUNT] == "1", "DisplayMessages counts stored messages"


def test_O01_priorities_order_the_display(csms: CsmsDouble, booted: Booted) -> None:
    """InFront before NormalCycle; an AlwaysFront message alone, the newest of them."""
    set_message(csms, message(1, "normal"))
    set_message(csms, message(2, "in front", "InFront"))
    shows(booted, ["in front", "normal"])
    set_message(csms, message(3, "first alarm", "AlwaysFront"))
    set_message(csms, message(4, "second alarm", "AlwaysFront"))
    shows(booted, ["second alarm"])
    assert csms.call("ClearDisplayMessage", {"id": 4}).payload == {"status": "Accepted"}
    shows(booted, ["first alarm"])


def test_O01_message_window_through_next_deadline(csms: CsmsDouble, booted: Booted) -> None:
    """A message shows from its startDateTime and goes at its endDateTime, by the station's own timer."""
    now = datetime.now(UTC)
    window = {"startDateTime": iso(now + timedelta(seconds=1)), "endDateTime": iso(now + timedelta(seconds=2))}
    assert set_message(csms, message(7, "for a second", **window)) == {"status": "Accepted"}
    assert texts(booted) == []
    shows(booted, ["for a second"])
    shows(booted, [])
    reply = csms.call("GetDisplayMessages", {"requestId": 1, "id": [7]})
    assert reply.payload == {"status": "Unknown"}, "an outdated message is removed"


@pytest.mark.requirements("O01.FR.02", "O01.FR.03")
@pytest.mark.parametrize(
    ("config", "info", "status"),
    [
        (
            {"SupportedFormats": "UTF8"},
            {**message(1, "x"), "message": {"format": "HTML", "content": "<b>x</b>"}},
            "NotSupportedMessageFormat",
        ),
        ({"SupportedPriorities": "NormalCycle"}, message(1, "x", "AlwaysFront"), "NotSupportedPriority"),
        ({"SupportedStates": "Charging"}, message(1, "x", state="Idle"), "NotSupportedState"),
        ({"Enabled": False}, message(1, "x"), "Rejected"),
    ],
    ids=["format", "priority", "state", "disabled"],
)
def test_O01_unsupported_message_is_refused_and_not_stored(
    csms: CsmsDouble, station_factory: StationFactory, config: dict[str, Any], info: dict[str, Any], status: str
) -> None:
    booted = boot(station_factory(config={"DisplayMessageCtrlr": config}), csms)
    assert set_message(csms, info)["status"] == status
    assert csms.call("GetDisplayMessages", {"requestId": 1}).payload == {"status": "Unknown"}
    assert texts(booted) == []


def test_O01_a_hostile_message_gets_the_right_answer(csms: CsmsDouble, booted: Booted) -> None:
    """Too long for the schema: a CALLERROR; not ASCII in ASCII, a past window: Rejected; the station goes on."""
    too_long = csms.call("SetDisplayMessage", {"message": message(1, "x" * 513)})
    assert too_long.error_code in ("FormatViolation", "PropertyConstraintViolation"), too_long
    not_ascii = {**message(2, "x"), "message": {"format": "ASCII", "content": "caf\u00e9"}}
    assert set_message(csms, not_ascii)["status"] == "Rejected"
    past = message(3, "old", endDateTime=iso(datetime.now(UTC) - timedelta(minutes=1)))
    assert set_message(csms, past)["status"] == "Rejected"
    assert csms.call("GetDisplayMessages", {"requestId": 1}).payload == {"status": "Unknown"}
    assert set_message(csms, message(4, "still working")) == {"status": "Accepted"}


def test_O01_the_store_is_bounded_by_display_messages_max_limit(csms: CsmsDouble, booted: Booted) -> None:
    for message_id in range(1, 11):
        assert set_message(csms, message(message_id, f"m{message_id}")) == {"status": "Accepted"}
    assert set_message(csms, message(11, "one too many"))["status"] == "Rejected"
    assert set_message(csms, message(10, "a replacement fits")) == {"status": "Accepted"}


@pytest.mark.requirements("O02.FR.01")
def test_O02_message_for_a_transaction(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """UnknownTransaction for a transaction that does not run; a transaction's message shows during it, and goes
    with it."""
    booted = boot(station_factory(config={"TariffCostCtrlr": {"Enabled[Tariff]": False}}), csms)
    assert set_message(csms, message(1, "x", transactionId="nope"))["status"] == "UnknownTransaction"
    started = energy_transfer_started(booted, csms)
    transaction_id = started.payload["transactionInfo"]["transactionId"]
    assert set_message(csms, message(2, "your session", transactionId=transaction_id)) == {"status": "Accepted"}
    shows(booted, ["your session"])
    assert set_message(csms, message(3, "idle only", state="Idle")) == {"status": "Accepted"}
    set_message(csms, message(4, "while charging", state="Charging"))
    shows(booted, ["your session", "while charging"])


@pytest.mark.requirements("O03.FR.02", "O04.FR.01", "O04.FR.02", "O04.FR.03")
def test_O03_O04_get_display_messages_in_parts(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """Accepted, then NotifyDisplayMessages with the requestId, split by ItemsPerMessage, tbc on all but the last;
    filters by id, priority and state; Unknown when nothing matches."""
    booted = boot(station_factory(config={"DeviceDataCtrlr": {"ItemsPerMessage[GetReport]": 2}}), csms)
    infos = [message(1, "a"), message(2, "b", "InFront"), message(3, "c", state="Idle"), message(4, "d")]
    for info in infos:
        set_message(csms, info)
    assert csms.call("GetDisplayMessages", {"requestId": 5}).payload == {"status": "Accepted"}
    parts = [notified(csms) for _ in range(2)]
    assert [p.payload["requestId"] for p in parts] == [5, 5]
    assert [p.payload.get("tbc", False) for p in parts] == [True, False]
    assert [m for p in parts for m in p.payload["messageInfo"]] == infos
    for criteria, expected in (({"id": [2, 4]}, [2, 4]), ({"priority": "InFront"}, [2]), ({"state": "Idle"}, [3])):
        assert csms.call("GetDisplayMessages", {"requestId": 6, **criteria}).payload == {"status": "Accepted"}
        notify = notified(csms)
        assert [m["id"] for m in notify.payload["messageInfo"]] == expected
    assert csms.call("GetDisplayMessages", {"requestId": 7, "id": [9]}).payload == {"status": "Unknown"}
    assert booted.station.state.display.messages


@pytest.mark.requirements("O05.FR.01", "O05.FR.02")
def test_O05_clear_display_message(csms: CsmsDouble, booted: Booted) -> None:
    set_message(csms, message(1, "bye"))
    shows(booted, ["bye"])
    assert csms.call("ClearDisplayMessage", {"id": 1}).payload == {"status": "Accepted"}
    shows(booted, [])
    assert csms.call("ClearDisplayMessage", {"id": 1}).payload == {"status": "Unknown"}


def test_O01_messages_survive_a_restart(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Any) -> None:
    first = boot(station_factory(data_dir=tmp_path / "data"), csms)
    set_message(csms, message(1, "kept"))
    shows(first, ["kept"])
    first.station.stop()
    again = boot(station_factory(data_dir=tmp_path / "data"), csms)
    shows(again, ["kept"])
    assert csms.call("GetDisplayMessages", {"requestId": 1}).payload == {"status": "Accepted"}
