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
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from chargecore.pure import token_store
from chargecore.pure.device_model import build_device_model
from chargecore.pure.inputs import Connected, FrameReceived, PowerUp
from chargecore.pure.state import Station, StationIdentity
from chargecore.pure.station import initial_station, step

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def booted() -> Station:
    identity = StationIdentity("CS-BENCH", "ws://csms.invalid", (1,))
    station = initial_station(identity, build_device_model((1,)).unwrap(), {})
    station, _ = step(station, PowerUp(NOW, "bench"))
    station, _ = step(station, Connected(NOW))
    boot_id = station.rpc.in_flight.message_id  # type: ignore[union-attr]
    answer = {"currentTime": "2025-01-01T12:00:00Z", "interval": 300, "status": "Accepted"}
    station, _ = step(station, FrameReceived(NOW, json.dumps([3, boot_id, answer])))
    while station.rpc.in_flight is not None:
        station, _ = step(station, FrameReceived(NOW, json.dumps([3, station.rpc.in_flight.message_id, {}])))
    return station


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
    station = booted()
    frames = local_list_frames()

    def send_list() -> Station:
        current = station
        for frame in frames:
            current, effects = step(current, FrameReceived(NOW, frame))
            assert '"Accepted"' in effects[0].text, effects  # type: ignore[union-attr]
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
