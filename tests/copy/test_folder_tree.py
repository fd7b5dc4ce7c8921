"""The customer's folder tree on the target: empty folders, subscriptions, localized special
folders, \\Deleted messages and the flag changes of a differential run (real Dovecots)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.servers.dovecot import DovecotServer, SeedMessage, make_message
from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.cli import DEST_ENV, SOURCE_ENV
from wizard.copy.connect import source_factory, target_factory
from wizard.copy.engine import CopyEngine, CopySettings, MailboxJob
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import CopyLedger, MessageState
from wizard.copy.verify import verify
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    s = create_session("Folder Tree", "tree.example", example_profile())
    yield s
    s.close()


def _job(source: DovecotServer, login: str, dovecots, target_user: str, **options) -> MailboxJob:  # type: ignore[no-untyped-def]
    _src, dst = dovecots
    url = f"imap://{login}@{source.host}:{source.imap_port}?tls=none"
    return MailboxJob(
        mailbox=f"{target_user}@new.example",
        source=source_factory(parse_endpoint(url), source.accounts[login].password),
        target=target_factory(parse_endpoint(dst.url(target_user)), dst.password),
        options=PlanOptions(**options),
        label=login,
    )


def _listed(client) -> tuple[set[str], set[str]]:  # type: ignore[no-untyped-def]
    folders = {name for _f, _d, name in client.list_folders()}
    subscribed = {name for _f, _d, name in client.list_sub_folders()}
    return folders, subscribed


def test_empty_folders_are_created_with_their_subscription(
    dovecot: DovecotServer, dovecots, users, store: SessionStore
) -> None:
    _src, dst = dovecots
    user = dovecot.add_user(tree=True)  # Projects, Projects/2024/Q1, Kunden, Entwürfe, 日本語
    dovecot.seed(user.login, "Kunden/Müller & Söhne", [make_message(1)])
    with dovecot.client(user.login) as c:
        for name in ("Projects", "Projects/2024/Q1", "Kunden/Müller & Söhne", "日本語"):
            c.subscribe_folder(dovecot.folder(name))
    job = _job(dovecot, user.login, dovecots, users[1])

    result = CopyEngine(CopyLedger(store), [job], CopySettings()).run()

    assert result.ok, result
    folders, subscribed = _listed(dst.client(users[1]))
    wanted = {"Projects", "Projects.2024", "Projects.2024.Q1", "Kunden", "Entwürfe", "日本語"}
    assert wanted | {"Kunden.Müller & Söhne"} <= folders
    assert {"Projects", "Projects.2024.Q1", "Kunden.Müller & Söhne", "日本語"} <= subscribed
    assert not {"Projects.2024", "Kunden", "Entwürfe"} & subscribed  # unsubscribed there too
    assert "Sent Items" in subscribed
    assert verify(store, [job], step="10").ok


def test_subscriptions_the_target_already_has_are_set_as_on_the_source(
    dovecot: DovecotServer, dovecots, users, store: SessionStore
) -> None:
    """The target's subscriptions are read once (LSUB) and only what differs is changed."""
    _src, dst = dovecots
    user = dovecot.add_user(tree=True)  # Projects, Projects/2024/Q1, Kunden, Entwürfe, 日本語
    with dovecot.client(user.login) as c:
        c.subscribe_folder(dovecot.folder("Projects"))
    with dst.client(users[1]) as c:
        for name in ("Projects", "Projects.2024", "Projects.2024.Q1", "Kunden"):
            c.create_folder(name)
        c.subscribe_folder("Projects.2024.Q1")  # unsubscribed on the source, both
        c.subscribe_folder("Kunden")
    job = _job(dovecot, user.login, dovecots, users[1])

    result = CopyEngine(CopyLedger(store), [job], CopySettings()).run()

    assert result.ok, result
    with dst.client(users[1]) as c:
        folders, subscribed = _listed(c)
    assert {"Projects", "Projects.2024", "Projects.2024.Q1", "Kunden", "Entwürfe"} <= folders
    assert "Projects" in subscribed
    assert not {"Projects.2024", "Projects.2024.Q1", "Kunden", "Entwürfe"} & subscribed


def test_a_folder_the_target_lists_as_noselect_is_made_a_folder_and_gets_its_mail(
    dovecot: DovecotServer, dovecots, users, store: SessionStore
) -> None:
    """On the target, "Projects" is only the \\Noselect parent of a "Projects.2024" made
    there before; the source's "Projects" holds mail: it is created and every message lands."""
    _src, dst = dovecots
    user = dovecot.add_user(tree=True)  # Projects, Projects/2024/Q1, ...
    dovecot.seed(user.login, "Projects", [make_message(1), make_message(2)])
    with dst.client(users[1]) as c:
        c.create_folder("Projects.2024")
        assert b"\\Noselect" in next(f for f, _d, n in c.list_folders() if n == "Projects")
    job = _job(dovecot, user.login, dovecots, users[1])

    result = CopyEngine(CopyLedger(store), [job], CopySettings()).run()

    assert result.ok and result.failed == 0, result
    with dst.client(users[1]) as c:
        c.select_folder("Projects", readonly=True)
        assert len(c.search("ALL")) == 2
    assert verify(store, [job], step="10").ok


def test_localized_special_folders_of_a_server_without_special_use(
    dovecot_factory, dovecots, users, store: SessionStore, capsys, tmp_path: Path, monkeypatch
) -> None:
    _src, dst = dovecots
    names = {
        "\\Sent": "Gesendete Elemente",
        "\\Drafts": "Brouillons",
        "\\Trash": "Elementos eliminados",
        "\\Junk": "Junk-E-Mail",
    }
    source = dovecot_factory(special_use=False, special_folders=names)
    user = source.add_user()
    source.create_folders(user.login, ["Archiv", "Kunden/Sent"])
    for n, folder in enumerate([*names.values(), "Archiv", "Kunden/Sent"]):
        source.seed(user.login, folder, [make_message(n)])
    monkeypatch.setenv(SOURCE_ENV, user.password)
    monkeypatch.setenv(DEST_ENV, dst.password)
    url = f"imap://{user.login}@{source.host}:{source.imap_port}?tls=none"
    args = ["--source", url, "--dest", dst.url(users[1]), "--ledger", str(tmp_path / "l.onboard")]

    assert main(["copy", *args, "--dry-run"]) == Exit.OK
    plan = capsys.readouterr().out
    sent = next(line for line in plan.splitlines() if "'Gesendete Elemente'" in line)
    assert "'Sent Items'" in sent and "its name 'Gesendete Elemente'" in sent
    deep = next(line for line in plan.splitlines() if "'Kunden/Sent'" in line)
    assert "'Kunden.Sent'" in deep and "user folder: keeps its name" in deep

    assert main(["copy", *args, "--json"]) == Exit.OK
    capsys.readouterr()
    target = dst.client(users[1])
    counts = {
        f: target.folder_status(f, ["MESSAGES"])[b"MESSAGES"]
        for f in ("Sent Items", "Drafts", "Deleted Items", "Junk E-mail", "Archive", "Kunden.Sent")
    }
    assert counts == dict.fromkeys(counts, 1)
    assert not {"Gesendete Elemente", "Brouillons", "Archiv"} & _listed(target)[0]
    assert main(["verify", *args]) == Exit.OK
    capsys.readouterr()
    # check imap names the same roles the copy used, and says they come from the names.
    assert main(["check", "imap", url, "--json"]) == Exit.OK
    roles = {
        f["name"]: (f["role"], f["role_from"])
        for f in json.loads(capsys.readouterr().out)["folders"]
    }
    assert roles["Gesendete Elemente"] == ("sent", "name")
    assert roles["Junk-E-Mail"] == ("junk", "name") and roles["Archiv"] == ("archive", "name")
    assert roles["Kunden/Sent"] == ("", "")


def test_deleted_messages_are_skipped_with_the_reason_unless_asked(
    dovecot: DovecotServer, dovecots, users, store: SessionStore
) -> None:
    _src, dst = dovecots
    user = dovecot.add_user()
    dovecot.seed(
        user.login,
        "INBOX",
        [make_message(1), SeedMessage(make_message(2), ("\\Deleted", "\\Seen")), make_message(3)],
    )
    job = _job(dovecot, user.login, dovecots, users[1])

    result = CopyEngine(CopyLedger(store), [job], CopySettings()).run().mailboxes[0]

    assert result.ok and (result.copied, result.skipped) == (2, 1)
    (row,) = CopyLedger(store).problems(job.mailbox)
    assert row.state is MessageState.SKIPPED and "\\Deleted" in row.reason
    assert dst.client(users[1]).folder_status("INBOX", ["MESSAGES"])[b"MESSAGES"] == 2
    check = verify(store, [job], step="10")
    assert check.ok and check.mailboxes[0].skipped == 1

    other = f"{users[1]}x"
    asked = _job(dovecot, user.login, dovecots, other, copy_deleted=True)
    assert CopyEngine(CopyLedger(store), [asked], CopySettings()).run().copied == 3
    target = dst.client(other)
    target.select_folder("INBOX", readonly=True)
    assert len(target.search(["DELETED"])) == 1


def test_a_differential_run_reports_the_flag_changes_it_applied(
    dovecot: DovecotServer, dovecots, users, tmp_path: Path, monkeypatch, capsys
) -> None:
    _src, dst = dovecots
    user = dovecot.add_user()
    dovecot.seed(user.login, "INBOX", [make_message(n) for n in range(4)])
    monkeypatch.setenv(SOURCE_ENV, user.password)
    monkeypatch.setenv(DEST_ENV, dst.password)
    url = f"imap://{user.login}@{dovecot.host}:{dovecot.imap_port}?tls=none"
    args = ["--source", url, "--dest", dst.url(users[1]), "--ledger", str(tmp_path / "l.onboard")]
    assert main(["copy", *args, "--json"]) == Exit.OK
    capsys.readouterr()
    with dovecot.client(user.login) as c:
        c.select_folder("INBOX")
        c.add_flags(c.search("ALL")[:2], [b"\\Flagged"])

    assert main(["copy", *args, "--differential"]) == Exit.OK
    out = capsys.readouterr().out
    assert "2 flag changes on the source (2 applied on the target)" in out
    assert main(["copy", *args, "--differential", "--json"]) == Exit.OK
    data = json.loads(capsys.readouterr().out)
    assert data["mailboxes"][0]["flag_changes"] == 0  # nothing changed since
    target = dst.client(users[1])
    target.select_folder("INBOX", readonly=True)
    assert len(target.search(["FLAGGED"])) == 2
