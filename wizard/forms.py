"""Checks for what an operator types (into a form, a CSV or a command line); each error says what
is expected, and shows the text it refuses with control characters escaped, never raw."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from datetime import date

_EMAIL_RE = re.compile(r"^[^@\s]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.I)
_LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_DOMAIN = 253  # characters of a domain name without the root's dot (RFC 1035)
MAX_LABEL = 63

# Unicode's explicit direction marks, embeddings, overrides and isolates: they make text read in
# another order than it is (a right-to-left override turns "exe.txt" around).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def is_unsafe_char(ch: str) -> bool:
    """A character a terminal or a reader would take for something else: controls and bidi."""
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def shown(text: str, limit: int = 80) -> str:
    """`text` quoted for a message: control and bidi characters escaped, long text cut."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    body = "".join(f"\\u{ord(c):04x}" if is_unsafe_char(c) else c for c in cut)
    return "'" + body.replace("'", "\\'") + "'"


def printable(text: str) -> str:
    """`text` for a terminal: line breaks kept, any other control or bidi character escaped."""
    return "".join(f"\\u{ord(c):04x}" if is_unsafe_char(c) and c not in "\n\t" else c for c in text)


def check_plain(text: str, what: str) -> str:
    """`text` if it holds no control or bidi character; else ValueError naming the first."""
    bad = next((c for c in text if is_unsafe_char(c)), None)
    if bad is not None:
        kind = "a text-direction" if bad in BIDI_CONTROLS else "a control"
        raise ValueError(
            f"the {what} {shown(text)} contains {kind} character (U+{ord(bad):04X}); "
            "remove it and try again"
        )
    return text


def parse_day(text: str, what: str = "date") -> date:
    """A calendar day written as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"the {what} {shown(text.strip())} is not a day like 2026-12-01") from None


def check_email(text: str, what: str = "address") -> str:
    value = check_plain(text.strip(), what)
    if not _EMAIL_RE.match(value):
        raise ValueError(f"the {what} {shown(value)} is not an email address like name@example.com")
    return value


def check_name(text: str, what: str = "name") -> str:
    value = " ".join(check_plain(text, what).split())
    if not value:
        raise ValueError(f"the {what} is empty")
    return value


def check_domain(text: str, what: str = "domain name", *, single_label: bool = False) -> str:
    """A domain name in the ASCII form DNS asks for (international names through the ``idna``
    codec), lower case, without the root's dot; ValueError says what is wrong with it.
    ``single_label`` lets through a name without a dot (a host such as ``localhost``)."""
    raw = check_plain(text, what).strip()
    value = raw[:-1] if raw.endswith(".") else raw
    if not value:
        raise ValueError(f"the {what} is empty: give one like example.com")
    refused = f"{shown(raw)} is not a valid {what}"
    ascii_labels = []
    for label in value.split("."):
        if not label:
            raise ValueError(f"{refused}: it has an empty label (two dots in a row, or one first)")
        try:
            encoded = label.encode("idna").decode("ascii").lower()
        except UnicodeError:
            if len(label) > MAX_LABEL:
                raise ValueError(
                    f"{refused}: the label {shown(label, 20)} is {len(label)} characters long, "
                    f"at most {MAX_LABEL} are allowed"
                ) from None
            raise ValueError(f"{refused}: {shown(label, 20)} is not a valid label") from None
        if len(encoded) > MAX_LABEL:
            raise ValueError(
                f"{refused}: the label {shown(label, 20)} is {len(encoded)} characters long in "
                f"DNS, at most {MAX_LABEL} are allowed"
            )
        if not _LABEL_RE.match(encoded):
            raise ValueError(
                f"{refused}: the label {shown(label, 20)} may hold only letters, digits and "
                "hyphens, and no hyphen at its start or end"
            )
        ascii_labels.append(encoded)
    name = ".".join(ascii_labels)
    if len(name) > MAX_DOMAIN:
        raise ValueError(f"{refused}: it is {len(name)} characters long, at most {MAX_DOMAIN}")
    if len(ascii_labels) < 2 and not single_label:
        raise ValueError(f"{refused}: it needs at least one dot (for example: example.com)")
    if ascii_labels[-1].isdigit():
        raise ValueError(f"{refused}: its last label is a number")
    return name


def check_host(text: str, what: str = "host") -> str:
    """A server's host: an IP address, or a domain name (a single label such as localhost too)."""
    value = check_plain(text, what).strip()
    try:
        return str(ipaddress.ip_address(value.strip("[]")))
    except ValueError:
        return check_domain(value, what, single_label=True)


PASSWORD_VARIABLES = (
    "ONBOARD_SOURCE_PASSWORD (the old IMAP server) or ONBOARD_DEST_PASSWORD (the target)"
)


def refuse_password_in_url(scheme: str, user: str, host: str) -> ValueError:
    """The error for a URL that carries a password: it is not echoed, the variables are named."""
    where = f"{scheme}://{shown(user, 40)[1:-1]}:…@{shown(host, 60)[1:-1]}"
    return ValueError(
        f"the URL {where} holds a password; a password in a URL shows in `ps`, the shell's "
        f"history and the copy ledger. Write it without one ({scheme}://USER@HOST) and set "
        f"{PASSWORD_VARIABLES}, or let onboard ask for it"
    )
