"""Part 6 test cases of a migration to a new CSMS root certificate (M05 AdditionalRootCertificateCheck, B10 with a
new root) and of the A05 upgrade preconditions, against the real station over loopback TLS.

The PKI: the test CA of `pki` is the old CSMS root (what `--ca-file` seeds the store with); the new CSMS root is a CA
certificate with its own key that the old root signed; one TLS server certificate for 127.0.0.1 under each. A
`CsmsDouble(tls=...)` serves one of them, and a context the test reloads serves the other from the next handshake on.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from core_helpers import connection_data
from harness import StationFactory, boot
from issuer import Issued, expected_hash_data, issue, make_root
from pki import Pki
from test_network_profiles import SWITCH_TIMEOUT, accepted_profile, reset_on_idle, set_priority, variable_of

from chargecore.shell.runtime import ChargingStation
from chargecore.testing.csms_double import CsmsDouble, wait_until

FAST_RETRIES = {"RetryBackOffRepeatTimes": 0, "RetryBackOffRandomRange": 0, "RetryBackOffWaitMinimum": 1}
"""Reconnection waits of one second, so a fallback after a failed attempt fits a test."""


@dataclass(frozen=True)
class Roots:
    old: Issued
    new: Issued
    """Signed by `old`, with its own key (Part 6: "new CSMS Root certificate 2 signed by the old one")."""
    stranger: Issued
    """A self-signed root no installed root signed (TC_M_09)."""
    server_old: tuple[Path, Path]
    """A server certificate for 127.0.0.1 under the old root: (certificate, key) files."""
    server_new: tuple[Path, Path]
    """The same under the new root."""


@pytest.fixture
def roots(pki: Pki, tmp_path: Path) -> Roots:
    new = issue(pki.authority, "chargecore new csms root", ca=True)
    server = issue(new, "127.0.0.1", usage="server", ip="127.0.0.1")
    (tmp_path / "server-new.pem").write_text(server.pem, encoding="ascii")
    (tmp_path / "server-new.key").write_text(server.key_pem, encoding="ascii")
    return Roots(
        old=pki.authority,
        new=new,
        stranger=make_root("chargecore stranger root"),
        server_old=(pki.server_cert, pki.server_key),
        server_new=(tmp_path / "server-new.pem", tmp_path / "server-new.key"),
    )


def serving(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def tls_server(roots: Roots) -> ssl.SSLContext:
    """The TLS context of `tls_csms`: loading another certificate into it serves that one from the next handshake."""
    return serving(roots.server_old)


@pytest.fixture
def tls_csms(tls_server: ssl.SSLContext) -> Iterator[CsmsDouble]:
    """The CSMS the station is connected to, at security profile 2, with a certificate of the old root."""
    with CsmsDouble(tls=tls_server) as double:
        yield double


def migrating_station(
    station_factory: StationFactory, csms: CsmsDouble, pki: Pki, check: bool = True, **config: Any
) -> ChargingStation:
    """A station at security profile 2 trusting the old root, AdditionalRootCertificateCheck `check`, booted."""
    station = station_factory(
        csms_url=csms.url,
        ca_file=str(pki.ca),
        config={
            "SecurityCtrlr": {"SecurityProfile": 2, "AdditionalRootCertificateCheck": check},
            "OCPPCommCtrlr": {**FAST_RETRIES, **config},
        },
    )
    boot(station, csms)
    return station


def install_csms_root(csms: CsmsDouble, root: Issued) -> dict[str, Any]:
    reply = csms.call("InstallCertificate", {"certificateType": "CSMSRootCertificate", "certificate": root.pem})
    assert reply.payload is not None, reply
    return reply.payload


def csms_root_hashes(csms: CsmsDouble) -> list[dict[str, str]]:
    """GetInstalledCertificateIds(CSMSRootCertificate): Accepted, the hash data of each root (hex in lower case)."""
    reply = csms.call("GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]})
    assert reply.payload is not None, reply
    assert reply.payload["status"] == "Accepted", reply.payload
    chain = reply.payload["certificateHashDataChain"]
    assert all(item["certificateType"] == "CSMSRootCertificate" for item in chain)
    return [_lower(item["certificateHashData"]) for item in chain]


def _lower(hash_data: dict[str, str]) -> dict[str, str]:
    return {name: value.lower() if name != "hashAlgorithm" else value for name, value in hash_data.items()}


def hash_of(root: Issued) -> dict[str, str]:
    return _lower(expected_hash_data(root))


def security_events(csms: CsmsDouble) -> list[str]:
    return [call.payload["type"] for call in csms.calls("SecurityEventNotification")]


# --- M05 AdditionalRootCertificateCheck ---------------------------------------------------------------------


@pytest.mark.requirements("M05.FR.10", "M05.FR.11")
def test_TC_M_09_CS_install_csms_root_not_signed_by_the_old_one_rejected(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, roots: Roots
) -> None:
    migrating_station(station_factory, tls_csms, pki)
    answer = install_csms_root(tls_csms, roots.stranger)  # 1-2
    assert answer["status"] == "Rejected"
    assert answer["statusInfo"]["reasonCode"] == "NotSignedByOldRoot"
    assert csms_root_hashes(tls_csms) == [hash_of(roots.old)], "3-4: one entry, the old root"


@pytest.mark.requirements("M05.FR.12", "M05.FR.13")
def test_TC_M_30_CS_reconnect_using_new_csms_root_success(
    tls_csms: CsmsDouble, tls_server: ssl.SSLContext, station_factory: StationFactory, pki: Pki, roots: Roots
) -> None:
    station = migrating_station(station_factory, tls_csms, pki)
    assert install_csms_root(tls_csms, roots.new) == {"status": "Accepted"}  # Memory State: CertificateInstalled
    assert hash_of(roots.old) in csms_root_hashes(tls_csms), "kept as the fallback until the new root connects"
    tls_server.load_cert_chain(*roots.server_new)  # 3. the CSMS now presents a certificate of the new root

    reset_on_idle(tls_csms)  # 1-2
    boot(station, tls_csms)  # 3-5. the handshake with the new root succeeds; Reusable State Booted
    assert tls_csms.session_count == 2, "the first attempt after the reset connected"
    wait_until(lambda: len(station.state.certificates.of_use("CSMSRootCertificate")) == 1, "the fallback deleted")
    assert hash_of(roots.old) not in csms_root_hashes(tls_csms)  # 6-7


@pytest.mark.requirements("M05.FR.14")
def test_TC_M_31_CS_reconnect_using_new_csms_root_fallback(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, roots: Roots
) -> None:
    station = migrating_station(station_factory, tls_csms, pki)
    assert install_csms_root(tls_csms, roots.new) == {"status": "Accepted"}  # Memory State: CertificateInstalled

    reset_on_idle(tls_csms)  # 1-2. the CSMS keeps its certificate of the old root
    boot(station, tls_csms)  # 3-6. refused with the new root, re-validated with the fallback; Reusable State Booted
    wait_until(lambda: "InvalidCsmsCertificate" in security_events(tls_csms), "the refusal of step 4 reported")
    assert hash_of(roots.old) in csms_root_hashes(tls_csms)  # 7-8


# --- B10 migration with a new root ----------------------------------------------------------------------------


@pytest.mark.requirements("B10.FR.07", "M05.FR.15", "M05.FR.16")
def test_TC_B_47_CS_fallback_after_attempts_new_csms_root_new_csms(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, roots: Roots
) -> None:
    with CsmsDouble(tls=serving(roots.server_old)) as new_csms:  # the other endpoint: also the old root's certificate
        station = migrating_station(station_factory, tls_csms, pki, NetworkProfileConnectionAttempts=1)
        assert install_csms_root(tls_csms, roots.new) == {"status": "Accepted"}  # Memory State

        accepted_profile(tls_csms, 2, connection_data(new_csms.url, security_profile=2))  # 1-2
        set_priority(station, tls_csms, "2")  # 3-4
        reset_on_idle(tls_csms)  # 5-6

        # 7-9. the new CSMS's certificate fails with the new root; back to the previous profile, fallback root
        tls_csms.wait_session(2, SWITCH_TIMEOUT)
        boot(station, tls_csms)  # 10. Reusable State Booted
        assert new_csms.session_count == 0, "the new CSMS was never trusted with the fallback root"
        assert variable_of(station, "OCPPCommCtrlr", "ActiveNetworkProfile") == "1"
        assert hash_of(roots.old) in csms_root_hashes(tls_csms)  # 11-12


@pytest.mark.requirements("M05.FR.13")
@pytest.mark.parametrize("check", [False, True], ids=["plain", "AdditionalRootCertificateCheck"])
def test_TC_B_50_CS_migrate_success_new_csms_root_new_csms(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, roots: Roots, check: bool
) -> None:
    """Errata 2023-12 6.1.10: for every station, whether it has AdditionalRootCertificateCheck or not; without the
    check the new root is simply one more CSMS root."""
    with CsmsDouble(tls=serving(roots.server_new)) as new_csms:
        station = migrating_station(station_factory, tls_csms, pki, check=check)
        assert install_csms_root(tls_csms, roots.new) == {"status": "Accepted"}  # Memory State

        accepted_profile(tls_csms, 2, connection_data(new_csms.url, security_profile=2))  # 1-2
        set_priority(station, tls_csms, "2")  # 3-4
        reset_on_idle(tls_csms)  # 5-6

        booted = boot(station, new_csms)  # 7-9. the new CSMS's certificate verifies with the new root
        assert booted.boot.payload["reason"] == "RemoteReset"
        assert variable_of(station, "OCPPCommCtrlr", "ActiveNetworkProfile") == "2"
        if check:  # the removed steps 10-11: the fallback went once the new root connected (M05.FR.13)
            assert hash_of(roots.old) not in _eventually_without(new_csms, roots.old)


def _eventually_without(csms: CsmsDouble, root: Issued) -> list[dict[str, str]]:
    wait_until(lambda: hash_of(root) not in csms_root_hashes(csms), "the fallback root deleted")
    return csms_root_hashes(csms)


# --- A05 preconditions --------------------------------------------------------------------------------------


def set_priority_answer(csms: CsmsDouble, value: str) -> dict[str, Any]:
    variable = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "NetworkConfigurationPriority"}}
    reply = csms.call("SetVariables", {"setVariableData": [{**variable, "attributeValue": value}]})
    assert reply.payload is not None, reply
    result: dict[str, Any] = reply.payload["setVariableResult"][0]
    return result


@pytest.mark.requirements("A05.FR.02")
def test_TC_A_20_CS_upgrade_without_a_valid_csms_root_certificate(
    csms: CsmsDouble, tls_csms: CsmsDouble, station_factory: StationFactory
) -> None:
    station = station_factory()  # profile 1 in slot 1, no CSMSRootCertificate installed (no --ca-file)
    boot(station, csms)
    assert not station.state.certificates.of_use("CSMSRootCertificate")

    accepted_profile(csms, 2, connection_data(tls_csms.url, security_profile=2))  # 1-2. Accepted
    result = set_priority_answer(csms, "2,1")  # 3-4
    assert result["attributeStatus"] == "Rejected"
    assert "CSMSRootCertificate" in result["attributeStatusInfo"]["additionalInfo"]
    assert variable_of(station, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "1"


@pytest.mark.requirements("A05.FR.03")
def test_TC_A_21_CS_upgrade_without_a_valid_charging_station_certificate(
    csms: CsmsDouble, tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki
) -> None:
    station = station_factory(ca_file=str(pki.ca))  # a valid CSMS root; no ChargingStationCertificate
    boot(station, csms)
    assert station.state.certificates.station_certificate is None

    accepted_profile(csms, 2, connection_data(tls_csms.url, security_profile=3))  # 1-2. Accepted
    result = set_priority_answer(csms, "2,1")  # 3-4
    assert result["attributeStatus"] == "Rejected"
    assert "ChargingStationCertificate" in result["attributeStatusInfo"]["additionalInfo"]
    assert variable_of(station, "OCPPCommCtrlr", "NetworkConfigurationPriority") == "1"
