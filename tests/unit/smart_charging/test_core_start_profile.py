"""Smart charging and transactions (K02, K05, F01): the chargingProfile of a RequestStartTransaction becomes the
TxProfile of the transaction it starts, and a TxProfile ends with its transaction."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, booted, persisted, replies

from chargecore.pure.effects import Effects

PROFILE_KEY = "smart_charging/profile/7"


def tx_profile(**extra: Any) -> dict[str, Any]:
    """A Relative TxProfile of 6 A without transactionId, as TC_K_38 sends it."""
    return {
        "id": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": [
            {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.0}]}
        ],
        **extra,
    }


def remote_start(sim: Sim, charging_profile: dict[str, Any]) -> tuple[dict[str, Any], Effects]:
    request = {"idToken": {"idToken": "TOKEN1", "type": "ISO14443"}, "remoteStartId": 1, "evseId": 1}
    effects = sim.csms_call("RequestStartTransaction", {**request, "chargingProfile": charging_profile}, "rst")
    (reply,) = replies(effects)
    assert reply[:2] == [3, "rst"], reply
    answer: dict[str, Any] = reply[2]
    return answer, effects


def installed(sim: Sim) -> list[tuple[int, str | None]]:
    return [(p.profile_id, p.transaction_id) for p in sim.station.smart_charging.profiles]


@pytest.mark.requirements("K05.FR.01", "F01.FR.08", "K02.FR.05")
def test_the_start_profile_becomes_the_tx_profile_of_the_started_transaction_and_ends_with_it() -> None:
    sim = booted()
    answer, _ = remote_start(sim, tx_profile())
    assert answer == {"status": "Accepted"}
    assert installed(sim) == [], "no transaction yet: the profile waits for it"
    sim.plug()
    effects = sim.power_path()  # TxStartPoint PowerPathClosed: the transaction starts
    (tx,) = sim.station.running_transactions
    assert installed(sim) == [(7, tx.transaction_id)]
    assert PROFILE_KEY in persisted(effects)
    sim.answer_all()
    effects = sim.plug(change="unplug")  # TxStopPoint EVConnected: the transaction ends
    assert sim.station.running_transactions == ()
    assert installed(sim) == [] and persisted(effects)[PROFILE_KEY] is None


@pytest.mark.requirements("K05.FR.01")
def test_a_transaction_started_before_the_remote_start_takes_the_profile_at_once() -> None:
    sim = booted(config={"TxCtrlr": {"TxStartPoint": "EVConnected"}})
    sim.plug()
    sim.answer_all()
    (tx,) = sim.station.running_transactions
    answer, _ = remote_start(sim, tx_profile())
    assert answer == {"status": "Accepted", "transactionId": tx.transaction_id}
    assert installed(sim) == [(7, tx.transaction_id)]


@pytest.mark.requirements("F01.FR.08", "F01.FR.11", "K05.FR.01")
@pytest.mark.parametrize(
    "charging_profile",
    [
        tx_profile(chargingProfilePurpose="TxDefaultProfile"),
        tx_profile(transactionId="tx-9"),
        tx_profile(stackLevel=99999),
    ],
    ids=["not-a-tx-profile", "with-transaction-id", "breaks-a-set-charging-profile-rule"],
)
def test_a_start_profile_the_station_cannot_use_rejects_the_remote_start(charging_profile: dict[str, Any]) -> None:
    sim = booted()
    answer, _ = remote_start(sim, charging_profile)
    assert answer["status"] == "Rejected" and answer["statusInfo"]["reasonCode"]
    assert sim.station.transactions == (), "no session is started for a rejected request"


@pytest.mark.requirements("F01.FR.12")
@pytest.mark.parametrize("variable", ["Available", "Enabled"])
def test_without_smart_charging_the_start_profile_is_ignored(variable: str) -> None:
    sim = booted(config={"SmartChargingCtrlr": {variable: "false"}})
    answer, _ = remote_start(sim, tx_profile(chargingProfilePurpose="TxDefaultProfile"))
    assert answer == {"status": "Accepted"}
    sim.plug()
    sim.power_path()
    assert len(sim.station.running_transactions) == 1 and installed(sim) == []
