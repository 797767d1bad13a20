"""What certificates cost: the shell's measuring and storing, and the core's answers.

    python tests/benchmarks/bench_certificates.py [--repeats R]

- check: `CertificateStore.check` of one P-256 root (parse, signatures, hash data for three algorithms).
- install + remove: `install_ca` then `remove` of that root (atomic file writes with fsync, the list described).
- GetInstalledCertificateIds: `step` of the request on a station holding 50 CA certificates.
- InstallCertificate: `step` of the request and of the two answers (check, stored) the shell gives.

Timing: time.perf_counter over `number` calls, `--repeats` runs, the median reported. A script, not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

from core_helpers import Sim, booted, of_type
from issuer import make_root

from chargecore.pure.blocks.security.certificate_store import StoreChanged
from chargecore.pure.effects import Ask
from chargecore.pure.inputs import CertificatesLoaded
from chargecore.shell.certificates.store import CertificateStore


def timed(action: Callable[[], object], number: int, repeats: int) -> float:
    """Median seconds per call."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            action()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    root = make_root("bench root")
    with tempfile.TemporaryDirectory() as folder:
        store = CertificateStore(Path(folder) / "data")
        check = store.check("CSMSRootCertificate", root.pem)
        checking = timed(lambda: store.check("CSMSRootCertificate", root.pem), 50, repeats)
        print(f"check:                      {checking * 1e3:.2f} ms")

        def install_and_remove() -> None:
            store.install_ca("MORootCertificate", root.pem)
            store.remove("MORootCertificate", check.chain[0].fingerprint)

        print(f"install + remove:           {timed(install_and_remove, 20, repeats) * 1e3:.2f} ms")
        for index in range(50):
            store.install_ca("MORootCertificate", make_root(f"root {index}").pem)
        many = store.installed()

    sim: Sim = booted()
    sim.feed(CertificatesLoaded(sim.now, many[:49]))

    def listing() -> None:
        sim.csms_call("GetInstalledCertificateIds", {})

    print(f"GetInstalledCertificateIds: {timed(listing, 200, repeats) * 1e6:.0f} us (50 certificates)")
    sim.feed(CertificatesLoaded(sim.now, many[:10]))
    forever = replace(
        check.chain[0], not_before=datetime(2000, 1, 1, tzinfo=UTC), not_after=datetime(2100, 1, 1, tzinfo=UTC)
    )
    check = replace(check, chain=(forever,))  # valid on the simulated station clock (2030)

    def installing() -> None:
        (asked,) = of_type(
            sim.csms_call("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": root.pem}),
            Ask,
        )
        (stored,) = of_type(sim.answer(asked.question_id, check), Ask)
        sim.answer(stored.question_id, StoreChanged(many[:10]))

    print(f"InstallCertificate (core):  {timed(installing, 200, repeats) * 1e6:.0f} us")


if __name__ == "__main__":
    main()
