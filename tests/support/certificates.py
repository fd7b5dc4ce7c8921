"""Test certificates a real server can present: expired, not yet valid, or made for another name
(made by the stand-in's certificate maker, with the dates and names a test asks for)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from wizard.devservers.ews.tls import write_self_signed


def make_certificate(
    directory: Path,
    *,
    names: tuple[str, ...] = ("localhost",),
    ips: tuple[str, ...] = (),
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[Path, Path, str, bytes]:
    """A self-signed certificate and key in `directory`: (cert path, key path, SHA-256, DER)."""
    now = dt.datetime.now(dt.UTC)
    made = write_self_signed(
        directory,
        stem="server",
        common_name=names[0] if names else "x",
        names=names,
        ips=ips,
        not_before=not_before or now - dt.timedelta(days=1),
        not_after=not_after,
    )
    return made.cert_path, made.key_path, made.fingerprint, made.der
