"""A message the source cannot read (Dovecot hangs up with "FETCH failed: Internal error" on a
mail file it cannot open): that message fails alone, with the server's words, the rest of the
folder is copied at once, and a rerun once it is readable again copies it, nothing twice."""

from __future__ import annotations

import os
import time
from collections import Counter

from tests.copy.corpus import WHEN, message
from tests.copy.one_run import copy_one
from tests.servers.dovecot import DovecotFactory, DovecotServer, SeedMessage
from wizard.copy.bulk import mailbox_verdict
from wizard.copy.connect import source_factory, target_factory
from wizard.copy.events import MailboxState
from wizard.copy.ledger import CopyLedger, MessageState
from wizard.endpoint import parse_endpoint
from wizard.profile import example_profile
from wizard.session import create_session


def test_a_message_the_source_cannot_read_fails_alone_and_the_rerun_copies_it(
    dovecot: DovecotServer, dovecot_factory: DovecotFactory
) -> None:
    user = dovecot.add_user()
    raws = [message(n, size=3_000) for n in range(20)]
    dovecot.seed(user.login, "INBOX", [SeedMessage(r, (), WHEN) for r in raws])
    files = [p for p in dovecot.home(user.login).rglob("*") if p.parent.name in ("cur", "new")]
    stored = raws[2].replace(b"\r\n", b"\n")  # maildir keeps LF line ends on disk
    broken = next(p for p in files if p.read_bytes().replace(b"\r\n", b"\n") == stored)  # UID 3
    mode = broken.stat().st_mode
    os.chmod(broken, 0)  # the server's mail user can no longer open it
    target = dovecot_factory()
    dest = target.add_user()

    def copy() -> tuple:  # type: ignore[type-arg]
        return copy_one(
            dest.login,
            source_factory(
                parse_endpoint(f"imap://{user.login}@127.0.0.1:{dovecot.imap_port}?tls=none"),
                user.password,
            ),
            target_factory(
                parse_endpoint(f"imap://{dest.login}@127.0.0.1:{target.imap_port}?tls=none"),
                dest.password,
            ),
            store=store,
        )

    store = create_session("Unreadable", "unreadable.example", example_profile())
    try:
        started = time.monotonic()
        result, logs = copy()
        assert time.monotonic() - started < 10, logs  # not the whole back-off before each part
        problems = CopyLedger(store).problems(dest.login)
        assert result.state is MailboxState.DONE, (result.error, logs)
        assert (result.copied, result.failed) == (19, 1)
        assert [(p.uid, p.state) for p in problems] == [(3, MessageState.FAILED)]
        assert problems[0].reason.startswith("the source could not read it"), problems[0].reason
        assert "Internal error" in problems[0].reason
        assert Counter(m.raw for m in target.read(dest.login, "INBOX")) == Counter(
            r for n, r in enumerate(raws) if n != 2
        )

        os.chmod(broken, mode)  # repaired on the server
        again, logs = copy()
    finally:
        store.close()
    assert again.state is MailboxState.DONE, (again.error, logs)
    assert (again.copied, again.failed) == (1, 0)
    assert Counter(m.raw for m in target.read(dest.login, "INBOX")) == Counter(raws)


def test_a_folder_the_source_cannot_open_fails_alone_and_the_others_are_copied(
    dovecot: DovecotServer, dovecot_factory: DovecotFactory
) -> None:
    """Dovecot answers NO [SERVERBUG] for a folder it cannot open: retried a few times (not
    waited out for 15 minutes like a busy server), then reported; the other folders are copied
    and the mailbox is not called ok. Once it opens again, the rerun copies it."""
    user = dovecot.add_user()
    raws = {
        name: [message(base + n, size=3_000) for n in range(5)]
        for name, base in (("INBOX", 0), ("Archiv", 10), ("Kunden", 20))
    }
    for name, folder_raws in raws.items():
        dovecot.seed(user.login, name, [SeedMessage(r, (), WHEN) for r in folder_raws])
    folder_dir = dovecot.home(user.login) / "mail" / ".Archiv"
    mode = folder_dir.stat().st_mode
    os.chmod(folder_dir, 0)
    target = dovecot_factory()
    dest = target.add_user()
    source = source_factory(
        parse_endpoint(f"imap://{user.login}@127.0.0.1:{dovecot.imap_port}?tls=none"),
        user.password,
    )
    dest_of = target_factory(
        parse_endpoint(f"imap://{dest.login}@127.0.0.1:{target.imap_port}?tls=none"),
        dest.password,
    )
    store = create_session("Unopened", "unopened.example", example_profile())
    try:
        result, logs = copy_one(dest.login, source, dest_of, store=store, backoff_initial=0.05)
        os.chmod(folder_dir, mode)  # repaired on the server
        again, _ = copy_one(dest.login, source, dest_of, store=store, backoff_initial=0.05)
    finally:
        store.close()
    assert result.state is MailboxState.DONE and not result.ok, (result.error, logs)
    assert result.copied == 10
    (unopened,) = [f for f in result.folders if f.error]
    assert unopened.folder == "Archiv" and "[SERVERBUG]" in unopened.error
    assert mailbox_verdict(result) == "CHECK: the source could not open Archiv"
    assert "the source could not open Archiv" in logs[-1], logs[-1]
    for name in ("INBOX", "Kunden"):
        assert Counter(m.raw for m in target.read(dest.login, name)) == Counter(raws[name])
    assert again.ok and again.copied == 5, again
    assert Counter(m.raw for m in target.read(dest.login, "Archiv")) == Counter(raws["Archiv"])
