"""The certificate store and X.509 facts (docs/certificates.md): the shell measures, the core decides."""
