"""The prober on real systems: chargecore's own CSMS breaks no rule; each broken double is caught with a short
shrunk transcript showing its fault; the `ocpp` package's CSMS is caught leaving garbage badly answered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from broken_csms import CallWhilePendingCsms, IntervalAsTextCsms, NoIdTokenInfoCsms
from test_against_ocpp_package_csms import PackageCsms, PackageCsmsServer

from chargecore.testing.csms_prober import SHOWN_BEFORE_FAULT, ProbeSettings
from chargecore.testing.probe_run import run_probe
from chargecore.tools.csms import LocalCsms

CI_EXAMPLES = 25


@contextmanager
def serving(double: type[PackageCsms] | type[LocalCsms]) -> Iterator[str]:
    if issubclass(double, LocalCsms):
        with double(heartbeat_interval=300, on_log=lambda _line: None) as csms:
            yield csms.url
    else:
        with PackageCsmsServer(double) as server:
            yield server.url


def test_chargecore_csms_breaks_no_rule_with_two_stations() -> None:
    with LocalCsms(heartbeat_interval=300, on_log=lambda _line: None) as csms:
        result = run_probe(ProbeSettings(csms.url, "KIT-OK", stations=2), examples=CI_EXAMPLES, seed=16)
    assert result.passed, result.transcript or result.error
    assert result.examples >= CI_EXAMPLES
    assert result.frames > 10 * result.examples  # boots, statuses, transactions, garbage: the stations did talk


@pytest.mark.requirements("B01.FR.02", "E01.FR.03", "B02.FR.01", "B03.FR.03")
@pytest.mark.parametrize(
    ("double", "rule", "shows"),
    [
        (IntervalAsTextCsms, "boot-answer", '"interval":"300"'),
        (NoIdTokenInfoCsms, "transaction-token", "TransactionEvent.result"),
        (CallWhilePendingCsms, "calls-before-accepted", "RequestStartTransaction"),
    ],
)
def test_each_broken_double_is_caught_with_a_short_transcript_of_its_fault(
    double: type[PackageCsms] | type[LocalCsms], rule: str, shows: str
) -> None:
    with serving(double) as url:
        result = run_probe(ProbeSettings(url, "KIT-BROKEN"), examples=50, seed=16)
    assert not result.passed
    assert rule in [violation.rule_id for violation in result.violations], result.transcript
    title, *frames = result.transcript.splitlines()
    assert "station KIT-BROKEN" in title
    assert 1 <= len(frames) <= SHOWN_BEFORE_FAULT
    assert any(line.startswith("!!") and shows in line for line in frames), result.transcript


def test_the_ocpp_package_csms_is_caught_mishandling_garbage() -> None:
    with serving(PackageCsms) as url:
        result = run_probe(ProbeSettings(url, "KIT-PKG", message_timeout=2), examples=CI_EXAMPLES, seed=16)
    assert "garbage-answered" in [violation.rule_id for violation in result.violations], result.transcript
    assert len(result.transcript.splitlines()) <= SHOWN_BEFORE_FAULT + 1


def test_an_unreachable_csms_is_an_error_not_a_violation() -> None:
    with LocalCsms(on_log=lambda _line: None) as csms:
        url = csms.url
    result = run_probe(ProbeSettings(url, "KIT-NONE", boot_timeout=1), examples=3)
    assert not result.passed and not result.violations
    assert result.error is not None and "could not reach" in result.error
