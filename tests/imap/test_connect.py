"""Connecting to a real Dovecot: every auth mode, both TLS styles, pins, and classified failures."""

from __future__ import annotations

import socket

import pytest

from tests.servers.dovecot import DovecotServer, SeedMessage, make_message
from wizard.imap import (
    AuthMode,
    FailureCode,
    ImapError,
    ImapServerSettings,
    Role,
    Security,
    close,
    connect,
    examine,
    fetch_certificate,
    fetch_messages,
    list_folders,
    list_uids,
)

from .conftest import settings_for

OTHER_PIN = "ab" * 32


def _failure(settings: ImapServerSettings, login: str, secret: str) -> ImapError:
    with pytest.raises(ImapError) as caught:
        connect(settings, login, secret)
    return caught.value


@pytest.mark.parametrize("security", [Security.IMPLICIT_TLS, Security.STARTTLS, Security.PLAIN])
def test_password_login_over_each_transport(dovecot: DovecotServer, security: Security) -> None:
    user = dovecot.add_user()
    client = connect(settings_for(dovecot, security), user.login, user.password)
    try:
        assert client.has_capability("IMAP4REV1")
        assert any(f.role is Role.INBOX for f in list_folders(client))
    finally:
        close(client)


def test_wrong_password_is_login_rejected(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    error = _failure(settings_for(dovecot), user.login, "not-the-password")
    assert error.failure.code is FailureCode.LOGIN_REJECTED
    assert user.login in error.failure.message and dovecot.host in error.failure.message
    assert "password" in error.failure.message


def test_master_user_logs_in_as_the_mailbox(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    master = dovecot.add_master()
    settings = settings_for(dovecot, auth=AuthMode.MASTER, master_user=master.login)
    client = connect(settings, user.login, master.password)
    try:
        dovecot.seed(user.login, "INBOX", [make_message(1, subject="for the master")])
        examine(client, "INBOX")
        [message] = list(fetch_messages(client, list_uids(client)))
        assert b"for the master" in message.raw
    finally:
        close(client)
    wrong = _failure(settings, user.login, "wrong-master-password")
    assert wrong.failure.code is FailureCode.LOGIN_REJECTED
    assert master.login in wrong.failure.message


def test_master_user_not_allowed_for_unknown_mailbox(dovecot: DovecotServer) -> None:
    master = dovecot.add_master()
    settings = settings_for(dovecot, auth=AuthMode.MASTER, master_user=master.login)
    error = _failure(settings, "no-such-mailbox", master.password)
    assert error.failure.code is FailureCode.MASTER_NOT_ALLOWED
    assert master.login in error.failure.message and "no-such-mailbox" in error.failure.message


def test_sasl_plain_with_authorization_identity(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    master = dovecot.add_master()
    settings = settings_for(
        dovecot, Security.STARTTLS, AuthMode.SASL_AUTHZID, master_user=master.login
    )
    close(connect(settings, user.login, master.password))
    assert _failure(settings, user.login, "bad").failure.code is FailureCode.LOGIN_REJECTED
    assert (
        _failure(settings, "nobody-here", master.password).failure.code
        is FailureCode.MASTER_NOT_ALLOWED
    )


def test_xoauth2_token(dovecot: DovecotServer) -> None:
    user = dovecot.add_user(token="tok-" + "x" * 20)
    settings = settings_for(dovecot, auth=AuthMode.XOAUTH2)
    close(connect(settings, user.login, user.token))
    # The password is not a token: XOAUTH2 with it is refused.
    error = _failure(settings, user.login, user.password)
    assert error.failure.code is FailureCode.LOGIN_REJECTED
    assert "token" in error.failure.message


def test_pin_accepted_and_mismatch_refused(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    for security in (Security.IMPLICIT_TLS, Security.STARTTLS):
        close(connect(settings_for(dovecot, security), user.login, user.password))
        error = _failure(settings_for(dovecot, security, pin=OTHER_PIN), user.login, user.password)
        assert error.failure.code is FailureCode.CERTIFICATE_MISMATCH
        assert error.failure.fingerprint == dovecot.fingerprint
        assert dovecot.fingerprint[:2].upper() + ":" in error.failure.message


def test_self_signed_without_pin_is_untrusted_and_shows_fingerprint(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    error = _failure(settings_for(dovecot, pin=""), user.login, user.password)
    assert error.failure.code is FailureCode.CERTIFICATE_UNTRUSTED
    assert error.failure.fingerprint == dovecot.fingerprint
    assert "pin" in error.failure.message


def test_fetch_certificate_shows_fingerprint(dovecot: DovecotServer) -> None:
    for security in (Security.IMPLICIT_TLS, Security.STARTTLS):
        info = fetch_certificate(settings_for(dovecot, security, pin=""))
        assert info.fingerprint == dovecot.fingerprint
        assert not info.trusted and info.self_signed
        assert "localhost" in info.names


def test_unknown_host_name() -> None:
    settings = ImapServerSettings("imap.customer.invalid", 993)
    error = _failure(settings, "tom", "pw")
    assert error.failure.code is FailureCode.DNS_NOT_FOUND
    assert "imap.customer.invalid" in error.failure.message
    assert "does not exist" in error.failure.message


def test_refused_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        settings = ImapServerSettings("127.0.0.1", port, Security.IMPLICIT_TLS, timeout=5)
        error = _failure(settings, "tom", "pw")
    assert error.failure.code is FailureCode.CONNECTION_REFUSED
    assert f"127.0.0.1 port {port} refused" in error.failure.message


def test_timeout_when_server_never_answers() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)  # accepts the TCP connection, never says a word
        settings = ImapServerSettings("127.0.0.1", s.getsockname()[1], Security.PLAIN, timeout=0.5)
        error = _failure(settings, "tom", "pw")
    assert error.failure.code is FailureCode.TIMEOUT
    assert "did not answer" in error.failure.message


def test_tls_on_plain_port_is_handshake_failure(dovecot: DovecotServer) -> None:
    settings = ImapServerSettings(
        dovecot.host, dovecot.imap_port, Security.IMPLICIT_TLS, pin=dovecot.fingerprint, timeout=5
    )
    error = _failure(settings, "tom", "pw")
    assert error.failure.code is FailureCode.TLS_HANDSHAKE


def test_folders_special_use_nested_and_non_ascii(dovecot: DovecotServer) -> None:
    user = dovecot.add_user(tree=True)
    client = connect(settings_for(dovecot), user.login, user.password)
    try:
        folders = {f.name: f for f in list_folders(client)}
    finally:
        close(client)
    assert folders["Sent"].role is Role.SENT and folders["Sent"].role_from == "special-use"
    assert folders["Sent"].special_use == "\\Sent"
    assert folders["Archive"].role is Role.ARCHIVE
    assert folders["Kunden/Müller & Söhne"].depth == 1
    assert folders["Projects/2024/Q1"].parts == ("Projects", "2024", "Q1")
    assert "日本語" in folders and folders["日本語"].delimiter == "/"


def test_roles_fall_back_to_names_without_special_use(dovecot_factory) -> None:  # noqa: ANN001
    server = dovecot_factory(
        special_use=False,
        special_folders={"\\Sent": "Sent Items", "\\Trash": "Deleted Items", "\\Junk": "Spam"},
    )
    user = server.add_user()
    client = connect(settings_for(server), user.login, user.password)
    try:
        roles = {f.role: f for f in list_folders(client) if f.role}
    finally:
        close(client)
    assert roles[Role.SENT].name == "Sent Items" and roles[Role.SENT].role_from == "name"
    assert roles[Role.TRASH].name == "Deleted Items"
    assert roles[Role.JUNK].name == "Spam"


def test_fetch_is_read_only_and_batched(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    seeded = [SeedMessage(make_message(n), flags=() if n % 2 else ("\\Seen",)) for n in range(7)]
    dovecot.seed(user.login, "INBOX", seeded)
    before = dovecot.read(user.login, "INBOX")
    client = connect(settings_for(dovecot), user.login, user.password)
    try:
        state = examine(client, "INBOX")
        assert state.exists == 7 and state.uidvalidity > 0
        got = list(fetch_messages(client, list_uids(client), batch=3))
    finally:
        close(client)
    assert [m.raw for m in got] == [m.raw for m in before]
    assert [m.size for m in got] == [m.size for m in before]
    after = dovecot.read(user.login, "INBOX")
    assert [(m.uid, m.flags) for m in after] == [(m.uid, m.flags) for m in before]
    assert sum("\\Seen" in m.flags for m in after) == 4
