"""The one redactor: a session's secrets and secret-looking text out of strings and structures."""

from __future__ import annotations

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
