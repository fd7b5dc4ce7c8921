"""Shared pieces of the IMAP engine tests: settings pointing at the shared test Dovecot."""

from __future__ import annotations

import pytest

from tests.servers.dovecot import DovecotServer
from wizard.imap import AuthMode, ImapServerSettings, Security


def settings_for(
    server: DovecotServer,
    security: Security = Security.IMPLICIT_TLS,
    auth: AuthMode = AuthMode.PASSWORD,
    *,
    pin: str | None = None,
    master_user: str = "",
    timeout: float = 10.0,
) -> ImapServerSettings:
    port = server.imaps_port if security is Security.IMPLICIT_TLS else server.imap_port
    return ImapServerSettings(
        host=server.host,
        port=port,
        security=security,
        auth=auth,
        master_user=master_user,
        pin=server.fingerprint if pin is None else pin,
        timeout=timeout,
    )


@pytest.fixture
def tls_settings(dovecot: DovecotServer) -> ImapServerSettings:
    return settings_for(dovecot)
