"""`step` skips settling when nothing settling reads has changed and no deadline has come (`Settled` in
pure/state.py, `_still_settled` in pure/station.py); these tests pin the cases where it must not skip, next to the
one where it does. property_tests/support.py checks every property-test step against settling always."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from core_helpers import Sim, at, booted, calls, every_deadline, of_type, replies

from chargecore.pure.effects import ApplyChargingLimit
from chargecore.pure.inputs import FrameReceived
from chargecore.pure.ocppj import rpc
from chargecore.pure.station import next_deadline, step

GET_HEARTBEAT_INTERVAL = {
    "getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]
}


def get_variables(sim: Sim, at_s: float) -> list[Any]:
    effects = sim.feed(FrameReceived(at(at_s), json.dumps([2, f"gv-{at_s}", "GetVariables", GET_HEARTBEAT_INTERVAL])))
    (reply,) = replies(effects)
    assert reply[0] == 3, reply
    return [type(effect).__name__ for effect in effects]


def test_a_request_that_changes_nothing_leaves_the_very_station_value_and_nothing_else_happens() -> None:
    sim = booted((1, 1))
    sim.tick(3)
    before = sim.station
    assert before.settled is not None, "an idle booted station is settled after any input"
    assert get_variables(sim, 4) == ["SendFrame"]
    assert sim.station is before
    assert next_deadline(sim.station) == every_deadline(sim.station)


def test_a_request_after_a_limit_boundary_applies_the_new_limit_though_it_changes_nothing_itself() -> None:
    """K01: the limit of the next period reaches the hardware at the first input after its start, a Tick or not."""
    sim = booted((1, 1))
    schedule = {
        "id": 1,
        "chargingRateUnit": "A",
        "startSchedule": "2030-01-01T00:00:00.000Z",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}, {"startPeriod": 600, "limit": 8.0}],
    }
    charging_profile = {
        "id": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [schedule],
    }
    sim.csms_call("SetChargingProfile", {"evseId": 1, "chargingProfile": charging_profile}, "scp")
    get_variables(sim, 300)
    assert get_variables(sim, 301) == ["SendFrame"], "settled: the memo stands"
    assert sim.station.settled is not None and sim.station.settled.until <= at(602)
    effects = sim.feed(FrameReceived(at(603), json.dumps([2, "gv", "GetVariables", GET_HEARTBEAT_INTERVAL])))
    assert [(e.evse_id, e.limit) for e in of_type(effects, ApplyChargingLimit)] == [(1, 8.0)]


def test_a_change_made_outside_step_is_settled_by_the_next_input() -> None:
    """A station value changed by the embedding code (here a CALL queued into its RPC session) has no memo any
    more, so the next input settles it: the queued CALL goes out."""
    sim = booted((1,))
    sim.tick(3)
    session, _ = rpc.enqueue(sim.station.rpc, "Heartbeat", {})
    sim.station = replace(sim.station, rpc=session)
    assert get_variables(sim, 4) == ["SendFrame", "SendFrame"]
    assert [call.action for call in calls(sim.log)][-1] == "Heartbeat"


def test_the_memo_is_never_trusted_before_the_time_it_was_made() -> None:
    """A clock set back (the shell's wall clock) settles again rather than trust a memo from its future."""
    sim = booted((1,))
    sim.tick(30)
    settled = sim.station.settled
    assert settled is not None and settled.since == at(30)
    station, effects = step(
        sim.station, FrameReceived(at(20), json.dumps([2, "gv", "GetVariables", GET_HEARTBEAT_INTERVAL]))
    )
    assert len(effects) == 1
    assert station.settled is not None and station.settled.since == at(20), "settled again, at 20"


def test_a_copy_that_changes_what_settling_reads_drops_the_memo_and_one_that_changes_only_questions_keeps_it() -> None:
    sim = booted((1,))
    sim.tick(3)
    station = sim.station
    assert station.settled is not None
    assert station.with_changes(next_question_id=7, questions=()).settled is station.settled
    assert station.with_changes(rpc=station.rpc).settled is None, "the same value, still a change to settle on"
    assert replace(station, epoch=2).settled is None
    assert station.with_changes(epoch=2, settled=station.settled).settled is station.settled
