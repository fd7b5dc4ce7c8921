"""The copy's own reading of IMAP answers: FETCH, EXAMINE and LIST-STATUS, off a scripted wire."""

from __future__ import annotations

import imaplib
import random
from datetime import datetime, timedelta, timezone

import pytest
from imapclient.exceptions import IMAPClientError

from wizard.copy.imapwire import (
    examine,
    list_statuses,
    parse_internaldate,
    uid_fetch,
)


class Wire:
    """The part of an imaplib connection the reader uses, answering from a script."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.at = 0
        self.sent: list[bytes] = []
        self.tagged_commands: dict[bytes, object] = {}
        self.state = "AUTH"

    def _new_tag(self) -> bytes:
        self.tagged_commands[b"A1"] = None
        return b"A1"

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def readline(self) -> bytes:
        end = self.answer.find(b"\n", self.at)
        end = len(self.answer) if end < 0 else end + 1
        line, self.at = self.answer[self.at : end], end
        return line

    def read(self, size: int) -> bytes:
        data, self.at = self.answer[self.at : self.at + size], self.at + size
        return data


class Client:
    def __init__(self, answer: bytes) -> None:
        self._imap = Wire(answer)

    def _normalise_folder(self, name: str) -> bytes:
        return b'"' + name.encode() + b'"'


HEADER = b'Message-ID: <a@x>\r\nSubject: (a) "b" {3}\r\n\r\n'
BODY = b"From: x\r\n\r\nbare\nLF and a ) paren\r\n* 9 FETCH (UID 99)\r\n"


def test_a_fetch_answer_gives_each_uid_its_items_with_literals_as_sent() -> None:
    answer = (
        b"* 1 FETCH (UID 7 FLAGS (\\Seen $Forwarded) RFC822.SIZE 1234 "
        b'INTERNALDATE " 2-Mar-2024 09:30:05 +0100" '
        b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)] {%d}\r\n"
        % len(HEADER)
        + HEADER
        + b')\r\n* 2 FETCH (FLAGS () UID 8 RFC822.SIZE 5 INTERNALDATE "01-Jan-2020 00:00:00 -0930" '
        b'BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)] "")\r\n'
        b"* 3 FETCH (FLAGS (\\Deleted))\r\n"  # unsolicited: no UID, not an answer to us
        b"* 4 EXISTS\r\n"
        b"A1 OK done\r\n"
    )
    client = Client(answer)
    items = uid_fetch(client, "1:*", "UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER]")
    assert client._imap.sent == [
        b"A1 UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])\r\n"
    ]
    assert sorted(items) == [7, 8]
    first, second = items[7], items[8]
    assert first[b"FLAGS"] == (b"\\Seen", b"$Forwarded")
    assert first[b"RFC822.SIZE"] == 1234
    assert first[b"INTERNALDATE"] == datetime(
        2024, 3, 2, 9, 30, 5, tzinfo=timezone(timedelta(hours=1))
    )
    assert first[b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]"] == HEADER
    assert second[b"FLAGS"] == ()
    assert second[b"INTERNALDATE"].utcoffset() == -timedelta(hours=9, minutes=30)
    assert second[b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]"] == b""
    assert client._imap.tagged_commands == {}  # imaplib's table of open commands stays clean


def test_bodies_come_back_byte_for_byte_and_nil_and_escapes_are_told_apart() -> None:
    answer = (
        b"* 1 FETCH (UID 3 BODY[] {%d}\r\n" % len(BODY)
        + BODY
        + b')\r\n* 2 FETCH (UID 4 BODY[] NIL)\r\n* 3 FETCH (UID 5 BODY[] "NIL \\"q\\" \\\\")\r\n'
        b"A1 OK done\r\n"
    )
    items = uid_fetch(Client(answer), [3, 4, 5], "UID BODY.PEEK[]")
    assert items[3][b"BODY[]"] == BODY
    assert items[4][b"BODY[]"] is None
    assert items[5][b"BODY[]"] == b'NIL "q" \\'


def test_a_refused_command_raises_as_imapclient_would_and_a_closed_connection_aborts() -> None:
    with pytest.raises(IMAPClientError, match="NO \\[UNAVAILABLE\\] try later"):
        uid_fetch(Client(b"A1 NO [UNAVAILABLE] try later\r\n"), [1], "UID BODY.PEEK[]")
    with pytest.raises(imaplib.IMAP4.abort):
        uid_fetch(Client(b"* 1 FETCH (UID 3 BODY[] {10}\r\nabc"), [1], "UID BODY.PEEK[]")
    with pytest.raises(imaplib.IMAP4.abort):
        uid_fetch(Client(b"* BYE shutting down\r\n"), [1], "UID BODY.PEEK[]")


def test_examine_reads_exists_uidvalidity_and_uidnext_and_tells_imaplib_a_folder_is_open() -> None:
    answer = (
        b"* FLAGS (\\Answered \\Seen)\r\n* OK [PERMANENTFLAGS ()] Read-only\r\n* 12 EXISTS\r\n"
        b"* 0 RECENT\r\n* OK [UIDVALIDITY 1700000001] UIDs valid\r\n* OK [UIDNEXT 40] next\r\n"
        b"A1 OK [READ-ONLY] Examine completed\r\n"
    )
    client = Client(answer)
    info = examine(client, "Kunden/Müller")
    assert info == {b"EXISTS": 12, b"UIDVALIDITY": 1700000001, b"UIDNEXT": 40}
    assert client._imap.sent == ['A1 EXAMINE "Kunden/Müller"\r\n'.encode()]
    assert client._imap.state == "SELECTED"
    refused = Client(b"A1 NO Mailbox doesn't exist\r\n")
    refused._imap.state = "SELECTED"
    with pytest.raises(IMAPClientError):
        examine(refused, "Gone")
    assert refused._imap.state == "AUTH"


def test_list_status_gives_every_selectable_folder_its_uidvalidity_by_decoded_name() -> None:
    name = b"Kunden/M&APw-ller"
    answer = (
        b'* LIST (\\HasNoChildren) "/" INBOX\r\n* STATUS INBOX (UIDVALIDITY 5)\r\n'
        b'* LIST (\\Noselect \\HasChildren) "/" Privat\r\n'
        b'* LIST (\\HasNoChildren) "/" {%d}\r\n' % len(name) + name + b"\r\n"
        b"* STATUS {%d}\r\n" % len(name) + name + b" (UIDVALIDITY 7)\r\n"
        b'* STATUS "Sent Items" (UIDVALIDITY 9)\r\n'
        b'* STATUS "Archiv" (MESSAGES 3 UIDVALIDITY 11)\r\n'
        b'* STATUS "Odd" (MESSAGES 4)\r\n'  # no UIDVALIDITY: left out
        b"A1 OK List completed\r\n"
    )
    statuses = list_statuses(Client(answer))
    assert {name: status[b"UIDVALIDITY"] for name, status in statuses.items()} == {
        "INBOX": 5,
        "Kunden/Müller": 7,
        "Sent Items": 9,
        "Archiv": 11,
    }
    assert statuses["Archiv"] == {b"MESSAGES": 3, b"UIDVALIDITY": 11}
    assert statuses["INBOX"] == {b"UIDVALIDITY": 5}  # no count given: none made up


def test_an_unusual_internaldate_falls_back_to_imapclients_parser() -> None:
    assert parse_internaldate(b"17-Jul-1996 02:44:25 -0700") == datetime(
        1996, 7, 17, 2, 44, 25, tzinfo=timezone(-timedelta(hours=7))
    )
    assert parse_internaldate(b" 1-jan-2001 00:00:00 +0000").year == 2001
    odd = parse_internaldate(b"Mon, 17 Jul 1996 02:44:25 -0700")
    assert odd is not None and (odd.year, odd.month, odd.day) == (1996, 7, 17)


def test_a_message_whose_internaldate_no_parser_reads_is_listed_without_one() -> None:
    """A hostile or broken server's INTERNALDATE (NIL, garbage) costs the message its date, not
    its mailbox: the listing goes on."""
    answer = (
        b'* 1 FETCH (UID 5 INTERNALDATE "not a date" RFC822.SIZE 10)\r\n'
        b"* 2 FETCH (UID 6 INTERNALDATE NIL RFC822.SIZE 11)\r\n"
        b'* 3 FETCH (UID 7 INTERNALDATE " 2-Mar-2024 09:30:05 +0100" RFC822.SIZE 12)\r\n'
        b"A1 OK done\r\n"
    )
    found = uid_fetch(Client(answer), "1:*", "UID INTERNALDATE RFC822.SIZE")
    assert found[5][b"INTERNALDATE"] is None and found[5][b"RFC822.SIZE"] == 10
    assert found[6][b"INTERNALDATE"] is None and found[6][b"RFC822.SIZE"] == 11
    assert found[7][b"INTERNALDATE"] == datetime(
        2024, 3, 2, 9, 30, 5, tzinfo=timezone(timedelta(hours=1))
    )


def answer_of(wire: bytes) -> tuple[list[bytes], list[bytes]]:
    """One untagged answer split into its lines and literals, as the reader splits it."""
    from wizard.copy.imapwire import _answers

    return _answers(Wire(wire + b"A1 OK done\r\n"), b"A1", "FETCH")[0]


PLAIN_ANSWERS = [  # the shapes Dovecot and Cyrus send for the copy's listings and bodies
    b"* 1 FETCH (UID 7 FLAGS (\\Seen $Forwarded) RFC822.SIZE 1234 "
    b'INTERNALDATE " 2-Mar-2024 09:30:05 +0100" '
    b"BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)] {%d}\r\n%b)\r\n"
    % (len(HEADER), HEADER),
    b"* 2 FETCH (UID 8 BODY[] {%d}\r\n%b)\r\n" % (len(BODY), BODY),
    b"* 3 fetch (BODY[] {%d}\r\n%b UID 9)\r\n" % (len(BODY), BODY),
    b"* 4 FETCH (UID 10 FLAGS () RFC822.SIZE 5 BODY[HEADER.FIELDS (MESSAGE-ID)] NIL)\r\n",
    b'* 5 FETCH (UID 11 BODY[HEADER.FIELDS (SUBJECT)] "Subject: a \\"b\\"")\r\n',
    b"* 6 FETCH (FLAGS (\\Seen) UID 12)\r\n",
]
ODD_ANSWERS = [  # read token by token: every one of them gives what it gave before
    b"* 7 FETCH (UID 13 FLAGS (NIL) RFC822.SIZE 5)\r\n",
    b"* 8 FETCH (UID 14 MODSEQ (77) FLAGS ())\r\n",
    b'* 9 FETCH (UID 15 ENVELOPE (NIL "s" ((NIL NIL "a" "b")) NIL))\r\n',
    b"* 10 FETCH (UID 16 RFC822.SIZE 12x)\r\n",
    b"* 11 FETCH (UID 17) trailing\r\n",
    b"* 12 FETCH (UID 18 INTERNALDATE {26}\r\n 2-Mar-2024 09:30:05 +0100)\r\n",
    b"* 13 FETCH (UID 19 FLAGS (\\Seen\t$Junk  \\Answered))\r\n",
    b'* 14 FETCH (UID 20 X-GM-LABELS ("a b") BODY[] nil)\r\n',
    b"* 15 FETCH UID 21\r\n",
]


def outcome(reader: object, answer: object) -> object:
    """What a reader gives, its items with their types, or the error it raises."""
    try:
        return typed(reader(answer))  # type: ignore[operator]
    except Exception as exc:  # noqa: BLE001
        return type(exc)


def typed(items: dict[bytes, object] | None) -> dict[bytes, tuple[type, object]] | None:
    return None if items is None else {k: (type(v), v) for k, v in items.items()}


@pytest.mark.parametrize("wire", PLAIN_ANSWERS + ODD_ANSWERS, ids=lambda w: w[:24].decode())
def test_the_quick_fetch_reader_reads_what_the_token_reader_reads_or_leaves_it(
    wire: bytes,
) -> None:
    from wizard.copy.imapwire import fetch_items, token_items

    answer = answer_of(wire)
    quick = fetch_items(answer)
    if wire in PLAIN_ANSWERS:
        assert quick is not None, "a plain answer is read in one pass"
    if quick is not None:
        assert typed(quick) == typed(token_items(answer))


def mangled(
    rng: random.Random, plain: bytes, cuts: int
) -> tuple[bytes, tuple[list[bytes], list[bytes]] | None]:
    """``plain`` with up to ``cuts`` random cuts or bytes spliced in, and the answer read from it
    (None where a literal was cut short: no answer either reader sees)."""
    wire = bytearray(plain[:-2])
    for _ in range(rng.randint(1, cuts)):
        at = rng.randrange(len(wire))
        if rng.random() < 0.5:
            wire[at : at + rng.randint(0, 3)] = b""
        else:
            wire.insert(at, rng.choice(b' ()"\\{}[]<>.0123456789NILUIDFLAGS\r'))
    try:
        return bytes(wire), answer_of(bytes(wire) + b"\r\n")
    except Exception:  # noqa: BLE001
        return bytes(wire), None


def test_mangled_answers_are_read_alike_by_both_readers() -> None:
    """Random cuts and bytes spliced into plain answers: the quick reader gives what the token
    reader gives, or leaves the answer to it; never something else."""
    from wizard.copy.imapwire import fetch_items, token_items

    rng = random.Random(16)
    read_quickly = 0
    for _ in range(3000):
        wire, answer = mangled(rng, rng.choice(PLAIN_ANSWERS + ODD_ANSWERS), 3)
        if answer is None:
            continue
        quick, slow = outcome(fetch_items, answer), outcome(token_items, answer)
        if quick is None:
            continue
        read_quickly += 1
        assert quick == slow, wire
    assert read_quickly > 200  # many of them were read by the quick reader


LISTING = (
    "UID FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)]"
)
ASKED = [  # (what the copy asks, an answer in that order)
    (
        LISTING,
        PLAIN_ANSWERS[0]
        .replace(b"RFC822.SIZE 1234 ", b"")
        .replace(b"FLAGS (\\Seen $Forwarded) ", b"FLAGS (\\Seen $Forwarded) RFC822.SIZE 1234 "),
    ),
    ("UID BODY.PEEK[]", PLAIN_ANSWERS[1]),
    ("UID FLAGS", b"* 6 FETCH (UID 12 FLAGS (\\Seen))\r\n"),
    ("UID FLAGS", b"* 6 FETCH (UID 12 FLAGS ())\r\n"),
]


@pytest.mark.parametrize(("items", "wire"), ASKED, ids=lambda v: str(v)[:20])
def test_an_answer_in_the_order_asked_is_read_in_one_match_as_the_token_reader_reads_it(
    items: str, wire: bytes
) -> None:
    from wizard.copy.imapwire import shaped_items, token_items

    answer = answer_of(wire)
    shaped = shaped_items(answer, items)
    assert shaped is not None
    assert typed(shaped) == typed(token_items(answer))


def test_mangled_answers_read_in_one_match_read_as_the_token_reader_reads_them() -> None:
    from wizard.copy.imapwire import shaped_items, token_items

    rng = random.Random(17)
    read = 0
    for _ in range(3000):
        items, plain = rng.choice(ASKED)
        wire, answer = mangled(rng, plain, 2)
        if answer is None:
            continue
        shaped = outcome(lambda a, items=items: shaped_items(a, items), answer)
        if shaped is None:
            continue
        read += 1
        assert shaped == outcome(token_items, answer), wire
    assert read > 200


def test_answers_in_another_order_than_asked_are_read_in_one_match_after_the_first() -> None:
    """Cyrus names FLAGS first in a listing: the first answer shows the order, the next ones are
    read in one match of it, and all come out as the token reader reads them."""
    from wizard.copy.imapwire import as_asked, fetch_items, shaped_items, token_items

    wires = [
        b'* %d FETCH (FLAGS (\\Seen) UID %d INTERNALDATE " 2-Dec-2026 15:35:24 +0000" '
        b"RFC822.SIZE 40 BODY[HEADER.FIELDS (MESSAGE-ID DATE FROM TO SUBJECT)] {%d}\r\n%b)\r\n"
        % (n, n + 10, len(HEADER), HEADER)
        for n in (1, 2, 3)
    ]
    answers = [answer_of(w) for w in wires]
    assert shaped_items(answers[1], LISTING) is None  # not in the order asked
    order = as_asked(fetch_items(answers[0]))  # type: ignore[arg-type]
    assert typed(shaped_items(answers[1], order)) == typed(token_items(answers[1]))

    found = uid_fetch(Client(b"".join(wires) + b"A1 OK done\r\n"), "1:*", LISTING)
    assert sorted(found) == [11, 12, 13]
    assert [typed(found[uid]) for uid in (11, 12, 13)] == [typed(token_items(a)) for a in answers]


def test_an_item_name_that_is_not_text_is_read_and_changes_nothing_after_it() -> None:
    wire = (
        b"* 1 FETCH (UID 5 BODY[\xff\xfe] {2}\r\nab)\r\n"
        b"* 2 FETCH (UID 6 BODY[] {2}\r\ncd)\r\n"
        b"A1 OK done\r\n"
    )
    found = uid_fetch(Client(wire), "1:*", "UID BODY.PEEK[]")
    assert found[5] == {b"UID": 5, b"BODY[\xff\xfe]": b"ab"}
    assert found[6] == {b"UID": 6, b"BODY[]": b"cd"}


@pytest.mark.parametrize("minutes", [0, 60, -420, 330, -30, 765])
def test_an_append_date_is_written_as_imapclient_writes_it(minutes: int) -> None:
    from imapclient.datetime_util import datetime_to_INTERNALDATE

    from wizard.copy.imapwire import internaldate_bytes

    rng = random.Random(minutes)
    for _ in range(50):
        when = datetime(
            rng.randint(1990, 2030),
            rng.randint(1, 12),
            rng.randint(1, 28),
            rng.randint(0, 23),
            rng.randint(0, 59),
            rng.randint(0, 59),
            tzinfo=timezone(timedelta(minutes=minutes)),
        )
        expected = b' "' + datetime_to_INTERNALDATE(when).encode() + b'"'
        assert internaldate_bytes(when) == expected
        assert parse_internaldate(expected[2:-1]) == when


def test_a_uid_list_goes_out_with_its_runs_as_ranges() -> None:
    client = Client(b"A1 OK done\r\n")
    uid_fetch(client, [9, 3, 4, 5, 6, 7, 12, 13, 3, 20], "UID BODY.PEEK[]")
    assert client._imap.sent == [b"A1 UID FETCH 3:7,9,12:13,20 (UID BODY.PEEK[])\r\n"]
    whole = Client(b"A1 OK done\r\n")
    uid_fetch(whole, list(range(1, 100_001)), "UID RFC822.SIZE")
    assert whole._imap.sent == [b"A1 UID FETCH 1:100000 (UID RFC822.SIZE)\r\n"]
