"""The scenario's decisions, drawn from a seeded random stream per EVSE and per station: the same seed, station
id and EVSE give the same arrivals, tokens, powers, pauses, faults and network drops on every run, whatever the
timing of the CSMS. No I/O and no clock: the runner turns these into waits and inputs.

Arrivals and faults are two competing Poisson processes per EVSE: the next thing to happen at a free EVSE is
whichever of the two exponential waits is shorter (both are memoryless, so this is exact).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from chargecore.tools.fleet.scenario import Scenario, Span


@dataclass(frozen=True, slots=True)
class Visit:
    """An EV that arrives after `wait_s`, plugs, badges `token` and charges, then leaves."""

    wait_s: float
    badge_after_s: float
    token: str
    token_valid: bool
    ev_power_w: float
    charge_s: float
    pause_at_s: float | None
    """Seconds into charging at which the EV suspends (SuspendedEV), or None."""
    pause_s: float
    stop_by_token: bool
    stay_s: float


@dataclass(frozen=True, slots=True)
class Fault:
    """The EVSE's connector faults after `wait_s` and recovers `down_s` later."""

    wait_s: float
    down_s: float


@dataclass(frozen=True, slots=True)
class Outage:
    """The station's network drops after `wait_s` and returns `down_s` later."""

    wait_s: float
    down_s: float


def _stream(seed: int, *where: object) -> random.Random:
    return random.Random("/".join(str(part) for part in (seed, *where)))


def _draw(rng: random.Random, span: Span) -> float:
    return rng.uniform(*span)


def evse_plan(scenario: Scenario, seed: int, station_id: str, evse_id: int) -> Iterator[Visit | Fault]:
    """What happens at one EVSE, one thing after the other, without end."""
    rng = _stream(seed, station_id, evse_id)
    while True:
        arrival = rng.expovariate(1 / scenario.arrival_mean_s)
        fault = rng.expovariate(1 / scenario.fault_mean_s) if scenario.fault_mean_s > 0 else float("inf")
        if fault < arrival:
            yield Fault(fault, _draw(rng, scenario.fault_s))
            continue
        invalid = rng.random() < scenario.invalid_share
        tokens = scenario.invalid_tokens if invalid else scenario.valid_tokens
        charge_s = _draw(rng, scenario.charge_s)
        paused = rng.random() < scenario.pause_share
        yield Visit(
            wait_s=arrival,
            badge_after_s=_draw(rng, scenario.plug_to_badge_s),
            token=rng.choice(tokens),
            token_valid=not invalid,
            ev_power_w=_draw(rng, scenario.ev_power_kw) * 1000,
            charge_s=charge_s,
            pause_at_s=rng.uniform(0, charge_s) if paused else None,
            pause_s=_draw(rng, scenario.pause_s),
            stop_by_token=rng.random() < scenario.stop_by_token_share,
            stay_s=_draw(rng, scenario.stay_s),
        )


def network_plan(scenario: Scenario, seed: int, station_id: str) -> Iterator[Outage]:
    """The station's network outages; none for the stations outside `network_drop_share`."""
    rng = _stream(seed, station_id, "network")
    if scenario.network_drop_mean_s <= 0 or rng.random() >= scenario.network_drop_share:
        return
    while True:
        yield Outage(rng.expovariate(1 / scenario.network_drop_mean_s), _draw(rng, scenario.network_down_s))
