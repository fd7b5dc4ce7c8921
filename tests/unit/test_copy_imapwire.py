"""The copy's own reading of IMAP answers: FETCH, EXAMINE and LIST-STATUS, off a scripted wire."""

from __future__ import annotations

import imaplib
from datetime import datetime, timedelta, timezone

import pytest
from imapclient.exceptions import IMAPClientError

from wizard.copy.imapwire import examine, list_uidvalidities, parse_internaldate, uid_fetch


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
        b"A1 OK List completed\r\n"
    )
    assert list_uidvalidities(Client(answer)) == {
        "INBOX": "5",
        "Kunden/Müller": "7",
        "Sent Items": "9",
    }


def test_an_unusual_internaldate_falls_back_to_imapclients_parser() -> None:
    assert parse_internaldate(b"17-Jul-1996 02:44:25 -0700") == datetime(
        1996, 7, 17, 2, 44, 25, tzinfo=timezone(-timedelta(hours=7))
    )
    assert parse_internaldate(b" 1-jan-2001 00:00:00 +0000").year == 2001
    odd = parse_internaldate(b"Mon, 17 Jul 1996 02:44:25 -0700")
    assert (odd.year, odd.month, odd.day) == (1996, 7, 17)
