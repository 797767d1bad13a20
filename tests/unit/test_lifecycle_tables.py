"""The lifecycle tables against oracles written here (never read from production), and the two ways a trigger
with no edge ends: a refusal that leaves the state as it was (with a Log naming state and trigger), or NoEdge.

The oracles are the spec of each table: a changed edge must change them too, on purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from core_helpers import Sim, answer_boot, booted, csms_answer, make_station, replies, started, warnings

from chargecore.pure.blocks.provisioning import provisioning
from chargecore.pure.effects import Effects
from chargecore.pure.lifecycle import LIFECYCLES, RPC_LIFECYCLE, Lifecycle, NoEdge
from chargecore.pure.ocppj import rpc
from chargecore.pure.state import Station

Oracle = tuple[tuple[str, ...], dict[tuple[str, str], str]]

CONNECTION: Oracle = (
    ("off", "connecting", "up", "waiting", "stopped"),
    {
        ("off", "power_up"): "connecting",
        ("connecting", "connected"): "up",
        ("connecting", "lost"): "waiting",
        ("up", "lost"): "waiting",
        ("waiting", "retry"): "connecting",
        ("off", "stop"): "stopped",
        ("connecting", "stop"): "stopped",
        ("up", "stop"): "stopped",
        ("waiting", "stop"): "stopped",
    },
)

RPC: Oracle = (
    ("closed", "idle", "awaiting"),
    {
        ("closed", "open"): "idle",
        ("idle", "send"): "awaiting",
        ("awaiting", "reply"): "idle",
        ("awaiting", "timeout"): "idle",
        ("closed", "close"): "closed",
        ("idle", "close"): "closed",
        ("awaiting", "close"): "closed",
    },
)

REGISTRATION: Oracle = (
    ("Unknown", "Pending", "Accepted", "Rejected"),
    {
        **{
            (before, answer): answer
            for before in ("Unknown", "Pending", "Rejected")
            for answer in ("Pending", "Accepted", "Rejected")
        },
        ("Unknown", "new_csms"): "Unknown",
        ("Pending", "new_csms"): "Unknown",
        ("Accepted", "new_csms"): "Unknown",
        ("Rejected", "new_csms"): "Unknown",
    },
)

CONNECTOR: Oracle = (
    ("empty", "plugged", "faulted", "plugged_faulted"),
    {
        ("empty", "plug"): "plugged",
        ("faulted", "plug"): "plugged_faulted",
        ("plugged", "unplug"): "empty",
        ("plugged_faulted", "unplug"): "faulted",
        ("empty", "fault"): "faulted",
        ("plugged", "fault"): "plugged_faulted",
        ("faulted", "recover"): "empty",
        ("plugged_faulted", "recover"): "plugged",
    },
)

TRANSACTION: Oracle = (
    ("pending", "started", "ended"),
    {
        ("pending", "start"): "started",
        ("started", "end"): "ended",
        ("pending", "abandon"): "ended",
    },
)

AUTHORIZATION: Oracle = (
    ("none", "authorizing", "accepted", "withdrawn"),
    {
        ("none", "ask"): "authorizing",
        ("authorizing", "ask"): "authorizing",
        ("withdrawn", "ask"): "authorizing",
        ("none", "accept"): "accepted",
        ("authorizing", "accept"): "accepted",
        ("withdrawn", "accept"): "accepted",
        ("none", "refuse"): "none",
        ("authorizing", "refuse"): "none",
        ("withdrawn", "refuse"): "withdrawn",
        ("accepted", "withdraw"): "withdrawn",
    },
)

FIRMWARE: Oracle = (
    (
        "Idle",
        "DownloadScheduled",
        "Downloading",
        "Downloaded",
        "SignatureVerified",
        "InstallScheduled",
        "Installing",
        "InstallRebooting",
        "Installed",
        "DownloadFailed",
        "InvalidSignature",
        "InstallVerificationFailed",
        "InstallationFailed",
    ),
    {
        ("Idle", "schedule"): "DownloadScheduled",
        ("Idle", "download"): "Downloading",
        ("DownloadScheduled", "download"): "Downloading",
        ("Downloading", "download"): "Downloading",
        ("Downloading", "downloaded"): "Downloaded",
        ("Downloading", "download_failed"): "DownloadFailed",
        ("Downloaded", "verified"): "SignatureVerified",
        ("Downloaded", "invalid_signature"): "InvalidSignature",
        ("Downloaded", "wait_install"): "InstallScheduled",  # an unsigned update (L02): nothing to verify
        ("Downloaded", "install"): "Installing",
        ("SignatureVerified", "wait_install"): "InstallScheduled",
        ("SignatureVerified", "install"): "Installing",
        ("InstallScheduled", "install"): "Installing",
        ("Installing", "installed"): "InstallRebooting",
        ("Installing", "verification_failed"): "InstallVerificationFailed",
        ("Installing", "installation_failed"): "InstallationFailed",
        ("InstallRebooting", "rebooted"): "Installed",
    },
)

ORACLES: dict[str, Oracle] = {
    "connection": CONNECTION,
    "rpc": RPC,
    "registration": REGISTRATION,
    "connector": CONNECTOR,
    "transaction": TRANSACTION,
    "authorization": AUTHORIZATION,
    "firmware": FIRMWARE,
}

TABLES = {table.name: table for table in LIFECYCLES}


def test_every_table_has_an_oracle() -> None:
    assert set(TABLES) == set(ORACLES)


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_the_table_is_its_oracle_state_by_trigger(name: str) -> None:
    """Every state x every trigger: the same destination, or no edge in both; states and triggers are exactly
    the oracle's (nothing unused survives in the table)."""
    table, (states, edges) = TABLES[name], ORACLES[name]
    triggers = {trigger for _, trigger in edges}
    assert table.states == states
    assert table.triggers() == triggers
    for state in states:
        for trigger in sorted(triggers | {"no_such_trigger"}):
            assert table.lookup(state, trigger) == edges.get((state, trigger)), (state, trigger)


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_move_raises_no_edge_exactly_where_the_oracle_has_none(name: str) -> None:
    table, (states, edges) = TABLES[name], ORACLES[name]
    for state in states:
        for trigger in sorted({trigger for _, trigger in edges}):
            if (state, trigger) in edges:
                assert table.move(state, trigger) == edges[(state, trigger)]
                continue
            with pytest.raises(NoEdge) as raised:
                table.move(state, trigger)
            assert (raised.value.lifecycle, raised.value.state, raised.value.trigger) == (name, state, trigger)


def test_a_refusal_names_the_state_and_the_trigger() -> None:
    table = Lifecycle("door", ["shut", "open"], [])
    assert table.refusal("shut", "close").message == "door: close refused in state shut"
    assert table.refusal("shut", "close", "door 3").message == "door 3: close refused in state shut"


# --- refusals leave the state as it was -----------------------------------------------------------------------


def refused(sim: Sim, feed: Callable[[], Effects], part: Callable[[Station], object], expected: str) -> None:
    """`feed` refused: the lifecycle's `part` of the station is as it was, and one warning says why."""
    before = part(sim.station)
    effects = feed()
    assert part(sim.station) == before
    assert warnings(effects) == [expected]


def connection(station: Station) -> object:
    return station.connection, station.rpc


def connectors(station: Station) -> object:
    return station.connectors


def test_connection_inputs_that_come_at_the_wrong_time_are_refused() -> None:
    sim = booted()
    refused(sim, lambda: sim.power_up(), connection, "connection: power_up refused in state up")
    refused(sim, lambda: sim.connect(), connection, "connection: connected refused in state up")
    sim.lose(10)
    refused(sim, lambda: sim.lose(11), connection, "connection: lost refused in state waiting")
    refused(sim, lambda: sim.connect(12), connection, "connection: connected refused in state waiting")
    sim.shutdown()
    refused(sim, lambda: sim.shutdown(), connection, "connection: stop refused in state stopped")
    refused(sim, lambda: sim.power_up(), connection, "connection: power_up refused in state stopped")


def test_a_connected_before_power_up_is_refused() -> None:
    sim = Sim(make_station())
    refused(sim, lambda: sim.connect(0), connection, "connection: connected refused in state off")


def test_no_boot_answer_can_reach_an_accepted_registration() -> None:
    """F06.FR.17: no BootNotification leaves an accepted station, so no answer can find it Accepted."""
    sim = booted()
    effects = sim.csms_call("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert replies(effects) == [[3, "csms-1", {"status": "Rejected"}]]
    assert sim.station.rpc.in_flight is None and sim.station.registration.status == "Accepted"
    with pytest.raises(NoEdge, match="registration: no edge for 'Pending' from state 'Accepted'"):
        provisioning.on_boot_response(sim.station, csms_answer("BootNotification", "Pending"), sim.now)


def test_answers_before_accepted_are_taken() -> None:
    sim = started()
    assert warnings(answer_boot(sim, "Pending")) == []
    assert sim.station.registration.status == "Pending"


def test_a_hardware_report_that_contradicts_the_connector_is_refused() -> None:
    sim = booted()
    sim.plug()
    sim.answer_all()
    refused(sim, lambda: sim.plug(), connectors, "connector 1/1: plug refused in state plugged")
    sim.plug(change="unplug")
    sim.answer_all()
    refused(sim, lambda: sim.plug(change="recover"), connectors, "connector 1/1: recover refused in state empty")


def test_a_token_the_station_refuses_itself_needs_no_ask_first() -> None:
    """Offline, an unknown token is refused without an Authorize (C15): `refuse` from `none` gives the pending
    session up, with no warning, as a refusal after an `ask` does."""
    sim = booted()
    sim.lose(10)
    sim.plug()
    effects = sim.present_token()
    assert sim.station.transactions == ()
    assert warnings(effects) == []


def test_a_group_stop_answered_after_the_transaction_was_stopped_otherwise_is_refused() -> None:
    """C09: another token asks to stop; before the CSMS answers, a remote stop withdraws the authorization (with
    TxStopPoint EVConnected the transaction goes on). The late verdict finds nothing to withdraw."""
    group = {"idToken": "GROUP", "type": "Central"}
    sim = booted(config={"TxCtrlr": {"TxStopPoint": "EVConnected"}})
    sim.plug()
    sim.answer_all()
    sim.present_token()
    sim.reply({"idTokenInfo": {"status": "Accepted", "groupIdToken": group}})
    sim.power_path()
    sim.answer_all()
    [tx] = sim.station.transactions
    sim.present_token("OTHER")
    assert sim.outstanding().action == "Authorize"
    sim.csms_call("RequestStopTransaction", {"transactionId": tx.transaction_id}, "csms-stop")
    [stopped] = sim.station.transactions
    assert (stopped.phase, stopped.authorization) == ("started", "withdrawn")
    effects = sim.reply({"idTokenInfo": {"status": "Accepted", "groupIdToken": group}})
    [after] = sim.station.transactions
    assert after == replace(stopped, stop_token=None), "only the question is gone"
    assert "authorization on EVSE 1: withdraw refused in state withdrawn" in warnings(effects)


# --- where only a bug brings the trigger, it raises ----------------------------------------------------------


def test_the_rpc_session_raises_on_a_move_its_guards_rule_out() -> None:
    session = rpc.open_session(rpc.new_session("nonce", 1))
    assert session.phase == "idle"
    with pytest.raises(NoEdge, match="rpc: no edge for 'open' from state 'idle'"):
        rpc.open_session(session)


def test_closing_a_closed_rpc_session_still_gives_up_what_describes_the_present() -> None:
    session, _ = rpc.enqueue(rpc.new_session("nonce", 1), "Heartbeat", {})
    closed, given_up = rpc.close_session(session)
    assert closed.phase == "closed" and closed.queue == ()
    assert [call.action for call in given_up] == ["Heartbeat"]
    assert RPC_LIFECYCLE.lookup("closed", "close") == "closed"
