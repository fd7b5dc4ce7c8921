"""The message identity shared by verification and reconciliation: keys and multiset matching."""

from __future__ import annotations

import gc
import time
from datetime import UTC, datetime, timedelta, timezone

from wizard.copy.identity import (
    EWS_RULE,
    HEADER_ITEM,
    IdentityRule,
    MessageIdentity,
    header_fields,
    identity_from_ews,
    identity_from_headers,
    identity_from_imap,
    identity_key,
    match_identities,
    message_id_and_hash,
    raw_message_id_and_hash,
)

WHEN = datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))


def _block(message_id: str = "", subject: str = "Hello") -> bytes:
    lines = []
    if message_id:
        lines.append(f"Message-ID: {message_id}")
    lines += [
        "Date: Fri, 1 Mar 2024 09:30:00 +0100",
        "From: Anna <anna@example.org>",
        "To: bob@example.org",
        f"Subject: {subject}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _mid(n: int, size: int = 100) -> MessageIdentity:
    return MessageIdentity(f"<m{n}@example.org>", size, ref=str(n))


def test_the_imap_listing_asks_for_the_headers_the_identity_hashes() -> None:
    assert HEADER_ITEM == "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]"


def test_an_imap_row_gives_message_id_size_date_and_uid() -> None:
    item = {
        b"RFC822.SIZE": 1234,
        b"INTERNALDATE": WHEN,
        b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]": _block("<a@x>"),
    }
    found = identity_from_imap(7, item)
    assert (found.message_id, found.size, found.received, found.ref) == ("<a@x>", 1234, WHEN, "7")
    assert found.header_hash == ""  # the key is the Message-ID: no header hash needed
    without = identity_from_imap(
        8, {**item, b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]": _block()}
    )
    assert without.message_id == "" and len(without.header_hash) == 24


def test_folded_and_differently_spaced_headers_give_the_same_identity() -> None:
    folded = b"Message-ID:\r\n <a@x>\r\nSubject: Hello\r\n\tworld\r\n"
    plain = b"message-id: <a@x>\r\nsubject:   Hello world\r\n"
    assert header_fields(folded) == header_fields(plain)
    assert identity_from_headers(folded, size=10) == identity_from_headers(plain, size=10)
    assert identity_from_headers(folded, size=10).message_id == "<a@x>"
    no_id = identity_from_headers(folded.split(b"\r\n", 2)[2], size=10)  # Subject only
    assert no_id == identity_from_headers(plain.split(b"\r\n", 1)[1], size=10)
    assert no_id.header_hash and no_id.message_id == ""
    assert no_id.header_hash != identity_from_headers(b"Subject: Hello\r\n", size=10).header_hash


def test_a_whole_message_with_bare_lf_gives_its_headers_identity_not_its_bodys() -> None:
    header = b"From: lf@example.org\nSubject: Hello\n"
    raw = header + b"\nMessage-ID: <in-the-body@example.org>\n"
    assert raw_message_id_and_hash(raw) == message_id_and_hash(header)
    assert raw_message_id_and_hash(raw)[0] == ""
    mixed = b"Message-ID: <a@x>\r\nSubject: Hi\n\r\nMessage-ID: <b@x>\r\n"
    assert raw_message_id_and_hash(mixed)[0] == "<a@x>"


def test_the_message_id_is_found_as_the_header_listing_finds_it() -> None:
    received = b"".join(
        b"Received: from mx%d.example.net\r\n\tby mail.example.com; Mon, 2 Jan 2023\r\n" % n
        for n in range(6)
    )
    cases = [
        received + b"X-Message-ID: <x@x>\r\nMessage-IDs: <s@x>\r\nmessage-id \t:\r\n <a@x>\r\n",
        b"MESSAGE-ID:   <top@x>  \r\nSubject: a\r\n",
        b"Message-ID:\r\nSubject: empty first\r\nMessage-ID: <second@x>\r\n",
        b"Subject: none\r\n\tMessage-ID: <in-a-fold@x>\r\n",
    ]
    found = [raw_message_id_and_hash(h + b"\r\nMessage-ID: <body@x>\r\n") for h in cases]
    assert found == [message_id_and_hash(h) for h in cases]
    assert [f[0] for f in found] == ["<a@x>", "<top@x>", "", ""]
    assert all(f[1] for f in found[2:])  # no Message-ID: the header hash is the key


def test_the_key_is_message_id_plus_size() -> None:
    assert identity_key(_mid(1, 100)) == identity_key(_mid(1, 100))
    assert identity_key(_mid(1, 100)) != identity_key(_mid(1, 101))
    assert identity_key(_mid(1, 100)) != identity_key(_mid(2, 100))


def test_without_message_id_the_key_is_the_header_hash_plus_size() -> None:
    hello = identity_from_headers(_block(subject="Hello"), size=50)
    again = identity_from_headers(_block(subject="Hello"), size=50)
    other = identity_from_headers(_block(subject="Other"), size=50)
    assert identity_key(hello) == identity_key(again)
    assert identity_key(hello) != identity_key(other)
    assert identity_key(hello) != identity_key(identity_from_headers(_block(), size=51))


def test_the_ews_rule_ignores_sizes_and_knows_id_less_messages_by_received_time() -> None:
    source = identity_from_headers(_block("<a@x>"), size=100, received=WHEN)
    item = identity_from_ews("AAMk1", "<a@x>", 4711, WHEN.astimezone(UTC))
    assert identity_key(source, EWS_RULE) == identity_key(item, EWS_RULE)
    assert identity_key(source) != identity_key(item)
    bare = identity_from_headers(_block(), size=100, received=WHEN)
    bare_item = identity_from_ews("AAMk2", None, 999, WHEN.astimezone(UTC))
    assert identity_key(bare, EWS_RULE) == identity_key(bare_item, EWS_RULE)
    assert match_identities([source, bare], [bare_item, item], EWS_RULE).ok


def test_a_complete_target_matches_everything() -> None:
    source = [_mid(n) for n in range(5)]
    target = [_mid(n) for n in reversed(range(5))]
    match = match_identities(source, target)
    assert match.ok
    assert [(s.ref, t.ref) for s, t in match.matched] == [(str(n), str(n)) for n in range(5)]


def test_two_identical_source_messages_need_two_on_the_target() -> None:
    source = [_mid(1), _mid(1), _mid(2)]
    match = match_identities(source, [_mid(1), _mid(2)])
    assert [m.message_id for m in match.missing] == ["<m1@example.org>"]
    assert not match.extra and not match.duplicated and not match.ok


def test_copies_beyond_the_source_are_duplicated_and_strangers_extra() -> None:
    source = [_mid(n) for n in range(3)]
    target = [*source, _mid(0), _mid(0), _mid(2), _mid(9)]
    match = match_identities(source, target)
    assert len(match.matched) == 3 and not match.missing
    assert sorted(m.message_id for m in match.duplicated) == [
        "<m0@example.org>",
        "<m0@example.org>",
        "<m2@example.org>",
    ]
    assert [m.message_id for m in match.extra] == ["<m9@example.org>"]
    assert not match.ok


def test_every_message_duplicated_is_not_ok() -> None:
    source = [_mid(n) for n in range(55)]
    match = match_identities(source, source + source)
    assert len(match.duplicated) == 55 and not match.missing and not match.extra
    assert not match.ok


def test_an_empty_target_misses_everything() -> None:
    match = match_identities([_mid(1), _mid(2)], [])
    assert [m.ref for m in match.missing] == ["1", "2"]


def test_a_label_names_a_message_without_message_id() -> None:
    bare = identity_from_headers(_block(), size=50, received=WHEN)
    assert bare.label.startswith("(no Message-ID, 50 bytes, received 2024-03-01")
    assert _mid(3).label == "<m3@example.org>"


def test_sizes_can_be_left_out() -> None:
    rule = IdentityRule(sizes=False)
    assert identity_key(_mid(1, 100), rule) == identity_key(_mid(1, 999), rule)


def test_four_thousand_messages_are_keyed_and_matched_well_under_a_second() -> None:
    rows = {
        uid: {
            b"RFC822.SIZE": 2000 + uid,
            b"INTERNALDATE": WHEN,
            b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]": _block(
                f"<m{uid}@example.org>" if uid % 10 else "", subject=f"Message {uid}"
            ),
        }
        for uid in range(1, 4001)
    }
    # This thread's CPU time, not the wall clock: on three busy test workers the wall clock
    # counted waits for the other workers (1.09 s once, against 0.1 s of work). Even so a
    # loaded CI run once counted 0.67 s of CPU for about 0.07 s of work, so the best of three
    # is taken, with the collector off (a full collection walks every object the worker's
    # earlier tests left, which is not the matching's cost).
    timings = []
    for _ in range(3):
        gc.collect()
        gc.disable()
        try:
            started = time.thread_time()
            source = [identity_from_imap(uid, row) for uid, row in rows.items()]
            target = [identity_from_imap(uid, row) for uid, row in rows.items()]
            match = match_identities(source, list(reversed(target)))
            timings.append(time.thread_time() - started)
        finally:
            gc.enable()
    elapsed = min(timings)
    assert match.ok and len(match.matched) == 4000
    assert elapsed < 0.5, f"took {elapsed:.3f} s of CPU"
