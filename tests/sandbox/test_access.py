"""Logins, impersonation, name resolution, HTTPS with a pinned certificate, and persistence."""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest
import requests
from exchangelib import Message
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorNameResolutionNoResults,
    ErrorNonExistentMailbox,
    TransportError,
    UnauthorizedError,
)

from tests.sandbox.mime import make_message
from tests.servers.ews import (
    PASSWORD,
    SERVICE_LOGIN,
    USER,
    close_exchangelib,
    exchangelib_adapter,
    pinned_adapter,
    sandbox_account,
)
from wizard.devservers.ews import EwsSandbox


def test_wrong_password_is_refused(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox, password="not-the-password")
    with pytest.raises(UnauthorizedError):
        account.inbox  # noqa: B018 - the property sends the request
    assert ews_sandbox.requests[-1].status == 401


def test_ntlm_login_and_refusal(ews_sandbox: EwsSandbox) -> None:
    assert sandbox_account(ews_sandbox, auth_type="ntlm").inbox.name == "Inbox"
    assert ews_sandbox.requests[-1].login == USER
    close_exchangelib()
    with pytest.raises(UnauthorizedError):
        sandbox_account(ews_sandbox, password="wrong", auth_type="ntlm").inbox  # noqa: B018


def test_ntlm_domain_login_impersonates(ews_sandbox: EwsSandbox) -> None:
    ews_sandbox.add_service_account("SANDBOX\\svc-ntlm", "pw-ntlm")
    account = sandbox_account(
        ews_sandbox, USER, "pw-ntlm", login="SANDBOX\\svc-ntlm", impersonate=True, auth_type="ntlm"
    )
    assert account.inbox.name == "Inbox"
    last = ews_sandbox.requests[-1]
    assert (last.login, last.impersonated) == ("SANDBOX\\svc-ntlm", USER)


def test_basic_refused_when_only_ntlm_is_offered(ews_sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = ews_sandbox_factory(auth=("ntlm",))
    with pytest.raises(UnauthorizedError):
        sandbox_account(sandbox).inbox  # noqa: B018
    close_exchangelib()  # exchangelib's protocol cache ignores the auth type
    assert sandbox_account(sandbox, auth_type="ntlm").inbox.name == "Inbox"


def test_impersonation_by_the_service_account(ews_sandbox: EwsSandbox) -> None:
    ews_sandbox.add_mailbox("bert@example.test", display_name="Bert")
    account = sandbox_account(ews_sandbox, "bert@example.test", impersonate=True)
    Message(account=account, folder=account.inbox, mime_content=make_message(1)).save()
    assert len(ews_sandbox.mailbox("bert@example.test").items_in("Inbox")) == 1
    assert ews_sandbox.mailbox(USER).items_in("Inbox") == []
    last = ews_sandbox.requests[-1]
    assert (last.login, last.impersonated) == (SERVICE_LOGIN, "bert@example.test")


def test_impersonation_needs_the_right(ews_sandbox: EwsSandbox) -> None:
    ews_sandbox.add_service_account("helpdesk@example.test", "pw", impersonate=False)
    account = sandbox_account(
        ews_sandbox, USER, "pw", login="helpdesk@example.test", impersonate=True
    )
    with pytest.raises(ErrorImpersonateUserDenied):
        account.inbox  # noqa: B018


def test_impersonating_a_missing_mailbox(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox, "nobody@example.test", impersonate=True)
    with pytest.raises(ErrorNonExistentMailbox):
        account.inbox  # noqa: B018


def test_other_mailbox_without_rights_is_denied(ews_sandbox: EwsSandbox) -> None:
    ews_sandbox.add_mailbox("carla@example.test", "pw-c")
    account = sandbox_account(ews_sandbox, USER, "pw-c", login="carla@example.test")
    with pytest.raises(ErrorAccessDenied):
        account.inbox  # noqa: B018
    ews_sandbox.grant_full_access("carla@example.test", USER)
    assert sandbox_account(ews_sandbox, USER, "pw-c", login="carla@example.test").inbox


def test_resolve_names_tells_whether_a_mailbox_exists(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    (found,) = account.protocol.resolve_names([USER])
    assert found.email_address == USER and found.name == "Anna Beispiel"
    missing = account.protocol.resolve_names(["ghost@example.test"])
    assert isinstance(missing[0], ErrorNameResolutionNoResults) or missing == []


def test_https_with_a_pinned_certificate(ews_sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = ews_sandbox_factory(tls=True)
    assert sandbox.url.startswith("https://127.0.0.1:")
    pem = ssl.get_server_certificate(("127.0.0.1", sandbox.port))
    import hashlib

    assert hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest() == sandbox.fingerprint

    # Without a pin the self-signed certificate is refused.
    with pytest.raises(TransportError):
        sandbox_account(sandbox).inbox  # noqa: B018
    with exchangelib_adapter(pinned_adapter(sandbox.fingerprint)):
        assert sandbox_account(sandbox).inbox.name == "Inbox"
    with exchangelib_adapter(pinned_adapter("00" * 32)), pytest.raises(TransportError):
        sandbox_account(sandbox).inbox  # noqa: B018


def test_plain_http_post_without_soap(ews_sandbox: EwsSandbox) -> None:
    answer = requests.post(ews_sandbox.url, data=b"<x/>", auth=(USER, PASSWORD), timeout=5)
    assert answer.status_code == 500 and b"ErrorSchemaValidation" in answer.content
    assert requests.get(ews_sandbox.url, timeout=5).status_code == 405


def test_mailboxes_persist_in_the_storage_dir(tmp_path: Path) -> None:
    from tests.servers.ews import close_exchangelib, start_sandbox

    store = tmp_path / "ews"
    first = start_sandbox(storage_dir=store, autosave_seconds=0.1)
    raw = make_message(9)
    try:
        account = sandbox_account(first)
        Message(account=account, folder=account.inbox, mime_content=raw, is_read=True).save()
        item_id = first.mailbox(USER).items_in("Inbox")[0].item_id
        # Saved while running (a killed demo keeps it), without the logins.
        saved = store / "mailboxes.json"
        deadline = time.monotonic() + 10
        while item_id not in (saved.read_text() if saved.exists() else ""):
            assert time.monotonic() < deadline, "not saved within 10 s"
            time.sleep(0.1)
        assert PASSWORD not in saved.read_text()
    finally:
        close_exchangelib()
        first.stop()
    second = start_sandbox(storage_dir=store)
    try:
        (item,) = sandbox_account(second).fetch(ids=[(item_id, None)])
        assert item.mime_content == raw and item.is_read
    finally:
        close_exchangelib()
        second.stop()
