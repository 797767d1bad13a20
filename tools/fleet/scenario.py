"""The scenario file (TOML or JSON): the rates and the mix that drive every simulated station.

All times are seconds of real time, so that a run of a minute already sees sessions start and end. Every value is
checked when the file is read; a bad one names its key and what it must be, and the fleet does not start.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

Span = tuple[float, float]
"""A uniform range (low, high) a value is drawn from."""


class ScenarioError(ValueError):
    """The scenario file cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class Scenario:
    arrival_mean_s: float = 20.0
    """Mean time between two EV arrivals at one free EVSE (Poisson arrivals)."""
    plug_to_badge_s: Span = (1.0, 4.0)
    charge_s: Span = (10.0, 40.0)
    """How long the EV wants to charge."""
    pause_share: float = 0.3
    """Share of sessions where the EV suspends charging once (SuspendedEV) and resumes."""
    pause_s: Span = (2.0, 6.0)
    stay_s: Span = (1.0, 5.0)
    """How long the EV stays plugged after the transaction ended, before it leaves."""
    stop_by_token_share: float = 0.5
    """Share of sessions ended by badging again; the others end when the EV is unplugged."""
    ev_power_kw: Span = (3.7, 50.0)
    """The most the EV can take."""
    evse_max_kw: float = 22.0
    """What the EVSE delivers without a charging limit."""
    meter_interval_s: float = 5.0
    valid_tokens: tuple[str, ...] = ("FLEET0001", "FLEET0002", "FLEET0003", "FLEET0004")
    invalid_tokens: tuple[str, ...] = ("FLEETBAD1",)
    invalid_share: float = 0.1
    """Share of badges with a token from `invalid_tokens` (the CSMS must be told they are invalid)."""
    fault_mean_s: float = 600.0
    """Mean time between two connector faults of one EVSE (0: never)."""
    fault_s: Span = (2.0, 8.0)
    network_drop_share: float = 0.1
    """Share of stations whose network drops now and then."""
    network_drop_mean_s: float = 60.0
    network_down_s: Span = (2.0, 10.0)


_SPANS = frozenset(f.name for f in fields(Scenario) if f.type == "Span")
_SHARES = frozenset(name for name in (f.name for f in fields(Scenario)) if name.endswith("_share"))
_TOKENS = frozenset({"valid_tokens", "invalid_tokens"})
_MAY_BE_ZERO = frozenset({"fault_mean_s", "network_drop_mean_s"})
MAX_SECONDS = 86_400.0
MAX_KW = 1_000.0


def load_scenario(path: Path) -> Scenario:
    """Read a .toml or .json scenario file; ScenarioError when it cannot be read or a value is bad."""
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"cannot read the scenario file {path}: {error.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {error}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: the scenario must be a table of keys")
    return scenario_from(data)


def scenario_from(data: Mapping[str, Any]) -> Scenario:
    """The scenario whose keys `data` sets (the others keep their defaults)."""
    known = {f.name for f in fields(Scenario)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(f"unknown scenario key {unknown[0]!r}; known keys: {', '.join(sorted(known))}")
    values = {name: _checked(name, value) for name, value in data.items()}
    scenario = Scenario(**values)
    if not scenario.valid_tokens:
        raise ScenarioError("valid_tokens must name at least one token")
    if scenario.invalid_share > 0 and not scenario.invalid_tokens:
        raise ScenarioError("invalid_share is above 0 but invalid_tokens is empty")
    return scenario


def _checked(name: str, value: Any) -> Any:
    if name in _TOKENS:
        if not isinstance(value, list) or not all(isinstance(t, str) and 0 < len(t) <= 36 for t in value):
            raise ScenarioError(f"{name} must be a list of tokens of 1 to 36 characters, not {value!r}")
        return tuple(value)
    if name in _SPANS:
        if not isinstance(value, list) or len(value) != 2:
            raise ScenarioError(f"{name} must be a range [low, high], not {value!r}")
        low, high = (_number(name, part, 0.0, _upper(name)) for part in value)
        if low > high:
            raise ScenarioError(f"{name} must be a range [low, high] with low <= high, not {value!r}")
        return (low, high)
    if name in _SHARES:
        return _number(name, value, 0.0, 1.0)
    number = _number(name, value, 0.0, _upper(name))
    if number == 0 and name not in _MAY_BE_ZERO:
        raise ScenarioError(f"{name} must be above 0")
    return number


def _upper(name: str) -> float:
    return MAX_KW if name.endswith("_kw") else MAX_SECONDS


def _number(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ScenarioError(f"{name} must be a number from {low:g} to {high:g}, not {value!r}")
    return float(value)
