"""The OCPP-J (Part 4) vocabulary the kit's strategies, rules and tests share."""

from __future__ import annotations

from typing import Final

ERROR_CODES: Final = (
    "FormatViolation",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupported",
    "NotImplemented",
    "NotSupported",
    "OccurrenceConstraintViolation",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
)
"""Part 4 section 4.3, table 8: every code a CALLERROR may carry."""
