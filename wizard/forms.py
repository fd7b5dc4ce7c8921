"""Checks for what an operator types into a form; each error says what is expected."""

from __future__ import annotations

import re
from datetime import date

_EMAIL_RE = re.compile(r"^[^@\s]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)


def parse_day(text: str, what: str = "date") -> date:
    """A calendar day written as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"the {what} {text.strip()!r} is not a day like 2026-12-01") from None


def check_email(text: str, what: str = "address") -> str:
    value = text.strip()
    if not _EMAIL_RE.match(value):
        raise ValueError(f"the {what} {value!r} is not an email address like name@example.com")
    return value


def check_name(text: str, what: str = "name") -> str:
    value = " ".join(text.split())
    if not value:
        raise ValueError(f"the {what} is empty")
    return value
