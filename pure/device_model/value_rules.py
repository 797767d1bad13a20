"""Which values a variable accepts, by its characteristics: one rule per dataType.

Rules (see `_RULES`): integer and decimal are plain decimal numbers, boolean is
"true"/"false", dateTime is ISO 8601 with a time part, OptionList is one entry of valuesList, MemberList and
SequenceList are comma-separated entries of valuesList without repeats ("" is the empty list). minLimit and
maxLimit bound the number for integer/decimal and the text length for string and the list types (OCPP defines
maxLimit that way; minLimit is read the same way, e.g. BasicAuthPassword's 16 characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from chargecore.pure.device_model.catalogue import (
    VariableDefinition,
)

_Check = Callable[[str, tuple[str, ...] | None], str | None]
"""(value, valuesList) -> what is wrong with the value, or None; the caller puts the value in front."""

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ].+")


def _check_integer(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None if _INTEGER.fullmatch(value) else "is not an integer"


def _check_decimal(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None if _DECIMAL.fullmatch(value) else "is not a decimal number"


def _check_boolean(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None if value in ("true", "false") else 'is not "true" or "false"'


def _check_date_time(value: str, values_list: tuple[str, ...] | None) -> str | None:
    problem = "is not an ISO 8601 date and time"
    if not _DATE_TIME.fullmatch(value):
        return problem
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return problem
    return None


def _check_string(value: str, values_list: tuple[str, ...] | None) -> str | None:
    return None


def _check_option(value: str, values_list: tuple[str, ...] | None) -> str | None:
    if values_list is None or value in values_list:
        return None
    return f"is not one of {','.join(values_list)}"


def _check_members(value: str, values_list: tuple[str, ...] | None) -> str | None:
    members = value.split(",") if value else []
    for member in members:
        if values_list is not None and member not in values_list:
            return f"has {member!r}, which is not one of {','.join(values_list)}"
    if len(set(members)) != len(members):
        return "repeats a member"
    return None


@dataclass(frozen=True, slots=True)
class _Limits:
    """How minLimit/maxLimit apply: to the number itself or to the length of the text."""

    measure: Callable[[str], float]
    below: str
    above: str
    below_reason: str = "InvalidValue"
    above_reason: str = "InvalidValue"


_NUMBER = _Limits(float, "is below minLimit {}", "is above maxLimit {}", "ValueTooLow", "ValueTooHigh")
_LENGTH = _Limits(len, "is shorter than minLimit {} characters", "is longer than maxLimit {} characters")

_LIST_TYPES = frozenset({"OptionList", "MemberList", "SequenceList"})
"""A value of these types that fails its check is outside valuesList: reason ValueOutOfRange."""

_RULES: Mapping[str, tuple[_Check, _Limits | None]] = MappingProxyType(
    {
        "string": (_check_string, _LENGTH),
        "integer": (_check_integer, _NUMBER),
        "decimal": (_check_decimal, _NUMBER),
        "boolean": (_check_boolean, None),
        "dateTime": (_check_date_time, None),
        "OptionList": (_check_option, _LENGTH),
        "MemberList": (_check_members, _LENGTH),
        "SequenceList": (_check_members, _LENGTH),
    }
)


def number_text(value: float) -> str:
    """22000.0 -> "22000", 0.5 -> "0.5": how JSON numbers and limits are written as OCPP values."""
    return str(int(value)) if value.is_integer() else repr(value)


Problem = tuple[str, str]
"""(what is wrong, OCPP reason code)"""


def value_problem(
    definition: VariableDefinition, attribute: str, value: str, respect_mutability: bool
) -> Problem | None:
    """What is wrong with `value` for this attribute, and the OCPP reason code; None when it is allowed."""
    spec = definition.attributes.get(attribute)
    if spec is None:
        return f"has no {attribute} attribute", "UnsupportedParam"
    if respect_mutability and spec.mutability == "ReadOnly":
        return f"{attribute} is read-only", "ReadOnly"
    shown = "the value" if spec.mutability == "WriteOnly" else repr(value)  # never echo a password
    check, limits = _RULES[definition.data_type]
    problem = check(value, definition.values_list)
    reason = "ValueOutOfRange" if definition.data_type in _LIST_TYPES else "InvalidValue"
    if problem is None and limits is not None:
        measured = limits.measure(value)
        if definition.min_limit is not None and measured < definition.min_limit:
            problem, reason = limits.below.format(number_text(definition.min_limit)), limits.below_reason
        elif definition.max_limit is not None and measured > definition.max_limit:
            problem, reason = limits.above.format(number_text(definition.max_limit)), limits.above_reason
    if problem is None:
        return None
    return (f"{shown} {problem}" if attribute == "Actual" else f"{attribute} {shown} {problem}"), reason
