"""The demo company: the same bytes for the same seed, and the variety an old server holds."""

from __future__ import annotations

import email
import email.policy
import hashlib
from collections import Counter
from datetime import UTC, datetime

from wizard.devservers.demo import DemoCompany, generate_company
from wizard.imap.folders import assign_roles


def fingerprint(company: DemoCompany) -> str:
    digest = hashlib.sha256()
    for mailbox in company.mailboxes:
        digest.update(f"{mailbox.login}:{mailbox.password}".encode())
        for folder in mailbox.folders:
            digest.update(folder.name.encode())
            for message in folder.messages:
                digest.update(message.raw)
                digest.update(" ".join(message.flags).encode())
                digest.update(message.internal_date.isoformat().encode())
    return digest.hexdigest()


def all_messages(company: DemoCompany) -> list:
    return [m for mb in company.mailboxes for f in mb.folders for m in f.messages]


def test_same_seed_same_bytes_other_seed_other_mail(demo_company: DemoCompany) -> None:
    again = generate_company(demo_company.seed)
    assert fingerprint(again) == fingerprint(demo_company)
    other = generate_company(demo_company.seed + 1)
    assert fingerprint(other) != fingerprint(demo_company)
    # Another seed changes the messages, not the company's shape.
    assert [m.login for m in other.mailboxes] == [m.login for m in demo_company.mailboxes]


def test_five_mailboxes_and_a_few_hundred_messages(demo_company: DemoCompany) -> None:
    assert demo_company.customer == "Demo company"
    assert len(demo_company.mailboxes) == 5
    assert 300 <= demo_company.message_count <= 450
    for mailbox in demo_company.mailboxes:
        assert mailbox.address.endswith("@" + demo_company.domain)
        assert mailbox.password and mailbox.password != mailbox.login
        assert mailbox.message_count >= 50
        assert mailbox.folder("INBOX").messages
    logins = [m.login for m in demo_company.mailboxes]
    assert len(set(logins)) == 5


def test_folders_nested_non_ascii_and_named_like_old_clients(demo_company: DemoCompany) -> None:
    names = [f.name for mb in demo_company.mailboxes for f in mb.folders]
    assert any(len(f.path) >= 3 for mb in demo_company.mailboxes for f in mb.folders)
    assert "INBOX/Wichtig" in names  # a folder below the inbox
    assert sum(1 for n in names if not n.isascii()) >= 4
    assert "项目/上海展会" in names  # not even Latin script
    # No SPECIAL-USE on the server: the tool must find the roles from the names alone.
    for mailbox in demo_company.mailboxes:
        raw = [((), "/", f.name) for f in mailbox.folders]
        found = {f.name: f.role for f in assign_roles(raw)}
        for folder in mailbox.folders:
            if folder.role in ("sent", "drafts", "trash", "junk"):
                assert found[folder.name] == folder.role, (mailbox.login, folder.name)


def test_attachments_of_several_kinds_and_one_bigger_scan(demo_company: DemoCompany) -> None:
    kinds: Counter[str] = Counter()
    with_attachment = 0
    messages = all_messages(demo_company)
    for message in messages:
        parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
        attachments = list(parsed.iter_attachments())
        with_attachment += bool(attachments)
        for part in attachments:
            kinds[part.get_content_type()] += 1
            assert part.get_payload(decode=True)
    assert with_attachment >= len(messages) // 4
    for kind in ("application/pdf", "image/png", "text/csv", "text/calendar", "image/tiff"):
        assert kinds[kind] >= 1, kind
    biggest = max(m.size for m in messages)
    assert biggest > 150_000
    non_ascii_names = [
        part.get_filename()
        for m in messages
        for part in email.message_from_bytes(m.raw, policy=email.policy.default).iter_attachments()
        if not (part.get_filename() or "").isascii()
    ]
    assert "Übersicht.txt" in non_ascii_names


def test_flags_dates_and_message_ids(demo_company: DemoCompany) -> None:
    messages = all_messages(demo_company)
    flags = Counter(flag for m in messages for flag in m.flags)
    for flag in ("\\Seen", "\\Answered", "\\Flagged", "\\Draft", "$Forwarded"):
        assert flags[flag] >= 1, flag
    assert any(not m.flags for m in messages)  # unread mail
    dates = [m.internal_date for m in messages]
    assert min(dates) < datetime(2011, 1, 1, tzinfo=UTC)
    assert max(dates) - min(dates) > (datetime(2020, 1, 1) - datetime(2010, 1, 1))
    without_id = [m for m in messages if not m.message_id]
    assert len(without_id) == 2
    for message in messages:
        parsed = email.message_from_bytes(message.raw, policy=email.policy.default)
        assert parsed["Date"] and parsed["From"] and parsed["Subject"] is not None
        assert (parsed["Message-ID"] or "") == message.message_id
        assert b"\r\n" in message.raw and b"\n" not in message.raw.replace(b"\r\n", b"")
    ids = [m.message_id for m in messages if m.message_id]
    assert len(ids) == len(set(ids))
    # Archived years hold mail of that year.
    archive = demo_company.mailbox("anna.bergstrom").folder("Archive/2012")
    assert {m.internal_date.year for m in archive.messages} <= {2012, 2013}


def test_scale_shrinks_for_quick_tests() -> None:
    small = generate_company(scale=0.2)
    assert len(small.mailboxes) == 5
    assert small.message_count < 120
    assert all(folder.messages for mb in small.mailboxes for folder in mb.folders)
