"""Redaction: the one place that keeps a session's secrets out of logs, reports and bundles.

A ``Redactor`` holds the secrets to remove and replaces each with ``[redacted]``::

    redactor = Redactor.for_session(store)          # the session's keyring entries
    redactor = Redactor([password, token])          # secrets this process holds
    redactor.text("LOGIN anna hunter2")             # -> "LOGIN anna [redacted]"
    redactor.value({"url": "imap://a:pw@host"})     # every string in a structure, keys too

``text`` removes the secrets themselves (longest first, none shorter than ``MIN_SECRET``; one shorter
than ``WHOLE_BELOW`` only where no letter or digit touches it, so a three-letter password does not
eat into a fingerprint or a word) and, with
``look_alikes`` (the default), anything that looks like a secret: ``password=...``, ``AUTH PLAIN
...``, an IMAP ``LOGIN user pass``, ``Authorization: ...``, ``scheme://user:pw@``. ``value`` walks
str, dict, list, tuple, set and dataclass values and returns a copy of the same shape (sets become
lists, so the result stays JSON-friendly); with ``look_alikes`` a dict entry whose key names a
secret (``password``, ``token`` ...) loses its value too.

Callers pass the plain secrets; the forms protocols put them in are found here too: URL-encoded
(``%40``, ``+`` for a space, either hex case) and inside any base64 token that decodes to text
holding a secret, which covers base64 of the secret itself, SASL PLAIN with or without an authzid
(``authzid NUL user NUL password``) and XOAUTH2.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from .secrets import SecretStore, secrets_in_use, session_secret_keys

if TYPE_CHECKING:
    from .store import SessionStore

REDACTED = "[redacted]"
MIN_SECRET = 3  # shorter secrets would redact ordinary words
# A secret shorter than this is removed only where it stands whole (no letter or digit touching
# it): "bad" inside a certificate fingerprint or a word is not that password.
WHOLE_BELOW = 6

_LOOK_ALIKES: tuple[tuple[re.Pattern[str], str], ...] = (
    # password=..., "password": "...", token: ..., api_key=...
    (
        re.compile(
            r"""(?i)(\b(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key)\b["']?\s*[=:]\s*)"""
            r"""(?:"[^"]*"|'[^']*'|[^\s,;&}"']+)"""
        ),
        r"\1" + REDACTED,
    ),
    # AUTHENTICATE PLAIN <base64>, AUTH LOGIN <base64>, XOAUTH2 tokens
    (
        re.compile(
            r"(?i)(\bAUTH(?:ENTICATE)?\s+(?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5|NTLM)\s+)\S+"
        ),
        r"\1" + REDACTED,
    ),
    # IMAP "LOGIN user pass" as sent on the wire (upper case only: prose says "login failed")
    (re.compile(r"""(?<![A-Za-z])(LOGIN\s+(?:"[^"]*"|\S+)\s+)("[^"]*"|\S+)"""), r"\1" + REDACTED),
    # HTTP Authorization headers
    (
        re.compile(r"(?i)(\bAuthorization\s*[:=]\s*(?:Basic|Bearer|NTLM|Negotiate|Digest)\s+)\S+"),
        r"\1" + REDACTED,
    ),
    # URLs with a password in them: scheme://user:password@host
    (re.compile(r"(://[^\s/:@]+:)[^\s/@]+@"), r"\1" + REDACTED + "@"),
)

# A run of base64 characters long enough to hold MIN_SECRET bytes; "=" padding may be missing.
_BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/]{4,}={0,2}")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")

_SECRET_KEY = re.compile(r"(?i)pass(word|wd|phrase)?$|^pwd$|secret|token|api[_-]?key")


def known_secrets(store: SessionStore) -> list[str]:
    """Every secret the keyring holds for this session, longest first."""
    secrets = SecretStore(store.name)
    found = [secrets.get(key) for key in session_secret_keys(store)]
    return sorted({s for s in found if s and len(s) >= MIN_SECRET}, key=len, reverse=True)


@dataclass(frozen=True, init=False)
class Redactor:
    """Removes the given secrets (and, with ``look_alikes``, secret-looking text) from values."""

    # repr=False: a redactor printed in a traceback or a log must not show what it hides.
    secrets: tuple[str, ...] = field(repr=False)
    look_alikes: bool
    _needles: tuple[str, ...] = field(repr=False)  # secrets and URL-encoded forms, longest first
    _raw: tuple[bytes, ...] = field(repr=False)  # the secrets as UTF-8, for decoded base64
    _whole: re.Pattern[str] | None = field(repr=False)  # short needles, matched whole
    _whole_raw: re.Pattern[bytes] | None = field(repr=False)  # short secrets in decoded base64

    def __init__(self, secrets: Iterable[str] = (), *, look_alikes: bool = True) -> None:
        kept = {s for s in secrets if s and len(s) >= MIN_SECRET}
        needles = kept | {form for s in kept for form in _url_forms(s)}
        object.__setattr__(self, "secrets", tuple(sorted(kept, key=len, reverse=True)))
        object.__setattr__(self, "look_alikes", look_alikes)
        ordered = sorted(needles, key=len, reverse=True)
        object.__setattr__(self, "_needles", tuple(n for n in ordered if len(n) >= WHOLE_BELOW))
        short = [n for n in ordered if len(n) < WHOLE_BELOW]
        object.__setattr__(self, "_whole", _whole_pattern(short) if short else None)
        raw = tuple(s.encode("utf-8") for s in self.secrets)
        object.__setattr__(self, "_raw", tuple(r for r in raw if len(r) >= WHOLE_BELOW))
        short_raw = [r for r in raw if len(r) < WHOLE_BELOW]
        object.__setattr__(
            self,
            "_whole_raw",
            re.compile(
                rb"(?<![A-Za-z0-9])(?:"
                + b"|".join(map(re.escape, short_raw))
                + rb")(?![A-Za-z0-9])"
            )
            if short_raw
            else None,
        )

    @classmethod
    def for_session(cls, store: SessionStore, *, look_alikes: bool = True) -> Redactor:
        """A redactor of the session's keyring entries (looked up now)."""
        return cls(known_secrets(store), look_alikes=look_alikes)

    def text(self, text: str) -> str:
        """``text`` with every secret (encoded or not, and look-alikes) replaced by ``[redacted]``."""
        if self._raw or self._whole_raw:
            text = _BASE64_TOKEN.sub(self._base64_token, text)
        for needle in self._needles:
            text = text.replace(needle, REDACTED)
        if self._whole:
            text = self._whole.sub(REDACTED, text)
        if self.look_alikes:
            for pattern, replacement in _LOOK_ALIKES:
                text = pattern.sub(replacement, text)
        return text

    def _base64_token(self, match: re.Match[str]) -> str:
        token = match.group()
        data = token.rstrip("=")
        try:
            decoded = base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
        except (binascii.Error, ValueError):
            return token
        if any(secret in decoded for secret in self._raw) or (
            self._whole_raw and self._whole_raw.search(decoded)
        ):
            return REDACTED
        return token

    def value(self, value: Any) -> Any:
        """A copy of ``value`` of the same shape with every string redacted, dict keys too."""
        if not self.secrets and not self.look_alikes:
            return value
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                f.name: self.value(getattr(value, f.name)) for f in dataclasses.fields(value)
            }
            return dataclasses.replace(value, **changes)
        if isinstance(value, dict):
            return {
                self.text(str(k)): REDACTED
                if self.look_alikes and v and _SECRET_KEY.search(str(k))
                else self.value(v)
                for k, v in value.items()
            }
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        if isinstance(value, list | set | frozenset):
            return [self.value(v) for v in value]
        shown = str(value)
        redacted = self.text(shown)
        return value if redacted == shown else redacted


def redact_in_use(value: Any) -> Any:
    """``value`` (text or a structure) without any secret this process holds, plain or encoded.

    For what comes from a server (its error replies, evidence built from them, JSON output): a
    server that echoes the login puts the password, or the base64 of a SASL PLAIN string, into its
    reply. Only real secrets are removed, so operator messages keep their words."""
    secrets = secrets_in_use()
    return Redactor(secrets, look_alikes=False).value(value) if secrets else value


def _whole_pattern(needles: list[str]) -> re.Pattern[str]:
    """Any of ``needles`` (longest first) where no letter or digit touches it."""
    alternatives = "|".join(map(re.escape, needles))
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")


def _url_forms(secret: str) -> set[str]:
    """The secret percent-encoded as URLs and form bodies carry it, in both hex cases."""
    forms = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    forms |= {_PERCENT_ESCAPE.sub(lambda m: m.group().lower(), f) for f in forms}
    return forms - {secret}


__all__ = ["MIN_SECRET", "REDACTED", "Redactor", "known_secrets", "redact_in_use"]
