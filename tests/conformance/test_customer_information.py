"""Part 6 block N customer information test cases (N09 get, N10 clear) for the Charging Station, and the hostile
requests next to them (N09.FR.07, N09.FR.09).

<Configured valid idToken fields> is TOKEN; the Memory States IdTokenCached and IdTokenLocalAuthList are the cache
entry an earlier run left in the data dir and a SendLocalList; "State is Authorized (local)" is the token presented
and accepted from the local list (LocalPreAuthorize, no AuthorizeRequest).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import Booted, StationFactory, boot, settle
from sessions import ID_TOKEN, TOKEN, cached, configure

from chargecore.pure.blocks.authorization.tokens import token_key
from chargecore.shell.application import SimulatedCharger
from chargecore.testing.csms_double import CsmsDouble, StationCall, wait_until

CUSTOMER_ID = "customer-4711"
"""<Configured customerIdentifier>."""
LOCAL_SETUP = {
    "LocalAuthListCtrlr": {"Enabled": True},
    "AuthCtrlr": {"LocalPreAuthorize": True},
    "AuthCacheCtrlr": {"Enabled": True},
}


def customer_information(csms: CsmsDouble, request_id: int, *, report: bool, clear: bool, **reference: Any) -> Any:
    payload = {"requestId": request_id, "report": report, "clear": clear, **reference}
    return csms.call("CustomerInformation", payload).payload


def notifications(csms: CsmsDouble, request_id: int) -> list[StationCall]:
    """Steps 3-4 (repeated while tbc): every part, answered; seqNo from 0, the request's id, a generatedAt near
    now, data within the schema's 512 characters."""
    parts: list[StationCall] = []
    while True:
        notify = csms.expect_call("NotifyCustomerInformation")
        payload = notify.payload
        assert payload["requestId"] == request_id
        assert payload["seqNo"] == len(parts), "seqNo starts at 0 and grows by one"
        assert len(payload["data"]) <= 512
        generated_at = datetime.fromisoformat(payload["generatedAt"].replace("Z", "+00:00"))
        assert abs((generated_at - datetime.now(UTC)).total_seconds()) < 60
        csms.reply(notify, {})
        parts.append(notify)
        if not payload.get("tbc", False):
            return parts


def text(parts: list[StationCall]) -> str:
    return "".join(part.payload["data"] for part in parts)


def authorized_locally(csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path) -> Booted:
    """Configuration State of TC_N_27/TC_N_30, Memory States IdTokenCached and IdTokenLocalAuthList, and the
    Charging State Authorized (local): the token accepted from the local list, no AuthorizeRequest."""
    data_dir = cached(tmp_path / "station", ID_TOKEN)
    booted = boot(station_factory(data_dir=data_dir), csms)
    configure(csms, LOCAL_SETUP)
    entry = {"idToken": ID_TOKEN, "idTokenInfo": {"status": "Accepted"}}
    listed = csms.call("SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [entry]})
    assert listed.payload["status"] == "Accepted"
    booted.station.present_token(TOKEN)
    wait_until(lambda: any(tx.id_token == ID_TOKEN for tx in booted.station.state.transactions), "authorized")
    settle(booted.station, csms)
    assert not csms.calls("Authorize"), "authorized from the local list"
    return booted


@pytest.mark.requirements("N09.FR.02", "N09.FR.05")
def test_TC_N_27_CS_get_customer_information_accepted_with_data(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    authorized_locally(csms, station_factory, tmp_path)
    assert customer_information(csms, 27, report=True, clear=False, idToken=ID_TOKEN) == {"status": "Accepted"}
    parts = notifications(csms, 27)
    assert parts[0].payload["data"], "data not empty"
    reported = text(parts)
    assert "Local authorization list" in reported and "Authorization cache" in reported
    assert "Transaction" in reported


@pytest.mark.requirements("N09.FR.02", "N09.FR.06")
def test_TC_N_28_CS_get_customer_information_accepted_no_data(csms: CsmsDouble, booted: Booted) -> None:
    # Memory State: the CSMS requests the station to clear the customer information of the token.
    assert customer_information(csms, 1, report=False, clear=True, idToken=ID_TOKEN) == {"status": "Accepted"}
    notifications(csms, 1)
    assert customer_information(csms, 28, report=True, clear=False, idToken=ID_TOKEN) == {"status": "Accepted"}
    parts = notifications(csms, 28)
    assert len(parts) == 1 and parts[0].payload.get("tbc") is not True
    assert parts[0].payload["data"] == "", "no data found"


@pytest.mark.requirements("N10.FR.01", "N10.FR.03")
def test_TC_N_30_CS_clear_and_report_with_data(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    booted = authorized_locally(csms, station_factory, tmp_path)
    assert customer_information(csms, 30, report=True, clear=True, idToken=ID_TOKEN) == {"status": "Accepted"}
    parts = notifications(csms, 30)
    assert parts[0].payload["data"], "data not empty"
    assert "Authorization cache" in text(parts), "what was cleared is reported"
    wait_until(lambda: token_key(ID_TOKEN) not in booted.station.state.tokens.cache, "the cache entry removed")
    assert token_key(ID_TOKEN) in booted.station.state.tokens.local_list.entries, "only the CSMS changes the list"

    assert customer_information(csms, 31, report=True, clear=False, idToken=ID_TOKEN) == {"status": "Accepted"}
    again = notifications(csms, 31)
    assert again[-1].payload.get("tbc") is not True
    assert "Authorization cache" not in text(again)


@pytest.mark.requirements("N10.FR.01", "N10.FR.04")
def test_TC_N_31_CS_clear_and_report_no_data(csms: CsmsDouble, booted: Booted) -> None:
    assert customer_information(csms, 31, report=True, clear=True, idToken=ID_TOKEN) == {"status": "Accepted"}
    parts = notifications(csms, 31)
    assert [part.payload["data"] for part in parts] == [""], "no data found"


@pytest.mark.requirements("N10.FR.01", "N10.FR.06")
def test_TC_N_32_CS_clear_and_no_report(csms: CsmsDouble, booted: Booted) -> None:
    assert customer_information(csms, 32, report=False, clear=True, idToken=ID_TOKEN) == {"status": "Accepted"}
    parts = notifications(csms, 32)
    assert len(parts) == 1 and parts[0].payload["data"] == "Customer information cleared"


@pytest.mark.requirements("N10.FR.01", "N10.FR.03")
def test_TC_N_62_CS_clear_and_report_customer_identifier(csms: CsmsDouble, station_factory: StationFactory) -> None:
    application = SimulatedCharger()
    application.customers[CUSTOMER_ID] = ["app account: J. Doe, contract 0815"]  # stored by the tester
    boot(station_factory(application=application), csms)

    reply = customer_information(csms, 62, report=True, clear=True, customerIdentifier=CUSTOMER_ID)
    assert reply == {"status": "Accepted"}
    assert text(notifications(csms, 62)) == "app account: J. Doe, contract 0815"

    reply = customer_information(csms, 63, report=True, clear=False, customerIdentifier=CUSTOMER_ID)
    assert reply == {"status": "Accepted"}
    assert [part.payload["data"] for part in notifications(csms, 63)] == [""], "data empty"


# --- hostile and edge cases ----------------------------------------------------------------------------------------


@pytest.mark.requirements("N09.FR.09")
@pytest.mark.parametrize(
    "reference",
    [{}, {"idToken": ID_TOKEN, "customerIdentifier": CUSTOMER_ID}],
    ids=["no customer", "two references"],
)
def test_customer_information_needs_exactly_one_reference(
    csms: CsmsDouble, booted: Booted, reference: dict[str, Any]
) -> None:
    reply = customer_information(csms, 9, report=True, clear=True, **reference)
    assert reply["status"] == "Invalid"
    settle(booted.station, csms)
    assert not csms.calls("NotifyCustomerInformation")


@pytest.mark.requirements("N09.FR.07", "N10.FR.07")
def test_customer_information_neither_report_nor_clear_is_rejected(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    booted = boot(station_factory(data_dir=cached(tmp_path / "station", ID_TOKEN)), csms)
    assert customer_information(csms, 7, report=False, clear=False, idToken=ID_TOKEN)["status"] == "Rejected"
    settle(booted.station, csms)
    assert not csms.calls("NotifyCustomerInformation")
    assert token_key(ID_TOKEN) in booted.station.state.tokens.cache


class FailingCharger(SimulatedCharger):
    def customer_information(self, kind: Any, reference: Any, clear: bool) -> list[str]:
        raise OSError("customer database unreachable")


@pytest.mark.requirements("N09.FR.03", "N10.FR.05")
def test_customer_information_hook_failure_is_rejected_and_clears_nothing(
    csms: CsmsDouble, station_factory: StationFactory, tmp_path: Path
) -> None:
    data_dir = cached(tmp_path / "station", ID_TOKEN)
    booted = boot(station_factory(data_dir=data_dir, application=FailingCharger()), csms)
    assert customer_information(csms, 3, report=True, clear=True, idToken=ID_TOKEN)["status"] == "Rejected"
    settle(booted.station, csms)
    assert not csms.calls("NotifyCustomerInformation")
    assert token_key(ID_TOKEN) in booted.station.state.tokens.cache, "nothing cleared"


def test_long_customer_data_is_split_in_parts(csms: CsmsDouble, station_factory: StationFactory) -> None:
    application = SimulatedCharger()
    lines = [f"charging record {n:04d}: " + "x" * 80 for n in range(20)]
    application.customers[CUSTOMER_ID] = lines
    boot(station_factory(application=application), csms)
    assert customer_information(csms, 5, report=True, clear=False, customerIdentifier=CUSTOMER_ID)["status"] == (
        "Accepted"
    )
    parts = notifications(csms, 5)
    assert len(parts) > 1 and all(part.payload["tbc"] for part in parts[:-1])
    assert text(parts) == "\n".join(lines)
