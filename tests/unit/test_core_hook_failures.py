"""HookRaised: the shell reports that one of the application's hooks raised. The core tells the application with a
HookFailed event and changes nothing else: what the hook should have done did not happen."""

from __future__ import annotations

from core_helpers import booted

from chargecore.pure.effects import HookFailed, Notify
from chargecore.pure.inputs import HookRaised


def test_a_raised_hook_is_told_to_the_application_and_changes_nothing_else() -> None:
    sim = booted()
    before = sim.station
    effects = sim.feed(HookRaised(sim.now, "start_energy_transfer", "RuntimeError: relay stuck"))
    assert effects == (Notify(HookFailed("start_energy_transfer", "RuntimeError: relay stuck")),)
    assert sim.station == before
