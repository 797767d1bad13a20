"""Charging profiles the conformance tests install with SetChargingProfile."""

from __future__ import annotations

from typing import Any

EPOCH = "2020-01-01T00:00:00.000Z"
"""startSchedule far in the past: an Absolute schedule without duration is in force whatever the clocks say."""


def constant_profile(profile_id: int, purpose: str, limit: float, stack_level: int = 0) -> dict[str, Any]:
    """An Absolute profile limiting to `limit` A from EPOCH on."""
    return {
        "id": profile_id,
        "stackLevel": stack_level,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": EPOCH,
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            }
        ],
    }
