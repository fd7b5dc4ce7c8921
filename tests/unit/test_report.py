"""The completion report shows every step's state and notes, open items first, and no secret."""

from __future__ import annotations

import html
import json
import re

import pytest

from wizard.profile import example_profile
from wizard.report import render_report
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session
from wizard.store import SessionStore, StepState

PLANTED = "Tr0ub4dor&3-planted"
PLANTED_TARGET = "correct-horse-battery-staple"


@pytest.fixture
def store() -> SessionStore:
    s = create_session("Acme Corp", "acme.example", example_profile())
    s.add_mailboxes([("tom", "tom@acme.example", "Tom Jones")])
    SecretStore(s.name).set(source_password_key("tom"), PLANTED)
    SecretStore(s.name).set(target_password_key("tom@acme.example"), PLANTED_TARGET)
    s.set_step_state("1", StepState.DONE, actor="alice")
    s.set_step_state("2", StepState.SKIPPED, reason="plan agreed by email", actor="alice")
    s.set_step_state("7", StepState.BLOCKED, reason="no control panel access yet", actor="bob")
    s.set_step_state("5", StepState.IN_PROGRESS)
    s.set_note("1", "Contact: Tom Jones, IT lead")
    # An operator pasting a password into a note must not leak it into the report.
    s.set_note("3", f"Tom's password is {PLANTED} for now")
    s.add_evidence("4", "imap-connection", "1 of 1 mailbox logged in", {"tom": "ok"}, ok=True)
    s.add_evidence("8", "dns-mx", "MX still points at the old server", {}, ok=False)
    yield s
    s.close()


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_each_format_has_every_step_state_and_note_and_no_secret(
    store: SessionStore, fmt: str
) -> None:
    text = render_report(store, fmt)
    for secret in (PLANTED, PLANTED_TARGET):
        # Neither raw nor escaped for HTML or JSON.
        for form in (secret, html.escape(secret), json.dumps(secret)[1:-1]):
            assert form not in text
    assert "[redacted]" in text
    assert "Contact: Tom Jones, IT lead" in text
    assert "Acme Corp" in text and "acme.example" in text and "Example Hosted Exchange" in text
    assert "plan agreed by email" in text and "no control panel access yet" in text
    assert "1 of 1 mailbox logged in" in text and "MX still points at the old server" in text
    for step in store.playbook:
        assert step.title in text, step.number


def test_markdown_lists_open_items_before_the_steps(store: SessionStore) -> None:
    text = render_report(store, "md")
    open_at = text.index("## Open items")
    steps_at = text.index("## Steps")
    assert open_at < steps_at
    open_section = text[open_at:steps_at]
    assert (
        "**Step 7** (provider) Redirect new mail to the old server: blocked: no control panel access yet"
        in open_section
    )
    assert "**Step 1**" not in open_section and "**Step 2**" not in open_section
    assert "✔ done · by alice at" in text
    assert "↷ skipped · by alice" in text


def test_only_the_latest_check_of_a_kind_makes_an_open_item(store: SessionStore) -> None:
    store.set_step_state("8", StepState.DONE)
    store.add_evidence("8", "dns-autodiscover", "No Autodiscover record yet", {}, ok=False)
    store.add_evidence("8", "dns-autodiscover", "Autodiscover points at the provider", {}, ok=True)
    open_section = render_report(store, "md").split("## Steps")[0]
    assert "last check failed: MX still points at the old server" in open_section
    assert "No Autodiscover record yet" not in open_section
    store.add_evidence("8", "dns-mx", "MX points at the provider", {}, ok=True)
    open_section = render_report(store, "md").split("## Steps")[0]
    assert "**Step 8**" not in open_section


def test_html_is_self_contained(store: SessionStore) -> None:
    text = render_report(store, "html")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text and "<link" not in text
    assert not re.search(r"""(src|href)=["']?https?:""", text)
    assert "url(" not in text
    assert '<span class="state blocked">' in text


def test_json_carries_states_open_items_and_evidence(store: SessionStore) -> None:
    data = json.loads(render_report(store, "json"))
    states = {s["number"]: s["state"] for s in data["steps"]}
    assert len(states) == 20
    assert states["1"] == "done" and states["2"] == "skipped" and states["7"] == "blocked"
    assert states["5"] == "in-progress" and states["17"] == "not-started"
    assert data["open_items"][0]["step"] == "3" or any(i["step"] == "7" for i in data["open_items"])
    step8 = next(s for s in data["steps"] if s["number"] == "8")
    assert step8["evidence"][0]["ok"] is False
    assert data["customer"] == "Acme Corp" and data["provider"] == "Example Hosted Exchange"


def test_filtering_variant_is_reported(store: SessionStore) -> None:
    store.set_third_party_filter(True)
    text = render_report(store, "md")
    assert "Third-party mail filtering kept in front:** yes" in text
    assert "stay pointed at that service" in text
