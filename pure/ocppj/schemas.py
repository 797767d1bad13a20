"""Validation of OCPP 2.0.1 payloads against the official JSON schemas shipped in the `ocpp` package.

The schemas are static package data. Import only lists their names; each is read and compiled on its first use
and kept (a cache of a pure function of the name, like a lazy import): compiling all 128 at import cost the
station's start-up ~40 ms for schemas most stations never see. Validation is a pure function. The first schema
violation picks the Part 4 error code (section 4.3).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.abc import Traversable
from typing import Any, Literal

import jsonschema_rs
from returns.result import Failure, Result, Success

Direction = Literal["Request", "Response"]


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    code: str
    description: str


def _schemas() -> Traversable:
    # the files are found through the top-level package, whose __init__ is empty: naming "ocpp.v201" would run
    # its __init__, which imports the ocpp package's whole Python API (0.5 s of start-up for nothing we use)
    return resources.files("ocpp").joinpath("v201", "schemas")


SCHEMA_NAMES = frozenset(entry.name[: -len(".json")] for entry in _schemas().iterdir() if entry.name.endswith(".json"))
"""Every schema by name ("BootNotificationRequest"); only these names reach `_validator`, which bounds its cache."""


@cache
def schema_text(schema_name: str) -> str:
    """The official schema of one message (one of SCHEMA_NAMES) as JSON text, read once: immutable, so the
    testing kit, which generates payloads from it, parses its own copy."""
    return _schemas().joinpath(schema_name + ".json").read_text()


@cache
def _validator(schema_name: str) -> jsonschema_rs.Validator:
    """The compiled schema, read and compiled once per name on its first use (0.1-0.5 ms each)."""
    return jsonschema_rs.validator_for(json.loads(schema_text(schema_name)))


ACTIONS: frozenset[str] = frozenset(name[: -len("Request")] for name in SCHEMA_NAMES if name.endswith("Request"))
"""Every action OCPP 2.0.1 knows; an inbound CALL for any other action is answered NotImplemented."""

_CODE_BY_KEYWORD = {
    "type": "TypeConstraintViolation",
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "additionalProperties": "FormatViolation",
    "falseSchema": "FormatViolation",
}
"""Schema keyword to Part 4 code; any other keyword (enum, maxLength, minimum, format...) is a bad value."""


def error_code(keyword: str) -> str:
    """The Part 4 code (section 4.3) for a payload that breaks the schema keyword `keyword` ("maxLength"): the one
    table the station core and the testing kit's near-valid labels share."""
    return _CODE_BY_KEYWORD.get(keyword, "PropertyConstraintViolation")


def error_keyword(error: Any) -> str:
    """The schema keyword a jsonschema_rs error is about, spelled as in the schema ("MaxLength" -> "maxLength")."""
    kind: str = type(error.kind).__name__
    return kind[:1].lower() + kind[1:]


def _code_for(error: Any) -> str:
    return error_code(error_keyword(error))


_NAMES_ONLY = frozenset({"Required", "AdditionalProperties"})
"""Keywords whose message names properties, never the value of one."""


def _without_value(error: Any) -> str:
    """The validator's message with the offending value replaced by "the value": a description goes back to the
    CSMS and into logs, and the value may be a secret (a malformed SetVariables of BasicAuthPassword)."""
    keyword = type(error.kind).__name__
    message: str = error.message
    if keyword in _NAMES_ONLY:
        return message
    shown = json.dumps(error.instance, ensure_ascii=False, separators=(",", ":"))
    if message.startswith(shown + " "):
        return "the value" + message[len(shown) :]
    number = isinstance(error.instance, int | float) and not isinstance(error.instance, bool)
    if number and " is " in message:  # the validator writes numbers its own way ("1e20" as "1000...0.0")
        return "the value" + message[message.index(" is ") :]
    return f"the value fails the schema's {keyword} rule"


def validate(action: str, direction: Direction, payload: Any) -> Result[Any, SchemaViolation]:
    """Check `payload` of `action`'s request or response; Success carries the payload unchanged."""
    schema_name = action + direction
    if schema_name not in SCHEMA_NAMES:
        return Failure(SchemaViolation("NotImplemented", f"unknown action {action!r}"))
    validator = _validator(schema_name)
    try:
        if validator.is_valid(payload):
            return Success(payload)
        error = next(iter(validator.iter_errors(payload)))
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape: not Unicode text, the validator cannot read it
        return Failure(SchemaViolation("FormatViolation", "payload: a string holds an unpaired surrogate"))
    where = "/".join(str(part) for part in error.instance_path) or "payload"
    return Failure(SchemaViolation(_code_for(error), f"{where}: {_without_value(error)}"[:255]))
