"""Secrets stay secret (issue 10): WriteOnly values never reach the frame log (stdout and `--log`), a CALLERROR
description or a log line, whether the frame carrying them is valid, malformed or not JSON at all."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from core_helpers import booted, frames, of_type
from harness import boot

from chargecore.pure.device_model.catalogue import VariableKey
from chargecore.pure.device_model.redaction import MASK, redact_frame
from chargecore.pure.effects import Log, VariableChanged
from chargecore.shell.application import SimulatedCharger
from chargecore.shell.frame_log import FrameLog
from chargecore.shell.runtime import ChargingStation, StationOptions
from chargecore.testing.csms_double import CsmsDouble, wait_until

SECRET = "S3cret-Passw0rd-42"
START_PASSWORD = "Start-Passw0rd-17"


def set_password(value: Any, component: str = "SecurityCtrlr", variable: str = "BasicAuthPassword") -> list[Any]:
    item = {"component": {"name": component}, "variable": {"name": variable}, "attributeValue": value}
    return [2, "m1", "SetVariables", {"setVariableData": [item]}]


# --- redact_frame -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        set_password(SECRET),
        set_password(SECRET, "securityctrlr", "BASICAUTHPASSWORD"),  # names are case-insensitive
        set_password(SECRET, "OCPPCommCtrlr"),  # sent to the wrong component: still a password
        set_password([SECRET]),  # malformed: the wrong type
        set_password({"nested": SECRET}),
        set_password(SECRET * 80),  # malformed: longer than the schema's 1000 characters
    ],
)
def test_a_write_only_value_is_masked_and_the_rest_of_the_frame_kept(frame: list[Any]) -> None:
    masked = redact_frame(json.dumps(frame))
    assert SECRET not in masked
    (item,) = json.loads(masked)[3]["setVariableData"]
    assert item["attributeValue"] == MASK
    assert item["variable"] == frame[3]["setVariableData"][0]["variable"]


def test_a_frame_that_is_not_json_is_masked_by_its_shape() -> None:
    text = json.dumps(set_password(SECRET))[:-8]  # cut mid-frame
    assert SECRET[:8] in text
    masked = redact_frame(text)
    assert SECRET[:8] not in masked and '"attributeValue": "***"' in masked


@pytest.mark.parametrize(
    "frame",
    [
        set_password("30", "OCPPCommCtrlr", "HeartbeatInterval"),
        [2, "m2", "DataTransfer", {"vendorId": "x", "data": "BasicAuthPassword"}],  # the name, but no value
        [3, "m3", {"currentTime": "2024-01-01T00:00:00Z", "interval": 300, "status": "Accepted"}],
    ],
)
def test_a_frame_without_a_secret_is_logged_as_it_came(frame: list[Any]) -> None:
    text = json.dumps(frame, indent=1)
    assert redact_frame(text) == text


# --- CALLERROR descriptions and log lines of the core -----------------------------------------------------------


@pytest.mark.parametrize(
    "value", [[SECRET], {"p": SECRET}, SECRET * 80, SECRET], ids=["list", "object", "long", "valid"]
)
def test_no_answer_and_no_log_line_of_the_core_echoes_a_password(value: Any) -> None:
    sim = booted()
    effects = sim.receive(set_password(value))
    (reply,) = frames(effects)
    if not isinstance(value, str) or len(value) > 1000:
        assert reply[0] == 4 and reply[2] in ("TypeConstraintViolation", "PropertyConstraintViolation"), reply
        assert reply[3].startswith("setVariableData/0/attributeValue: the value")
    assert SECRET not in json.dumps(reply)
    assert not any(SECRET in effect.message for effect in of_type(effects, Log))


def test_a_password_too_short_is_refused_without_echoing_it() -> None:
    sim = booted()
    (reply,) = frames(sim.receive(set_password("tiny-pw")))
    assert reply[2]["setVariableResult"][0]["attributeStatus"] == "Rejected"
    assert "tiny-pw" not in json.dumps(reply[2])


# --- the running station: stdout and the --log file -------------------------------------------------------------


def test_the_frame_log_and_the_log_file_never_show_a_password(tmp_path: Path) -> None:
    """A station started with a password (--password) is sent new ones by SetVariables, valid and malformed;
    neither the readable log (stdout) nor the JSON lines of --log nor the DiagnosticsLog ever hold one, and the
    CALLERROR does not."""
    stdout = io.StringIO()
    log_file, diagnostics = tmp_path / "station.log", tmp_path / "diagnostics.log"
    with CsmsDouble() as csms:
        options = StationOptions(
            csms_url=csms.url,
            station_id="CS-SECRET",
            data_dir=tmp_path / "data",
            password=START_PASSWORD,
            log_file=log_file,
        )
        log = FrameLog("CS-SECRET", log_file, stdout, diagnostics=diagnostics)
        station = ChargingStation(options, SimulatedCharger(), log)
        station.start()
        try:
            boot(station, csms)
            malformed = csms.wait_reply(csms.send_call("SetVariables", set_password([SECRET])[3]))
            assert malformed.error_code == "TypeConstraintViolation"
            assert SECRET not in malformed.error_description
            csms.send_raw(json.dumps([2, "cut", "SetVariables", set_password(SECRET)[3]])[:-6])
            assert csms.wait_reply("-1").error_code == "RpcFrameworkError"
            valid = csms.wait_reply(csms.send_call("SetVariables", set_password(SECRET)[3]))
            assert valid.payload is not None
            assert valid.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
            csms.wait_session(2)  # A01: the station reconnects with the new password
            wait_until(lambda: stdout.getvalue().count(MASK) >= 3, "the three frames in the log")
        finally:
            station.stop(timeout=5)
    logged = stdout.getvalue() + log_file.read_text(encoding="utf-8") + diagnostics.read_text(encoding="utf-8")
    assert "SetVariables" in diagnostics.read_text(encoding="utf-8")
    assert "SetVariables" in logged and MASK in logged
    assert SECRET not in logged and START_PASSWORD not in logged
    assert SECRET[:8] not in logged


def test_the_event_that_hands_the_application_a_new_password_does_not_show_it() -> None:
    """The application needs the value (VariableChanged carries it), but a log line or traceback naming the event
    must not show it."""
    event = VariableChanged(VariableKey("SecurityCtrlr", "BasicAuthPassword"), "Actual", SECRET, "CSMS")
    assert event.value == SECRET
    assert SECRET not in repr(event) and SECRET not in str(event)


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("ftp://station:s3cret%3Apa%40ss@127.0.0.1:21/logs/", "ftp://station:***@127.0.0.1:21/logs/"),
        ("https://user:raw@at@logs.example.com/up", "https://user:***@logs.example.com/up"),
        ("https://user@logs.example.com/up", "https://user@logs.example.com/up"),
        ("http://logs.example.com:8080/up", "http://logs.example.com:8080/up"),
    ],
)
def test_a_url_password_is_masked_in_any_frame(location: str, shown: str) -> None:
    """N01.FR.17: a GetLog (or UpdateFirmware) location may carry user:password@; the frame log never shows it."""
    frame = json.dumps(
        [2, "1", "GetLog", {"logType": "DiagnosticsLog", "requestId": 1, "log": {"remoteLocation": location}}]
    )
    assert json.loads(redact_frame(frame))[3]["log"]["remoteLocation"] == shown
