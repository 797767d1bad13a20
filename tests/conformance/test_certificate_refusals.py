"""Bad certificates and deletes that would strand the station (issue 12 item 8, M04, M05), over loopback TLS at
security profile 2: each is refused with the right answer, nothing is installed or deleted, no key reaches the log,
and the station keeps working on its current certificates (it answers, and reconnects with them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from certificate_steps import PASSWORD, PROFILE_2, install, installed
from harness import Booted, StationFactory, boot
from issuer import expected_hash_data, issue, make_root
from pki import Pki

from chargecore.testing.csms_double import CsmsDouble

ROOT = "CSMSRootCertificate"


def still_works(csms: CsmsDouble, pki: Pki, before: dict[str, object]) -> None:
    """Nothing changed, the station answers, and it reconnects with the root it had."""
    assert installed(csms) == before
    assert csms.trigger("Heartbeat").payload == {"status": "Accepted"}
    csms.expect_call("Heartbeat")
    sessions = csms.session_count
    csms.close_connection()
    csms.wait_session(sessions + 1)


def _text(kind: str, pki: Pki) -> str:
    unknown = make_root("unknown root")
    return {
        "garbage": "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "no PEM": "hello, this is no certificate",
        "not yet valid": make_root("future root", starts_in=1).pem,
        "not a CA": issue(pki.authority, "a leaf", usage="server").pem,
        "unverified": issue(unknown, "sub-CA of an unknown root", ca=True).pem,
        "two certificates": make_root("one").pem + make_root("two").pem,
        "bad signature": _tampered(make_root("tampered root").pem),
    }[kind]


def _tampered(pem: str) -> str:
    """The same certificate with one bit of its signature flipped."""
    import base64

    lines = pem.strip().splitlines()
    der = bytearray(base64.b64decode("".join(lines[1:-1])))
    der[-3] ^= 0x01
    body = base64.b64encode(bytes(der)).decode("ascii")
    return "\n".join([lines[0], *(body[i : i + 64] for i in range(0, len(body), 64)), lines[-1]]) + "\n"


@pytest.mark.requirements("M05.FR.07")
@pytest.mark.parametrize(
    "kind", ["garbage", "no PEM", "not yet valid", "not a CA", "unverified", "two certificates", "bad signature"]
)
def test_an_invalid_ca_certificate_is_rejected_and_nothing_is_installed(
    tls_csms: CsmsDouble, profile_2_station: Booted, pki: Pki, kind: str
) -> None:
    before = installed(tls_csms)
    answer = install(tls_csms, ROOT, _text(kind, pki))
    assert answer["status"] == "Rejected", answer
    assert answer["statusInfo"]["reasonCode"] == "InvalidCertificate"
    still_works(tls_csms, pki, before)


def test_a_100_kb_certificate_is_a_format_violation_and_nothing_is_installed(
    tls_csms: CsmsDouble, profile_2_station: Booted, pki: Pki
) -> None:
    """The schema bounds certificate to 5500 characters: a longer one is a CALLERROR like any schema violation."""
    before = installed(tls_csms)
    huge = make_root("huge").pem * 200
    assert len(huge) > 100_000
    reply = tls_csms.call("InstallCertificate", {"certificateType": ROOT, "certificate": huge})
    assert reply.error_code in ("FormatViolation", "PropertyConstraintViolation"), reply
    still_works(tls_csms, pki, before)


@pytest.mark.requirements("M04.FR.01")
def test_the_last_csms_root_of_a_tls_profile_is_not_deleted(
    tls_csms: CsmsDouble, profile_2_station: Booted, pki: Pki
) -> None:
    before = installed(tls_csms)
    reply = tls_csms.call("DeleteCertificate", {"certificateHashData": expected_hash_data(pki.authority)})
    assert reply.payload is not None and reply.payload["status"] == "Failed", reply
    still_works(tls_csms, pki, before)


def test_a_certificate_deleted_once_is_not_found_the_second_time(
    tls_csms: CsmsDouble, profile_2_station: Booted
) -> None:
    extra = make_root("extra root")
    assert install(tls_csms, ROOT, extra) == {"status": "Accepted"}
    assert install(tls_csms, ROOT, extra) == {"status": "Accepted"}, "installing it again is no error (no copy)"
    assert len(installed(tls_csms, ROOT)["certificateHashDataChain"]) == 2
    hash_data = expected_hash_data(extra)
    upper = {**hash_data, "issuerNameHash": hash_data["issuerNameHash"].upper()}
    upper["serialNumber"] = hash_data["serialNumber"].upper()
    assert tls_csms.call("DeleteCertificate", {"certificateHashData": upper}).payload == {"status": "Accepted"}
    second = tls_csms.call("DeleteCertificate", {"certificateHashData": hash_data})
    assert second.payload is not None and second.payload["status"] == "NotFound"


def test_no_private_key_reaches_the_log(
    tls_csms: CsmsDouble, station_factory: StationFactory, pki: Pki, tmp_path: Path
) -> None:
    """A profile 3 station that installs, lists and deletes: its frame log never holds its key."""
    log = tmp_path / "frames.log"
    started = station_factory(
        csms_url=tls_csms.url,
        ca_file=str(pki.ca),
        client_cert=str(pki.client_cert),
        client_key=str(pki.client_key),
        password=PASSWORD,
        config=PROFILE_2,
        log_file=log,
    )
    boot(started, tls_csms)
    install(tls_csms, ROOT, make_root("another root"))
    install(tls_csms, ROOT, "garbage")
    installed(tls_csms)
    started.stop()
    key_body = "".join(pki.client_key.read_text().splitlines()[1:-1])
    text = log.read_text()
    assert "PRIVATE KEY" not in text
    assert key_body[:40] not in text.replace("\\n", "")
