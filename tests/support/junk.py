"""Seeded junk for fuzz-style tests: text a careless or hostile operator could give onboard.

Every generator takes a random.Random, so a failing case is reproduced from its seed.
"""

from __future__ import annotations

import random

SEED = 20261201
COUNT = 40  # cases per surface: enough to cover the odd corners, bounded for the 2-core machine

CONTROLS = [chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127, 0x85, 0x9B]]
BIDI = ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\u061c"]
QUOTES = ["'", '"', "\u2018", "\u2019", "\u201a", "\u201b", "\u201c", "\u201d", "`"]
SHELL = ['"; rm -rf ~', "$(reboot)", "`id`", "|calc", "&& curl x", "%00", "%0d%0a", "\\\\"]
ESCAPES = ["\x1b[2J", "\x1b]0;owned\x07", "\x1b[31m", "\x9b6n", "\r\n", "\u2028"]
WORDS = ["anna", "müller", "日本語", "admin", "x" * 70, "a" * 300, "-", ".", "..", "@", "", " "]


def junk_text(rng: random.Random, length: int = 12) -> str:
    """A short string of everything that is not plain ASCII letters."""
    pools = [CONTROLS, BIDI, QUOTES, SHELL, ESCAPES, WORDS, list("=+-@\t;,:/?#[]{}<>%~ ")]
    return "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(1, length)))


def hostile(rng: random.Random) -> str:
    """One thing no login, name or host may hold (a control, a bidi mark or a terminal escape)."""
    return rng.choice([*CONTROLS[1:], *BIDI, *ESCAPES])


def bad_domain(rng: random.Random) -> str:
    """A domain name that must be refused before any DNS question."""
    label = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    return rng.choice(
        [
            lambda: label + "." + "x" * rng.randint(64, 400),  # a label over 63
            lambda: ".".join([label * 7] * rng.randint(5, 9)),  # a name over 253
            lambda: label + hostile(rng) + ".example",
            lambda: label + rng.choice(SHELL) + ".example",
            lambda: rng.choice(["", ".", "..", " ", "\t", "-", "@", "*"]),
            lambda: label + ".." + "example",
            lambda: "-" + label + ".example",
            lambda: label + "-.example",
            lambda: label + "_" + label + ".example",
            lambda: label + ".example." + rng.choice(["1", "123", "0"]),
            lambda: label,  # no dot
            lambda: junk_text(rng) + "\x00.example",
        ]
    )()


def bad_url(rng: random.Random) -> str:
    """An endpoint URL that must be refused before any connection."""
    user = rng.choice(["anna", "anna@acme.example", "a%40b"])
    host = rng.choice(["127.0.0.1", "localhost", "imap.acme.example"])
    scheme = rng.choice(["imap", "imaps", "ews"])
    return rng.choice(
        [
            lambda: f"{scheme}://{user}:{junk_text(rng, 6) or 'pw'}@{host}",  # a password
            lambda: f"{scheme}://:{junk_text(rng, 6)}@{host}",
            lambda: f"{scheme}://{user}{hostile(rng)}@{host}",
            lambda: f"{scheme}://{user}@{host}{hostile(rng)}",
            lambda: f"{scheme}://{user}@{host}:{rng.choice(['0', '65536', '-1', 'abc', '99999'])}",
            lambda: f"{scheme}://@{host}",
            lambda: f"{scheme}://{user}@",
            lambda: f"{rng.choice(['http', 'ftp', 'file', 'javascript', ''])}://{user}@{host}",
            lambda: f"{user}@{host}",  # no scheme
            lambda: f"{scheme}://{user}@{'x' * rng.randint(64, 300)}.example",
            lambda: f"{scheme}://{user}@{host}?tls={junk_text(rng, 4) or 'maybe'}",
            lambda: f"{scheme}://{user}@{junk_text(rng, 5)}{rng.choice(SHELL)}",
            lambda: f"{scheme}://{user}@{host}?pin={junk_text(rng, 8) or 'zz'}",
        ]
    )()


HEADER = "source_login,source_password,target_address,display_name"


def bad_csv(rng: random.Random) -> bytes:
    """A mailbox CSV with at least one row (or the whole file) that must be refused."""
    rows = [f"user{n},pw{n},user{n}@acme.example,User {n}" for n in range(rng.randint(0, 5))]
    breakers = [
        lambda: f"an{hostile(rng)}na,pw,anna@acme.example,Anna",
        lambda: f"anna,pw,anna@acme.example,An{rng.choice(BIDI)}na",
        lambda: f'"anna,pw,anna@acme.example,{junk_text(rng)}',  # a quote never closed
        lambda: f"anna,pw,{junk_text(rng)},Anna",  # no address
        lambda: "anna,pw",  # too few fields
        lambda: "anna,pw,anna@acme.example,Anna,extra,more",
        lambda: f",pw,anna@acme.example,{junk_text(rng)}",  # no login
        lambda: "user0,pw,user0@acme.example,Dup\nuser9,pw,user0@acme.example,Dup",
        lambda: f"{junk_text(rng)} {junk_text(rng)},pw,anna@acme.example,Anna",
    ]
    rows.insert(rng.randint(0, len(rows)), rng.choice(breakers)())
    text = "\n".join([HEADER, *rows]) + rng.choice(["\n", "\r\n", ""])
    data = text.encode("utf-8", "surrogatepass")
    whole_file = [
        lambda: data,
        lambda: b"\xff\xfe" + data,  # says UTF-16, is not
        lambda: data.replace(b"anna", b"\xe9na", 1) if b"anna" in data else b"\xe9" + data,
        lambda: data + b"\x00",
        lambda: b"",
        lambda: junk_text(rng, 40).encode("utf-8", "surrogatepass"),  # no header at all
    ]
    return rng.choice(whole_file)()


def damaged_session(rng: random.Random, good: bytes) -> bytes:
    """The bytes of a session file that must be refused: garbage, empty, cut short, bad header."""
    return rng.choice(
        [
            lambda: b"",
            lambda: rng.randbytes(rng.randint(1, 8192)),
            lambda: b"SQLite format 3\x00" + rng.randbytes(rng.randint(0, 4096)),
            lambda: good[: rng.randint(1, 99)],  # not even the whole header
            lambda: rng.randbytes(100) + good[100:],  # the header overwritten
            lambda: good[:16] + rng.randbytes(84) + good[100:],
            lambda: good[: rng.randint(100, max(101, len(good) // 3))],  # cut short
        ]
    )()
