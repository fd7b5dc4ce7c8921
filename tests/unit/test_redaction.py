"""The one redactor: a session's secrets and secret-looking text out of strings and structures."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from wizard.redaction import REDACTED, Redactor


@dataclass(frozen=True)
class Line:
    summary: str
    data: dict[str, object]
    count: int = 0


def test_secrets_are_replaced_longest_first_and_short_ones_are_kept() -> None:
    redactor = Redactor(["hunter2", "hunter2-long", "ab"])
    assert redactor.text("pw hunter2-long then hunter2, ab") == (
        f"pw {REDACTED} then {REDACTED}, ab"
    )


def test_look_alikes_are_redacted_unless_switched_off() -> None:
    text = "LOGIN anna s3cret and url imap://anna:pw@host; password=xyz"
    assert Redactor().text(text) == (
        f"LOGIN anna {REDACTED} and url imap://anna:{REDACTED}@host; password={REDACTED}"
    )
    assert Redactor(look_alikes=False).text(text) == text


def test_value_keeps_the_shape_and_redacts_keys_and_secret_named_entries() -> None:
    redactor = Redactor(["hunter2"])
    value = {
        "note": ("said hunter2", 3, None),
        "hunter2": [Line("x hunter2", {"token": "abc"}, 4)],
        "tags": {"hunter2"},
    }
    assert redactor.value(value) == {
        "note": (f"said {REDACTED}", 3, None),
        REDACTED: [Line(f"x {REDACTED}", {"token": REDACTED}, 4)],
        "tags": [REDACTED],
    }
    assert Redactor(["hunter2"], look_alikes=False).value({"token": "abc"}) == {"token": "abc"}


def test_a_secret_inside_base64_is_found_whatever_the_framing() -> None:
    redactor = Redactor(["hunter2"], look_alikes=False)  # the encoding alone must give it away
    plain = base64.b64encode(b"hunter2").decode()
    sasl = base64.b64encode(b"\0anna@acme.example\0hunter2").decode()
    sasl_authzid = base64.b64encode(b"anna@acme.example\0admin\0hunter2").decode()
    xoauth2 = base64.b64encode(b"user=anna\x01auth=Bearer hunter2\x01\x01").decode()
    for token in (plain, sasl, sasl_authzid, xoauth2, sasl.rstrip("=")):
        assert (
            redactor.text(f"C: AUTHENTICATE PLAIN {token}") == f"C: AUTHENTICATE PLAIN {REDACTED}"
        )
        assert redactor.text(f'{{"sent": "{token}"}}') == f'{{"sent": "{REDACTED}"}}'
    other = base64.b64encode(b"\0anna@acme.example\0not-it").decode()
    assert redactor.text(f"sent {other}") == f"sent {other}"


def test_url_encoded_secrets_are_found_in_either_hex_case() -> None:
    redactor = Redactor(["p@ss word/1"])
    for form in ("p%40ss%20word%2F1", "p%40ss+word%2F1", "p%40ss%20word/1", "p%40ss%20word%2f1"):
        assert redactor.text(f"GET /ews?pw={form}&x=1") == f"GET /ews?pw={REDACTED}&x=1"


def test_a_redactor_does_not_show_its_secrets() -> None:
    assert "hunter2" not in repr(Redactor(["hunter2"]))


def test_a_short_secret_is_redacted_where_it_stands_whole_never_inside_a_fingerprint() -> None:
    # A wrong password "bad" once tried must not eat into a certificate fingerprint or a word.
    redactor = Redactor(["bad", "hunter2"], look_alikes=False)
    fingerprint = "SHA-256 9f3bad0c71e2"
    assert redactor.text(f"{fingerprint}, a badge") == f"{fingerprint}, a badge"
    assert redactor.text("LOGIN anna bad; pw=bad&x") == (f"LOGIN anna {REDACTED}; pw={REDACTED}&x")
    assert redactor.text("xhunter2y") == f"x{REDACTED}y"  # six and more: found anywhere
    sasl = base64.b64encode(b"\0anna@acme.example\0bad").decode()
    assert redactor.text(f"sent {sasl}") == f"sent {REDACTED}"
