"""The demo servers' self-signed certificate (made like the EWS stand-in's), pinned by the session."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ..ews.tls import make_self_signed


@dataclass(frozen=True)
class DemoCertificate:
    cert_path: Path
    key_path: Path
    fingerprint: str  # SHA-256 of the DER certificate, lower-case hex

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def make_certificate(directory: Path, host: str = "127.0.0.1") -> DemoCertificate:
    made = make_self_signed(directory, host)
    return DemoCertificate(made.cert_path, made.key_path, made.fingerprint)
