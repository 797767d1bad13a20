"""Secrets out of logs: the values of WriteOnly variables (SecurityCtrlr.BasicAuthPassword) are masked in a frame
before the shell writes it to the frame log (stdout and `--log`).

A frame names a variable in a VariableType object (`{"name": ..., "instance": ...}`) next to the value it carries
(`attributeValue` in SetVariables). Every JSON object whose `variable` names a WriteOnly variable of the catalogue
(names are case-insensitive; the component is not checked, so a password sent to the wrong component is masked
too) gets its `attributeValue` replaced by `MASK`, whatever its type, so a malformed request is masked as well. A
frame that is not JSON but names a WriteOnly variable has every `"attributeValue": "..."` masked in its text.
Frames without a secret come back unchanged, character for character.

A URL's password (`ftp://user:password@host/`, as GetLog's remoteLocation or UpdateFirmware's location may carry
it, N01.FR.17) is masked too, in any frame: `ftp://user:***@host/`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from chargecore.pure.device_model.catalogue import CATALOGUE

MASK = "***"

WRITE_ONLY_NAMES = frozenset(
    variable["name"].casefold()
    for component in CATALOGUE["components"]
    for variable in component["variables"]
    if any(spec["mutability"] == "WriteOnly" for spec in variable["attributes"].values())
)
"""The catalogue's WriteOnly variables, by case-folded name."""

_URL_PASSWORD = re.compile(r'(//[^/@:"\s]*):[^/"\s]*@')
"""The password of a URL's userinfo, up to its last "@" before the host (a raw "@" in a password included)."""
_VALUE_IN_TEXT = re.compile(r'("attributeValue"\s*:\s*)"(?:[^"\\]|\\.)*"?')


def _names_secret(text: str) -> bool:
    """Whether the text may name a WriteOnly variable (a JSON escape could spell the name: those are parsed too)."""
    folded = text.casefold()
    return "\\u" in text or any(name in folded for name in WRITE_ONLY_NAMES)


def _is_write_only(variable: Any) -> bool:
    name = variable.get("name") if isinstance(variable, dict) else None
    return isinstance(name, str) and name.casefold() in WRITE_ONLY_NAMES


def _masked(value: Any) -> tuple[Any, bool]:
    """(value with every secret masked, whether anything was)."""
    if isinstance(value, list):
        items = [_masked(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if not isinstance(value, dict):
        return value, False
    masked: dict[str, Any] = {}
    changed = False
    for key, item in value.items():
        masked[key], changed_here = _masked(item)
        changed = changed or changed_here
    if "attributeValue" in masked and _is_write_only(masked.get("variable")):
        masked["attributeValue"] = MASK
        changed = True
    return masked, changed


def redact_frame(text: str) -> str:
    """The frame as it may be logged: WriteOnly values and URL passwords masked, anything else unchanged."""
    if "@" in text:
        text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    if not _names_secret(text):
        return text  # the common case costs one scan, no parse
    try:
        masked, changed = _masked(json.loads(text))
    except (ValueError, RecursionError):  # not JSON (or too deep to walk): mask by the text's shape
        return _VALUE_IN_TEXT.sub(rf'\1"{MASK}"', text)
    return json.dumps(masked, separators=(",", ":")) if changed else text
