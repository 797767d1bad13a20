"""The TLS link trusts what the certificate store holds, from the next connection on: a CSMS root installed with
InstallCertificate verifies a CSMS that moved to a certificate of that root, once the old root is deleted; and what
the store holds survives a restart of the station without the command-line seed mattering any more."""

from __future__ import annotations

from pathlib import Path

from certificate_steps import PASSWORD, PROFILE_2, install, installed
from harness import StationFactory, boot
from issuer import expected_hash_data, issue, make_root
from pki import Pki

from chargecore.testing.csms_double import CsmsDouble


def test_a_csms_root_installed_over_ocpp_is_the_trust_anchor_of_the_next_connection(
    station_factory: StationFactory, pki: Pki, tmp_path: Path
) -> None:
    new_root = make_root("new CSMS root")
    new_server = issue(new_root, "127.0.0.1", usage="server", ip="127.0.0.1")
    (tmp_path / "new-server.pem").write_text(new_server.pem)
    (tmp_path / "new-server.key").write_text(new_server.key_pem)
    context = pki.server_context()
    with CsmsDouble(tls=context) as csms:
        station = station_factory(csms_url=csms.url, ca_file=str(pki.ca), password=PASSWORD, config=PROFILE_2)
        boot(station, csms)
        assert install(csms, "CSMSRootCertificate", new_root) == {"status": "Accepted"}
        old = {"certificateHashData": expected_hash_data(pki.authority)}
        assert csms.call("DeleteCertificate", old).payload == {"status": "Accepted"}, "the new root is usable"
        context.load_cert_chain(tmp_path / "new-server.pem", tmp_path / "new-server.key")  # the CSMS moves
        csms.close_connection()
        csms.wait_session(2)  # verified against the new root only
        chain = installed(csms, "CSMSRootCertificate")["certificateHashDataChain"]
        assert [item["certificateHashData"] for item in chain] == [expected_hash_data(new_root)]


def test_the_store_outlives_a_restart_and_the_seed_is_not_applied_again(
    station_factory: StationFactory, pki: Pki, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kept"
    manufacturer = make_root("manufacturer root")
    with CsmsDouble(tls=pki.server_context()) as csms:
        first = station_factory(
            csms_url=csms.url, ca_file=str(pki.ca), password=PASSWORD, config=PROFILE_2, data_dir=data_dir
        )
        boot(first, csms)
        assert install(csms, "ManufacturerRootCertificate", manufacturer) == {"status": "Accepted"}
        first.stop()
        other_seed = tmp_path / "other.pem"
        other_seed.write_text(make_root("a different seed").pem)
        second = station_factory(
            csms_url=csms.url, ca_file=str(other_seed), password=PASSWORD, config=PROFILE_2, data_dir=data_dir
        )
        boot(second, csms)  # still trusts the test CA: the store, not the new --ca-file, decides
        listed = {
            item["certificateType"]: item["certificateHashData"] for item in installed(csms)["certificateHashDataChain"]
        }
        assert listed == {
            "CSMSRootCertificate": expected_hash_data(pki.authority),
            "ManufacturerRootCertificate": expected_hash_data(manufacturer),
        }
