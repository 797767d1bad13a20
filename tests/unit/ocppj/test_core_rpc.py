"""Our outbound CALLs through `step` (Part 4 4.1): message ids, one outstanding CALL in FIFO order,
MessageTimeout, replies nobody asked for, and payloads that must never leave the station."""

from __future__ import annotations

from core_helpers import NONCE, Sim, at, booted, calls, frames, make_station, of_type, persisted, warnings

from chargecore.pure.effects import InternalError, Log, Persist, SendFrame
from chargecore.pure.inputs import SendDataTransfer
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.frames import MAX_MESSAGE_ID_LENGTH
from chargecore.pure.station import next_deadline, step

MESSAGE_TIMEOUT_10S = {"OCPPCommCtrlr": {"MessageTimeout[Default]": 10}}


def sent_ids(sim: Sim) -> list[str]:
    return [call.message_id for call in calls(tuple(sim.log))]


def busy_session(sim: Sim, reconnects: int) -> None:
    """Boot, report, heartbeat and transfer data, losing and regaining the connection `reconnects` times."""
    for round_ in range(reconnects + 1):
        start = 1000.0 * round_
        sim.send_data_transfer("com.example", f"round-{round_}")
        sim.answer_all()
        sim.tick(start + 400)  # a heartbeat is due
        sim.answer_all()
        sim.lose(start + 500)
        sim.tick_deadline()
        sim.connect(start + 510)
        sim.answer_all()


def test_message_ids_are_unique_and_short_across_reconnects() -> None:
    sim = booted(evse_connectors=(1, 1), stored={"rpc/epoch": 123456}, interval=300)
    busy_session(sim, reconnects=3)
    ids = sent_ids(sim)
    assert len(ids) >= 10
    assert len(set(ids)) == len(ids)
    assert max(len(message_id) for message_id in ids) <= MAX_MESSAGE_ID_LENGTH


def test_a_long_nonce_still_gives_ids_of_at_most_36_characters() -> None:
    sim = Sim(make_station(stored={"rpc/epoch": 10**9}))
    sim.power_up(0, nonce="f" * 64)
    sim.connect(1)
    (boot,) = calls(tuple(sim.log))
    assert len(boot.message_id) <= MAX_MESSAGE_ID_LENGTH


def test_the_epoch_is_persisted_before_anything_is_sent() -> None:
    sim = Sim(make_station(stored={"rpc/epoch": 6}))
    effects = sim.power_up(0) + sim.connect(1)
    persists = [i for i, effect in enumerate(effects) if isinstance(effect, Persist) and persisted((effect,))]
    first_frame = next(i for i, effect in enumerate(effects) if isinstance(effect, SendFrame))
    assert persisted(effects)["rpc/epoch"] == 7
    assert persists and persists[0] < first_frame


def test_a_restart_with_the_same_nonce_gives_new_message_ids() -> None:
    """The shell's nonce might repeat (or be lost); the persisted epoch alone keeps ids of two runs apart."""
    first = booted(evse_connectors=(2,))
    restarted = booted(evse_connectors=(2,), stored={"rpc/epoch": first.station.epoch})
    assert restarted.station.epoch == first.station.epoch + 1
    assert set(sent_ids(first)).isdisjoint(sent_ids(restarted))
    assert all(NONCE in message_id for message_id in sent_ids(first) + sent_ids(restarted))


def test_only_one_call_is_outstanding_and_the_queue_is_fifo() -> None:
    sim = booted()
    sim.now = at(10)
    first = calls(sim.send_data_transfer("com.example", "1"))
    for number in ("2", "3", "4"):
        assert not calls(sim.send_data_transfer("com.example", number)), "a second CALL while one is outstanding"
    order = [call.payload["messageId"] for call in first]
    while sim.station.rpc.in_flight is not None:
        effects = sim.reply()
        assert len(calls(effects)) <= 1
        order += [call.payload["messageId"] for call in calls(effects)]
    assert order == ["1", "2", "3", "4"]


def test_an_outstanding_call_times_out_at_message_timeout_and_the_next_one_goes() -> None:
    sim = booted(config=MESSAGE_TIMEOUT_10S)
    sim.now = at(100)
    (first,) = calls(sim.send_data_transfer("com.example", "first"))
    sim.send_data_transfer("com.example", "second")
    assert next_deadline(sim.station) == at(110)
    assert not calls(sim.tick(109.999))
    effects = sim.tick(110)
    assert any(first.message_id in message and "timed out" in message for message in warnings(effects))
    (second,) = calls(effects)
    assert second.payload["messageId"] == "second"
    assert next_deadline(sim.station) == at(120)


def test_the_default_message_timeout_is_30_seconds() -> None:
    sim = booted()
    sim.now = at(100)
    sim.send_data_transfer("com.example")
    assert next_deadline(sim.station) == at(130)


def test_a_reply_with_an_unknown_id_is_dropped_with_a_log() -> None:
    sim = booted()
    sim.now = at(50)
    sim.send_data_transfer("com.example")
    before = sim.station
    for frame in ([3, "no-such-id", {"status": "Accepted"}], [4, "no-such-id", "InternalError", "", {}]):
        effects = sim.receive(frame)
        assert sim.station == before
        assert len(effects) == 1 and isinstance(effects[0], Log) and effects[0].level == "warning"
        assert "no-such-id" in effects[0].message


def test_a_late_reply_after_the_timeout_is_dropped() -> None:
    sim = booted(config=MESSAGE_TIMEOUT_10S)
    sim.now = at(100)
    (call,) = calls(sim.send_data_transfer("com.example"))
    sim.tick(110)
    before = sim.station
    effects = sim.receive([3, call.message_id, {"status": "Accepted"}], at_s=111)
    assert sim.station == before and warnings(effects) and not frames(effects)


def test_an_invalid_outbound_payload_is_refused_by_the_session() -> None:
    session = booted().station.rpc
    refused, effects = rpc.enqueue(session, "DataTransfer", {"vendorId": 42})
    assert refused == session
    (error,) = effects
    assert isinstance(error, InternalError) and "DataTransfer" in error.message


def test_an_invalid_outbound_payload_becomes_internal_error_and_nothing_is_sent() -> None:
    """vendorId is at most 255 characters: the station must not put a schema violation on the wire."""
    station = booted().station
    after, effects = step(station, SendDataTransfer(at(10), "v" * 256))
    assert of_type(effects, InternalError)
    assert not frames(effects)
    assert after.rpc.queue == () and after.rpc.in_flight is None
