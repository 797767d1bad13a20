"""Schema validators are compiled per action on first use (pure/ocppj/schemas.py): importing compiles none, each
schema compiles once and then serves every call, every schema of the `ocpp` package still compiles and judges
payloads as the schema itself does, and a name that is not an action never reaches the package data."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import jsonschema_rs
import pytest
from returns.result import Failure, Success

from chargecore.pure.ocppj import schemas
from chargecore.pure.ocppj.schemas import ACTIONS, validate

SCHEMA_FILES = resources.files("ocpp").joinpath("v201", "schemas")
EVERY_SCHEMA = sorted(entry.name[: -len(".json")] for entry in SCHEMA_FILES.iterdir() if entry.name.endswith(".json"))
SPLIT = [(name[: -len("Request")], "Request") for name in EVERY_SCHEMA if name.endswith("Request")] + [
    (name[: -len("Response")], "Response") for name in EVERY_SCHEMA if name.endswith("Response")
]


def oracle(schema_name: str) -> jsonschema_rs.Validator:
    """The schema file compiled here, independently of the module under test."""
    return jsonschema_rs.validator_for(json.loads(SCHEMA_FILES.joinpath(schema_name + ".json").read_text()))


def test_every_schema_file_is_an_action_request_or_response() -> None:
    assert len(EVERY_SCHEMA) == len(SPLIT) == 2 * len(ACTIONS)
    assert {action for action, _ in SPLIT} == ACTIONS
    assert "BootNotification" in ACTIONS


@pytest.mark.parametrize(("action", "direction"), SPLIT, ids=[a + d for a, d in SPLIT])
def test_every_validator_compiles_and_judges_as_its_schema(action: str, direction: str) -> None:
    """An empty object and one with an unknown property: the verdict is the schema's own (most payloads require
    fields, so {} is refused as an OccurrenceConstraintViolation; an unknown property as a FormatViolation)."""
    schema = oracle(action + direction)
    for payload in ({}, {"notInAnySchema": 1}):
        result = validate(action, direction, payload)  # type: ignore[arg-type]
        assert isinstance(result, Success) is schema.is_valid(payload)
        if isinstance(result, Failure):
            assert result.failure().code != "NotImplemented"


def test_a_valid_and_an_invalid_boot_notification() -> None:
    payload = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    assert validate("BootNotification", "Request", payload) == Success(payload)
    wrong = {"reason": "Sunrise", "chargingStation": {"model": "M", "vendorName": "V"}}
    violation = validate("BootNotification", "Request", wrong).failure()
    assert violation.code == "PropertyConstraintViolation"
    assert violation.description.startswith("reason: ")


@pytest.mark.parametrize("action", ["Foo", "", "bootnotification", "../BootNotification", "v201/schemas/Heartbeat"])
def test_an_unknown_action_is_not_implemented_and_reads_no_file(action: str) -> None:
    before = schemas._validator.cache_info()
    violation = validate(action, "Request", {}).failure()
    assert violation.code == "NotImplemented"
    assert schemas._validator.cache_info().misses == before.misses


def test_a_schema_compiles_once_then_serves_every_call() -> None:
    validate("Heartbeat", "Request", {})
    first = schemas._validator.cache_info()
    for _ in range(3):
        assert validate("Heartbeat", "Request", {}) == Success({})
    again = schemas._validator.cache_info()
    assert again.misses == first.misses
    assert again.hits == first.hits + 3


def test_importing_compiles_no_schema_and_the_first_use_compiles_one() -> None:
    """In a fresh interpreter: nothing compiled at import, one schema after the first validation, and the `ocpp`
    package's Python API (ocpp.v201) never imported to find the files."""
    code = (
        "import sys\n"
        "from chargecore.pure.ocppj import schemas\n"
        "print(schemas._validator.cache_info().currsize)\n"
        "schemas.validate('Heartbeat', 'Response', {'currentTime': '2025-01-01T00:00:00Z'})\n"
        "print(schemas._validator.cache_info().currsize)\n"
        "print('ocpp.v201' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["0", "1", "False"]
