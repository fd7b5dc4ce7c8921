"""A folder the ledger knows nothing of is listed without headers; each message's identity is
then read from its own bytes. Against a real Dovecot: that identity is the one the server's
header listing gives, for every odd header a mailbox holds, and a copy made that way is found
again by a session that knows nothing of it."""

from __future__ import annotations

from wizard.copy.connect import source_factory, target_factory
from wizard.copy.ledger import CopyLedger, MessageState
from wizard.copy.source import identified
from wizard.copy.target import OutgoingMessage
from wizard.endpoint import parse_endpoint

from .corpus import WHEN, bodies
from .test_imap_to_imap import job_for, run
from .test_reconcile import fresh_store

ODD = [
    b"From: a@old.example\r\nMessage-ID: <plain@old.example>\r\nSubject: plain\r\n\r\nbody\r\n",
    b"Message-ID:\r\n <folded@old.example>\r\nSubject: folded\r\n\tover two lines\r\n\r\nx\r\n",
    b"message-id: <lower@old.example>\r\nSUBJECT: upper  and\ttabs\r\n\r\nx\r\n",
    b"Message-ID: <first@old.example>\r\nMessage-ID: <second@old.example>\r\n\r\nx\r\n",
    b"From: no-id@old.example\r\nTo: b@old.example\r\nSubject: none\r\nDate: Mon, 1 Mar 2021 "
    b"10:00:00 +0100\r\n\r\nMessage-ID: <in-the-body@old.example>\r\n",
    b"Subject: only a header, no body\r\nMessage-ID: <headonly@old.example>\r\n",
    b"From: lf@old.example\nMessage-ID: <bare-lf@old.example>\nSubject: bare LF\n\nbody\n",
    b"From: lf@old.example\nSubject: none\n\nMessage-ID: <lf-body@old.example>\n",
    b"\r\nMessage-ID: <after-an-empty-line@old.example>\r\n",
    b"X-Long: " + b"y" * 3000 + b"\r\nFrom: =?utf-8?q?M=C3=BCller?= <m\xc3\xbc@old.example>\r\n"
    b"Message-ID:   <spaced@old.example>  \r\nSubject:\r\n\r\nx\r\n",
    b"Received: from x\r\n\tby y\r\nMessage-Id : <colon-after-space@old.example>\r\n\r\nx\r\n",
]


def put_odd(server, user: str) -> None:  # type: ignore[no-untyped-def]
    """The odd messages into the user's INBOX as their bytes are (Dovecot then serves a bare LF
    as CRLF; the unit tests read bare LF)."""
    writer = target_factory(parse_endpoint(server.url(user)), server.password)(lambda _e: None)
    try:
        for n, raw in enumerate(ODD):
            assert writer.append("INBOX", [OutgoingMessage(n, raw, internaldate=WHEN)])[0].ok
    finally:
        writer.close()


def test_identity_from_the_bytes_is_the_header_listings(dovecots, users) -> None:  # type: ignore[no-untyped-def]
    src, _dst = dovecots
    put_odd(src, users[0])
    source = source_factory(parse_endpoint(src.url(users[0])), src.password)()
    try:
        with_headers = source.list_messages("INBOX")
        light = source.list_messages("INBOX", headers=False)
        assert not any(m.identified for m in light)
        raws = source.fetch([m.uid for m in light])
        from_bytes = [identified(m, raws[m.uid]) for m in light]
        asked = source.identify("INBOX", [m.uid for m in light])
    finally:
        source.close()
    assert len(with_headers) == len(ODD)
    expected = [(m.message_id, m.header_hash) for m in with_headers]
    assert [(m.message_id, m.header_hash) for m in from_bytes] == expected
    assert [asked[m.uid] for m in light] == expected
    ids = [m.message_id for m in with_headers]
    assert ids[:4] == [
        "<plain@old.example>",
        "<folded@old.example>",
        "<lower@old.example>",
        "<first@old.example>",
    ]
    assert ids[4] == ids[7] == ids[8] == ""  # none in the header: not the one in the body


def test_a_copy_listed_without_headers_is_found_again_by_a_new_session(  # type: ignore[no-untyped-def]
    dovecots, users
) -> None:
    src, dst = dovecots
    put_odd(src, users[0])
    job = job_for(dovecots, users)
    store = fresh_store("first")
    try:
        first, _ = run(store, job)
        rows = CopyLedger(store).messages(job.mailbox, "INBOX")
    finally:
        store.close()
    assert first.ok and first.copied == len(ODD), first.error
    source = job.source()
    try:
        listed = source.list_messages("INBOX")  # with headers, as the server reads them
    finally:
        source.close()
    assert {r.uid: r.message_id for r in rows} == {m.uid: m.message_id for m in listed}
    assert {r.state for r in rows} == {MessageState.COPIED}
    assert all(r.sha256 for r in rows if not r.message_id)  # known by their content instead

    other = fresh_store("light")  # another laptop: what it lists must match what was copied
    try:
        again, _ = run(other, job)
    finally:
        other.close()
    assert again.ok and again.copied == 0 and again.already == len(ODD), again.error
    assert bodies(dst.client(users[1]), "INBOX") == bodies(src.client(users[0]), "INBOX")
