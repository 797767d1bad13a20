"""Block H (reservation) against the CSMS double, one use case at a time. The Part 6 edition at hand has no test
cases for block H, so each test follows a use case's scenario of Part 2 (errata 2023-12 for H01 S2) and checks the
numbered requirements it names, as a test lab would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from harness import Booted, StationFactory, boot, hardware, settle

from chargecore.testing.csms_double import CsmsDouble, StationCall

AUTHORIZED_START = {"TxCtrlr": {"TxStartPoint": "Authorized"}}
TOKEN = {"idToken": "RESERVED1", "type": "ISO14443"}
OTHER = {"idToken": "STRANGER", "type": "ISO14443"}


def expiry(seconds: float) -> str:
    """An expiryDateTime `seconds` from now on the CSMS clock, which the station's clock follows."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def reserve_now(csms: CsmsDouble, reservation_id: int, seconds: float = 600, **fields: Any) -> dict[str, Any]:
    payload = {"id": reservation_id, "expiryDateTime": expiry(seconds), "idToken": TOKEN, **fields}
    return csms.call("ReserveNow", payload).payload


def status(call: StationCall) -> tuple[int, int, str]:
    return call.payload["evseId"], call.payload["connectorId"], call.payload["connectorStatus"]


def present(booted: Booted, csms: CsmsDouble, token: dict[str, str], evse_id: int = 1) -> StationCall:
    """The driver presents `token` at the EVSE; the CSMS accepts it in its AuthorizeResponse."""
    booted.station.present_token(token["idToken"], token["type"], evse_id)
    call = csms.expect_call("Authorize")
    assert call.payload["idToken"] == token
    csms.reply(call, {"idTokenInfo": {"status": "Accepted"}})
    return call


@pytest.mark.requirements("H01.FR.23", "H03.FR.09", "H03.FR.10")
def test_H01_reserve_a_specific_evse_and_use_it(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """H01 S2 then H03 S1: Accepted, StatusNotification Reserved; another token is not authorized to charge there;
    the reserved token starts the transaction with reservationId and the connector is no longer Reserved."""
    booted = boot(station_factory(config=AUTHORIZED_START), csms)
    csms.answer_automatically("TransactionEvent", {"idTokenInfo": {"status": "Accepted"}})
    assert reserve_now(csms, 11, evseId=1) == {"status": "Accepted"}
    assert status(csms.expect_call("StatusNotification")) == (1, 1, "Reserved")

    present(booted, csms, OTHER)
    settle(booted.station, csms)
    assert csms.calls("TransactionEvent") == [], "a token not matching the reservation starts nothing"

    present(booted, csms, TOKEN)
    started = csms.expect_call("TransactionEvent")
    assert started.payload["eventType"] == "Started" and started.payload["reservationId"] == 11
    assert started.payload["idToken"] == TOKEN
    settle(booted.station, csms)
    assert [status(c) for c in csms.calls("StatusNotification")[len(booted.statuses) + 1 :]] == [(1, 1, "Occupied")]


@pytest.mark.requirements("H01.FR.01")
def test_H01_reservations_switched_off_are_rejected(csms: CsmsDouble, booted: Booted) -> None:
    reply = csms.call(
        "SetVariables",
        {
            "setVariableData": [
                {"component": {"name": "ReservationCtrlr"}, "variable": {"name": "Enabled"}, "attributeValue": "false"}
            ]
        },
    )
    assert reply.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
    answer = reserve_now(csms, 1, evseId=1)
    assert answer["status"] == "Rejected"
    assert csms.call("CancelReservation", {"reservationId": 1}).payload["status"] == "Rejected"
    settle(booted.station, csms)
    assert csms.calls("StatusNotification") == booted.statuses, "nothing reserved"


@pytest.mark.requirements("H01.FR.04", "H01.FR.18", "H01.FR.20", "H01.FR.19")
def test_H01_reservations_for_any_evse(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """NonEvseSpecific: the first of two EVSEs' worth of reservations leaves both Available, the second makes both
    Reserved, a third finds none."""
    booted = boot(station_factory(evse_connectors=(1, 1), config={"ReservationCtrlr": {"NonEvseSpecific": True}}), csms)
    assert reserve_now(csms, 1) == {"status": "Accepted"}
    assert reserve_now(csms, 2) == {"status": "Accepted"}
    reserved = sorted(status(c) for c in csms.expect_calls("StatusNotification", 2))
    assert reserved == [(1, 1, "Reserved"), (2, 1, "Reserved")]
    assert reserve_now(csms, 3)["status"] == "Occupied"
    settle(booted.station, csms)


@pytest.mark.requirements("H01.FR.11", "H01.FR.19")
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"evseId": 9}, "Rejected"),
        ({"evseId": 1, "expiryDateTime": "2001-01-01T00:00:00Z"}, "Rejected"),
        ({"evseId": 1, "id": 2**40}, "Rejected"),
        ({"evseId": 1, "connectorType": "cCCS1"}, "Rejected"),
        ({}, "Rejected"),
    ],
    ids=["unknown-evse", "expired", "huge-id", "unknown-connector-type", "no-evse"],
)
def test_H01_bad_input_stores_nothing(csms: CsmsDouble, booted: Booted, fields: dict[str, Any], expected: str) -> None:
    payload = {"id": 1, "expiryDateTime": expiry(600), "idToken": TOKEN, **fields}
    reply = csms.call("ReserveNow", payload)
    assert reply.payload["status"] == expected and "statusInfo" in reply.payload
    assert booted.station.state.reservations == ()
    assert reserve_now(csms, 2, evseId=1) == {"status": "Accepted"}, "the station keeps working"


@pytest.mark.requirements("H02.FR.01", "H02.FR.02", "H02.FR.03", "H02.FR.04")
def test_H02_cancel_a_reservation(csms: CsmsDouble, booted: Booted) -> None:
    assert reserve_now(csms, 21, evseId=1) == {"status": "Accepted"}
    assert status(csms.expect_call("StatusNotification")) == (1, 1, "Reserved")
    assert csms.call("CancelReservation", {"reservationId": 21}).payload == {"status": "Accepted"}
    assert status(csms.expect_call("StatusNotification")) == (1, 1, "Available")
    assert csms.call("CancelReservation", {"reservationId": 21}).payload["status"] == "Rejected"


@pytest.mark.requirements("H03.FR.07", "H03.FR.08")
def test_H03_use_a_reserved_evse_with_the_group_id(csms: CsmsDouble, station_factory: StationFactory) -> None:
    """H03 S2: another token of the reservation's group, as the AuthorizeResponse tells, uses the reservation."""
    booted = boot(station_factory(config=AUTHORIZED_START), csms)
    csms.answer_automatically("TransactionEvent", {})
    group = {"idToken": "FLEET7", "type": "Central"}
    assert reserve_now(csms, 31, evseId=1, groupIdToken=group) == {"status": "Accepted"}
    booted.station.present_token(OTHER["idToken"], OTHER["type"], 1)
    authorize = csms.expect_call("Authorize")
    csms.reply(authorize, {"idTokenInfo": {"status": "Accepted", "groupIdToken": group}})
    started = csms.expect_call("TransactionEvent")
    assert started.payload["reservationId"] == 31 and started.payload["idToken"] == OTHER


def test_H04_a_reservation_expires(csms: CsmsDouble, booted: Booted) -> None:
    """ReservationStatusUpdate Expired at expiryDateTime, and the connector Available again."""
    assert reserve_now(csms, 41, seconds=1.5, evseId=1) == {"status": "Accepted"}
    assert status(csms.expect_call("StatusNotification")) == (1, 1, "Reserved")
    update = csms.expect_call("ReservationStatusUpdate", timeout=10)
    assert update.payload == {"reservationId": 41, "reservationUpdateStatus": "Expired"}
    csms.reply(update, {})
    assert status(csms.expect_call("StatusNotification")) == (1, 1, "Available")


def test_H04_a_reservation_on_a_faulted_evse_is_removed(csms: CsmsDouble, booted: Booted) -> None:
    """ReservationStatusUpdate Removed when the reserved EVSE becomes Faulted."""
    assert reserve_now(csms, 51, evseId=1) == {"status": "Accepted"}
    csms.expect_call("StatusNotification")
    hardware(booted, 1, 1, "fault")
    update = csms.expect_call("ReservationStatusUpdate")
    assert update.payload == {"reservationId": 51, "reservationUpdateStatus": "Removed"}
    csms.reply(update, {})
    assert status(csms.expect_call("StatusNotification")) == (1, 1, "Faulted")


def test_H01_a_reservation_survives_a_restart(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Any) -> None:
    data_dir = tmp_path / "kept"
    first = boot(station_factory(data_dir=data_dir), csms)
    assert reserve_now(csms, 61, evseId=1) == {"status": "Accepted"}
    csms.expect_call("StatusNotification")
    settle(first.station, csms)
    first.station.stop(timeout=5)
    again = boot(station_factory(data_dir=data_dir), csms)
    assert [status(c) for c in again.statuses] == [(1, 1, "Reserved")]
    assert csms.call("CancelReservation", {"reservationId": 61}).payload == {"status": "Accepted"}
