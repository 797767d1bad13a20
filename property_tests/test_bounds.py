"""Any number the schemas allow in the fields that drive the station's timers (BootNotification interval and
currentTime, Heartbeat currentTime, SetVariables of every interval and count variable) leaves a station that
steps and computes its next deadline without raising, through a transaction, a lost connection and ticks at
each deadline (issue 10: these numbers once raised OverflowError on the core thread)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core_helpers import Sim, started
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chargecore.pure.device_model.catalogue import CATALOGUE
from chargecore.pure.station import next_deadline

WRITABLE_NUMBERS = tuple(
    (component["name"], variable["name"], variable["instance"])
    for component in CATALOGUE["components"]
    if component["scope"] == "station"
    for variable in component["variables"]
    if variable["characteristics"]["dataType"] == "integer"
    and variable["attributes"].get("Actual", {}).get("mutability") == "ReadWrite"
)
"""Every station-level integer the CSMS can set."""

any_integer = st.integers() | st.integers(min_value=2**31) | st.integers(max_value=-(2**31))
"""The schemas' `integer` has no bounds; JSON carries any size."""

any_time = st.builds(
    lambda moment, zone: moment.isoformat(timespec="seconds") + zone,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from(["Z", "+14:00", "-12:00", "+00:00"]),
) | st.sampled_from(["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59-05:00"])
"""Any RFC 3339 date-time the schema's `date-time` format allows, the calendar's very ends included."""

settings_items = st.lists(
    st.builds(
        lambda where, value: {
            "component": {"name": where[0]},
            "variable": {"name": where[1], **({} if where[2] is None else {"instance": where[2]})},
            "attributeValue": str(value),
        },
        st.sampled_from(WRITABLE_NUMBERS),
        any_integer,
    ),
    min_size=1,
    max_size=6,
)


def answer_everything(sim: Sim, current_time: str) -> None:
    """The CSMS answers every CALL, each Heartbeat with `current_time`."""
    while sim.station.rpc.in_flight is not None:
        if sim.outstanding().action == "Heartbeat":
            sim.reply({"currentTime": current_time})
        else:
            sim.reply()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from(["Accepted", "Pending", "Rejected"]),
    interval=any_integer,
    boot_time=any_time,
    heartbeat_time=any_time,
    items=settings_items,
)
def test_no_number_the_schema_allows_makes_step_or_next_deadline_raise(
    status: str, interval: int, boot_time: str, heartbeat_time: str, items: list[dict[str, Any]]
) -> None:
    sim = started()
    sim.reply({"currentTime": boot_time, "interval": interval, "status": status}, at_s=2)
    answer_everything(sim, heartbeat_time)
    sim.csms_call("SetVariables", {"setVariableData": items})
    sim.meter(1000.0, 7000.0)
    sim.plug()
    answer_everything(sim, heartbeat_time)
    sim.present_token()
    answer_everything(sim, heartbeat_time)
    sim.power_path(closed=True)
    answer_everything(sim, heartbeat_time)
    sim.lose(jitter=1.0)
    for _ in range(8):
        deadline = next_deadline(sim.station)
        if deadline is None:
            break
        assert deadline < datetime(9000, 1, 1, tzinfo=UTC), "no timer runs to the end of the calendar"
        sim.tick_deadline()
        if sim.station.connection.phase == "connecting":
            sim.connect()
        answer_everything(sim, heartbeat_time)
