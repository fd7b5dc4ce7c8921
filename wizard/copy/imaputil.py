"""Small IMAP helpers shared by the copy source and the IMAP target (over imapclient)."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Iterator, Sequence
from functools import lru_cache

from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from .errors import NoAnswer, ServerFailed, ServerHungUp, Throttled, TransientError
from .imapwire import ServerBye

# Not [LIMIT]: that is a limit of the command itself (a message too large, too many messages
# in one command, RFC 5530 and 9738), refused again however long one waits. Nor [SERVERBUG]:
# the server failed at something (ServerFailed), which waiting out like throttling (up to
# 15 minutes) does not mend.
_BUSY_CODES = ("[UNAVAILABLE]", "[INUSE]")
_APPENDUID = re.compile(rb"\[APPENDUID (\d+) ([0-9:,]+)\]", re.I)
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*?)\r?\n(?![ \t])", re.I | re.M | re.S)


@contextlib.contextmanager
def imap_errors(host: str, what: str) -> Iterator[None]:
    """Turn dropped connections and busy answers into TransientError / Throttled."""
    try:
        yield
    except ServerBye as exc:
        raise ServerHungUp(f"{host}: the server hung up during {what} ({exc})") from exc
    except (IMAPClientAbortError, imaplib.IMAP4.abort) as exc:
        raise TransientError(f"{host}: the connection dropped during {what} ({exc})") from exc
    except TimeoutError as exc:
        raise NoAnswer(f"{host}: no answer during {what} (timed out)") from exc
    except (ssl.SSLError, OSError, EOFError) as exc:
        raise TransientError(f"{host}: the connection failed during {what} ({exc})") from exc
    except (IMAPClientError, imaplib.IMAP4.error) as exc:
        text = str(exc)
        if any(code in text.upper() for code in _BUSY_CODES):
            raise Throttled(f"{host}: the server is busy during {what} ({text})") from exc
        if "[SERVERBUG]" in text.upper():
            raise ServerFailed(f"{host}: the server failed during {what} ({text})") from exc
        raise


def quiet_imaplib(client: object) -> None:
    """imapclient sets imaplib's debug level to 5, which makes imaplib format every response
    (message bodies included) into a log string even when nobody logs: most of the CPU of a
    copy. Turn it off unless imapclient's debug logging is really on."""
    imap = getattr(client, "_imap", None)
    if imap is not None and not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
        imap.debug = 0


def text_flags(flags: Sequence[bytes | str]) -> tuple[str, ...]:
    """Flags as text, without \\Recent (which only the server may set)."""
    return _text_flags(flags if isinstance(flags, tuple) else tuple(flags))


@lru_cache(maxsize=512)  # a mailbox's messages share a handful of flag sets
def _text_flags(flags: tuple[bytes | str, ...]) -> tuple[str, ...]:
    out = []
    for flag in flags:
        value = flag.decode("utf-8", "replace") if isinstance(flag, bytes) else str(flag)
        if value.lower() != "\\recent":
            out.append(value)
    return tuple(sorted(set(out)))


def parse_message_id(header: bytes | None) -> str:
    """The Message-ID from a header block (unfolded, trimmed), or "" when there is none."""
    if not header:
        return ""
    match = _MESSAGE_ID.search(header if header.endswith(b"\n") else header + b"\r\n")
    if not match:
        return ""
    value = re.sub(rb"\r?\n[ \t]+", b" ", match.group(1)).strip()
    return value.decode("utf-8", "replace")


def parse_uid_set(text: str) -> list[int]:
    """An IMAP UID set such as "5:7,9" in the order the server gave it."""
    out: list[int] = []
    for part in text.split(","):
        if ":" in part:
            first, last = (int(x) for x in part.split(":", 1))
            step = 1 if last >= first else -1
            out.extend(range(first, last + step, step))
        elif part:
            out.append(int(part))
    return out


def parse_appenduid(response: bytes | str | None) -> tuple[int, list[int]] | None:
    """(UIDVALIDITY, new UIDs) from a tagged APPEND answer with UIDPLUS, else None."""
    if response is None:
        return None
    data = response.encode() if isinstance(response, str) else bytes(response)
    match = _APPENDUID.search(data)
    if not match:
        return None
    return int(match.group(1)), parse_uid_set(match.group(2).decode())
