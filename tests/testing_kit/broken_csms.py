"""Three deliberately broken CSMSs for proving that the prober catches what it claims to catch.

Two are the `ocpp`-package CSMS of tests/conformance/test_against_ocpp_package_csms.py with one fault, written the
way a CSMS team would get it wrong (`skip_schema_validation` lets the package send the broken answer); the third is
chargecore's own CSMS with one fault.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import after, on  # type: ignore[import-untyped]
from ocpp.v201 import call, call_result  # type: ignore[import-untyped]
from ocpp.v201.enums import Action  # type: ignore[import-untyped]
from test_against_ocpp_package_csms import PackageCsms

from chargecore.tools.csms import LocalCsms

QUIET_INTERVAL = 300
"""Heartbeat interval of the doubles: no heartbeat clutters a shrunk transcript."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


class QuietPackageCsms(PackageCsms):
    """The package CSMS with a long heartbeat interval: what the faults below are added to."""

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        self._record("BootNotification", reason=reason)
        return call_result.BootNotification(current_time=_now(), interval=QUIET_INTERVAL, status="Accepted")


class IntervalAsTextCsms(QuietPackageCsms):
    """(a) BootNotificationResponse with the interval as a string, as a CSMS reading it from a text config would."""

    @on(Action.boot_notification, skip_schema_validation=True)  # type: ignore[untyped-decorator]
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        self._record("BootNotification", reason=reason)
        return call_result.BootNotification(current_time=_now(), interval=str(QUIET_INTERVAL), status="Accepted")


class NoIdTokenInfoCsms(LocalCsms):
    """(b) TransactionEventResponse never carries idTokenInfo, even when the request had an idToken. Built on
    chargecore's own CSMS rather than the package's, which also leaves garbage unanswered: this is its one fault."""

    def _transaction_event(self, request: dict[str, Any]) -> dict[str, Any]:
        response = super()._transaction_event(request)
        response.pop("idTokenInfo", None)
        return response


class CallWhilePendingCsms(QuietPackageCsms):
    """(c) answers the boot Pending, then at once asks for a remote start, which B02 does not allow before Accepted."""

    @on(Action.boot_notification)  # type: ignore[untyped-decorator]
    def on_boot_notification(self, charging_station: dict[str, Any], reason: str, **_: Any) -> Any:
        self._record("BootNotification", reason=reason)
        return call_result.BootNotification(current_time=_now(), interval=QUIET_INTERVAL, status="Pending")

    @after(Action.boot_notification)  # type: ignore[untyped-decorator]
    async def start_remotely(self, **_: Any) -> None:
        request = call.RequestStartTransaction(id_token={"id_token": "PENDING1", "type": "ISO14443"}, remote_start_id=1)
        asyncio.get_running_loop().create_task(self.call(request, suppress=True))
