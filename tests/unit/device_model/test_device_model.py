"""Device model: the catalogue as data, building a station's model, and the value rules of set_value."""

from __future__ import annotations

import copy
import csv
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from returns.result import Failure, Success

from chargecore.pure.device_model.catalogue import CATALOGUE, DeviceModel, DeviceModelError, VariableKey
from chargecore.pure.device_model.model import (
    build_device_model,
    get_bool,
    get_int,
    get_value,
    persist_key,
    persisted_values,
    persistent_changes,
    refused_persisted,
    set_value,
)

CSV_PATH = Path(__file__).resolve().parents[4] / "shared" / "ocpp-2.0.1" / "device-model-components.csv"

CSV_VARIABLES = {
    "OCPPCommCtrlr": (
        "ActiveNetworkProfile", "FileTransferProtocols", "HeartbeatInterval", "MessageAttempts",
        "MessageAttemptInterval", "MessageTimeout", "MinimumStatusDuration", "NetworkConfigurationPriority",
        "NetworkProfileConnectionAttempts", "OfflineThreshold", "PublicKeyWithSignedMeterValue",
        "QueueAllMessages", "RetryBackOffRepeatTimes", "RetryBackOffRandomRange", "RetryBackOffWaitMinimum",
        "UnlockOnEVSideDisconnect", "WebSocketPingInterval", "FieldLength",
    ),
    "SecurityCtrlr": (
        "BasicAuthPassword", "Identity", "OrganizationName", "CertSigningWaitMinimum",
        "CertSigningRepeatTimes",
    ),
    "DeviceDataCtrlr": ("BytesPerMessage[<message>]", "ItemsPerMessage[<message>]", "ValueSize"),
    "ChargingStation": (
        "Enabled", "Problem", "Identity", "Tripped", "Overload", "SupplyPhases", "SupplyPhases(MaxLimit)",
        "PhaseRotation", "ACVoltage", "ACVoltage(MaxLimit)", "ACCurrent", "Power", "Power(MaxLimit)",
        "VoltageImbalance", "CurrentImbalance", "VendorName", "Model", "ECVariant", "SerialNumber",
        "OperatingTimes", "ChargeProtocol", "AvailabilityState", "AllowNewSessionsPendingFirmwareUpdate",
    ),
    "EVSE": (
        "Enabled", "Problem", "Tripped", "Overload", "EvseId", "SupplyPhases", "PhaseRotation", "AllowReset",
        "ACVoltage", "ACCurrent", "DCVoltage", "DCCurrent", "Power", "VoltageImbalance", "CurrentImbalance",
        "ChargeProtocol", "ChargingTime", "PostChargingTime", "Count[ChargingProfiles]",
        "Count(MaxLimit)[ChargingProfiles]", "ISO15118EvseId",
    ),
    "Connector": (
        "Enabled", "Problem", "Tripped", "ConnectorType", "SupplyPhases", "SupplyPhases(MaxLimit)",
        "PhaseRotation", "ChargeProtocol", "AvailabilityState",
    ),
}  # fmt: skip
"""device-model-components.csv rows of the six components (variable[instance] as written there)."""

CONTROLLERS = (
    "AuthCtrlr", "AuthCacheCtrlr", "LocalAuthListCtrlr", "TxCtrlr", "SampledDataCtrlr", "AlignedDataCtrlr",
    "ReservationCtrlr", "SmartChargingCtrlr", "MonitoringCtrlr", "ClockCtrlr", "CustomizationCtrlr",
    "DisplayMessageCtrlr", "ISO15118Ctrlr", "TariffCostCtrlr",
)  # fmt: skip

CORE_READS = {
    VariableKey("OCPPCommCtrlr", "HeartbeatInterval"): "60",
    VariableKey("OCPPCommCtrlr", "OfflineThreshold"): "60",
    VariableKey("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default"): "30",
    VariableKey("OCPPCommCtrlr", "RetryBackOffWaitMinimum"): "3",
    VariableKey("OCPPCommCtrlr", "RetryBackOffRandomRange"): "5",
    VariableKey("OCPPCommCtrlr", "RetryBackOffRepeatTimes"): "5",
    VariableKey("OCPPCommCtrlr", "NetworkConfigurationPriority"): "1",
    VariableKey("OCPPCommCtrlr", "NetworkProfileConnectionAttempts"): "3",
    VariableKey("SecurityCtrlr", "SecurityProfile"): "1",
    VariableKey("ChargingStation", "Model"): "chargecore-sim",
    VariableKey("ChargingStation", "VendorName"): "chargecore",
}

HEARTBEAT = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
PASSWORD = VariableKey("SecurityCtrlr", "BasicAuthPassword")


def raw_catalogue() -> dict[str, Any]:
    """A fresh, mutable copy of specs/device_model.json."""
    text = resources.files("chargecore.specs").joinpath("device_model.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def catalogue_variable(catalogue: dict[str, Any], component: str, variable: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        v for c in catalogue["components"] if c["name"] == component for v in c["variables"] if v["name"] == variable
    )
    return found


def built(evse_connectors: tuple[int, ...] = (1, 2), **kwargs: Any) -> DeviceModel:
    result = build_device_model(evse_connectors, **kwargs)
    assert isinstance(result, Success), result
    return result.unwrap()


def refused(evse_connectors: tuple[int, ...] = (1, 2), **kwargs: Any) -> DeviceModelError:
    result = build_device_model(evse_connectors, **kwargs)
    assert isinstance(result, Failure), result
    return result.failure()


# --- the catalogue ----------------------------------------------------------------------------------------


def test_catalogue_validates_against_its_schema() -> None:
    schema = json.loads(
        resources.files("chargecore.specs").joinpath("device_model.schema.json").read_text(encoding="utf-8")
    )
    validator = jsonschema_rs.validator_for(schema)
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(raw_catalogue())]
    assert errors == []


def test_schema_rejects_a_list_type_without_values_list() -> None:
    catalogue = raw_catalogue()
    catalogue_variable(catalogue, "OCPPCommCtrlr", "FileTransferProtocols")["characteristics"]["valuesList"] = None
    error = refused(catalogue=catalogue)
    assert error.component == "catalogue"
    assert "valuesList" in error.variable


def test_every_default_satisfies_its_own_characteristics() -> None:
    model = built()
    checked = 0
    for key, definition in model.definitions.items():
        for attribute, spec in definition.attributes.items():
            if spec.default is not None:
                result = set_value(model, key, spec.default, attribute, respect_mutability=False)
                assert isinstance(result, Success), result
                checked += 1
    assert checked > 150


def test_a_default_outside_its_characteristics_is_refused() -> None:
    catalogue = raw_catalogue()
    catalogue_variable(catalogue, "OCPPCommCtrlr", "HeartbeatInterval")["attributes"]["Actual"]["default"] = "0"
    error = refused(catalogue=catalogue)
    assert (error.component, error.variable) == ("OCPPCommCtrlr", "HeartbeatInterval")
    assert "minLimit 1" in error.problem


def test_a_variable_listed_twice_is_refused() -> None:
    catalogue = raw_catalogue()
    ocpp = catalogue["components"][0]
    ocpp["variables"].append(copy.deepcopy(ocpp["variables"][0]))
    assert "twice" in refused(catalogue=catalogue).problem


def _present(model: DeviceModel, component: str, written: str) -> bool:
    """Whether the CSV row `written` (Name, Name[instance], Name(MaxLimit), Name(Set)) is in the model."""
    match = re.fullmatch(r"(?P<name>\w+)(?:\((?P<qualifier>\w+)\))?(?:\[(?P<instance>[^\]]+)\])?", written)
    assert match is not None, written
    instance = match["instance"]
    candidates = [
        d
        for k, d in model.definitions.items()
        if k.component == component
        and k.variable == match["name"]
        and (instance is None or instance.startswith("<") or k.variable_instance == instance)
    ]
    if match["qualifier"] == "MaxLimit":
        return any(d.max_limit is not None for d in candidates)
    if match["qualifier"] == "Set":
        return any("Target" in d.attributes for d in candidates)
    return bool(candidates)


@pytest.mark.parametrize(
    ("component", "written"), [(c, w) for c, variables in CSV_VARIABLES.items() for w in variables]
)
def test_every_csv_variable_of_the_issue_components_is_present(component: str, written: str) -> None:
    assert _present(built(), component, written)


def test_every_catalogue_component_is_present() -> None:
    names = {key.component for key in built().definitions}
    assert names >= set(CSV_VARIABLES) | set(CONTROLLERS)


@pytest.mark.skipif(not CSV_PATH.exists(), reason="OCPP reference material not checked out next to the repo")
def test_csv_literal_matches_the_csv_file() -> None:
    with CSV_PATH.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["component"] in CSV_VARIABLES]
    from_file = {
        c: tuple(r["variable"] + (f"[{r['instance']}]" if r["instance"] else "") for r in rows if r["component"] == c)
        for c in CSV_VARIABLES
    }
    assert from_file == CSV_VARIABLES


def test_controllers_of_later_work_have_every_csv_variable() -> None:
    if not CSV_PATH.exists():
        pytest.skip("OCPP reference material not checked out next to the repo")
    model = built()
    with CSV_PATH.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["component"] in CONTROLLERS]
    missing = [
        f"{r['component']}.{r['variable']}"
        for r in rows
        if not _present(model, r["component"], r["variable"] + (f"[{r['instance']}]" if r["instance"] else ""))
    ]
    assert missing == []


@pytest.mark.parametrize(("key", "default"), list(CORE_READS.items()))
def test_variables_the_core_reads_have_their_defaults(key: VariableKey, default: str) -> None:
    assert get_value(built(), key) == default


def test_basic_auth_password_is_write_only_without_default_and_identity_exists() -> None:
    model = built()
    assert model.definitions[PASSWORD].attributes["Actual"].mutability == "WriteOnly"
    assert get_value(model, PASSWORD) is None
    assert VariableKey("SecurityCtrlr", "Identity") in model.definitions


# --- building a station's model ---------------------------------------------------------------------------


def test_evse_and_connector_components_are_instantiated_per_instance() -> None:
    model = built((1, 2))
    evses = {(k.evse_id, k.connector_id) for k in model.definitions if k.component == "EVSE"}
    connectors = {(k.evse_id, k.connector_id) for k in model.definitions if k.component == "Connector"}
    stations = {(k.evse_id, k.connector_id) for k in model.definitions if k.component == "ChargingStation"}
    assert evses == {(1, None), (2, None)}
    assert connectors == {(1, 1), (2, 1), (2, 2)}
    assert stations == {(None, None)}
    assert get_value(model, VariableKey("Connector", "AvailabilityState", 2, 2)) == "Available"
    assert get_value(model, VariableKey("EVSE", "Power", 2), "MaxSet") == "22000"


def test_an_evse_without_connectors_is_refused() -> None:
    assert refused((1, 0)).component == "EVSE[2]"


def test_config_overrides_defaults() -> None:
    model = built(
        (1, 2),
        config={
            "OCPPCommCtrlr": {
                "HeartbeatInterval": 300,
                "MessageTimeout[Default]": "45",
                "QueueAllMessages": True,
            },
            "ChargingStation": {"Model": "wallbox-7"},
            "SmartChargingCtrlr": {"LimitChangeSignificance": 2.5},
            "SampledDataCtrlr": {"TxUpdatedMeasurands": ["Energy.Active.Import.Register", "Voltage"]},
            "EVSE[2]": {"SupplyPhases": 1},
            "EVSE": {"Power": {"MaxSet": 11000.0}, "SupplyPhases": 3},
            "Connector": {"ConnectorType": "cType2"},
            "Connector[2,2]": {"ConnectorType": "sType2"},
        },
    )
    assert get_int(model, "OCPPCommCtrlr", "HeartbeatInterval") == 300
    assert get_int(model, "OCPPCommCtrlr", "MessageTimeout", "Default") == 45
    assert get_bool(model, "OCPPCommCtrlr", "QueueAllMessages") is True
    assert get_value(model, VariableKey("ChargingStation", "Model")) == "wallbox-7"  # ReadOnly, seeded by config
    assert get_value(model, VariableKey("SmartChargingCtrlr", "LimitChangeSignificance")) == "2.5"
    assert (
        get_value(model, VariableKey("SampledDataCtrlr", "TxUpdatedMeasurands"))
        == "Energy.Active.Import.Register,Voltage"
    )
    assert get_value(model, VariableKey("EVSE", "Power", 1), "MaxSet") == "11000"
    assert get_value(model, VariableKey("EVSE", "SupplyPhases", 1)) == "3"
    assert get_value(model, VariableKey("EVSE", "SupplyPhases", 2)) == "1"  # indexed section wins over bare
    assert get_value(model, VariableKey("Connector", "ConnectorType", 2, 1)) == "cType2"
    assert get_value(model, VariableKey("Connector", "ConnectorType", 2, 2)) == "sType2"


@pytest.mark.parametrize(
    ("config", "component", "variable", "problem"),
    [
        ({"NoSuchCtrlr": {"Foo": 1}}, "NoSuchCtrlr", "Foo", "unknown component"),
        ({"OCPPCommCtrlr": {"HeartbeatIntervl": 1}}, "OCPPCommCtrlr", "HeartbeatIntervl", "unknown variable"),
        (
            {"OCPPCommCtrlr": {"MessageTimeout[Other]": 1}},
            "OCPPCommCtrlr",
            "MessageTimeout[Other]",
            "unknown",
        ),
        (
            {"OCPPCommCtrlr": {"HeartbeatInterval": "abc"}},
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            "not an integer",
        ),
        (
            {"OCPPCommCtrlr": {"HeartbeatInterval": 1.5}},
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            "not an integer",
        ),
        (
            {"OCPPCommCtrlr": {"HeartbeatInterval": 0}},
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            "below minLimit 1",
        ),
        ({"SecurityCtrlr": {"SecurityProfile": 4}}, "SecurityCtrlr", "SecurityProfile", "above maxLimit 3"),
        ({"ChargingStation": {"Model": "x" * 21}}, "ChargingStation", "Model", "longer than maxLimit 20"),
        ({"AuthCacheCtrlr": {"Policy": "FIFO"}}, "AuthCacheCtrlr", "Policy", "not one of LRU,LFU"),
        ({"TxCtrlr": {"TxStartPoint": "EVConnected,Plugged"}}, "TxCtrlr", "TxStartPoint", "'Plugged'"),
        (
            {"OCPPCommCtrlr": {"QueueAllMessages": "yes"}},
            "OCPPCommCtrlr",
            "QueueAllMessages",
            '"true" or "false"',
        ),
        ({"OCPPCommCtrlr": {"QueueAllMessages": None}}, "OCPPCommCtrlr", "QueueAllMessages", "null is not"),
        ({"OCPPCommCtrlr": {"HeartbeatInterval": [1]}}, "OCPPCommCtrlr", "HeartbeatInterval", "[1] is not"),
        ({"ChargingStation": {"Model": ["a", "b"]}}, "ChargingStation", "Model", "dataType string"),
        ({"TxCtrlr": {"TxStartPoint": [["EVConnected"]]}}, "TxCtrlr", "TxStartPoint", "or a list of them"),
        ({"EVSE[3]": {"Power": 1}}, "EVSE[3]", "Power", "no such EVSE/connector"),
        ({"Connector[1,2]": {"ConnectorType": "cType2"}}, "Connector[1,2]", "ConnectorType", "no such"),
        ({"OCPPCommCtrlr[1]": {"HeartbeatInterval": 5}}, "OCPPCommCtrlr[1]", "HeartbeatInterval", "no such"),
        ({"EVSE[1]": {"Power": {"MinSet": 5}}}, "EVSE[1]", "Power", "has no MinSet attribute"),
        ({"EVSE[1]": {"Power": {"MaxSet": 30000}}}, "EVSE[1]", "Power", "MaxSet '30000' is above maxLimit"),
    ],
)
def test_a_bad_config_is_refused_naming_component_variable_and_problem(
    config: dict[str, Any], component: str, variable: str, problem: str
) -> None:
    error = refused(config=config)
    assert (error.component, error.variable) == (component, variable)
    assert problem in error.problem
    assert str(error).startswith(f"{component}.{variable}: ")


def test_a_missing_required_variable_is_refused() -> None:
    catalogue = raw_catalogue()
    catalogue_variable(catalogue, "SecurityCtrlr", "OrganizationName")["attributes"]["Actual"]["default"] = None
    error = refused(catalogue=catalogue)
    assert (error.component, error.variable) == ("SecurityCtrlr", "OrganizationName")
    assert "required" in error.problem
    config = {"SecurityCtrlr": {"OrganizationName": "Example CPO"}}
    assert isinstance(build_device_model((1,), config, catalogue=catalogue), Success)


# --- set_value --------------------------------------------------------------------------------------------


def test_read_only_is_refused_unless_the_station_itself_writes() -> None:
    model = built()
    key = VariableKey("Connector", "AvailabilityState", 1, 1)
    refusal = set_value(model, key, "Occupied")
    assert isinstance(refusal, Failure)
    assert str(refusal.failure()) == "Connector[1,1].AvailabilityState: Actual is read-only"
    assert get_value(set_value(model, key, "Occupied", respect_mutability=False).unwrap(), key) == "Occupied"


def test_write_only_is_stored_and_never_echoed() -> None:
    model = set_value(built(), PASSWORD, "0123456789abcdefXYZ").unwrap()
    assert get_value(model, PASSWORD) == "0123456789abcdefXYZ"
    short = set_value(model, PASSWORD, "secret")
    assert isinstance(short, Failure)
    assert "secret" not in str(short.failure())
    assert "shorter than minLimit 16" in short.failure().problem


def test_limits() -> None:
    model = built()
    assert isinstance(set_value(model, HEARTBEAT, "0"), Failure)
    assert get_int(set_value(model, HEARTBEAT, "1").unwrap(), "OCPPCommCtrlr", "HeartbeatInterval") == 1
    significance = VariableKey("SmartChargingCtrlr", "LimitChangeSignificance")
    assert isinstance(set_value(model, significance, "100.5"), Failure)
    assert isinstance(set_value(model, significance, "99.5"), Success)


def test_member_and_sequence_lists() -> None:
    model = built()
    protocols = VariableKey("OCPPCommCtrlr", "FileTransferProtocols")
    assert isinstance(set_value(model, protocols, "FTP,HTTPS", respect_mutability=False), Success)
    assert isinstance(set_value(model, protocols, "", respect_mutability=False), Success)
    assert isinstance(set_value(model, protocols, "FTP,GOPHER", respect_mutability=False), Failure)
    assert isinstance(set_value(model, protocols, "FTP,FTP", respect_mutability=False), Failure)
    priority = VariableKey("OCPPCommCtrlr", "NetworkConfigurationPriority")
    assert get_value(set_value(model, priority, "2,1").unwrap(), priority) == "2,1"
    assert isinstance(set_value(model, priority, "1,4"), Failure)
    assert isinstance(set_value(model, priority, "0,1"), Failure)


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        (VariableKey("OCPPCommCtrlr", "QueueAllMessages"), "true", "True"),
        (VariableKey("ClockCtrlr", "NextTimeOffsetTransitionDateTime"), "2025-03-30T01:00:00Z", "2025-03-30"),
        (VariableKey("SmartChargingCtrlr", "LimitChangeSignificance"), "-0", "1e2"),
        (VariableKey("AuthCacheCtrlr", "Policy"), "LFU", "lfu"),
        (VariableKey("OCPPCommCtrlr", "MessageAttempts", variable_instance="TransactionEvent"), "+4", "4.0"),
    ],
)
def test_values_follow_their_data_type(key: VariableKey, good: str, bad: str) -> None:
    model = built()
    assert isinstance(set_value(model, key, good), Success)
    assert isinstance(set_value(model, key, bad), Failure)


def test_unknown_key_or_attribute_is_refused() -> None:
    model = built()
    assert "unknown variable" in set_value(model, VariableKey("EVSE", "Power", 9), "1").failure().problem
    assert "has no Target attribute" in set_value(model, HEARTBEAT, "10", "Target").failure().problem


def test_set_value_leaves_the_original_model_alone() -> None:
    model = built()
    set_value(model, HEARTBEAT, "90").unwrap()
    assert get_value(model, HEARTBEAT) == "60"
    with pytest.raises(TypeError):
        model.values[(HEARTBEAT, "Actual")] = "1"  # type: ignore[index]


def test_getters_fall_back_to_their_default_only_without_a_value() -> None:
    model = built()
    assert get_int(model, "OCPPCommCtrlr", "ActiveNetworkProfile", default=7) == 7  # defined, no value
    assert get_int(model, "NoSuchCtrlr", "Foo", default=7) == 7
    assert get_bool(model, "OCPPCommCtrlr", "UnlockOnEVSideDisconnect", default=False) is True
    assert get_bool(model, "NoSuchCtrlr", "Foo", default=True) is True


# --- persistence ------------------------------------------------------------------------------------------


def test_persist_keys_are_stable_and_distinct() -> None:
    assert persist_key(HEARTBEAT, "Actual") == "device_model/OCPPCommCtrlr/HeartbeatInterval/Actual"
    assert persist_key(VariableKey("EVSE", "Power", 1), "MaxSet") == "device_model/EVSE[1]/Power/MaxSet"
    assert (
        persist_key(VariableKey("Connector", "Enabled", 2, 1), "Actual") == "device_model/Connector[2,1]/Enabled/Actual"
    )
    assert (
        persist_key(VariableKey("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetReport"), "Actual")
        == "device_model/DeviceDataCtrlr/ItemsPerMessage[GetReport]/Actual"
    )
    model = built()
    keys = [persist_key(key, attribute) for key, d in model.definitions.items() for attribute in d.attributes]
    assert len(keys) == len(set(keys))


def test_persisted_values_win_over_config() -> None:
    model = built(
        config={"OCPPCommCtrlr": {"HeartbeatInterval": 300, "OfflineThreshold": 90}},
        persisted={
            persist_key(HEARTBEAT, "Actual"): "120",
            persist_key(PASSWORD, "Actual"): "0123456789abcdef",
            "provisioning/boot_reason": "RemoteReset",  # not ours: left alone
        },
    )
    assert get_int(model, "OCPPCommCtrlr", "HeartbeatInterval") == 120
    assert get_int(model, "OCPPCommCtrlr", "OfflineThreshold") == 90
    assert get_value(model, PASSWORD) == "0123456789abcdef"


@pytest.mark.parametrize(
    ("persisted", "component", "variable", "problem"),
    [
        ({"device_model/OCPPCommCtrlr/Gone/Actual": "1"}, "OCPPCommCtrlr", "Gone", "no persistent place"),
        ({"device_model/ChargingStation/Model/Actual": "x"}, "ChargingStation", "Model", "no persistent"),
    ],
)
def test_persisted_keys_without_a_place_are_refused(
    persisted: dict[str, str], component: str, variable: str, problem: str
) -> None:
    error = refused(persisted=persisted)
    assert (error.component, error.variable) == (component, variable)
    assert problem in error.problem


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ("soon", "persisted value: 'soon' is not an integer"),
        ("999999999999", "persisted value: '999999999999' is above maxLimit 86400"),
        ("0", "persisted value: '0' is below minLimit 1"),
    ],
)
def test_a_persisted_value_the_catalogue_refuses_falls_back_and_is_named(stored: str, problem: str) -> None:
    """A value stored before its variable got a maxLimit must not stop every later start: the station starts
    on its config value (or default) and `refused_persisted` names the value for the log."""
    persisted = {persist_key(HEARTBEAT, "Actual"): stored, persist_key(PASSWORD, "Actual"): "0123456789abcdef"}
    model = built(config={"OCPPCommCtrlr": {"HeartbeatInterval": 300}}, persisted=persisted)
    assert get_int(model, "OCPPCommCtrlr", "HeartbeatInterval") == 300
    assert get_value(model, PASSWORD) == "0123456789abcdef"  # the intact value is kept
    (refusal,) = refused_persisted(model, persisted)
    assert (refusal.component, refusal.variable, refusal.problem) == ("OCPPCommCtrlr", "HeartbeatInterval", problem)
    assert refused_persisted(model, {persist_key(HEARTBEAT, "Actual"): "120"}) == ()


def test_a_refused_persisted_password_is_not_echoed() -> None:
    persisted = {persist_key(PASSWORD, "Actual"): "short-secret"}
    (refusal,) = refused_persisted(built(persisted=persisted), persisted)
    assert "short-secret" not in str(refusal)


def test_the_device_model_values_among_the_persisted_keys_are_its_own_strings() -> None:
    """What the store holds for other parts of the core (profiles, counters, a boot reason, an availability) is
    not the device model's; a value under its keys that is not a string was not written by the station."""
    heartbeat = persist_key(HEARTBEAT, "Actual")
    persisted = {
        heartbeat: "120",
        persist_key(PASSWORD, "Actual"): 5,
        "network/profiles": [{"configurationSlot": 1, "connectionData": {}}],
        "rpc/epoch": 3,
        "provisioning/boot_reason": "LocalReset",
        "availability/ChargingStation": "Inoperative",
    }
    assert persisted_values(persisted) == {heartbeat: "120"}
    assert get_int(built(persisted=persisted_values(persisted)), "OCPPCommCtrlr", "HeartbeatInterval") == 120


INTERVALS_AND_COUNTS = re.compile(r"Interval|Time[Oo]ut|Threshold|Attempts|Retries|Times|Minimum|Range|Duration|Life")
"""Names of the catalogue's timer and repeat-count variables (a wait in seconds, or how often to try)."""


def test_every_writable_interval_and_count_has_a_max_limit() -> None:
    """Field rule: every number the CSMS (or a config) can set has a bound, so no accepted value can push a
    timer beyond the calendar (SetVariables 999999999999 for HeartbeatInterval once killed the station)."""
    unbounded = [
        f"{component['name']}.{variable['name']}"
        for component in CATALOGUE["components"]
        for variable in component["variables"]
        if variable["characteristics"]["dataType"] == "integer"
        and INTERVALS_AND_COUNTS.search(variable["name"])
        and variable["characteristics"]["maxLimit"] is None
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    ("section", "variable", "highest"),
    [
        ("OCPPCommCtrlr", "HeartbeatInterval", 86400),
        ("OCPPCommCtrlr", "RetryBackOffWaitMinimum", 3600),
        ("OCPPCommCtrlr", "RetryBackOffRandomRange", 3600),
        ("SampledDataCtrlr", "TxUpdatedInterval", 86400),
        ("SampledDataCtrlr", "TxEndedInterval", 86400),
        ("AlignedDataCtrlr", "TxEndedInterval", 86400),
    ],
)
def test_a_config_value_above_max_limit_refuses_the_build(section: str, variable: str, highest: int) -> None:
    assert get_int(built(config={section: {variable: highest}}), section, variable) == highest
    error = refused(config={section: {variable: 999999999999}})
    assert (error.component, error.variable) == (section, variable)
    assert f"above maxLimit {highest}" in error.problem


def test_persistent_changes_reports_only_changed_persistent_attributes() -> None:
    before = built()
    after = set_value(before, HEARTBEAT, "90").unwrap()
    after = set_value(after, VariableKey("OCPPCommCtrlr", "OfflineThreshold"), "60").unwrap()  # unchanged
    availability = VariableKey("EVSE", "AvailabilityState", 1)
    after = set_value(after, availability, "Unavailable", respect_mutability=False).unwrap()  # not persistent
    after = set_value(after, PASSWORD, "0123456789abcdef").unwrap()
    profile = VariableKey("SecurityCtrlr", "SecurityProfile")
    after = set_value(after, profile, "2", respect_mutability=False).unwrap()  # ReadOnly yet persistent
    assert persistent_changes(before, after) == (
        ("device_model/OCPPCommCtrlr/HeartbeatInterval/Actual", "90"),
        ("device_model/SecurityCtrlr/BasicAuthPassword/Actual", "0123456789abcdef"),
        ("device_model/SecurityCtrlr/SecurityProfile/Actual", "2"),
    )
    assert persistent_changes(after, after) == ()


def test_catalogue_is_read_only() -> None:
    with pytest.raises(TypeError):
        CATALOGUE["components"] = ()  # type: ignore[index]


def test_every_variable_the_csv_marks_required_is_in_the_catalogue() -> None:
    """Item 1 of issue 3: the reference CSV's `required` column (filled only where the appendix text states it)."""
    if not CSV_PATH.exists():
        pytest.skip("OCPP reference material not checked out next to the repo")
    model = built()
    components = {key.component for key in model.definitions}
    with CSV_PATH.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["required"] and row["component"] in components]
    assert rows, "the CSV marks no required variable of the catalogue's components"
    missing = [
        f"{r['component']}.{r['variable']}"
        for r in rows
        if not _present(model, r["component"], r["variable"] + (f"[{r['instance']}]" if r["instance"] else ""))
    ]
    assert missing == []


def test_value_size_limits_stay_within_the_message_schemas() -> None:
    """SetVariableData.attributeValue is at most 1000 characters and GetVariableResult.attributeValue 2500, so
    a configured size beyond those can never be honoured."""
    model = built()
    limits = {
        key.variable: definition.max_limit
        for key, definition in model.definitions.items()
        if key.component == "DeviceDataCtrlr" and key.variable.endswith("ValueSize")
    }
    assert limits == {"ValueSize": 2500, "ConfigurationValueSize": 1000, "ReportingValueSize": 2500}
    error = refused(config={"DeviceDataCtrlr": {"ReportingValueSize": 5000}})
    assert (error.component, error.variable) == ("DeviceDataCtrlr", "ReportingValueSize")


def test_a_refusal_carries_the_ocpp_reason_code() -> None:
    model = built()
    cases = [
        (HEARTBEAT, "0", "ValueTooLow"),
        (HEARTBEAT, "soon", "InvalidValue"),
        (VariableKey("AuthCacheCtrlr", "Policy"), "LIFO", "ValueOutOfRange"),
        (VariableKey("OCPPCommCtrlr", "MessageTimeout", variable_instance="Default"), "5", "ReadOnly"),
        (VariableKey("SmartChargingCtrlr", "LimitChangeSignificance"), "100.5", "ValueTooHigh"),
    ]
    for key, value, reason in cases:
        result = set_value(model, key, value)
        assert isinstance(result, Failure), (key, value)
        assert result.failure().reason_code == reason, (key, value)


def test_only_variables_marked_in_the_catalogue_need_a_reboot() -> None:
    marked = {key.variable for key, definition in built().definitions.items() if definition.reboot_required}
    assert marked == {"NetworkConfigurationPriority"}
