"""The fast JSON reader of inbound frames changes nothing: for any text, `frames._read_json` gives what
`json.loads` gives (the same value with the same types, integers of any size included, or an error), and NaN
or Infinity are still caught as not JSON.

The core reads frames with msgspec and falls back to json on whatever msgspec refuses; the property is that
msgspec never reads a text differently from json, so the fallback's answers (the Part 4 codes of
test_inbound_frames.py) are the only ones a frame can get. (It writes with json: msgspec writes some floats
differently, 0.0000368 where json writes 3.68e-05.)
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chargecore.pure.ocppj.frames import _read_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)


def _typed(value: Any) -> Any:
    """A value with every leaf's type spelled out: 1 and 1.0 and True differ, and so do 0.0 and -0.0."""
    if isinstance(value, dict):
        return ("dict", tuple((key, _typed(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("list", tuple(_typed(item) for item in value))
    if isinstance(value, float):
        return ("float", math.copysign(1.0, value), abs(value)) if not math.isnan(value) else ("nan",)
    return (type(value).__name__, value)


def _by_json(text: str | bytes) -> tuple[Any, ...]:
    constants: list[str] = []
    try:
        value = json.loads(text, parse_constant=constants.append)
    except (ValueError, RecursionError):
        return ("error",)
    return ("value", _typed(value), tuple(constants))


def _by_core(text: str | bytes) -> tuple[Any, ...]:
    constants: list[str] = []
    try:
        value = _read_json(text, constants)
    except (ValueError, RecursionError):
        return ("error",)
    return ("value", _typed(value), tuple(constants))


@given(JSON_VALUES, st.booleans(), st.sampled_from([None, 1, "\t"]))
def test_any_json_text_reads_as_json_reads_it(value: Any, ascii_only: bool, indent: int | str | None) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    assert _by_core(text) == _by_json(text)
    assert _by_core(text.encode("utf-8", "surrogatepass")) == _by_json(text.encode("utf-8", "surrogatepass"))


@given(JSON_VALUES, st.integers(min_value=0), st.text(min_size=1, max_size=4))
def test_damaged_json_text_gets_the_answer_json_gives(value: Any, at: int, inserted: str) -> None:
    """Characters spliced into a valid text: both readers refuse it, or both read the same value."""
    text = json.dumps(value)
    where = at % (len(text) + 1)
    damaged = text[:where] + inserted + text[where:]
    assert _by_core(damaged) == _by_json(damaged)


@given(st.text(alphabet='[]{}",:0123456789.eE+-\\u truefalsenul\ud800NaInfity\t', max_size=40))
def test_json_like_noise_gets_the_answer_json_gives(text: str) -> None:
    assert _by_core(text) == _by_json(text)


def test_the_texts_the_fast_reader_refuses_still_get_json_s_reading() -> None:
    """NaN and Infinity are caught (not JSON: the frame gets a FormatViolation), a number beyond a float is inf as
    json reads it, and lone surrogates, integers beyond 64 bits and deep nesting get json's answer."""
    for text, expected in [
        ("[NaN]", ("value", _typed([None]), ("NaN",))),  # the hook keeps the name; the value is never used
        ("[-Infinity, 1]", ("value", _typed([None, 1]), ("-Infinity",))),
        ("[1e400]", ("value", _typed([math.inf]), ())),
        ('["\\ud800"]', ("value", _typed(["\ud800"]), ())),
        ("[18446744073709551616]", ("value", _typed([2**64]), ())),
        ("[" * 100_000, ("error",)),
        ("[1] x", ("error",)),
    ]:
        assert _by_core(text) == expected, text
        assert _by_core(text) == _by_json(text), text
