"""The verification steps in the demo: "Verify now" answers right under the button, in view at
80x24, says what to do next with the step numbers of this playbook, names the mail that arrived
after the copy by date, sender and subject (a hostile subject stays text), and copies it with one
key, after which the step verifies again by itself."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widget import Widget
from textual.widgets import Static, Tree

from screens.app import OnboardApp
from tests.ui.pilot_helpers import shown, wait_until
from wizard.copy.engine import CopyEngine
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import CopyLedger
from wizard.copy.session_jobs import session_jobs
from wizard.devservers.demo import DemoServers, open_demo_session
from wizard.devservers.demo.corpus import DemoMessage
from wizard.playbook import Kind

ARRIVED = datetime(2026, 12, 1, 13, 5, tzinfo=UTC)


def late(n: int, subject: str, sender: str) -> DemoMessage:
    raw = (
        f"From: {sender}\r\nTo: anna@demo-company.example\r\nSubject: {subject}\r\n"
        f"Date: Tue, 01 Dec 2026 14:0{n}:00 +0100\r\nMessage-ID: <late-{n}@demo.example>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "Arrived after the copy.\r\n"
    ).encode()
    return DemoMessage(raw, (), ARRIVED, f"<late-{n}@demo.example>", subject)


def in_view(widget: Widget) -> bool:
    """Wholly inside the step pane's visible part (not scrolled away, not below the fold)."""
    pane = widget.screen.query_one("#step-pane")
    region = widget.region
    return bool(region.area) and pane.region.contains_region(region)


def leaves(tree: Tree[str]) -> list[str]:
    out: list[str] = []
    stack = list(tree.root.children)
    while stack:
        node = stack.pop()
        out.append(node.label.plain)
        stack.extend(node.children)
    return out


async def test_mail_after_the_copy_is_named_under_the_button_and_copied_from_there(
    demo_servers: DemoServers,
) -> None:
    store = open_demo_session(demo_servers)
    jobs = session_jobs(store, [], PlanOptions(), interactive=False)
    assert CopyEngine(CopyLedger(store), jobs).run().ok
    anna = demo_servers.company.mailboxes[0]
    imap = demo_servers.imap
    imap.deliver(anna.login, late(1, "=?utf-8?q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=", anna.address))
    imap.deliver(
        anna.login, late(2, "[bold red]PAID[/] [link=x]click[/link]", "x <x@evil.example>")
    )
    imap.deliver(anna.login, late(3, "Lunch?", "=?utf-8?q?J=C3=BCrgen?= <j@demo.example>"))
    playbook = store.playbook
    store.set_current_step(playbook.number_of(Kind.VERIFY_INITIAL))
    app = OnboardApp(store=store, demo=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        summary = app.screen.query_one("#verify-summary", Static)
        advice = app.screen.query_one("#verify-next", Static)
        await pilot.press("v")  # right after opening: no Tab first
        await wait_until(pilot, lambda: "attention" in shown(summary), what="to verify")
        await pilot.pause(0.2)
        assert in_view(summary) and in_view(advice)
        assert in_view(app.screen.query_one("#verify-run"))
        assert shown(summary).startswith("1 of 5 mailboxes need attention, 3 messages missing")
        differential = playbook.number_of(Kind.DIFFERENTIAL)
        assert (
            f"3 messages arrived after the copy: run the differential copy (step {differential}) "
            "or copy them now (c)."
        ) in shown(advice)
        listed = leaves(app.screen.query_one("#verify-tree", Tree))
        assert any(
            "1 Dec 2026, 13:01 · " + anna.address + " · Grüße aus München" in line
            for line in listed
        ), listed
        assert any("[bold red]PAID[/] [link=x]click[/link]" in line for line in listed)
        assert any("Jürgen <j@demo.example> · Lunch?" in line for line in listed)

        await pilot.press("c")
        await wait_until(
            pilot,
            lambda: "every message is on the target" in shown(summary),
            what="to copy the late mail and verify again",
        )
        assert "Next: the customer's spot checks in webmail (o opens it)" in shown(advice)
        assert in_view(summary)
        assert not app.screen.query_one("#verify-copy").display  # nothing left to copy
        await pilot.press("ctrl+q")
