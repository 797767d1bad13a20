"""Generated payloads per second, per OCPP 2.0.1 action: the kit's strategies next to hypothesis-jsonschema.

    python tests/benchmarks/bench_strategies.py [--examples N] [--repeats R] [--actions A,B,...] [--direction D]

Both sides generate from the same official schema (chargecore.pure.ocppj.schemas.schema_text): ours with
`chargecore.testing.strategies.payloads(action, direction)`, the peer with `hypothesis_jsonschema.from_schema`
(install it beside the kit: `pip install hypothesis-jsonschema`; without it only our column is printed). Its
0.23.1 reaches into hypothesis internals that hypothesis 6.13x removed, so with a recent hypothesis each of its
runs fails, and the table says so: run the script in an environment with `hypothesis==6.112.*` to compare.
Each run is a hypothesis test of N examples in the generate phase only (no database, no shrinking, no health
checks), timed on the CPU clock (time.process_time) so that the other processes of a shared machine count
less; the median of R runs is reported, after one warm-up run that also pays each strategy's one-off cost
(schema canonicalisation for the peer, strategy building for ours). "valid" says whether every example the
side generated passed the schema (hypothesis-jsonschema's are valid by construction, but its date-time strings
come from its own grammar and are checked the same way). This is a script, not a pytest test.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import hypothesis
import jsonschema_rs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from chargecore.pure.ocppj.schemas import schema_text
from chargecore.testing.strategies import ACTIONS, Direction, payloads

try:
    from hypothesis_jsonschema import from_schema
except ImportError:  # the peer is optional
    from_schema = None

DEFAULT_ACTIONS = (
    "Heartbeat",
    "BootNotification",
    "Authorize",
    "StatusNotification",
    "TransactionEvent",
    "MeterValues",
    "SetVariables",
    "NotifyReport",
    "SetChargingProfile",
    "GetCompositeSchedule",
)
"""From the empty message to the deepest ones; `--actions all` runs the 64."""


def rate(strategy: st.SearchStrategy[Any], check: Callable[[Any], bool], examples: int) -> tuple[float, bool]:
    """Examples per CPU second for one run of `examples`, and whether all were valid."""
    valid = [True]
    count = [0]

    @settings(
        max_examples=examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(payload: Any) -> None:
        count[0] += 1
        valid[0] = valid[0] and check(payload)

    started = time.process_time()
    run()
    return count[0] / max(time.process_time() - started, 1e-9), valid[0]


def median_rate(
    strategy: st.SearchStrategy[Any], check: Callable[[Any], bool], examples: int, repeats: int
) -> tuple[float, bool]:
    rate(strategy, check, max(10, examples // 10))  # warm-up
    runs = [rate(strategy, check, examples) for _ in range(repeats)]
    return statistics.median(value for value, _ in runs), all(ok for _, ok in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--actions", default=",".join(DEFAULT_ACTIONS))
    parser.add_argument("--direction", choices=("request", "response"), default="request")
    args = parser.parse_args()
    actions = ACTIONS if args.actions == "all" else tuple(args.actions.split(","))
    direction: Direction = args.direction
    peer = "hypothesis-jsonschema" if from_schema is not None else "(hypothesis-jsonschema not installed)"
    print(
        f"{direction} payloads per CPU second, median of {args.repeats} runs of {args.examples} examples "
        f"(hypothesis {hypothesis.__version__}, {platform.python_implementation()} {platform.python_version()})"
    )
    print(f"{'action':<28} {'chargecore.testing':>20} {'valid':>6} {peer:>22} {'valid':>6} {'ours/peer':>10}")
    ratios = []
    for action in actions:
        schema = json.loads(schema_text(action + direction.capitalize()))
        validator = jsonschema_rs.validator_for(schema)
        ours, ours_valid = median_rate(payloads(action, direction), validator.is_valid, args.examples, args.repeats)
        line = f"{action:<28} {ours:>20,.0f} {ours_valid!s:>6}"
        if from_schema is not None:
            try:
                theirs, theirs_valid = median_rate(from_schema(schema), validator.is_valid, args.examples, args.repeats)
            except Exception as error:  # the peer failing is a result to print
                line += f" {'fails: ' + type(error).__name__:>22}"
            else:
                ratios.append(ours / theirs)
                line += f" {theirs:>22,.0f} {theirs_valid!s:>6} {ours / theirs:>10.1f}"
        print(line, flush=True)
    if ratios:
        print(f"{'median ours/peer':<28} {statistics.median(ratios):>70.1f}")


if __name__ == "__main__":
    main()
