"""Steps the certificate tests share (block M): the Part 6 InstallCertificate and GetInstalledCertificateIds
exchanges, and the configurations of a station at security profile 2 or 3. The fixtures `tls_csms` and
`profile_2_station` are in conftest.py."""

from __future__ import annotations

from typing import Any

from issuer import Issued

from chargecore.testing.csms_double import CsmsDouble

PASSWORD = "0123456789abcdefABCD"
"""<Configured basicAuthPassword>."""
PROFILE_2 = {"SecurityCtrlr": {"SecurityProfile": 2}}
PROFILE_3 = {"SecurityCtrlr": {"SecurityProfile": 3}}


def install(csms: CsmsDouble, use: str, certificate: Issued | str) -> dict[str, Any]:
    """InstallCertificate of a certificate (or any text); the station's response payload."""
    pem = certificate if isinstance(certificate, str) else certificate.pem
    reply = csms.call("InstallCertificate", {"certificateType": use, "certificate": pem})
    assert reply.payload is not None, reply
    return reply.payload


def installed(csms: CsmsDouble, *uses: str) -> dict[str, Any]:
    """GetInstalledCertificateIds for these types (none: certificateType omitted); the response payload."""
    payload = {"certificateType": list(uses)} if uses else {}
    reply = csms.call("GetInstalledCertificateIds", payload)
    assert reply.payload is not None, reply
    return reply.payload
