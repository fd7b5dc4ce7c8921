"""The report a customer signs: a summary first (who moved, how much, cutover, DNS now, add-ons,
what is next), the sign-off as a block, checks as their latest result with the history behind,
figures in an appendix with labelled charts, and no local path or command in the customer's copy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from wizard.copy.ledger import CopyLedger, MessageRecord, MessageState
from wizard.formatting import format_time as human_time
from wizard.formatting import plural
from wizard.profile import example_profile
from wizard.report import render_report
from wizard.report.words import person
from wizard.session import create_session
from wizard.signoff import record_signoff
from wizard.store import SessionStore, StepState


def step_of(store: SessionStore, kind: str) -> str:
    return next(s.number for s in store.playbook if s.kind == kind)


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", "acme.example", example_profile())
    s.add_mailboxes(
        [("tom", "tom@acme.example", "Tom Jones"), ("ann", "ann@acme.example", "Ann Lee")]
    )
    ledger = CopyLedger(s)
    records = [
        MessageRecord(
            "tom@acme.example", folder, 7, uid, MessageState.COPIED, target, f"id{uid}", "", 1024
        )
        for uid, (folder, target) in enumerate(
            [("INBOX", "Inbox")] * 3 + [("Projekte/Größe", "Projekte/Größe")] * 2, start=1
        )
    ]
    ledger.record(records)
    for folder, target in (("INBOX", "Inbox"), ("Projekte/Größe", "Projekte/Größe")):
        ledger.mark_folder(
            "tom@acme.example", folder, uidvalidity=7, last_seen_uid=5, target_folder=target
        )
    s.set_setting("cutover.date", "2026-12-14")
    addon = s.profile.addons[0]
    s.tick(step_of(s, "addons"), f"addon:{addon.id}", True, actor="root")
    dns_step = step_of(s, "dns-records")
    s.add_evidence(dns_step, "dns.mx", "MX still points at mail.acme.example", {}, ok=False)
    s.add_evidence(dns_step, "dns.mx", "MX points at the provider", {}, ok=True)
    s.set_step_state("1", StepState.DONE, actor="root")
    yield s
    s.close()


def test_summary_comes_first_and_says_what_a_customer_needs(store: SessionStore) -> None:
    text = render_report(store, "md")
    summary = text.split("## Summary", 1)[1].split("## Open items", 1)[0]
    assert text.index("## Summary") < text.index("## Sign-off") < text.index("## Steps")
    assert "**Cutover date:** 14 Dec 2026" in summary
    assert "**Mail copied:** 5 messages, 5.0 KiB in 2 mailboxes" in summary
    assert re.search(
        r"\| Tom Jones \| tom@acme\.example \| tom \| 5 \| 5\.0 KiB \| not verified yet \|", summary
    )
    assert "| Ann Lee | ann@acme.example | ann | 0 | 0 B | not verified yet |" in summary
    assert f"**Add-ons enabled:** {store.profile.addons[0].name}" in summary
    assert "| Mail (MX) | ok: MX points at the provider |" in summary  # the latest check only
    assert "Keep the old IMAP server running until both parties have signed off" in summary
    # Not signed yet: the block leaves room for both names.
    signoff = text.split("## Sign-off", 1)[1].split("## Open items", 1)[0]
    assert "Not signed off yet." in signoff and "For Acme Corp: name ____" in signoff


def test_signoff_block_names_both_parties(store: SessionStore) -> None:
    record_signoff(
        store,
        provider_name="Pat Engineer",
        customer_name="Tom Jones",
        day="2026-12-20",
        complete=True,
    )
    text = render_report(store, "md")
    signoff = text.split("## Sign-off", 1)[1].split("## Open items", 1)[0]
    assert "For Example Hosted Exchange: **Pat Engineer**, 20 Dec 2026" in signoff
    assert "For Acme Corp: **Tom Jones**, 20 Dec 2026" in signoff
    assert "Both parties call the migration **complete**." in signoff
    html = render_report(store, "html")
    assert '<div class="signoff">' in html and "Pat Engineer" in html


def test_a_check_that_later_passed_shows_its_history_not_a_red_line(store: SessionStore) -> None:
    text = render_report(store, "md")
    step8 = text.split("#### Step 8:", 1)[1].split("#### Step", 1)[0]
    latest, earlier = step8.split("**Checks:**", 1)[1].strip().splitlines()[:2]
    assert latest.startswith("- [ok] dns.mx: MX points at the provider (")
    assert "passed after 1 failed attempt" in latest
    assert (
        earlier.strip().startswith("- earlier, ") and "[FAILED] dns.mx: MX still points" in earlier
    )
    html = render_report(store, "html")
    assert "<details" in html and "passed after 1 failed attempt" in html


def test_customer_copy_has_no_paths_commands_or_machine_accounts(store: SessionStore) -> None:
    for fmt in ("md", "html"):
        text = render_report(store, fmt)
        assert str(store.path) not in text and "onboard " not in text, fmt
        assert " root " not in text and "by root" not in text, fmt
        assert "Example Hosted Exchange engineer" in text, fmt  # who ticked the add-on
        assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), fmt  # no raw ISO stamps
    operator = render_report(store, "md", "operator")
    assert "## Appendix B: for the operator" in operator and str(store.path) in operator
    data = json.loads(render_report(store, "json"))
    assert data["session_path"] == "" and data["summary"]["cutover_date"] == "2026-12-14"
    assert data["generated_at"].count("T") == 1  # JSON keeps ISO 8601


def test_appendix_has_per_folder_figures_and_labelled_charts(store: SessionStore) -> None:
    text = render_report(store, "md")
    appendix = text.split("## Appendix A: figures", 1)[1]
    assert "### Mail copied per folder" in appendix
    assert (
        "| tom@acme.example | Projekte/Größe | Projekte/Größe | 2 | 2.0 KiB | 0 | 0 |" in appendix
    )
    html = render_report(store, "html")
    chart = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "tom@acme.example" in chart and "ann@acme.example" in chart  # bars are named
    assert ">messages</text>" in chart  # the y axis says what it counts
    assert re.search(r">0</text>", chart)  # and has a scale


def test_words() -> None:
    assert plural(1, "message") == "1 message" and plural(3, "mailbox") == "3 mailboxes"
    assert plural(2, "entry") == "2 entries"
    assert human_time("2026-12-14") == "14 Dec 2026"
    assert re.fullmatch(r"\d{1,2} \w{3} 2026, \d\d:\d\d", human_time("2026-12-01T14:05:00+00:00"))
    assert human_time("not a time") == "not a time"
    assert person("root", "Example") == "Example engineer" and person("Pat", "Example") == "Pat"
