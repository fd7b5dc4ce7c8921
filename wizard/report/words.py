"""How the report writes times, counts and people for a customer: local time in words, plurals
that agree, and a person (or the provider) instead of a machine account."""

from __future__ import annotations

from datetime import datetime

# Accounts a laptop runs as; the customer reads "the provider's engineer" instead of "root".
SYSTEM_ACCOUNTS = frozenset({"", "root", "admin", "administrator", "user", "ubuntu", "debian"})


def human_time(iso: str, *, with_time: bool = True) -> str:
    """An ISO 8601 stamp as the reader's local time, e.g. "1 Dec 2026, 14:05"; text as it was if
    it is not a stamp. A bare date ("2026-12-01") stays a date."""
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if len(iso) == 10:  # a day, not a moment
        return f"{when.day} {when:%b %Y}"
    if when.tzinfo is not None:
        when = when.astimezone()  # the operator's (and so the printed report's) local time
    day = f"{when.day} {when:%b %Y}"
    return f"{day}, {when:%H:%M}" if with_time else day


def plural(count: int, word: str, words: str | None = None) -> str:
    """ "1 message", "2 messages", "1 mailbox", "3 mailboxes"."""
    if count == 1:
        return f"{count} {word}"
    return f"{count} {words or _plural_of(word)}"


def _plural_of(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def person(actor: str, provider: str) -> str:
    """Who did a thing, as the customer should read it."""
    if actor.strip().lower() in SYSTEM_ACCOUNTS:
        return f"{provider} engineer"
    return actor
