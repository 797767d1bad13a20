"""The stateful station model that probes a CSMS: real chargecore stations driven by hypothesis.

`probe_machine(settings)` builds a `RuleBasedStateMachine` whose every example connects fresh stations (real
chargecore stations, `OcppStation`, each with a frame tap) to the CSMS under test and drives them through boots and
reboots, plugs and unplugs, badges, meter values, offline periods whose events are queued and then delivered, and
near-valid and broken frames sent raw; the CSMS's own requests are answered by the real station. After every step
the kit's rules (testing/rules.py) run over each station's frames; a violation fails the example with a readable
transcript, and hypothesis shrinks the steps to a minimal sequence.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from chargecore.pure.ocppj.frames import Call, CallError, CallResult
from chargecore.testing.frame_tap import TappedFrame
from chargecore.testing.rules import Injection, Parsed, ProbeContext, Violation, check, parse
from chargecore.testing.station import OcppStation
from chargecore.testing.strategies import BrokenFrame, NearValidCall, broken_frames, near_valid_calls
from chargecore.testing.transcript import render

TOKENS = (("TAG-0001", "ISO14443"), ("04A2B3C4D5E6F7", "ISO14443"), ("DE*ABC*E12345*6", "eMAID"), ("4711", "Local"))
"""Tokens a probing station badges: plausible ones of several kinds; what the CSMS makes of them is its business."""

SHOWN_BEFORE_FAULT = 12
"""Frames a failure transcript shows at most, ending with the last one at fault."""


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    url: str
    station_id: str
    password: str | None = None
    ca_file: Path | None = None
    stations: int = 1
    evses: int = 1
    message_timeout: int = 5
    """How long the CSMS has to answer the probing stations: their OCPPCommCtrlr.MessageTimeout, seconds."""
    quiet: float = 0.015
    """A step is over when nothing is outstanding and no frame came for this long, seconds."""
    boot_timeout: float = 10.0
    garbage: bool = True
    """Send near-valid and broken frames; off, the probe looks past a CSMS's known trouble with them."""


class ProbeFailure(AssertionError):
    """A rule was broken; the message is the violations and the transcript that shows them."""

    def __init__(self, station_id: str, violations: Sequence[Violation], transcript: str) -> None:
        self.station_id = station_id
        self.violations = tuple(violations)
        self.transcript = transcript
        listed = "\n".join(f"  [{v.rule_id}] {v.message}" for v in violations)
        super().__init__(f"the CSMS broke {len(violations)} rule(s) with station {station_id}:\n{listed}\n{transcript}")


@dataclass(slots=True)
class ProbeLog:
    """What a run has seen so far, across examples: the last failure is the shrunk one."""

    examples: int = 0
    frames: int = 0
    failures: list[ProbeFailure] = field(default_factory=list)


class ProbeSetupError(RuntimeError):
    """The probe could not run at all: the CSMS cannot be reached or refused the connection."""


class StationProbe:
    """One probing station across an example: its current `OcppStation`, the frames of its earlier lives (before a
    reboot), the garbage it injected and the times its connection was cut."""

    def __init__(self, settings: ProbeSettings, station_id: str) -> None:
        self.settings = settings
        self.station_id = station_id
        self._data = tempfile.TemporaryDirectory(prefix="chargecore-probe-")
        self.earlier: list[TappedFrame] = []
        self.injections: list[Injection] = []
        self.breaks: list[float] = []
        self.online = True
        self._sent = 0
        self.station = self._start()

    def _start(self) -> OcppStation:
        station = OcppStation(
            self.settings.url,
            self.station_id,
            password=self.settings.password,
            ca_file=None if self.settings.ca_file is None else str(self.settings.ca_file),
            evses=self.settings.evses,
            data_dir=Path(self._data.name),
            config={"OCPPCommCtrlr": {"MessageTimeout[Default]": self.settings.message_timeout}},
        )
        station.start()
        return station

    def frames(self) -> list[TappedFrame]:
        return [*self.earlier, *self.station.tap.frames]

    def reboot(self) -> None:
        self.station.stop()
        self.earlier = self.frames()
        self.breaks.append(time.monotonic())
        self.online = True
        self.station = self._start()

    def go_offline(self) -> None:
        self.station.go_offline()
        self.breaks.append(time.monotonic())  # once the station saw the loss: whatever it sent before is exempt
        self.online = False

    def go_online(self) -> None:
        """The cable is back; the station redials after its back-off (a second) while the next steps go on."""
        self.station.go_online()
        self.online = True

    def wait_connected(self) -> None:
        """Wait for the redial after an offline period: raw frames need the line, queued events need delivering."""
        deadline = time.monotonic() + self.settings.boot_timeout
        while self.online and self.station.state.connection.phase != "up" and time.monotonic() < deadline:
            time.sleep(0.002)

    def _boot_answered(self) -> bool:
        """The last BootNotification got an answer, even one the station refused (a broken one)."""
        frames = self.station.tap.frames
        boots = [f.message_id for f in frames if f.direction == "sent" and '"BootNotification"' in f.text]
        return bool(boots) and any(frame.is_reply and frame.message_id == boots[-1] for frame in frames)

    def wait_registered(self) -> None:
        """Wait for the CSMS's answer to the boot, whatever it is: a Pending or Rejected boot is the rules' business,
        only a station that never gets through is an error of the run."""
        deadline = time.monotonic() + self.settings.boot_timeout
        while self.station.state.registration.status == "Unknown" and not self._boot_answered():
            if time.monotonic() > deadline:
                if not self.station.tap.frames:
                    raise ProbeSetupError(
                        f"station {self.station_id} could not reach {self.settings.url}: "
                        f"connection {self.station.state.connection.phase}, {self.station.fatal_error or 'no error'}"
                    )
                return
            time.sleep(0.002)

    def inject(self, text: str, message_id: str | None, expected: str | None, reason: str) -> None:
        """Send a frame raw, then a Heartbeat of our own: its answer shows that the CSMS kept the connection."""
        self.wait_connected()
        at = time.monotonic()
        self.station.send_raw(text)
        self.injections.append(Injection(text, message_id, expected, reason, at))
        self._sent += 1
        self.station.send_raw(f'[2,"probe-alive-{self._sent}","Heartbeat",{{}}]')

    def context(self, now: float | None) -> ProbeContext:
        return ProbeContext(self.settings.message_timeout, now, tuple(self.injections), tuple(self.breaks))

    def _awaited(self, parsed: Sequence[Parsed]) -> list[float]:
        """When each thing still awaited was sent: unanswered station CALLs and injections due an answer."""
        answered = {
            item.frame.message_id
            for item in parsed
            if item.direction == "received" and isinstance(item.frame, CallResult | CallError)
        }
        cut = max(self.breaks, default=0.0)
        waiting = [
            item.at
            for item in parsed
            if item.direction == "sent" and isinstance(item.frame, Call) and item.frame.message_id not in answered
        ]
        waiting += [
            injection.at
            for injection in self.injections
            if injection.expected is not None and (injection.message_id or "-1") not in answered
        ]
        return [at for at in waiting if at > cut]

    def _idle(self) -> bool:
        """The station has nothing more to send now: its queue is empty, or it may not send (offline, not Accepted).
        Without this a step would end between an Authorize and the TransactionEvent its answer lets out."""
        state = self.station.state
        if state.connection.phase != "up" or state.registration.status != "Accepted":
            return True
        return not state.rpc.queue and state.rpc.in_flight is None and not state.rpc.lane

    def settle(self) -> None:
        """Wait until the CSMS has answered all that is due (or its time is up) and the line has gone quiet."""
        acted = time.monotonic()
        while True:
            frames = self.frames()
            now = time.monotonic()
            awaited = self._awaited(parse(frames))
            if awaited and now > min(awaited) + self.settings.message_timeout:
                return
            last = max(frames[-1].at if frames else 0.0, acted)
            if not awaited and now - last >= self.settings.quiet and self._idle():
                return
            time.sleep(0.002)

    def violations(self) -> list[Violation]:
        """The rules over all frames so far, after `settle`: whatever is still unanswered now is late."""
        return check(self.frames(), self.context(time.monotonic()))

    def failure(self, violations: Sequence[Violation]) -> ProbeFailure:
        frames = self.frames()
        last = max(index for violation in violations for index in violation.frames) if violations else len(frames) - 1
        first = max(0, last + 1 - SHOWN_BEFORE_FAULT)
        marked = {index for violation in violations for index in violation.frames}
        title = f"station {self.station_id}, frames {first + 1}..{last + 1} of {len(frames)}:"
        return ProbeFailure(self.station_id, violations, render(frames[: last + 1], marked, first=first, title=title))

    def close(self) -> None:
        try:
            self.station.stop()
        finally:
            self._data.cleanup()


def probe_machine(settings: ProbeSettings, log: ProbeLog | None = None) -> type[RuleBasedStateMachine]:
    """A state machine class bound to `settings`, counting examples, frames and failures into `log`."""
    seen = ProbeLog() if log is None else log
    which = st.integers(0, settings.stations - 1)
    evse = st.integers(1, settings.evses)

    class CsmsProbe(RuleBasedStateMachine):
        probe_settings: ClassVar[ProbeSettings] = settings

        def __init__(self) -> None:
            super().__init__()
            self.probes: list[StationProbe] = []
            self.failed = False

        @initialize()
        def connect(self) -> None:
            ids = [settings.station_id] + [f"{settings.station_id}-{n}" for n in range(2, settings.stations + 1)]
            self.probes = [StationProbe(settings, station_id) for station_id in ids]
            for probe in self.probes:
                probe.wait_registered()

        @rule(which=which, evse=evse)
        def plug(self, which: int, evse: int) -> None:
            self.probes[which].station.plug(evse)

        @rule(which=which, evse=evse)
        def unplug(self, which: int, evse: int) -> None:
            self.probes[which].station.unplug(evse)

        @rule(which=which, token=st.sampled_from(TOKENS))
        def badge(self, which: int, token: tuple[str, str]) -> None:
            self.probes[which].station.badge(token[0], kind=token[1])

        @rule(which=which, evse=evse, energy=st.integers(0, 100_000))
        def meter(self, which: int, evse: int, energy: int) -> None:
            self.probes[which].station.meter(energy, evse=evse)

        @precondition(lambda self: any(probe.online for probe in self.probes))
        @rule(which=which)
        def go_offline(self, which: int) -> None:
            if self.probes[which].online:
                self.probes[which].go_offline()

        @precondition(lambda self: not all(probe.online for probe in self.probes))
        @rule(which=which)
        def go_online(self, which: int) -> None:
            if not self.probes[which].online:
                self.probes[which].go_online()

        @rule(which=which)
        def reboot(self, which: int) -> None:
            probe = self.probes[which]
            probe.reboot()
            probe.wait_registered()

        @precondition(lambda _self: settings.garbage)
        @rule(which=which, frame=near_valid_calls(sent_by="station"))
        def send_near_valid(self, which: int, frame: NearValidCall) -> None:
            probe = self.probes[which]
            if probe.online:
                probe.inject(frame.text, frame.message_id, frame.error_code, f"{frame.action} with {frame.where}")

        @precondition(lambda _self: settings.garbage)
        @rule(which=which, frame=broken_frames())
        def send_broken(self, which: int, frame: BrokenFrame) -> None:
            probe = self.probes[which]
            if probe.online:
                probe.inject(frame.text, frame.message_id, frame.expected, frame.reason)

        @invariant()
        def csms_keeps_the_rules(self) -> None:
            self._check()

        def teardown(self) -> None:
            try:
                if self.probes and not self.failed:
                    for probe in self.probes:
                        probe.wait_connected()
                    self._check()
            finally:
                seen.examples += 1
                seen.frames += sum(len(probe.frames()) for probe in self.probes)
                for probe in self.probes:
                    probe.close()

        def _check(self) -> None:
            for probe in self.probes:
                probe.settle()
            for probe in self.probes:
                found = probe.violations()
                if found:
                    failure = probe.failure(found)
                    seen.failures.append(failure)
                    self.failed = True
                    raise failure

    return CsmsProbe
