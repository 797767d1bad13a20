"""The tap: waits that wake when a frame arrives and report absence as None; garbage never breaks its reading."""

from __future__ import annotations

import threading
import time

from chargecore.testing.frame_tap import FrameTap


def test_a_wait_wakes_when_the_frame_arrives_from_another_thread() -> None:
    tap = FrameTap()
    timer = threading.Timer(0.05, tap.record, ("received", '[3,"m1",{}]'))
    timer.start()
    began = time.monotonic()
    answer = tap.answer_to("m1", 5)
    timer.join()
    assert answer is not None and answer.message_type == 3
    assert time.monotonic() - began < 2


def test_an_answer_that_never_comes_is_none_after_the_timeout() -> None:
    tap = FrameTap()
    tap.record("sent", '[2,"m1","Heartbeat",{}]')
    tap.record("received", '[2,"m1","Heartbeat",{}]')  # a CALL with the same id is not an answer
    began = time.monotonic()
    assert tap.answer_to("m1", 0.2) is None
    assert time.monotonic() - began >= 0.2


def test_only_frames_after_the_mark_count() -> None:
    tap = FrameTap()
    tap.record("sent", "first")
    mark = len(tap)
    tap.record("sent", "second")
    assert tap.wait_for(lambda f: f.direction == "sent", 0, since=mark) == tap.frames[1]
    assert [f.text for f in tap.since(mark)] == ["second"]


def test_garbage_has_no_type_nor_id() -> None:
    tap = FrameTap()
    for text in ("", "not json", "[", '{"a": 1}', "[[1]]", '[2, 7, "A", {}]', "[" * 100_000):
        frame = tap.record("received", text)
        assert frame.message_id is None and not frame.is_reply
    assert tap.record("received", '[4,"x","NotImplemented","",{}]').is_reply
