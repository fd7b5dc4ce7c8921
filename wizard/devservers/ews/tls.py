"""A self-signed certificate for the stand-in's HTTPS (and the demo's and tests' servers), made
with `cryptography` (an exchangelib dependency), and its SHA-256 fingerprint as the tool's pinning
compares it."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SelfSignedCertificate:
    cert_path: Path
    key_path: Path
    fingerprint: str  # SHA-256 of the DER certificate, lower-case hex without separators
    der: bytes = b""


def write_self_signed(
    directory: Path,
    *,
    stem: str = "ews-sandbox",
    common_name: str = "ews-sandbox.localhost",
    names: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = (),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> SelfSignedCertificate:
    """A self-signed certificate and its key (0600) in ``directory``, for these DNS names and IP
    addresses, valid from five minutes ago for 30 days unless the dates are given."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(minutes=5))
        .not_valid_after(not_after or now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    der = cert.public_bytes(serialization.Encoding.DER)
    return SelfSignedCertificate(cert_path, key_path, hashlib.sha256(der).hexdigest(), der)


def make_self_signed(directory: Path, host: str = "127.0.0.1") -> SelfSignedCertificate:
    """The stand-in's certificate: for localhost and ``host`` (an IP address or a name)."""
    try:
        ipaddress.ip_address(host)
        return write_self_signed(directory, ips=(host,))
    except ValueError:
        return write_self_signed(directory, names=("localhost", host))
