"""Verification between two real Dovecots: strict (missing, extra, duplicated) and read-only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wizard.cli import main
from wizard.cliutil import Exit
from wizard.copy.cli import DEST_ENV, SOURCE_ENV
from wizard.copy.verify import latest_verification, verify
from wizard.report import build_report
from wizard.store import StepState

from .corpus import message, populate
from .test_imap_to_imap import job_for, run, store  # noqa: F401 - the store fixture


def _target_state(client) -> dict[str, tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    """Per target folder: (messages, unseen, UIDNEXT): what a write would change."""
    out = {}
    for _flags, _delim, name in client.list_folders():
        status = client.folder_status(name, ["MESSAGES", "UNSEEN", "UIDNEXT"])
        out[name] = (status[b"MESSAGES"], status[b"UNSEEN"], status[b"UIDNEXT"])
    return out


def test_verify_catches_three_appended_duplicates(dovecots, users, store) -> None:  # noqa: F811
    src, dst = dovecots
    populate(src.client(users[0]))
    run(store, job_for(dovecots, users))
    job = job_for(dovecots, users)
    assert verify(store, [job], step="10").ok
    target = dst.client(users[1])
    for _ in range(3):
        target.append("INBOX", message(1, size=900))  # a message the source has once
    result = verify(store, [job], step="10")
    assert not result.ok
    inbox = next(f for f in result.mailboxes[0].folders if f.source_folder == "INBOX")
    assert inbox.duplicated_count == 3 and inbox.duplicated == ("<msg-1@old.example>",) * 3
    assert inbox.missing_count == 0 and inbox.extra_count == 0
    assert inbox.target_count == inbox.source_count + 3
    assert "3 duplicated on the target" in result.summary()
    assert "every message is on the target" not in result.summary()
    # Step 10 ticked off anyway: the report keeps the failed check as an open item.
    store.set_step_state("10", StepState.DONE)
    items = [i.what for i in build_report(store).open_items if i.step == "10"]
    assert items and "3 duplicated on the target" in items[0]


def test_a_message_only_the_target_has_is_extra(dovecots, users, store) -> None:  # noqa: F811
    src, dst = dovecots
    populate(src.client(users[0]))
    run(store, job_for(dovecots, users))
    dst.client(users[1]).append("Sent Items", message(777))
    result = verify(store, [job_for(dovecots, users)], step="10")
    sent = next(f for f in result.mailboxes[0].folders if f.source_folder == "Sent")
    assert sent.extra == ("<msg-777@old.example>",) and not sent.ok and not result.ok


def test_verify_never_writes_to_the_target(dovecots, users, store) -> None:  # noqa: F811
    src, dst = dovecots
    populate(src.client(users[0]))
    run(store, job_for(dovecots, users))
    target = dst.client(users[1])
    target.delete_folder("Projekte.2024.Q1")
    target.select_folder("INBOX")
    target.remove_flags(target.search("ALL"), [b"\\Seen"])  # unread: a FETCH BODY[] would read
    target.close_folder()
    before = _target_state(target)

    result = verify(store, [job_for(dovecots, users)], step="10")

    assert not result.ok
    check = result.mailboxes[0]
    deep = next(f for f in check.folders if f.target_folder == "Projekte.2024.Q1")
    assert not deep.target_exists and deep.missing_count == 3
    assert deep.not_copied_count == 0  # copied once, gone from the target since
    assert [m.subject for m in deep.missing_messages] == [
        "Message 400",
        "Message 401",
        "Message 402",
    ]
    assert check.missing_folders == ("Projekte.2024.Q1",)
    assert "1 folder missing on the target" in result.summary()
    assert _target_state(dst.client(users[1])) == before  # the folder stays deleted, all unread


@pytest.fixture
def adhoc(dovecots, users, tmp_path: Path, monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    src, dst = dovecots
    monkeypatch.setenv(SOURCE_ENV, src.password)
    monkeypatch.setenv(DEST_ENV, dst.password)
    ledger = str(tmp_path / "adhoc.onboard")
    return ["--source", src.url(users[0]), "--dest", dst.url(users[1]), "--ledger", ledger]


def test_adhoc_verify_with_json(dovecots, users, adhoc, capsys) -> None:
    src, dst = dovecots
    populate(src.client(users[0]))
    assert main(["verify", *adhoc, "--json"]) == Exit.PROBLEMS  # nothing copied yet
    data = json.loads(capsys.readouterr().out)
    assert not data["ok"] and "messages missing" in data["summary"]
    inbox = next(f for f in data["mailboxes"][0]["folders"] if f["source_folder"] == "INBOX")
    listed = {m["label"]: m for m in inbox["missing_messages"]}  # date (ISO), sender, subject
    assert listed["<msg-0@old.example>"] == {
        "label": "<msg-0@old.example>",
        "date": "2021-03-14T09:26:53+01:00",
        "sender": "Anna Alt <anna@old.example>",
        "subject": "Message 0",
    }
    assert inbox["not_copied_count"] == inbox["missing_count"] == 14
    assert not Path(adhoc[-1]).exists()  # verifying made no ledger

    assert main(["copy", *adhoc, "--json"]) == Exit.OK
    capsys.readouterr()
    assert main(["verify", *adhoc, "--json"]) == Exit.OK
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] and data["summary"].endswith("every message is on the target")
    folders = {f["source_folder"]: f for f in data["mailboxes"][0]["folders"]}
    assert folders["INBOX"]["source_count"] == folders["INBOX"]["target_count"] == 14
    assert SOURCE_ENV not in json.dumps(data) and "secret" not in json.dumps(data)

    dst.client(users[1]).append("INBOX", message(2, size=1800))
    assert main(["verify", *adhoc]) == Exit.PROBLEMS
    table = capsys.readouterr().out
    assert "DUPLICATED" in table and "duplicated <msg-2@old.example>" in table
    line = "INBOX: duplicated <msg-2@old.example>: 14 Mar 2021, 10:26 · Anna Alt <anna@old.example> · Message 2"
    assert line in table
    assert "every message is on the target" not in table


def test_adhoc_verify_takes_a_session_or_urls_not_both(adhoc, capsys) -> None:
    assert main(["verify", "some-session", *adhoc]) == Exit.USAGE
    assert main(["verify", "--source", adhoc[1]]) == Exit.USAGE


def _raw(subject: str, sender: str, date: str, n: int) -> bytes:
    head = [f"From: {sender}", "To: Bert <bert@old.example>", f"Subject: {subject}"]
    head += [f"Date: {date}", f"Message-ID: <late-{n}@old.example>", "MIME-Version: 1.0"]
    return ("\r\n".join(head) + "\r\n\r\nArrived after the copy.\r\n").encode()


def test_missing_and_extra_messages_by_date_sender_and_subject(dovecots, users, store) -> None:  # noqa: F811
    src, dst = dovecots
    source = populate(src.client(users[0]))
    run(store, job_for(dovecots, users))
    client = src.client(users[0])
    # Mail that reached the old server after the copy: an RFC 2047 subject and a hostile one.
    client.append(
        "INBOX",
        _raw(
            "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=",
            "=?iso-8859-1?q?J=FCrgen_Wei=DF?= <juergen@old.example>",
            "Tue, 01 Dec 2026 14:05:00 +0100",
            1,
        ),
    )
    client.append(
        "INBOX",
        _raw("[bold red]PAID[/] \x1b[2J =?utf-8?b?4oCuZXhl?=", "x <x@old.example>", "junk", 2),
    )
    client.select_folder("INBOX")
    client.remove_flags(client.search("ALL"), [b"\\Seen"])  # unread: a FETCH BODY[] would read
    client.close_folder()
    unseen = client.folder_status("INBOX", ["UNSEEN"])[b"UNSEEN"]
    dst.client(users[1]).append("Sent Items", _raw("Only here", "Eve <eve@new.example>", "", 3))

    result = verify(store, [job_for(dovecots, users)], step="10")

    check = result.mailboxes[0]
    inbox = next(f for f in check.folders if f.source_folder == "INBOX")
    assert inbox.missing_count == 2 and inbox.not_copied_count == 2
    assert check.not_copied_count == 2
    assert inbox.missing == ("<late-1@old.example>", "<late-2@old.example>")
    first, hostile = inbox.missing_messages
    assert (first.label, first.date) == ("<late-1@old.example>", "2026-12-01T14:05:00+01:00")
    assert first.sender == "Jürgen Weiß <juergen@old.example>"
    assert first.subject == "Grüße aus München"
    assert (
        first.describe()
        == "1 Dec 2026, 13:05 · Jürgen Weiß <juergen@old.example> · Grüße aus München"
    )
    # Hostile text stays text: markup brackets kept, the escape and the bidi override made spaces.
    assert hostile.subject == "[bold red]PAID[/] [2J exe"
    assert hostile.date  # no readable Date header: when the server received it
    sent = next(f for f in check.folders if f.source_folder == "Sent")
    (extra,) = sent.extra_messages
    assert (extra.sender, extra.subject) == ("Eve <eve@new.example>", "Only here")
    # Read-only: the header fetch set no \Seen on the source.
    assert src.client(users[0]).folder_status("INBOX", ["UNSEEN"])[b"UNSEEN"] == unseen
    # Saved and read back from the evidence as they were.
    again = latest_verification(store, "10")
    assert again is not None and again.mailboxes[0].folders == check.folders
    assert source["INBOX"] + 2 == inbox.source_count
