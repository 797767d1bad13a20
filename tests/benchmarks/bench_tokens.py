"""Local authorization list and authorization cache through the pure core.

    python tests/benchmarks/bench_tokens.py [--repeats R]

- SendLocalList: a Full update of 100 entries, then 9 Differential updates of 100 (a 1,000-entry list, the
  Entries maxLimit), each as `step(station, FrameReceived)` (parse, schema validation, the checks, the reply);
  reported per message.
- lookup: `token_store.lookup` against that 1,000-entry list (hits) and a full cache (hits in the cache).
- remember: `token_store.remember` of new tokens into a cache already at AuthCacheCtrlr.Storage's maxLimit
  (65,536 bytes), so every call evicts.

Timing: time.perf_counter, one warm-up run, then `--repeats` timed runs; the median rate is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core_helpers import at, booted

from chargecore.pure.blocks.authorization import token_store
from chargecore.pure.effects import SendFrame
from chargecore.pure.inputs import FrameReceived
from chargecore.pure.state import Station
from chargecore.pure.station import step

NOW = at(2)
"""The moment `booted` answers the boot: every input of the benchmark comes then."""


def token(n: int) -> dict[str, str]:
    return {"idToken": f"TOKEN{n:06d}", "type": "ISO14443"}


def local_list_frames() -> list[str]:
    frames = []
    for batch in range(10):
        items = [{"idToken": token(batch * 100 + n), "idTokenInfo": {"status": "Accepted"}} for n in range(100)]
        update = "Full" if batch == 0 else "Differential"
        payload = {"versionNumber": batch + 1, "updateType": update, "localAuthorizationList": items}
        frames.append(json.dumps([2, f"sll-{batch}", "SendLocalList", payload]))
    return frames


def rate(count: int, run: Callable[[], object], repeats: int) -> float:
    run()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return count / statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    station = booted().station
    frames = local_list_frames()

    def send_list() -> Station:
        current = station
        for frame in frames:
            current, effects = step(current, FrameReceived(NOW, frame))
            (reply,) = (effect.text for effect in effects if isinstance(effect, SendFrame))  # after the Persist
            assert '"Accepted"' in reply, effects
        return current

    listed = send_list()
    assert len(listed.tokens.local_list.entries) == 1000
    print(f"SendLocalList (100 entries):       {rate(len(frames), send_list, repeats):>10,.0f} messages/s")

    def look_up_listed() -> None:
        for n in range(1000):
            assert token_store.lookup(listed, token(n), NOW) is not None

    print(f"lookup, local list hit:            {rate(1000, look_up_listed, repeats):>10,.0f} lookups/s")

    cached = station
    for n in range(2000):
        cached, _ = token_store.remember(cached, token(n), {"status": "Accepted"}, NOW + timedelta(seconds=n))
    held = [n for n in range(2000) if token_store.lookup(cached, token(n), NOW) is not None]

    def look_up_cached() -> None:
        for n in held:
            assert token_store.lookup(cached, token(n), NOW) is not None

    print(f"lookup, cache hit ({len(held)} entries):   {rate(len(held), look_up_cached, repeats):>10,.0f} lookups/s")

    def remember_evicting() -> None:
        current = cached
        for n in range(500):
            later = NOW + timedelta(seconds=3000 + n)
            current, _ = token_store.remember(current, token(10_000 + n), {"status": "Accepted"}, later)

    print(f"remember into a full cache:        {rate(500, remember_evicting, repeats):>10,.0f} calls/s")


if __name__ == "__main__":
    main()
