"""The certificate store under `<data-dir>/certificates/` (docs/certificates.md): the CA certificates of the four
InstallCertificateUseEnumType kinds, the ChargingStationCertificate chain and the V2GCertificateChain, with their
private keys behind the `KeyStore` hook. It measures and keeps; the core decides (security/certificates.py).

    certificates/<use>/<fingerprint>.pem            one CA certificate (use: CSMSRootCertificate, ...)
    certificates/ChargingStationCertificate/chain.pem  leaf first, then its sub-CAs
    certificates/V2GCertificateChain/chain.pem
    certificates/keys/<slot>.key                    FileKeyStore: the private keys, mode 0600

Every file is a checksummed record file (record_files.py). At start a damaged file is moved aside as
`<name>.damaged-<UTC time>` and named in one warning line (`notices`); the other files are kept.

`cryptography` is imported where a certificate is read or written (x509_facts.py says why): an empty store costs
the start-up nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chargecore.pure.blocks.security.certificate_store import (
    CA_USES,
    CSMS_ROOT,
    STATION_CERTIFICATE,
    V2G_CHAIN,
    CertificateCheck,
    InstalledCertificate,
    StoreChanged,
)
from chargecore.pure.effects import CheckCertificateQuestion, RemoveCertificateQuestion, StoreCertificateQuestion
from chargecore.shell.certificates import x509_facts
from chargecore.shell.certificates.keys import FileKeyStore, KeyStore, KeyStoreError
from chargecore.shell.certificates.record_files import Damaged, read_record_file, remove_record_file, write_record_file
from chargecore.shell.certificates.x509_facts import NotACertificate, parse_chain

if TYPE_CHECKING:
    from cryptography import x509

FOLDER = "certificates"
CHAIN_FILE = "chain.pem"
OWN_USES = (STATION_CERTIFICATE, V2G_CHAIN)
"""The station's own certificates, each with a private key in the KeyStore slot of the same name."""
CertificateQuestion = CheckCertificateQuestion | StoreCertificateQuestion | RemoveCertificateQuestion
CERTIFICATE_QUESTIONS = (CheckCertificateQuestion, StoreCertificateQuestion, RemoveCertificateQuestion)
"""The questions the store answers (shell/drive.py hands them over, for both runtimes)."""


def _pem(certificates: list[x509.Certificate]) -> str:
    from cryptography.hazmat.primitives import serialization

    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certificates)


class CertificateStore:
    """The files of one station; every method is called on the core thread only."""

    def __init__(self, data_dir: Path, keys: KeyStore | None = None, clock: Callable[[], datetime] | None = None):
        self.folder = data_dir / FOLDER
        self.keys: KeyStore = keys or FileKeyStore(self.folder / "keys")
        self.notices: list[tuple[str, str]] = []
        """(level, line) of what the load found damaged, for the runtime to log."""
        self._clock = clock or (lambda: datetime.now(UTC))
        self._chains: dict[tuple[str, str], list[x509.Certificate]] = {}
        """(use, fingerprint or CHAIN_FILE) -> the certificates of that file, leaf first."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._load()

    # --- reading --------------------------------------------------------------------------------------

    def _load(self) -> None:
        self._chains = {}
        for use in (*CA_USES, *OWN_USES):
            folder = self.folder / use
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.pem")):
                chain = self._read(path, use)
                if chain:
                    self._chains[(use, path.stem if use in CA_USES else CHAIN_FILE)] = chain

    def _read(self, path: Path, use: str) -> list[x509.Certificate] | None:
        try:
            text = read_record_file(path, use)
            return None if text is None else parse_chain(text)
        except (Damaged, NotACertificate):
            aside = path.with_name(f"{path.name}.damaged-{self._clock():%Y%m%dT%H%M%SZ}")
            os.replace(path, aside)
            self.notices.append(("warning", f"{path}: damaged, moved aside to {aside.name}; {use} lost"))
            return None

    def _tops(self, *uses: str) -> list[x509.Certificate]:
        """The certificate of each file of these uses (a chain's leaf)."""
        return [chain[0] for (use, _), chain in self._chains.items() if use in uses]

    def _anchors(self, use: str) -> list[x509.Certificate]:
        """Where the issuer of the top of a chain of `use` is looked for: a CA certificate of the same kind, and
        for the station's own chains any installed CA certificate."""
        return self._tops(use) if use in CA_USES else self._tops(*CA_USES)

    def installed(self) -> tuple[InstalledCertificate, ...]:
        """What is installed, as the core's values (for CertificatesLoaded and StoreChanged)."""
        entries = []
        for (use, _), chain in sorted(self._chains.items()):
            facts = x509_facts.describe_chain(chain, self._anchors(use))
            entries.append(InstalledCertificate(use, facts[0], tuple(facts[1:])))
        return tuple(entries)

    def csms_roots_pem(self, only: tuple[str, ...] | None = None) -> str | None:
        """The CSMS root certificates as one PEM text (TLS trust anchors), None when none is installed; `only`: those
        of these fingerprints (the roots one attempt of a root migration trusts), or all of them when none of these is
        installed any more: never the system's CAs while CSMS roots are installed."""
        chains = sorted(self._chains.items())
        installed = [(fingerprint, chain[0]) for (use, fingerprint), chain in chains if use == CSMS_ROOT]
        roots = [root for fingerprint, root in installed if only is None or fingerprint in only]
        roots = roots or [root for _, root in installed]
        return _pem(roots) if roots else None

    def client_certificate(self, use: str = STATION_CERTIFICATE) -> tuple[str, str] | None:
        """(chain file, key file) for TLS, None unless both are there."""
        key = self.keys.tls_key_file(use)
        if (use, CHAIN_FILE) not in self._chains or key is None:
            return None
        return str(self.folder / use / CHAIN_FILE), key

    # --- the core's questions -----------------------------------------------------------------------------

    def answer(self, question: CertificateQuestion) -> Any:
        if isinstance(question, CheckCertificateQuestion):
            return self.check(question.use, question.pem)
        if isinstance(question, StoreCertificateQuestion):
            return self.install_ca(question.use, question.pem)
        return self.remove(question.use, question.fingerprint)

    def check(self, use: str, pem: str) -> CertificateCheck:
        """The CSMS's text measured; a certificate `cryptography` parses but cannot describe (an unknown key type,
        a malformed extension: it reads fields lazily) is reported as a problem, never raised."""
        from cryptography.exceptions import UnsupportedAlgorithm

        try:
            chain = parse_chain(pem)
            anchors = self._anchors(use)
            top = x509_facts.find_issuer(chain[-1], anchors)
            facts = x509_facts.describe_chain(chain, anchors)
            verified = x509_facts.chain_verifies(chain)
        except NotACertificate as problem:
            return CertificateCheck((), str(problem))
        except (ValueError, TypeError, UnsupportedAlgorithm) as error:
            return CertificateCheck((), f"unusable certificate: {type(error).__name__}")
        anchor = None if top is None else x509_facts.fingerprint(top)
        return CertificateCheck(tuple(facts), None, verified, anchor)

    def install_ca(self, use: str, pem: str) -> StoreChanged:
        try:
            chain = parse_chain(pem)
            name = x509_facts.fingerprint(chain[0])
            write_record_file(self.folder / use / f"{name}.pem", use, _pem(chain))
        except (NotACertificate, OSError) as error:
            return StoreChanged(self.installed(), f"cannot install the {use}: {type(error).__name__}")
        self._chains[(use, name)] = chain
        return StoreChanged(self.installed())

    def remove(self, use: str, fingerprint: str) -> StoreChanged:
        key = (use, CHAIN_FILE) if use in OWN_USES else (use, fingerprint)
        if key not in self._chains or x509_facts.fingerprint(self._chains[key][0]) != fingerprint:
            return StoreChanged(self.installed(), f"no {use} {fingerprint[:16]} installed")
        try:
            remove_record_file(self.folder / use / (CHAIN_FILE if use in OWN_USES else f"{fingerprint}.pem"))
            if use in OWN_USES:
                self.keys.delete(use)
        except (OSError, KeyStoreError) as error:
            return StoreChanged(self.installed(), f"cannot delete the {use}: {type(error).__name__}")
        del self._chains[key]
        return StoreChanged(self.installed())

    def install_own(self, use: str, pem: str, pending_key: str | None = None) -> StoreChanged:
        """Install the station's own chain (ChargingStationCertificate or V2GCertificateChain); `pending_key`:
        the KeyStore slot of the key its CSR was made with, adopted as the key of `use`. For certrenew.

        The chain is written before the key is adopted: a crash between the two leaves the new chain with the old
        key and the pending key still there (the chain's public key says which key it needs), never a new key
        whose chain is lost."""
        try:
            chain = parse_chain(pem)
            write_record_file(self.folder / use / CHAIN_FILE, use, _pem(chain))
        except (NotACertificate, OSError) as error:
            return StoreChanged(self.installed(), f"cannot install the {use}: {type(error).__name__}")
        self._chains[(use, CHAIN_FILE)] = chain
        try:
            if pending_key is not None:
                self.keys.adopt(pending_key, use)
        except (OSError, KeyStoreError) as error:
            return StoreChanged(self.installed(), f"the {use} is installed but its key is not: {type(error).__name__}")
        return StoreChanged(self.installed())

    # --- renewal (A02/A03): the previous own certificate is kept until the renewed one has connected ---------

    def certificates_of(self, use: str) -> list[x509.Certificate]:
        """The installed certificates of `use` (the first of each file: a CA, or the leaf of an own chain)."""
        return [chain[0] for (u, _), chain in sorted(self._chains.items()) if u == use]

    def keep_previous(self, use: str) -> None:
        """Copy the own chain of `use` and move its key aside as `<use>.previous` before a renewal replaces them."""
        chain = self._chains.get((use, CHAIN_FILE))
        if chain is None:
            return
        write_record_file(self._previous(use), use, _pem(chain))
        self.keys.adopt(use, f"{use}.previous")

    def drop_previous(self, use: str) -> None:
        """The renewed certificate has carried a connection: the previous one goes."""
        if self._previous(use).exists():
            remove_record_file(self._previous(use))
        self.keys.delete(f"{use}.previous")

    def restore_previous(self, use: str) -> bool:
        """Put the previous own chain and key of `use` back (the renewed one was refused); False when none is kept."""
        text = read_record_file(self._previous(use), use)
        if text is None or self.keys.tls_key_file(f"{use}.previous") is None:
            return False
        self.keys.adopt(f"{use}.previous", use)
        write_record_file(self.folder / use / CHAIN_FILE, use, text)
        remove_record_file(self._previous(use))
        self._chains[(use, CHAIN_FILE)] = parse_chain(text)
        return True

    def _previous(self, use: str) -> Path:
        return self.folder / "previous" / f"{use}.pem"

    # --- seeding from the command line ----------------------------------------------------------------------

    def seed(self, ca_file: str | None, client_cert: str | None, client_key: str | None) -> None:
        """Back-compatible start: `--ca-file` fills the CSMS roots and `--client-cert/--client-key` the
        ChargingStationCertificate, each only while the store holds none of its kind (the first start), so that
        what the CSMS installed or deleted later is never undone by a restart. Raises ValueError with a one-line
        reason when a file cannot be used."""
        if ca_file is not None and not any(use == CSMS_ROOT for use, _ in self._chains):
            for certificate in parse_chain(_read_text(ca_file, "CA file")):
                self.install_ca(CSMS_ROOT, _pem([certificate]))
        if client_cert is not None and client_key is not None and (STATION_CERTIFICATE, CHAIN_FILE) not in self._chains:
            self.keys.import_key(STATION_CERTIFICATE, _read_text(client_key, "client key").encode("ascii"))
            changed = self.install_own(STATION_CERTIFICATE, _read_text(client_cert, "client certificate"))
            if changed.problem is not None:
                raise ValueError(changed.problem)


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read()
    except OSError as error:
        raise ValueError(f"cannot read the {what} {path}: {error.strerror or error}") from None
