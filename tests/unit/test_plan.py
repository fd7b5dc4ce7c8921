"""The step 2 plan gathers scope, measured volume, options, cutover and the copy estimate."""

from __future__ import annotations

from wizard.migration_plan import build_plan, plan_markdown
from wizard.profile import example_profile
from wizard.session import create_session


def test_plan_uses_measured_sizes_and_cutover() -> None:
    with create_session(
        "Acme Corp", "acme.example", example_profile(), third_party_filter=True
    ) as store:
        store.add_mailboxes(
            [("tom", "tom@acme.example", "Tom"), ("ann", "ann@acme.example", "Ann")]
        )
        store.add_evidence(
            "4",
            "imap-connection",
            "tom ok",
            {"login": "tom", "messages": 1200, "bytes": 450_000_000},
            ok=True,
        )
        store.set_setting("plan", {"cutover_window": "a weekend in December"})
        store.add_evidence(  # as step 5 records it
            "5",
            "cutover-date",
            "Cutover date 2026-12-12 received",
            {"cutover_date": "2026-12-12"},
            ok=True,
        )
        plan = build_plan(store)
        assert [m.messages for m in plan.mailboxes] == [1200, None]
        assert plan.total_bytes == 450_000_000 and plan.estimate is not None
        text = plan_markdown(plan)
        assert "1200 messages, 429.2 MiB measured in 1 of them" in text
        assert "a third-party filtering service stays in front" in text
        assert (
            "Cutover window: a weekend in December" in text and "Cutover date: 2026-12-12" in text
        )
        assert "| tom | tom@acme.example | Tom | 1200 | 429.2 MiB |" in text
        assert "Initial copy: about 5 min" in text


def test_plan_before_anything_is_measured() -> None:
    with create_session("Acme", "acme.example", example_profile()) as store:
        text = plan_markdown(build_plan(store))
        assert "No mailboxes listed yet (step 3)." in text
        assert "unknown until the mailboxes are measured" in text
