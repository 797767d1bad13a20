"""device_model/derived.py: values read once per device model, keyed by the model's identity."""

from __future__ import annotations

from dataclasses import replace

from chargecore.pure.device_model.catalogue import DeviceModel, VariableKey
from chargecore.pure.device_model.derived import per_model
from chargecore.pure.device_model.model import build_device_model, get_value, reported_value_size, set_value

INTERVAL = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
VALUE_SIZE = VariableKey("DeviceDataCtrlr", "ValueSize")


def test_a_model_is_read_once_and_a_new_model_value_is_read_again() -> None:
    reads: list[DeviceModel] = []

    @per_model
    def interval(model: DeviceModel, scale: int) -> int:
        reads.append(model)
        return int(get_value(model, INTERVAL) or 0) * scale

    model = build_device_model((1,)).unwrap()
    changed = set_value(model, INTERVAL, "60").unwrap()
    assert [interval(model, 1), interval(model, 1), interval(model, 2)] == [
        int(get_value(model, INTERVAL) or 0),
    ] * 2 + [2 * int(get_value(model, INTERVAL) or 0)]
    assert len(reads) == 2  # (model, 1) once, (model, 2) once
    assert interval(changed, 1) == 60  # the changed model is another key, never the first one's entry
    assert reads[-1] is changed


def test_an_equal_copy_is_a_different_key() -> None:
    """Identity, not equality: a copy is computed for itself (hashing a model would cost more than the reads)."""
    reads: list[DeviceModel] = []

    @per_model
    def count(model: DeviceModel) -> int:
        reads.append(model)
        return len(model.values)

    model = build_device_model((1,)).unwrap()
    copy = replace(model)
    assert count(model) == count(copy) and reads == [model, copy] and reads[1] is copy


def test_reported_value_size_follows_the_model_it_is_given() -> None:
    model = build_device_model((1,)).unwrap()
    smaller = set_value(model, VALUE_SIZE, "10", respect_mutability=False).unwrap()
    assert reported_value_size(smaller) == 10
    assert reported_value_size(model) > 10
    assert reported_value_size(smaller) == 10
