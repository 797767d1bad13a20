"""The operator and hardware inputs both runtimes' stations offer (`ChargingStation`, `AsyncChargingStation`): each
method builds one input and hands it to the station's `submit`, so the two stations cannot drift apart in what
they let an integrator tell the core."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from chargecore.pure.inputs import (
    CertificateStatusRequested,
    ChangeVariable,
    ChargingStateChanged,
    ConnectorChange,
    ConnectorChanged,
    EVCertificateRequested,
    EvState,
    Input,
    MasterPassChoice,
    MeterReading,
    ParkingBayChanged,
    SecurityEventRaised,
    SendDataTransfer,
    StopReason,
    TokenPresented,
    TransactionFinished,
    VariableReported,
)
from chargecore.pure.state import MeasuredValue

InputMaker = Callable[[datetime], Input]


class StationInputs:
    """Mixed into a station class whose `submit(make)` queues an input, safe from any thread."""

    submit: Callable[[InputMaker], None]

    def connector(self, evse_id: int, connector_id: int | None, change: ConnectorChange) -> None:
        self.submit(lambda now: ConnectorChanged(now, evse_id, connector_id, change))

    def send_data_transfer(self, vendor_id: str, message_id: str | None = None, data: Any = None) -> None:
        self.submit(lambda now: SendDataTransfer(now, vendor_id, message_id, data))

    def change_variable(self, component: str, variable: str, value: str, **where: Any) -> None:
        self.submit(lambda now: ChangeVariable(now, component, variable, value, **where))

    def report_variable(self, component: str, variable: str, value: str, **where: Any) -> None:
        """A hardware reading of a value the station measures (ReadOnly allowed), e.g. EVSE Power; the monitors
        on it are evaluated."""
        self.submit(lambda now: VariableReported(now, component, variable, value, **where))

    def present_token(self, id_token: str, token_type: str = "ISO14443", evse_id: int | None = None) -> None:
        self.submit(lambda now: TokenPresented(now, {"idToken": id_token, "type": token_type}, evse_id))

    def master_pass_choice(self, evse_ids: tuple[int, ...] | None = None) -> None:
        """The master pass holder's choice on the user interface: stop the transactions on these EVSEs (None: all)."""
        self.submit(lambda now: MasterPassChoice(now, evse_ids))

    def ev_state(self, evse_id: int, state: EvState) -> None:
        self.submit(lambda now: ChargingStateChanged(now, evse_id, state))

    def stop_transaction(self, evse_id: int, reason: StopReason) -> None:
        """The charger ended the transaction on this EVSE for `reason` (EmergencyStop, GroundFault, SOCLimitReached,
        a stop button's Local...): the station sends Ended at once (libocpp's on_transaction_finished)."""
        self.submit(lambda now: TransactionFinished(now, evse_id, reason))

    def meter(
        self, evse_id: int, energy_wh: float, power_w: float | None = None, measured: tuple[MeasuredValue, ...] = ()
    ) -> None:
        self.submit(lambda now: MeterReading(now, evse_id, energy_wh, power_w, measured))

    def parking_bay(self, evse_id: int, occupied: bool) -> None:
        self.submit(lambda now: ParkingBayChanged(now, evse_id, occupied))

    def security_event(self, event_type: str, tech_info: str | None = None) -> None:
        """Something the charger saw that belongs in the security log (A04, Part 2 Appendix 1), e.g.
        TamperDetectionActivated or MaintenanceLoginFailed; the critical ones also go to the CSMS."""
        self.submit(lambda now: SecurityEventRaised(now, event_type, tech_info))

    def get_15118_ev_certificate(self, schema_version: str, action: Literal["Install", "Update"], exi: str) -> None:
        """M01/M02, like libocpp's on_get_15118_ev_certificate_request: the EV's EXI request (base64) goes to the
        CSMS; the answer comes back through on_event as EVCertificateAnswered."""
        self.submit(lambda now: EVCertificateRequested(now, schema_version, action, exi))

    def certificate_status(self, certificate_pem: str, issuer_pem: str) -> None:
        """M06: the OCSP status of a certificate (an EV's contract certificate) from the CSMS, or from the cache;
        the answer comes back through on_event as CertificateStatusAnswered. Raises ValueError for PEM that is not
        a certificate. (The parsing is small and runs on the caller's thread.)"""
        from chargecore.shell.certificates.measurements import ocsp_request_data  # cryptography: only when asked
        from chargecore.shell.certificates.x509_facts import parse_chain

        data = ocsp_request_data(parse_chain(certificate_pem)[0], parse_chain(issuer_pem)[0])
        self.submit(lambda now: CertificateStatusRequested(now, data))
