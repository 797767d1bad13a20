"""Block M, ISO 15118 certificates between the EV side and the CSMS: Get15118EVCertificate (M01 install, M02
update) and GetCertificateStatus (M06), with the OCSP answers cached (ocsp_cache.py).

- M01/M02: the application's ISO 15118 stack hands over the EV's EXI request (`EVCertificateRequested`, like
  libocpp's `on_get_15118_ev_certificate_request`); the station sends Get15118EVCertificateRequest unchanged and
  hands the CSMS's answer back (`EVCertificateAnswered`). With ISO15118Ctrlr.ContractCertificateInstallationEnabled
  false the station asks nothing and answers Failed at once.
- M06: the shell computes the OCSPRequestData of a certificate (`CertificateStatusRequested`). A cached answer
  still valid on the station clock is handed back at once (`cached`); otherwise GetCertificateStatusRequest goes
  out. An Accepted answer with an ocspResult is kept until the nextUpdate the shell reads from it
  (`OcspValidityQuestion`), at most `MAX_KEEP`, and handed to the application.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from returns.result import Failure

from chargecore.pure.blocks.security.ocsp_cache import MAX_ENTRIES, OcspCache, OcspEntry, cache_key
from chargecore.pure.device_model.model import get_bool
from chargecore.pure.effects import (
    CertificateStatusAnswered,
    Effects,
    EVCertificateAnswered,
    Log,
    Notify,
    OcspValidityQuestion,
)
from chargecore.pure.inputs import CertificateStatusRequested, EVCertificateRequested
from chargecore.pure.ocppj import rpc
from chargecore.pure.ocppj.schemas import validate
from chargecore.pure.ocppj.timestamps import station_time
from chargecore.pure.outcome import ask
from chargecore.pure.state import OutboundCall, Station

MAX_KEEP = timedelta(days=7)
"""The longest an OCSP answer is kept, whatever nextUpdate it states."""


# --- M01/M02 -----------------------------------------------------------------------------------------------


def on_ev_certificate_requested(station: Station, event: EVCertificateRequested) -> tuple[Station, Effects]:
    if not get_bool(station.device_model, "ISO15118Ctrlr", "ContractCertificateInstallationEnabled"):
        return station, (Notify(EVCertificateAnswered(event.exi_request, "Failed")),)
    payload = {
        "iso15118SchemaVersion": event.iso15118_schema_version,
        "action": event.action,
        "exiRequest": event.exi_request,
    }
    refused = _refused("Get15118EVCertificate", payload)
    if refused is not None:  # the application's request breaks the schema (e.g. too long): the EV hears Failed
        return station, (refused, Notify(EVCertificateAnswered(event.exi_request, "Failed")))
    session, effects = rpc.enqueue(station.rpc, "Get15118EVCertificate", payload)
    return replace(station, rpc=session), effects


def ev_certificate_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any] | None, now: datetime
) -> tuple[Station, Effects]:
    """The CSMS's answer (None: no usable one) goes back to the application as it came."""
    exi_request = str(call.payload["exiRequest"])
    if payload is None:
        return station, (Notify(EVCertificateAnswered(exi_request, None)),)
    answered = EVCertificateAnswered(exi_request, str(payload["status"]), payload.get("exiResponse"))
    return station, (Notify(answered),)


# --- M06 ----------------------------------------------------------------------------------------------------


def on_status_requested(station: Station, event: CertificateStatusRequested) -> tuple[Station, Effects]:
    data = event.ocsp_request_data
    entry = _cached(station, cache_key(data), event.now)
    if entry is not None:
        return station, (Notify(CertificateStatusAnswered(data, "Accepted", entry.ocsp_result, cached=True)),)
    refused = _refused("GetCertificateStatus", {"ocspRequestData": data})
    if refused is not None:
        return station, (refused, Notify(CertificateStatusAnswered(data, None)))
    session, effects = rpc.enqueue(station.rpc, "GetCertificateStatus", {"ocspRequestData": data})
    return replace(station, rpc=session), effects


def status_answered(
    station: Station, call: OutboundCall, payload: dict[str, Any] | None, now: datetime
) -> tuple[Station, Effects]:
    data: dict[str, Any] = call.payload["ocspRequestData"]
    if payload is None:
        return station, (Notify(CertificateStatusAnswered(data, None)),)
    result = payload.get("ocspResult")
    if payload["status"] != "Accepted" or not result:
        return station, (Notify(CertificateStatusAnswered(data, str(payload["status"]), result)),)
    asked, question = ask(station, OcspValidityQuestion(data, str(result)))
    return asked, (question,)


def on_validity(
    station: Station, question: OcspValidityQuestion, next_update: Any, now: datetime
) -> tuple[Station, Effects]:
    """Keep the answer until its nextUpdate (bounded by MAX_KEEP), then hand it to the application."""
    answered = Notify(CertificateStatusAnswered(question.ocsp_request_data, "Accepted", question.ocsp_result))
    moment = station_time(station, now)
    if not isinstance(next_update, datetime) or next_update <= moment:
        return station, (answered,)
    key = cache_key(question.ocsp_request_data)
    entry = OcspEntry(key, question.ocsp_result, min(next_update, moment + MAX_KEEP))
    kept = tuple(e for e in station.ocsp.entries if e.key != key and e.valid_until > moment)
    return replace(station, ocsp=OcspCache((*kept, entry)[-MAX_ENTRIES:])), (answered,)


def _refused(action: str, payload: dict[str, Any]) -> Log | None:
    """The application's data checked before it is queued: a refusal is its error, not the core's."""
    checked = validate(action, "Request", payload)
    if isinstance(checked, Failure):
        return Log("warning", f"{action} not sent: {checked.failure().description}")
    return None


def _cached(station: Station, key: tuple[str, str, str], now: datetime) -> OcspEntry | None:
    moment = station_time(station, now)
    return next((e for e in station.ocsp.entries if e.key == key and e.valid_until > moment), None)
