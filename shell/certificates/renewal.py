"""The shell's side of A02/A03 and M06: it answers the core's questions with the certificate store and the key
store, measuring and keeping, never deciding (pure/blocks/security/certificate_signing.py, certificate_signed.py).

- `CsrQuestion`: a new key in the slot `<use>.pending` (KeyStore.create, a CSPRNG or the integrator's secure
  element), or for a repeat the key already there, and a CSR for it with the subject the core chose; None when the
  key store fails.
- `ChainQuestion`: `ChainFacts` of the chain against the installed roots the core named (CSMSRootCertificate
  for the station certificate, V2GRootCertificate for the V2G one) and the pending key.
- `InstallOwnQuestion`: the current own chain and key are kept as `<use>.previous`, then the chain is installed
  with the pending key (CertificateStore.install_own); `CommitCertificate` drops the previous ones,
  `RevertCertificate` puts them back.
- `OcspValidityQuestion`: the nextUpdate of the OCSP response.
"""

from __future__ import annotations

from typing import Any

from chargecore.pure.blocks.security.certificate_signing import STORE_USES
from chargecore.pure.blocks.security.certificate_store import StoreChanged
from chargecore.pure.effects import ChainQuestion, CsrQuestion, InstallOwnQuestion, OcspValidityQuestion
from chargecore.shell.certificates.keys import KeyStoreError, csr_pem, csr_subject
from chargecore.shell.certificates.measurements import measure_chain, ocsp_next_update
from chargecore.shell.certificates.store import CertificateStore

SigningQuestion = CsrQuestion | ChainQuestion | InstallOwnQuestion | OcspValidityQuestion
SIGNING_QUESTIONS = (CsrQuestion, ChainQuestion, InstallOwnQuestion, OcspValidityQuestion)
"""The questions this module answers (shell/drive.py hands them over, for both runtimes)."""


def pending_slot(use: str) -> str:
    return f"{use}.pending"


def answer(store: CertificateStore, question: SigningQuestion) -> Any:
    if isinstance(question, CsrQuestion):
        return _csr(store, question)
    if isinstance(question, ChainQuestion):
        pending_key = store.keys.public_key(pending_slot(STORE_USES[question.certificate_type]))
        return measure_chain(question.chain, store.certificates_of(question.root_use), pending_key)
    if isinstance(question, InstallOwnQuestion):
        try:
            store.keep_previous(question.use)
        except (OSError, KeyStoreError) as error:
            return StoreChanged(store.installed(), f"cannot keep the previous {question.use}: {type(error).__name__}")
        return store.install_own(question.use, question.chain, pending_key=pending_slot(question.use))
    return ocsp_next_update(question.ocsp_result)


def _csr(store: CertificateStore, question: CsrQuestion) -> str | None:
    slot = pending_slot(STORE_USES[question.certificate_type])
    try:
        if question.new_key or store.keys.public_key(slot) is None:
            store.keys.create(slot)
        subject = csr_subject(question.common_name, question.organization, question.country)
        request = store.keys.sign_request(slot, subject)
    except (OSError, KeyStoreError, ValueError):
        return None
    return csr_pem(request)
