"""Cyrus IMAP 3.6 as the source ("." separator, INBOX. prefix, SPECIAL-USE): copy and verify."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.servers.cyrus import CyrusServer
from tests.servers.dovecot import SeedMessage, make_message
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.cli import DEST_ENV, SOURCE_ENV
from wizard.copy.connect import source_factory, target_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.ledger import CopyLedger
from wizard.copy.verify import verify
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore

from .corpus import snapshot

# Cyrus folder -> where the Dovecot target ("." separator, Exchange-like names) holds it.
EXPECTED = {
    "INBOX": "INBOX",
    "INBOX.Sent": "Sent Items",
    "INBOX.Spam": "Junk E-mail",
    "INBOX.Kunden": "Kunden",
    "INBOX.Kunden.Müller & Söhne": "Kunden.Müller & Söhne",
}


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    s = create_session("Cyrus Source", "cyrus.example", example_profile())
    yield s
    s.close()


def _seeded(cyrus: CyrusServer) -> str:
    user = cyrus.add_user(tree=("Kunden", "Kunden/Müller & Söhne"))
    cyrus.seed(
        user.login,
        "INBOX",
        [
            SeedMessage(make_message(n, size=n * 500), ("\\Seen",) if n % 2 else ())
            for n in range(8)
        ],
    )
    cyrus.seed(user.login, "Sent", [SeedMessage(make_message(20), ("\\Seen", "\\Answered"))])
    cyrus.seed(user.login, "Spam", [make_message(30)])
    cyrus.seed(user.login, "Kunden/Müller & Söhne", [SeedMessage(make_message(40), ("\\Flagged",))])
    return user.login


def _job(cyrus: CyrusServer, login: str, dovecots, target_user: str) -> MailboxJob:  # type: ignore[no-untyped-def]
    _src, dst = dovecots
    return MailboxJob(
        mailbox=f"{target_user}@new.example",
        source=source_factory(parse_endpoint(cyrus.url(login)), cyrus.accounts[login].password),
        target=target_factory(parse_endpoint(dst.url(target_user)), dst.password),
        label=login,
    )


def test_copy_from_cyrus_is_exact_and_verifies(cyrus, dovecots, users, store: SessionStore) -> None:
    _src, dst = dovecots
    login = _seeded(cyrus)
    source = cyrus.client(login)
    before = {folder: snapshot(source, folder) for folder in EXPECTED}
    job = _job(cyrus, login, dovecots, users[1])

    result = CopyEngine(CopyLedger(store), [job], CopySettings(batch_messages=3)).run()

    assert result.ok, result
    target = dst.client(users[1])
    for folder, target_folder in EXPECTED.items():
        assert snapshot(target, target_folder) == before[folder], folder
    assert snapshot(cyrus.client(login), "INBOX") == before["INBOX"]  # \Seen untouched
    # Cyrus's empty Archive is there, unsubscribed as the customer had it.
    assert target.folder_status("Archive", ["MESSAGES"])[b"MESSAGES"] == 0
    assert "Archive" not in {name for _f, _d, name in target.list_sub_folders()}
    check = verify(store, [job], step="10")
    assert check.ok, [f for f in check.mailboxes[0].folders if not f.ok]
    counts = {f.source_folder: (f.source_count, f.target_count) for f in check.mailboxes[0].folders}
    assert counts["INBOX"] == (8, 8) and counts["INBOX.Spam"] == (1, 1)


def test_verify_catches_three_duplicates_on_a_copy_from_cyrus(
    cyrus, dovecots, users, store: SessionStore
) -> None:
    _src, dst = dovecots
    login = _seeded(cyrus)
    job = _job(cyrus, login, dovecots, users[1])
    assert CopyEngine(CopyLedger(store), [job], CopySettings()).run().ok
    raw = cyrus.read(login, "Kunden/Müller & Söhne")[0].raw
    target = dst.client(users[1])
    for _ in range(3):
        target.append("Kunden.Müller & Söhne", raw)

    result = verify(store, [job], step="10")

    folder = next(f for f in result.mailboxes[0].folders if f.target_folder.startswith("Kunden."))
    assert (folder.source_count, folder.target_count, folder.duplicated_count) == (1, 4, 3)
    assert not result.ok and "3 duplicated on the target" in result.summary()


def test_adhoc_verify_from_cyrus_with_json(
    cyrus, dovecots, users, tmp_path: Path, monkeypatch, capsys
) -> None:
    _src, dst = dovecots
    login = _seeded(cyrus)
    monkeypatch.setenv(SOURCE_ENV, cyrus.accounts[login].password)
    monkeypatch.setenv(DEST_ENV, dst.password)
    args = ["--source", cyrus.url(login), "--dest", dst.url(users[1])]
    args += ["--ledger", str(tmp_path / "cyrus.onboard")]
    assert main(["copy", *args, "--json"]) == Exit.OK
    capsys.readouterr()
    assert main(["verify", *args, "--json"]) == Exit.OK
    data = json.loads(capsys.readouterr().out)
    assert data["ok"]
    folders = Counter(f["target_folder"] for f in data["mailboxes"][0]["folders"])
    assert folders["Junk E-mail"] == 1 and folders["Kunden.Müller & Söhne"] == 1


def test_check_imap_shows_the_role_the_copy_uses(cyrus, capsys, monkeypatch) -> None:
    login = _seeded(cyrus)
    monkeypatch.setenv(SOURCE_ENV, cyrus.accounts[login].password)
    assert main(["check", "imap", cyrus.url(login), "--json"]) == Exit.OK
    data = json.loads(capsys.readouterr().out)
    roles = {f["name"]: f["role"] for f in data["folders"]}
    assert roles["INBOX.Spam"] == "junk" and roles["INBOX.Sent"] == "sent"
    assert roles["INBOX.Kunden"] == ""
