"""Verification of a copy into the EWS stand-in: strict about duplicates, and never a write;
Cyrus to Exchange ad hoc."""

from __future__ import annotations

import json

import pytest

from tests.servers import ews
from tests.servers.dovecot import DovecotServer, make_message
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.cli import DEST_ENV, SOURCE_ENV
from wizard.copy.connect import Endpoint, source_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.exchange_target import exchange_target_factory
from wizard.copy.ledger import CopyLedger
from wizard.copy.target import OutgoingMessage
from wizard.copy.verify import verify
from wizard.devservers.ews import EwsSandbox
from wizard.events import ignore
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .conftest import delegate_settings


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    s = create_session("Verify Exchange", "verify.example", example_profile())
    yield s
    s.close()


def _copied(dovecot: DovecotServer, sandbox: EwsSandbox, store: SessionStore) -> MailboxJob:
    user = dovecot.add_user()
    dovecot.seed(user.login, "INBOX", [make_message(n) for n in range(55)])
    dovecot.seed(user.login, "Projekte", [make_message(100), make_message(101)])
    source = Endpoint(
        "imap", dovecot.host, dovecot.imaps_port, user.login, "tls", pin=dovecot.fingerprint
    )
    job = MailboxJob(
        mailbox=ews.USER,
        source=source_factory(source, user.password),
        target=exchange_target_factory(delegate_settings(sandbox), ews.USER, ews.PASSWORD),
        label=user.login,
    )
    result = CopyEngine(CopyLedger(store), [job], CopySettings(batch_messages=20)).run()
    assert result.ok, result
    return job


def test_every_message_duplicated_is_a_failure(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, store: SessionStore
) -> None:
    job = _copied(dovecot, ews_sandbox, store)
    first = verify(store, [job], step="10")
    assert first.ok, [f for f in first.mailboxes[0].folders if not f.ok]
    target = job.target(ignore)
    try:  # the same 55 messages written a second time, as a copy with a lost ledger did
        key = target.ensure_folder(("Inbox",))
        sent = [m.raw for m in dovecot.read(job.label, "INBOX")]
        again = [OutgoingMessage(n, raw) for n, raw in enumerate(sent)]
        assert all(r.ok for r in target.append(key, again))
    finally:
        target.close()
    assert len(ews_sandbox.mailbox(ews.USER).items_in("Inbox")) == 110

    result = verify(store, [job], step="10")

    assert not result.ok
    inbox = next(f for f in result.mailboxes[0].folders if f.source_folder == "INBOX")
    assert (inbox.source_count, inbox.target_count) == (55, 110)
    assert inbox.duplicated_count == 55 and inbox.missing_count == 0
    assert "every message is on the target" not in result.summary()
    assert "55 duplicated on the target" in result.summary()
    latest = store.latest_evidence("10", "verification")
    assert latest is not None and latest.ok is False


def test_verify_does_not_recreate_a_deleted_folder(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, store: SessionStore
) -> None:
    job = _copied(dovecot, ews_sandbox, store)
    target = job.target(ignore)
    try:
        ref = target.mailbox.ensure_folder(("Projekte",))
        target.mailbox.folder(ref).delete()
    finally:
        target.close()
    box = ews_sandbox.mailbox(ews.USER)
    assert "Projekte" not in box.folder_paths()
    version = ews_sandbox.store.version

    result = verify(store, [job], step="10")

    assert "Projekte" not in box.folder_paths()
    assert ews_sandbox.store.version == version  # no create, update or delete of any kind
    check = result.mailboxes[0]
    projekte = next(f for f in check.folders if f.source_folder == "Projekte")
    assert not projekte.target_exists and projekte.missing_count == 2
    assert check.missing_folders == ("Projekte",) and not result.ok


def test_cyrus_to_exchange_ad_hoc_copy_and_verify_with_json(
    cyrus, ews_sandbox: EwsSandbox, tmp_path, monkeypatch, capsys
) -> None:
    user = cyrus.add_user(tree=("Kunden", "Leer"))
    cyrus.seed(user.login, "INBOX", [make_message(n) for n in range(5)])
    cyrus.seed(user.login, "Spam", [make_message(10)])
    cyrus.seed(user.login, "Kunden", [make_message(20), make_message(21)])
    monkeypatch.setenv(SOURCE_ENV, user.password)
    monkeypatch.setenv(DEST_ENV, ews.PASSWORD)
    dest = f"ews://{ews.USER}@{ews_sandbox.host}:{ews_sandbox.port}?tls=none"
    args = ["--source", cyrus.url(user.login), "--dest", dest]
    args += ["--ledger", str(tmp_path / "cyrus-ews.onboard")]

    assert main(["copy", *args, "--json"]) == Exit.OK
    capsys.readouterr()
    box = ews_sandbox.mailbox(ews.USER)
    assert len(box.items_in("Junk Email")) == 1 and len(box.items_in("Kunden")) == 2
    assert {"Leer", "Archive"} <= set(box.folder_paths())  # empty folders too
    version = ews_sandbox.store.version
    assert main(["verify", *args, "--json"]) == Exit.OK
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and ews_sandbox.store.version == version
    folders = {f["source_folder"]: f for f in data["mailboxes"][0]["folders"]}
    assert folders["INBOX.Spam"]["target_folder"] == "Junk Email"
    assert (folders["INBOX"]["source_count"], folders["INBOX"]["target_count"]) == (5, 5)


def test_an_item_only_exchange_has_is_shown_by_date_sender_and_subject(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, store: SessionStore
) -> None:
    job = _copied(dovecot, ews_sandbox, store)
    raw = (
        b"From: =?utf-8?q?J=C3=BCrgen_Wei=C3=9F?= <juergen@verify.example>\r\n"
        b"Subject: =?utf-8?q?[bold]Gr=C3=BC=C3=9Fe[/bold]?=\r\n"
        b"Date: Tue, 01 Dec 2026 14:05:00 +0000\r\n"
        b"Message-ID: <only-on-exchange@verify.example>\r\n\r\nDelivered to the new account.\r\n"
    )
    target = job.target(ignore)
    try:
        assert all(
            r.ok for r in target.append(target.ensure_folder(("Inbox",)), [OutgoingMessage(1, raw)])
        )
    finally:
        target.close()
    version = ews_sandbox.store.version

    result = verify(store, [job], step="10")

    assert ews_sandbox.store.version == version  # reading the item's fields wrote nothing
    inbox = next(f for f in result.mailboxes[0].folders if f.source_folder == "INBOX")
    assert inbox.extra == ("<only-on-exchange@verify.example>",)
    (extra,) = inbox.extra_messages
    assert extra.sender == "Jürgen Weiß <juergen@verify.example>"
    assert extra.subject == "[bold]Grüße[/bold]"  # as text: the screens never read it as markup
    assert extra.date == "2026-12-01T14:05:00+00:00"
    assert inbox.not_copied_count == 0 and inbox.missing_count == 0
