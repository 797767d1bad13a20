"""Fixtures shared by the shell tests and the conformance tests."""

from __future__ import annotations

import pytest
from pki import Pki, make_pki
from transfer_servers import ftp_files, http_files, https_files, unused_port  # noqa: F401 - shared fixtures


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """The test PKI (CA, CSMS and station certificates, made with `cryptography`), built once per run."""
    return make_pki(tmp_path_factory.mktemp("pki"))
