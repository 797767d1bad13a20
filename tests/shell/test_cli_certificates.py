"""`chargecore run`'s `certificates` command: what the store holds, with expiry dates, before and after the CSMS
installed a root."""

from __future__ import annotations

from pathlib import Path

from issuer import make_root
from test_cli import STATION_ID, WAIT, booted, local_csms, station


def test_certificates_lists_what_the_store_holds_with_expiry_dates(tmp_path: Path) -> None:
    root = make_root("root from the CSMS", organization="chargecore tests")
    with local_csms(heartbeat_interval=3600) as csms, station(csms, tmp_path) as running:
        booted(csms)
        running.command("certificates")
        assert "none installed" in running.printed("certificates:")
        payload = {"certificateType": "MORootCertificate", "certificate": root.pem}
        assert csms.call(STATION_ID, "InstallCertificate", payload, WAIT) == {"status": "Accepted"}
        running.command("certificates")
        line = running.printed("  MORootCertificate:")
        assert "CN=root from the CSMS" in line
        assert f"to {root.certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC" in line
        running.command("quit")
        assert running.exit_code() == 0
