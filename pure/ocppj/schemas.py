"""Validation of OCPP 2.0.1 payloads against the official JSON schemas shipped in the `ocpp` package.

The schemas are static package data, read and compiled once at import like code; after that validation is a
pure function. The first schema violation picks the Part 4 error code (section 4.3).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

import jsonschema_rs
from returns.result import Failure, Result, Success

Direction = Literal["Request", "Response"]


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    code: str
    description: str


def _load_schemas() -> Mapping[str, dict[str, Any]]:
    # the files are found through the top-level package, whose __init__ is empty: naming "ocpp.v201" would run
    # its __init__, which imports the ocpp package's whole Python API (0.5 s of start-up for nothing we use)
    folder = resources.files("ocpp").joinpath("v201", "schemas")
    return MappingProxyType(
        {
            entry.name[: -len(".json")]: json.loads(entry.read_text())
            for entry in folder.iterdir()
            if entry.name.endswith(".json")
        }
    )


SCHEMAS = _load_schemas()
"""The official schema of every message by name (`"BootNotificationRequest"`): read-only JSON, shared with the
testing kit, which generates payloads from it."""

_VALIDATORS = MappingProxyType({name: jsonschema_rs.validator_for(schema) for name, schema in SCHEMAS.items()})

ACTIONS: frozenset[str] = frozenset(name[: -len("Request")] for name in _VALIDATORS if name.endswith("Request"))
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
    validator = _VALIDATORS.get(action + direction)
    if validator is None:
        return Failure(SchemaViolation("NotImplemented", f"unknown action {action!r}"))
    try:
        if validator.is_valid(payload):
            return Success(payload)
        error = next(iter(validator.iter_errors(payload)))
    except UnicodeEncodeError:  # a lone surrogate from a JSON escape: not Unicode text, the validator cannot read it
        return Failure(SchemaViolation("FormatViolation", "payload: a string holds an unpaired surrogate"))
    where = "/".join(str(part) for part in error.instance_path) or "payload"
    return Failure(SchemaViolation(_code_for(error), f"{where}: {_without_value(error)}"[:255]))
