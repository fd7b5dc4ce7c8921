"""Step 17's figures and the report's copy tables come from the ledger and the verification."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from wizard.copy.ledger import CopyLedger, MessageRecord, MessageState, RunMode, RunState
from wizard.copy.verify import FolderCheck, MailboxCheck, Verification, save_verification
from wizard.profile import example_profile
from wizard.report import render_report
from wizard.session import create_session
from wizard.signoff import gather_figures, record_signoff
from wizard.store import SessionStore, StepState


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", "acme.example", example_profile())
    s.add_mailboxes([("tom", "tom@acme.example", "Tom"), ("ann", "ann@acme.example", "Ann")])
    ledger = CopyLedger(s)
    run = ledger.start_run("tom@acme.example", RunMode.INITIAL)
    ledger.record(
        [
            MessageRecord(
                "tom@acme.example",
                "INBOX",
                7,
                uid,
                MessageState.COPIED,
                "Inbox",
                f"id{uid}",
                f"<{uid}@x>",
                1000,
            )
            for uid in range(1, 11)
        ]
        + [
            MessageRecord(
                "tom@acme.example", "INBOX", 7, 11, MessageState.SKIPPED, reason="larger than 48 MB"
            ),
            MessageRecord(
                "ann@acme.example", "INBOX", 3, 1, MessageState.FAILED, reason="target refused it"
            ),
        ]
    )
    ledger.add_sample(run, 5, 5000, at=1_800_000_000.0)
    ledger.add_sample(run, 10, 10000, at=1_800_000_070.0)
    ledger.finish_run(run, RunState.DONE, messages=10, bytes_copied=10000, failures=0)
    save_verification(
        s,
        Verification(
            "16",
            "2026-11-25T10:00:00+00:00",
            (
                MailboxCheck(
                    "tom@acme.example", (FolderCheck("INBOX", "Inbox", 11, 10, skipped=1),)
                ),
                MailboxCheck("ann@acme.example", (FolderCheck("INBOX", "Inbox", 1, 0, failed=1),)),
            ),
        ),
    )
    yield s
    s.close()


def test_figures_add_up_the_ledger_and_verification(store: SessionStore) -> None:
    figures = gather_figures(store)
    assert (figures.copied, figures.copied_bytes, figures.skipped, figures.failed) == (
        10,
        10000,
        1,
        1,
    )
    tom, ann = figures.mailboxes
    assert (tom.source_count, tom.target_count, tom.verified) == (11, 10, True)
    assert ann.verified is False
    assert "1 of 2 mailboxes need attention" in figures.verification_text
    assert any(i.step == "1" for i in figures.open_items)


def test_signoff_is_recorded_with_both_names(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="customer representative's name is empty"):
        record_signoff(
            store, provider_name="Pat", customer_name=" ", day="2026-11-25", complete=True
        )
    evidence = record_signoff(
        store,
        provider_name="Pat Engineer",
        customer_name="Tom Jones",
        day="2026-11-25",
        complete=False,
    )
    assert evidence.summary == (
        "Signed off on 2026-11-25 by Pat Engineer (Example Hosted Exchange) and Tom Jones (Acme Corp): not complete yet"
    )
    assert evidence.data["messages_copied"] == 10 and evidence.data["failed"] == 1


def test_report_carries_copy_figures_and_inline_charts(store: SessionStore) -> None:
    store.set_step_state("9", StepState.DONE)
    md = render_report(store, "md")
    assert "### Mail copied per mailbox" in md
    assert "| tom@acme.example | 10 | 9.8 KiB | 1 | 0 | 11 | 10 | ok |" in md
    assert "| ann@acme.example | 0 | 0 B | 0 | 1 | 1 | 0 | needs attention |" in md
    assert "| ann@acme.example | INBOX | 1 | failed | target refused it |" in md
    assert "### Copy throughput" in md
    html = render_report(store, "html")
    assert html.count("<svg") == 2  # source vs target per mailbox, and throughput over time
    assert "source messages" in html and "messages per minute" in html
    assert "<script" not in html
