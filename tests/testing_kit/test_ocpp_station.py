"""The kit's test station against `chargecore csms` (tools/csms.py, in-process): it boots, the test plays driver
and cable, and every frame both ways reaches the tap in order; a raw frame probes the CSMS without confusing the
station's core."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chargecore.shell.runtime import ConfigurationError
from chargecore.testing.frame_tap import TappedFrame
from chargecore.testing.station import OcppStation, StationNotBooted
from chargecore.tools.csms import LocalCsms
from chargecore.tools.csms_ca import CsmsCa

WAIT = 10.0


@pytest.fixture
def csms() -> Iterator[LocalCsms]:
    with LocalCsms(on_log=lambda _line: None) as server:
        yield server


@pytest.fixture
def station(csms: LocalCsms) -> Iterator[OcppStation]:
    with OcppStation(csms.url, "KIT001") as started:
        started.wait_booted(WAIT)
        yield started
    assert not started.crashes


def sent_call(action: str, **fields: object) -> Callable[[TappedFrame], bool]:
    """A predicate: a CALL of `action` the station sent whose payload has these top-level values."""

    def matches(frame: TappedFrame) -> bool:
        message = frame.decoded()
        return (
            frame.direction == "sent"
            and frame.message_type == 2
            and message[2] == action
            and all(message[3].get(key) == value for key, value in fields.items())
        )

    return matches


def test_boots_and_the_tap_holds_the_boot_and_its_answer(station: OcppStation) -> None:
    boot = station.tap.wait_for(sent_call("BootNotification"), 0)
    assert boot is not None and boot.message_id is not None
    answer = station.tap.answer_to(boot.message_id, 0)
    assert answer is not None and answer.message_type == 3
    assert answer.decoded()[2]["status"] == "Accepted"
    assert boot.at <= answer.at


def test_a_station_that_is_refused_does_not_count_as_booted(csms: LocalCsms) -> None:
    csms.boot_status = "Rejected"
    with OcppStation(csms.url, "KIT002") as refused, pytest.raises(StationNotBooted, match="registration Rejected"):
        refused.wait_booted(2)


def test_plug_and_badge_start_a_transaction_seen_in_the_tap(station: OcppStation, csms: LocalCsms) -> None:
    station.plug()
    station.badge("KIT-TOKEN-1")
    started = station.tap.wait_for(sent_call("TransactionEvent", eventType="Started"), WAIT)
    updated = station.tap.wait_for(  # the token came after the cable: Started, then the authorization
        lambda f: (
            f.direction == "sent"
            and f.message_type == 2
            and f.decoded()[2] == "TransactionEvent"
            and f.decoded()[3].get("idToken", {}).get("idToken") == "KIT-TOKEN-1"
        ),
        WAIT,
    )
    assert started is not None and updated is not None
    answer = station.tap.answer_to(updated.message_id or "", WAIT)
    assert answer is not None and answer.decoded()[2]["idTokenInfo"]["status"] == "Accepted"
    assert csms.wait_for(lambda r: r.action == "TransactionEvent" and "idToken" in r.payload, WAIT)


def test_offline_events_queue_and_are_replayed_when_back_online(station: OcppStation, csms: LocalCsms) -> None:
    station.plug()
    station.badge("KIT-TOKEN-2")
    assert station.tap.wait_for(sent_call("TransactionEvent", eventType="Started"), WAIT) is not None
    station.go_offline()
    mark = len(station.tap)
    station.unplug()  # ends the transaction while nobody hears it
    replayed = station.tap.wait_for(sent_call("TransactionEvent", offline=True), 1.5, since=mark)
    assert replayed is None, "nothing crosses a network that is down"

    station.go_online(WAIT)
    replayed = station.tap.wait_for(sent_call("TransactionEvent", offline=True), WAIT, since=mark)
    assert replayed is not None
    assert station.tap.answer_to(replayed.message_id or "", WAIT) is not None
    seen = csms.wait_for(lambda r: r.action == "TransactionEvent" and r.payload.get("offline") is True, WAIT)
    assert seen.message_id == replayed.message_id
    assert station.tap.wait_for(sent_call("TransactionEvent", eventType="Ended"), WAIT, since=mark) is not None


def test_a_raw_garbage_frame_gets_a_callerror_that_the_core_drops(
    station: OcppStation, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="chargecore.core")
    garbage = json.dumps([2, "kit-garbage-1", "NoSuchAction", {}])
    station.send_raw(garbage)
    answer = station.tap.answer_to("kit-garbage-1", WAIT)
    assert answer is not None and answer.message_type == 4
    sent = station.tap.wait_for(lambda f: f.direction == "sent" and f.text == garbage, 0)
    assert sent is not None and sent.at <= answer.at

    # the core never sent kit-garbage-1: it drops the reply, answers nothing, and goes on as before
    station.plug()
    station.badge("KIT-TOKEN-3")
    assert station.tap.wait_for(sent_call("TransactionEvent", eventType="Started"), WAIT) is not None
    assert [f.text for f in station.tap.frames if f.direction == "sent" and f.message_id == "kit-garbage-1"] == [
        garbage
    ]
    assert "dropped reply with unknown message id 'kit-garbage-1'" in caplog.text
    assert station.state.connection.phase == "up"


def test_over_tls_with_the_csms_ca_and_a_password(tmp_path: Path) -> None:
    """Security profile 2, as `--ocpp-ca-file` and `--ocpp-password` set it up: wss:// to a CSMS whose certificate
    chains to the CA file."""
    ca = CsmsCa.open(tmp_path / "ca")
    with LocalCsms(on_log=lambda _line: None, ca=ca) as csms:
        assert csms.url.startswith("wss://")
        with OcppStation(csms.url, "KIT003", password="0123456789abcdef", ca_file=str(ca.ca_file)) as station:
            station.wait_booted(WAIT)
            assert not station.crashes


def test_a_ca_file_that_is_not_pem_is_refused_and_leaves_no_directory(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate")
    before = set(Path(tempfile.gettempdir()).glob("chargecore-station-*"))
    with pytest.raises(ConfigurationError):
        OcppStation("wss://127.0.0.1:1", "KIT004", ca_file=str(tmp_path / "ca.pem"))
    assert set(Path(tempfile.gettempdir()).glob("chargecore-station-*")) == before
