"""The local authorization list through `step`: SendLocalList (D01), GetLocalListVersion (D02), persistence, and
what `token_store.lookup` answers from it."""

from __future__ import annotations

from typing import Any

import pytest
from core_helpers import Sim, booted, make_station, persisted, replies

from chargecore.pure.blocks.authorization import token_store
from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.model import get_value

ACCEPTED = {"status": "Accepted"}


def token(name: str, kind: str = "ISO14443") -> dict[str, Any]:
    return {"idToken": name, "type": kind}


def entry(name: str, status: str = "Accepted", **info: Any) -> dict[str, Any]:
    return {"idToken": token(name), "idTokenInfo": {"status": status, **info}}


def send(sim: Sim, version: int, update: str, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """SendLocalList from the CSMS; the response payload (fails on a CALLERROR)."""
    payload: dict[str, Any] = {"versionNumber": version, "updateType": update}
    if items is not None:
        payload["localAuthorizationList"] = items
    ((kind, _, response),) = replies(sim.csms_call("SendLocalList", payload))
    assert kind == 3, response
    return response  # type: ignore[no-any-return]


def version(sim: Sim) -> int:
    ((_, _, response),) = replies(sim.csms_call("GetLocalListVersion", {}))
    return response["versionNumber"]  # type: ignore[no-any-return]


def listed(sim: Sim) -> dict[str, str | None]:
    """Every token the station answers from the list, by idToken, with its status."""
    return {
        name: (info or {}).get("status")
        for name in ("A", "B", "C", "D")
        if (info := token_store.lookup(sim.station, token(name), sim.now)) is not None
    }


def reading(sim: Sim, variable: str) -> str | None:
    return get_value(sim.station.device_model, VariableKey("LocalAuthListCtrlr", variable))


@pytest.mark.requirements("D01.FR.01", "D01.FR.15", "D02.FR.01")
def test_a_full_list_replaces_the_list_and_sets_the_version() -> None:
    sim = booted()
    assert send(sim, 3, "Full", [entry("A"), entry("B", "Blocked")]) == ACCEPTED
    assert send(sim, 4, "Full", [entry("B"), entry("C", "Invalid")]) == ACCEPTED
    assert version(sim) == 4
    assert listed(sim) == {"B": "Accepted", "C": "Invalid"}
    stored_b = '{"idToken":{"idToken":"B","type":"ISO14443"},"idTokenInfo":{"status":"Accepted"}}'
    stored_c = '{"idToken":{"idToken":"C","type":"ISO14443"},"idTokenInfo":{"status":"Invalid"}}'
    assert (reading(sim, "Entries"), reading(sim, "Storage")) == ("2", str(len(stored_b) + len(stored_c)))


@pytest.mark.requirements("D01.FR.04")
def test_a_full_update_without_entries_empties_the_list_but_keeps_its_version() -> None:
    sim = booted()
    send(sim, 1, "Full", [entry("A")])
    assert send(sim, 2, "Full") == ACCEPTED  # the schema has no empty list: minItems 1
    assert (version(sim), listed(sim), reading(sim, "Entries")) == (2, {}, "0")


@pytest.mark.requirements("D01.FR.16", "D01.FR.17")
def test_a_differential_update_adds_updates_and_removes() -> None:
    sim = booted()
    send(sim, 1, "Full", [entry("A"), entry("B")])
    changes = [entry("A", "Blocked"), {"idToken": token("B")}, entry("C"), {"idToken": token("D")}]
    assert send(sim, 2, "Differential", changes) == ACCEPTED
    assert (version(sim), listed(sim)) == (2, {"A": "Blocked", "C": "Accepted"})


@pytest.mark.requirements("D01.FR.05")
def test_an_empty_differential_update_only_moves_the_version() -> None:
    sim = booted()
    send(sim, 1, "Full", [entry("A")])
    assert send(sim, 5, "Differential") == ACCEPTED
    assert (version(sim), listed(sim)) == (5, {"A": "Accepted"})


@pytest.mark.requirements("D01.FR.19")
@pytest.mark.parametrize("sent", [1, 4])
def test_a_differential_update_not_above_the_version_is_a_version_mismatch(sent: int) -> None:
    sim = booted()
    send(sim, 4, "Full", [entry("A")])
    assert send(sim, sent, "Differential", [entry("B")]) == {"status": "VersionMismatch"}
    assert (version(sim), listed(sim)) == (4, {"A": "Accepted"})
    assert send(sim, 2, "Full", [entry("B")]) == ACCEPTED, "a Full update may go back in version"
    assert version(sim) == 2


def failure(response: dict[str, Any]) -> str:
    """The reasonCode of a Failed response ("not Failed" otherwise)."""
    return response["statusInfo"]["reasonCode"] if response["status"] == "Failed" else "not Failed"  # type: ignore[no-any-return]


@pytest.mark.requirements("D01.FR.18")
@pytest.mark.parametrize("update", ["Full", "Differential"])
@pytest.mark.parametrize("sent", [0, -3])
def test_version_zero_or_below_is_refused(update: str, sent: int) -> None:
    sim = booted()
    send(sim, 2, "Full", [entry("A")])
    assert failure(send(sim, sent, update, [entry("B")])) == "InvalidValue"
    assert (version(sim), listed(sim)) == (2, {"A": "Accepted"})


@pytest.mark.requirements("D01.FR.06")
@pytest.mark.parametrize("update", ["Full", "Differential"])
def test_a_list_naming_a_token_twice_is_refused(update: str) -> None:
    sim = booted()
    twice = [entry("A"), {"idToken": token("a"), "idTokenInfo": {"status": "Blocked"}}]
    assert failure(send(sim, 1, update, twice)) == "InvalidValue"
    assert (version(sim), listed(sim)) == (0, {})


def test_a_full_update_needs_idtokeninfo_on_every_entry() -> None:
    sim = booted()
    assert failure(send(sim, 1, "Full", [entry("A"), {"idToken": token("B")}])) == "MissingParam"
    assert version(sim) == 0


def test_tokens_match_case_insensitively_but_types_must_be_equal() -> None:
    sim = booted()
    send(sim, 1, "Full", [entry("AbC")])
    assert token_store.lookup(sim.station, token("aBc"), sim.now) == ACCEPTED
    assert token_store.lookup(sim.station, token("ABC", "KeyCode"), sim.now) is None


def test_items_per_message_and_bytes_per_message_are_enforced() -> None:
    sim = booted(config={"LocalAuthListCtrlr": {"ItemsPerMessage": 2, "BytesPerMessage": 300}})
    assert failure(send(sim, 1, "Full", [entry("A"), entry("B"), entry("C")])) == "TooManyElements"
    long = [entry("A", groupIdToken=token("G" * 36)), entry("B", groupIdToken=token("H" * 36))]
    assert failure(send(sim, 1, "Full", long)) == "TooLargeElement"
    assert (version(sim), listed(sim)) == (0, {})
    assert send(sim, 1, "Full", [entry("A"), entry("B")]) == ACCEPTED


def test_the_list_never_holds_more_than_the_entries_max_limit() -> None:
    sim = booted(config={"LocalAuthListCtrlr": {"ItemsPerMessage": 600}})
    send(sim, 1, "Full", [entry(f"T{n}") for n in range(600)])
    assert failure(send(sim, 2, "Differential", [entry(f"U{n}") for n in range(401)])) == "OutOfStorage"
    assert (version(sim), reading(sim, "Entries")) == (1, "600")
    assert send(sim, 2, "Differential", [entry(f"U{n}") for n in range(400)]) == ACCEPTED
    assert reading(sim, "Entries") == "1000"


@pytest.mark.requirements("D02.FR.02", "D02.FR.03")
def test_disabled_list_is_not_changed_nor_consulted_and_reports_version_zero() -> None:
    sim = booted()
    send(sim, 7, "Full", [entry("A")])
    sim.change_variable("LocalAuthListCtrlr", "Enabled", "false")
    assert failure(send(sim, 8, "Full", [entry("B")])) == "NotEnabled"
    assert (version(sim), listed(sim)) == (0, {})
    sim.change_variable("LocalAuthListCtrlr", "Enabled", "true")
    assert (version(sim), listed(sim)) == (7, {"A": "Accepted"})
    assert version(booted()) == 0, "no list installed"


def test_an_entry_past_its_cache_expiry_date_time_is_expired() -> None:
    sim = booted()  # the CSMS clock is 2030-01-01T00:00:00Z from the boot answer on
    send(sim, 1, "Full", [entry("A", cacheExpiryDateTime="2030-01-01T00:01:00Z"), entry("B")])
    assert listed(sim) == {"A": "Accepted", "B": "Accepted"}
    sim.tick(2 + 60)
    assert listed(sim) == {"A": "Expired", "B": "Accepted"}


def test_the_list_survives_a_restart() -> None:
    sim = booted()
    send(sim, 1, "Full", [entry("A"), entry("B")])
    send(sim, 2, "Differential", [{"idToken": token("A")}, entry("C", "Blocked")])
    restarted = booted(stored=persisted(sim.log))
    assert (version(restarted), listed(restarted)) == (2, {"B": "Accepted", "C": "Blocked"})
    assert reading(restarted, "Entries") == "2"


@pytest.mark.parametrize(
    "stored",
    [{"version": "2", "entries": []}, {"version": 2, "entries": [{"idToken": token("A")}]}, ["junk"]],
    ids=["version-not-int", "entry-without-info", "not-a-record"],
)
def test_an_unreadable_persisted_list_counts_as_none(stored: Any) -> None:
    station = make_station(stored={"auth/local_list": stored})
    assert station.tokens.local_list.version == 0
    assert not station.tokens.local_list.entries


@pytest.mark.requirements("D01.FR.01")
def test_the_new_list_is_persisted_before_the_csms_is_told_it_was_accepted() -> None:
    """A crash between the two must not leave the CSMS believing in a list the station lost."""
    sim = booted()
    effects = sim.csms_call(
        "SendLocalList", {"versionNumber": 1, "updateType": "Full", "localAuthorizationList": [entry("A")]}
    )
    kinds = [type(effect).__name__ for effect in effects if type(effect).__name__ in ("Persist", "SendFrame")]
    assert kinds[:2] == ["Persist", "SendFrame"], kinds


@pytest.mark.requirements("D01.FR.01")
def test_a_token_with_a_lone_surrogate_is_stored_and_measured_without_a_crash() -> None:
    sim = booted()
    assert send(sim, 1, "Full", [entry("\ud800A")]) == ACCEPTED
    assert version(sim) == 1
