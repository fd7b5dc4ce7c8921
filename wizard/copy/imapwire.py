"""IMAP answers read straight off the wire for the copy's hot paths: EXAMINE, FETCH, LIST-STATUS.

imapclient parses a FETCH answer one character at a time in Python and imaplib formats every line
it reads for its debug log: with small messages, most of a copy's CPU. Here a command is sent on
the imaplib connection imapclient holds and its answer read line by line, each literal taken as
one bytes object that is never copied again (the message bytes go to the target as read), and
split into tokens by one regular expression. Only what the copy asks for is understood; other
untagged answers are skipped. A NO or BAD raises IMAPClientError as imapclient would, a closed
connection imaplib's abort, so ``imaputil.imap_errors`` classifies both as before.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from imapclient import imap_utf7
from imapclient.datetime_util import datetime_to_INTERNALDATE, parse_to_datetime
from imapclient.exceptions import IMAPClientError

_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n\Z")
_TOKEN = re.compile(rb'(\()|(\))|"((?:[^"\\]|\\.)*)"|([^ ()"\[\]]+(?:\[[^\]]*\](?:<[0-9.]+>)?)?)')
_ESCAPE = re.compile(rb"\\(.)")
_CODE = re.compile(rb"\[(UIDVALIDITY|UIDNEXT) (\d+)\]", re.I)
_MONTH_NAMES = (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun")
_MONTH_NAMES += (b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec")
_MONTHS = {name.upper(): n for n, name in enumerate(_MONTH_NAMES, 1)}


Response = list[Any]  # one untagged answer as tokens: lists nested, strings as bytes
Answer = tuple[list[bytes], list[bytes]]  # one untagged answer as read: its lines, its literals


def command(client: Any, name: str, arguments: bytes) -> list[Answer]:
    """Send ``name arguments`` and return its untagged answers once it completed with OK."""
    imap = client._imap  # noqa: SLF001 - the raw connection imapclient holds
    tag = imap._new_tag()  # noqa: SLF001
    try:
        imap.send(b"%s %s %s\r\n" % (tag, name.encode(), arguments))
        return _answers(imap, tag, name)
    finally:
        imap.tagged_commands.pop(tag, None)


def pipelined(client: Any, commands: list[tuple[str, bytes]]) -> list[list[Answer] | Exception]:
    """Send ``commands`` (name, arguments) in one write and read their answers in order: per
    command its untagged answers, or the IMAPClientError of its NO or BAD (the next commands'
    answers are still read). A dropped connection raises, as :func:`command` does. Keep the
    commands' text small (a few KB): the server stops reading while its answers wait."""
    imap = client._imap  # noqa: SLF001
    tags = [imap._new_tag() for _ in commands]  # noqa: SLF001
    out: list[list[Answer] | Exception] = []
    try:
        imap.send(
            b"".join(
                b"%s %s %s\r\n" % (tag, name.encode(), arguments)
                for tag, (name, arguments) in zip(tags, commands, strict=True)
            )
        )
        for tag, (name, _arguments) in zip(tags, commands, strict=True):
            try:
                out.append(_answers(imap, tag, name))
            except IMAPClientError as exc:
                out.append(exc)
        return out
    finally:
        for tag in tags:
            imap.tagged_commands.pop(tag, None)


def _answers(imap: Any, tag: bytes, name: str) -> list[Answer]:
    out: list[Answer] = []
    done = tag + b" "
    while True:
        line = imap.readline()
        if not line:
            raise imaplib.IMAP4.abort(f"socket error: EOF during {name}")
        if line.startswith(done):
            status, _, text = line[len(done) :].rstrip(b"\r\n").partition(b" ")
            if status.upper() != b"OK":
                reason = text.decode("utf-8", "replace")
                raise IMAPClientError(f"{name} command error: {status.decode()} {reason}")
            return out
        if not line.startswith(b"* "):
            raise imaplib.IMAP4.abort(f"unexpected answer during {name}: {line[:80]!r}")
        pieces: list[bytes] = []
        literals: list[bytes] = []
        while line.endswith(b"}\r\n") and (match := _LITERAL.search(line)):
            pieces.append(line[: match.start()])
            literals.append(imap.read(int(match.group(1))))
            line = imap.readline()
            if not line:
                raise imaplib.IMAP4.abort(f"socket error: EOF during {name}")
        pieces.append(line.rstrip(b"\r\n"))
        if pieces[0][2:5].upper() == b"BYE":
            raise ServerBye(f"the server closed the connection: {line[:200]!r}")
        out.append((pieces, literals))


class ServerBye(imaplib.IMAP4.abort):
    """The server answered BYE in the middle of a command: it hung up itself."""


def tokens(answer: Answer) -> Response:
    """One untagged answer as nested lists of tokens (NIL as None)."""
    pieces, literals = answer
    root: Response = []
    stack = [root]
    current = root
    for index, text in enumerate(pieces):
        for opened, closed, quoted, atom in _TOKEN.findall(text):
            if atom:  # NIL is the atom; a string "NIL" stays bytes
                current.append(None if atom == b"NIL" else atom)
            elif opened:
                current.append(nested := [])
                stack.append(nested)
                current = nested
            elif closed:
                if len(stack) > 1:
                    stack.pop()
                    current = stack[-1]
            else:
                current.append(_ESCAPE.sub(rb"\1", quoted) if b"\\" in quoted else quoted)
        if index < len(literals):
            current.append(literals[index])  # the bytes as read, not copied
    return root


def uid_set(uids: str | list[int]) -> bytes:
    """A UID set as a command writes it, runs of consecutive UIDs as ranges ("3:7,9"), so that
    a long listing stays within what a server takes on one line."""
    if isinstance(uids, str):
        return uids.encode()
    parts: list[bytes] = []
    ordered = sorted(set(uids))
    at = 0
    while at < len(ordered):
        end = at
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[at], ordered[end]
        parts.append(b"%d" % first if first == last else b"%d:%d" % (first, last))
        at = end + 1
    return b",".join(parts)


def uid_fetch(client: Any, uids: str | list[int], items: str) -> dict[int, dict[bytes, Any]]:
    """``UID FETCH uids (items)`` in the selected folder: per UID its items, named as the server
    answers them (``BODY.PEEK[]`` comes back as ``BODY[]``). UID and RFC822.SIZE are ints,
    INTERNALDATE a datetime with its offset, FLAGS a tuple of bytes, bodies bytes."""
    return fetched_items(
        command(client, "UID", b"FETCH %s (%s)" % (uid_set(uids), items.encode())), items
    )


def fetched_items(answers: list[Answer], items: str) -> dict[int, dict[bytes, Any]]:
    """The items per UID of the answers to a ``UID FETCH`` of ``items``, as :func:`uid_fetch`
    gives them."""
    out: dict[int, dict[bytes, Any]] = {}
    order = items  # the order this server names the items in, once an answer showed it
    for raw in answers:
        if b"FETCH" not in raw[0][0][:40].upper():
            continue
        item = shaped_items(raw, order)
        if item is None:
            item = fetch_items(raw)
            if item is not None:  # the next answers are most likely in this one's order
                order = as_asked(item)
        if item is None:
            item = token_items(raw)
        uid = item.get(b"UID") if item is not None else None
        if uid is not None:  # an unsolicited answer (a flag change) names no UID: not ours
            out.setdefault(uid, {}).update(item)  # type: ignore[union-attr]
    return out


def token_items(raw: Answer) -> dict[bytes, Any] | None:
    """The items of one FETCH answer read token by token (any shape); None if it is none."""
    answer = tokens(raw)
    if len(answer) < 4 or answer[2] is None or answer[2].upper() != b"FETCH":
        return None
    pairs = answer[3]
    if not isinstance(pairs, list):
        return None
    item: dict[bytes, Any] = {}
    for at in range(0, len(pairs) - 1, 2):
        key = pairs[at]
        if isinstance(key, list) or key is None:
            continue
        key = key.upper()
        value = pairs[at + 1]
        if key in _NUMBERS:
            value = int(value)
        elif key == b"INTERNALDATE":
            value = parse_internaldate(value) if isinstance(value, bytes) else None
        elif key == b"FLAGS":
            value = tuple(value) if isinstance(value, list) else ()
        item[key] = value
    return item


_FETCH_HEAD = re.compile(rb"\* \d+ FETCH \(", re.I)
_ITEM_NAME = rb"([A-Za-z0-9.]+(?:\[[^\]]*\](?:<[0-9.]+>)?)?)"
_ITEM = re.compile(
    rb" ?"
    + _ITEM_NAME
    + rb' (?:(\d+)(?=[ )])|"((?:[^"\\]|\\.)*)"|\(([^()"{}\[\]]*)\)|(?-i:(NIL))(?=[ )]))',
    re.I,
)
_ITEM_LITERAL = re.compile(rb" ?" + _ITEM_NAME + rb" ")  # its "{n}" is cut off by _answers
_NUMBERS = (b"UID", b"RFC822.SIZE")
_NOT_LITERALS = (*_NUMBERS, b"FLAGS", b"INTERNALDATE")


_REQUEST_ITEM = re.compile(r"[A-Za-z0-9.]+(?:\[[^\]]*\])?")
_SHAPE_FLAGS = rb"FLAGS \(([^()\"{}\[\]]*)\)"


@lru_cache(maxsize=32)
def _shape(items: str) -> tuple[re.Pattern[bytes], tuple[bytes, ...], bool] | None:
    """The answer a server gives when it names ``items`` in the order they were asked, as one
    regular expression (one group per item), with the items' names and whether the last is a
    literal; None for items it does not know."""
    parts: list[bytes] = []
    keys: list[bytes] = []
    asked = _REQUEST_ITEM.findall(items)
    literal = False
    for at, name in enumerate(asked):
        key = name.upper().encode()
        if key in _NUMBERS:
            parts.append(re.escape(key) + rb" (\d+)")
        elif key == b"FLAGS":
            parts.append(_SHAPE_FLAGS)
        elif key == b"INTERNALDATE":
            parts.append(rb'INTERNALDATE "([^"\\]*)"')
        elif key.startswith(b"BODY.PEEK[") and at == len(asked) - 1:
            key = b"BODY" + key[len(b"BODY.PEEK") :]
            parts.append(rb"(" + re.escape(key) + rb") ")  # then the literal's {n}, cut off
            literal = True
        else:
            return None
        keys.append(key)
    if " ".join(asked) != " ".join(items.split()):
        return None  # something the item names above do not cover: no shape
    tail = rb"\Z" if literal else rb"\)\Z"
    return re.compile(rb"\* \d+ FETCH \(" + rb" ".join(parts) + tail), tuple(keys), literal


def _flags(listed: bytes) -> tuple[bytes, ...] | None:
    """A flat FLAGS list's flags as the token reader gives them (atoms between spaces); None
    for one holding NIL, which the token reader reads as None."""
    flags = tuple(flag for flag in listed.split(b" ") if flag)
    return None if b"NIL" in flags else flags


def as_asked(item: dict[bytes, Any]) -> str:
    """The items of a read answer named as a request names them, in the answer's order."""
    return " ".join(
        ("BODY.PEEK" + key[4:].decode("latin-1"))
        if key.startswith(b"BODY[")
        else key.decode("latin-1")
        for key in item
    )


def shaped_items(answer: Answer, items: str) -> dict[bytes, Any] | None:
    """The items of one FETCH answer that names ``items`` in that order (the order asked, which
    Dovecot keeps, or the one the answer before showed: Cyrus puts FLAGS first in a listing),
    read with one regular expression; None for any other answer."""
    shape = _shape(items)
    if shape is None:
        return None
    pattern, keys, literal = shape
    pieces, literals = answer
    if len(literals) != int(literal) or (literal and pieces[1] != b")"):
        return None
    match = pattern.match(pieces[0])
    if match is None:
        return None
    item: dict[bytes, Any] = {}
    for key, value in zip(keys, match.groups(), strict=True):
        if key in _NUMBERS:
            item[key] = int(value)
        elif key == b"FLAGS":
            if (flags := _flags(value)) is None:
                return None
            item[key] = flags
        elif key == b"INTERNALDATE":
            item[key] = parse_internaldate(value)
        else:
            item[key] = literals[0]
    return item


def fetch_items(answer: Answer) -> dict[bytes, Any] | None:
    """The items of one FETCH answer as :func:`uid_fetch` gives them, read in one pass of a
    regular expression per item instead of token by token; None when the answer has any shape
    but the plain one the copy asks for (numbers, quoted strings, a flat FLAGS list, NIL and
    literals), which the token reader then reads."""
    pieces, literals = answer
    head = _FETCH_HEAD.match(pieces[0])
    if head is None or len(pieces) != len(literals) + 1:
        return None
    item: dict[bytes, Any] = {}
    for index, text in enumerate(pieces):
        at = head.end() if index == 0 else 0
        while (match := _ITEM.match(text, at)) is not None:
            key = match.group(1).upper()
            number, quoted, listed, nil = match.group(2, 3, 4, 5)
            if number is not None:
                if key not in _NUMBERS:
                    return None
                item[key] = int(number)
            elif key == b"FLAGS":
                if listed is None or (flags := _flags(listed)) is None:
                    return None
                item[key] = flags
            elif listed is not None or key in _NUMBERS:
                return None
            elif nil is not None:
                if key == b"INTERNALDATE":
                    return None
                item[key] = None
            else:
                value = _ESCAPE.sub(rb"\1", quoted) if b"\\" in quoted else quoted
                item[key] = parse_internaldate(value) if key == b"INTERNALDATE" else value
            at = match.end()
        if index < len(literals):
            literal = _ITEM_LITERAL.fullmatch(text, at)
            if literal is None or (key := literal.group(1).upper()) in _NOT_LITERALS:
                return None
            item[key] = literals[index]
        elif text[at:] != b")":
            return None
    return item


def examine(client: Any, folder: str, *, readonly: bool = True) -> dict[bytes, int]:
    """EXAMINE (or SELECT) a folder: its EXISTS, UIDVALIDITY and UIDNEXT as imapclient names
    them. imaplib is told the folder is selected, so imapclient's own commands go on working."""
    imap = client._imap  # noqa: SLF001
    name = "EXAMINE" if readonly else "SELECT"
    try:
        answers = command(client, name, client._normalise_folder(folder))  # noqa: SLF001
    except IMAPClientError:
        imap.state = "AUTH"  # as imaplib's own select: no folder is selected any more
        raise
    imap.state = "SELECTED"
    return examined_info(answers)


def examined_info(answers: list[Answer]) -> dict[bytes, int]:
    """EXISTS, UIDVALIDITY and UIDNEXT from the answers to an EXAMINE or SELECT."""
    info: dict[bytes, int] = {}
    for pieces, _literals in answers:
        words = pieces[0].split(None, 3)
        if len(words) >= 3 and words[2].upper() == b"EXISTS":
            info[b"EXISTS"] = int(words[1])
        elif len(words) >= 3 and words[1].upper() == b"OK":
            for key, value in _CODE.findall(pieces[0]):
                info[key.upper()] = int(value)
    return info


def list_statuses(client: Any) -> dict[str, dict[bytes, int]]:
    """Every folder's UIDVALIDITY and, where the server gives it, MESSAGES, in one LIST-STATUS
    command (RFC 5819), by decoded name; folders without a UIDVALIDITY are left out."""
    out: dict[str, dict[bytes, int]] = {}
    for raw in command(client, "LIST", b'"" "*" RETURN (STATUS (UIDVALIDITY MESSAGES))'):
        named = status_items(raw)
        if named is not None and b"UIDVALIDITY" in named[1]:
            out[folder_name(named[0])] = named[1]
    return out


def status_items(raw: Answer) -> tuple[bytes | None, dict[bytes, int]] | None:
    """The folder name (as sent) and the numbers (UIDVALIDITY, MESSAGES) of one untagged
    STATUS answer; None for any other answer."""
    answer = tokens(raw)
    if len(answer) < 4 or answer[1] is None or answer[1].upper() != b"STATUS":
        return None
    items = answer[3]
    if not isinstance(items, list):
        return None
    status: dict[bytes, int] = {}
    for at in range(0, len(items) - 1, 2):
        key, value = items[at], items[at + 1]
        if isinstance(key, bytes) and key.upper() in (b"UIDVALIDITY", b"MESSAGES"):
            with contextlib.suppress(TypeError, ValueError):
                status[key.upper()] = int(value)
    return answer[2], status


def folder_name(raw: bytes | None) -> str:
    """A folder name as the server sent it (modified UTF-7) as text, as imapclient decodes it."""
    return imap_utf7.decode(raw or b"")


def internaldate_bytes(when: datetime) -> bytes:
    """An APPEND's date-time argument, quoted with the space before it, as imapclient writes it
    (a date without a zone takes this machine's) but without strftime; what
    :func:`parse_internaldate` reads back."""
    if when.tzinfo is None or (offset := when.utcoffset()) is None:
        return b' "' + datetime_to_INTERNALDATE(when).encode() + b'"'
    minutes = int(offset.total_seconds()) // 60
    sign = b"-" if minutes < 0 else b"+"
    hours, minutes = divmod(abs(minutes), 60)
    return b' "%02d-%s-%04d %02d:%02d:%02d %s%02d%02d"' % (
        when.day,
        _MONTH_NAMES[when.month - 1],
        when.year,
        when.hour,
        when.minute,
        when.second,
        sign,
        hours,
        minutes,
    )


@lru_cache(maxsize=64)
def _zone(minutes: int) -> timezone:
    return timezone(timedelta(minutes=minutes))


def parse_internaldate(value: bytes) -> datetime | None:
    """An INTERNALDATE ("17-Jul-1996 02:44:25 -0700") with its own offset; imapclient's
    parser for anything else; None for what no parser reads (the message is then copied
    without its date, which the target sets, instead of failing its mailbox)."""
    try:
        day, clock, zone = value.split()
        d, month, year = day.split(b"-")
        hour, minute, second = clock.split(b":")
        offset = int(zone[1:3]) * 60 + int(zone[3:5])
        return datetime(
            int(year),
            _MONTHS[month.upper()],
            int(d),
            int(hour),
            int(minute),
            int(second),
            tzinfo=_zone(-offset if zone[:1] == b"-" else offset),
        )
    except (ValueError, KeyError, IndexError):
        try:
            return parse_to_datetime(bytes(value), normalise=False)
        except ValueError:
            return None


__all__ = [
    "as_asked",
    "command",
    "examine",
    "examined_info",
    "fetch_items",
    "fetched_items",
    "internaldate_bytes",
    "list_statuses",
    "parse_internaldate",
    "pipelined",
    "shaped_items",
    "status_items",
    "token_items",
    "tokens",
    "uid_fetch",
    "uid_set",
]
