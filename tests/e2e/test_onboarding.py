"""Issue 8 end to end: a fresh session walked through every playbook entry in the real app,
against a real Dovecot source and the EWS stand-in as the provider's Exchange."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, DataTable, Input, Static, TabbedContent

from screens.app import OnboardApp
from screens.dialogs import ConfirmDialog, ReasonDialog
from screens.dialogs.csv_import import CsvImportDialog
from screens.step_screen import StepScreen
from screens.steps.propagation import PropagationBody
from tests.servers import ews
from tests.servers.dovecot import DovecotServer, make_message
from tests.ui.pilot_helpers import settle, shown, type_text
from wizard.dns.propagation import save_resolvers
from wizard.exchange.settings import Access, AuthType, ExchangeSettings, save_settings
from wizard.imap.settings import ImapServerSettings, Security
from wizard.imap.settings import save_settings as save_imap_settings
from wizard.profile import example_profile
from wizard.sandbox import EwsSandbox
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session
from wizard.store import SessionStore, StepState

SIZE = (160, 55)
DOMAIN = "e2e.example"
OLD_ZONE = (
    '@ IN MX 10 mail.e2e.example.\nmail IN A 192.0.2.25\n@ IN TXT "v=spf1 ip4:192.0.2.25 -all"\n'
)
NEW_ZONE = (
    "@ IN MX 10 mx1.hosted.example.net.\n@ IN MX 20 mx2.hosted.example.net.\n"
    "autodiscover IN CNAME autodiscover.hosted.example.net.\n"
    '@ IN TXT "v=spf1 ip4:192.0.2.25 -all"\n'
)


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the screen"
        await pilot.pause(0.05)


async def mark_done(app: OnboardApp, pilot: Pilot, number: str) -> None:
    """F2 on the step's screen; an early "done" asks for a reason, given as an operator would."""
    app.goto_step(number)
    await settle(pilot)
    await pilot.press("f2")
    await settle(pilot)
    if isinstance(app.screen, ReasonDialog):
        await type_text(pilot, "end to end walk")
        await pilot.press("enter")
        await settle(pilot)
    if isinstance(app.screen, ConfirmDialog):
        await pilot.press("y")
        await settle(pilot)
    assert isinstance(app.screen, StepScreen)
    assert app.store is not None
    assert app.store.step_record(number).state is StepState.DONE, number


async def open_step(app: OnboardApp, pilot: Pilot, number: str) -> StepScreen:
    app.goto_step(number)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, StepScreen) and screen.step.number == number
    return screen


def cell(table: DataTable, row: str, column: str) -> str:
    return str(table.get_cell(row, column))


async def verify_ok(app: OnboardApp, pilot: Pilot, number: str) -> None:
    screen = await open_step(app, pilot, number)
    summary = screen.query_one("#verify-summary", Static)
    assert "Not verified yet" in shown(summary)
    screen.query_one("#verify-tree").focus()
    await pilot.press("v")
    await wait_until(pilot, lambda: "mailbox" in shown(summary) or "Cannot" in shown(summary))
    assert "1 mailboxes verified: every message is on the target" in shown(summary)


async def test_fresh_session_walks_every_step(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, knot_factory: Any, tmp_path: Path
) -> None:
    source = dovecot.add_user()
    dovecot.seed(source.login, "INBOX", [make_message(n) for n in range(3)])
    profile = dataclasses.replace(example_profile(), ews_url=ews_sandbox.url)
    store = create_session("E2E Corp", DOMAIN, profile)
    dns = knot_factory({DOMAIN: OLD_ZONE})  # the customer's DNS: old MX, old SPF
    save_resolvers(store, [f"Lab={dns.address}"])
    store.set_setting("dns.authoritative", [dns.address])
    store.set_setting("dns.poll_seconds", 1)
    save_imap_settings(
        store, ImapServerSettings(host="127.0.0.1", port=dovecot.imap_port, security=Security.PLAIN)
    )
    save_settings(
        store, ExchangeSettings(ews_sandbox.url, auth=AuthType.BASIC, access=Access.DELEGATE)
    )
    csv_file = tmp_path / "mailboxes.csv"
    csv_file.write_text(
        "source_login,source_password,target_address,display_name\n"
        f"{source.login},{source.password},{ews.USER},Anna Beispiel\n"
    )
    secrets = SecretStore(store.name)
    secrets.set(target_password_key(ews.USER), ews.PASSWORD)
    store_steps = list(store.playbook.steps)
    steps = [s.number for s in store_steps]
    assert len(steps) == 20

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Step 1: the terms are recorded on the screen.
        screen = await open_step(app, pilot, "1")
        screen.query_one("#contact", Input).value = "Tom Jones"
        screen.query_one("#email", Input).value = "tom@e2e.example"
        screen.query_one("#agreed-on", Input).value = "2026-11-20"
        screen.query_one("#contact", Input).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Terms agreed on 2026-11-20 with Tom Jones" in shown(
            screen.query_one(".status", Static)
        )
        for number in ("1", "2"):
            await mark_done(app, pilot, number)

        # Step 3: the mailbox list comes from the customer's CSV file (F9).
        screen = await open_step(app, pilot, "3")
        screen.query_one("#imap-host", Input).focus()
        await pilot.press("f9")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CsvImportDialog)
        dialog.query_one("#csv-path", Input).value = str(csv_file)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        mailboxes = screen.query_one("#mailbox-table", DataTable)
        row = [str(c) for c in mailboxes.get_row_at(0)]
        assert (row[0], row[1], row[3]) == (source.login, ews.USER, "in keyring")
        assert shown(screen.query_one("#mailbox-count", Static)) == "1 mailbox"
        assert store.mailboxes()[0].source_login == source.login
        await mark_done(app, pilot, "3")

        # Step 4: both tabs test their side for real.
        screen = await open_step(app, pilot, "4")
        source_table = screen.query_one("#source-table", DataTable)
        await pilot.click("#source-test-all")
        await wait_until(pilot, lambda: cell(source_table, source.login, "state") == "✔ ok")
        assert cell(source_table, source.login, "messages") == "3"
        screen.query_one(TabbedContent).active = "target-tab"
        await settle(pilot)
        target_table = screen.query_one("#target-table", DataTable)
        target_table.focus()
        await pilot.press("c")
        await wait_until(pilot, lambda: cell(target_table, ews.USER, "state") == "exists")
        await mark_done(app, pilot, "4")

        # Step 5: the customer confirms the mailboxes and the cutover date is saved.
        screen = await open_step(app, pilot, "5")
        screen.query_one("#confirmed-by", Input).focus()
        await type_text(pilot, "Tom Jones")
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert "Tom Jones confirmed 1 mailboxes." in shown(
            screen.query_one("#confirm-status", Static)
        )
        cutover = (date.today() + timedelta(days=14)).isoformat()
        screen.query_one("#cutover-date", Input).value = cutover
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"Cutover date {cutover} saved." in shown(
            screen.query_one("#cutover-status", Static)
        )
        await mark_done(app, pilot, "5")

        await mark_done(app, pilot, "6")
        screen = await open_step(app, pilot, "7")
        texts = " ".join(shown(s) for s in screen.query(Static))
        assert "delivering to 127.0.0.1" in texts  # the old server from step 3
        await mark_done(app, pilot, "7")

        # Step 8: the records to enter; the check still finds the old MX.
        screen = await open_step(app, pilot, "8")
        records = screen.query_one("#dns-records", DataTable)
        assert [str(c) for c in records.get_row_at(0)][:3] == [
            DOMAIN,
            "MX",
            "10 mx1.hosted.example.net",
        ]
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        mx = shown(screen.query_one("#mx-findings", Static))
        assert "mail.e2e.example" in mx, mx
        old = store.latest_evidence("8", "dns.mx")
        assert old is not None and old.ok is False
        # The customer makes the change: the zone is reloaded with the provider's records.
        dns.set_zone(DOMAIN, NEW_ZONE)
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        new = store.latest_evidence("8", "dns.mx")
        assert new is not None and new.ok is True, new
        await mark_done(app, pilot, "8")

        # Step 9: the initial copy, started with "s" on the copy table.
        screen = await open_step(app, pilot, "9")
        table = screen.query_one("#copy-table", DataTable)
        table.focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: cell(table, ews.USER, "state") == "done")
        assert "100%" in cell(table, ews.USER, "bar")
        assert cell(table, ews.USER, "messages").startswith("3")
        await mark_done(app, pilot, "9")

        # Step 10: verification compares source and target.
        await verify_ok(app, pilot, "10")
        await mark_done(app, pilot, "10")

        # Step 11: what Outlook will find through the new Autodiscover record.
        screen = await open_step(app, pilot, "11")
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        findings = shown(screen.query_one("#autodiscover-findings", Static))
        assert "is a CNAME for autodiscover.hosted.example.net" in findings
        await mark_done(app, pilot, "11")

        # Step 12: the matrix turns complete on its own (no key pressed) and F2 needs no reason.
        screen = await open_step(app, pilot, "12")
        body = screen.query_one(PropagationBody)
        await wait_until(pilot, lambda: body.view is not None and body.view.complete)
        await settle(pilot)
        assert "complete" in shown(screen.query_one("#prop-summary", Static))
        await mark_done(app, pilot, "12")
        assert store.step_record("12").override == ""

        await mark_done(app, pilot, "13")
        screen = await open_step(app, pilot, "13.1")
        detail = screen.query_one("#routing-detail", Input)
        detail.value = "redirection off, test mail arrived on Exchange"
        detail.focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        routing = store.latest_evidence("13.1", "mail-routing")
        assert routing is not None and routing.summary.startswith("redirection off")
        await mark_done(app, pilot, "13.1")

        # Step 13.2: the SPF record to publish keeps the old server and adds the provider.
        screen = await open_step(app, pilot, "13.2")
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        recommended = shown(screen.query_one("#spf-recommended", Static)).strip()
        assert recommended == "v=spf1 ip4:192.0.2.25 include:spf.hosted.example.net -all"
        await mark_done(app, pilot, "13.2")
        await mark_done(app, pilot, "13.3")

        # New mail reaches the old server after the initial copy: step 14 copies only that.
        dovecot.seed(source.login, "INBOX", [make_message(n, subject=f"Late {n}") for n in (7, 8)])
        screen = await open_step(app, pilot, "14")
        table = screen.query_one("#copy-table", DataTable)
        table.focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: cell(table, ews.USER, "state") == "done")
        totals = screen.query_one("#copy-totals", Static)
        await wait_until(pilot, lambda: "5/5 messages" in shown(totals))
        differential = store.latest_evidence("14", "copy")
        assert differential is not None
        assert "2 messages copied" in differential.summary
        assert differential.data["mailboxes"][0]["already"] == 3
        inbox = ews_sandbox.mailbox(ews.USER).well_known("inbox")
        assert len(inbox.items) == 5  # the three first ones were not copied twice
        await mark_done(app, pilot, "14")
        screen = await open_step(app, pilot, "15")
        screen.query_one(f"#local-{store.mailboxes()[0].id}", Checkbox).focus()
        await pilot.press("space")
        await settle(pilot)
        assert "1 of 1 mailboxes confirmed" in shown(screen.query_one(".status", Static))
        await mark_done(app, pilot, "15")

        await verify_ok(app, pilot, "16")
        await mark_done(app, pilot, "16")

        # Step 17: sign-off and the report.
        screen = await open_step(app, pilot, "17")
        figures = shown(screen.query_one("#figures", Static))
        assert "1 mailboxes · 5 messages copied" in figures, figures
        screen.query_one("#provider-name", Input).value = "Pat Engineer"
        screen.query_one("#customer-name", Input).value = "Tom Jones"
        screen.query_one("#complete", Checkbox).value = True
        screen.query_one("#customer-name", Input).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "by Pat Engineer" in shown(screen.query_one("#signoff-status", Static))
        await mark_done(app, pilot, "17")
        screen = await open_step(app, pilot, "17")
        screen.query_one("#export-md", Button).press()
        await settle(pilot)
        assert "Report written to" in shown(screen.query_one("#signoff-status", Static))
        report_path = store.latest_evidence("17", "report").data["path"]
        assert all(store.step_record(n).state is StepState.DONE for n in steps)
        await pilot.press("ctrl+q")
        await settle(pilot)

    report = Path(report_path).read_text(encoding="utf-8")
    for step in store_steps:
        section = report.split(f"#### Step {step.number}: {step.title}\n", 1)[1]
        assert section.split("####", 1)[0].count("✔ done") == 1, step.number
    assert "| anna@example.test | 5 |" in report  # copied per mailbox
    assert "3 messages copied" in report and "2 messages copied" in report
    assert "every message is on the target" in report


def copied_so_far(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        try:
            row = db.execute("SELECT COUNT(*) FROM copy_messages WHERE state = 'copied'").fetchone()
        except sqlite3.OperationalError:  # killed before the tables were made
            return 0
    return int(row[0])


async def test_initial_copy_killed_mid_way_is_finished_in_the_app(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox
) -> None:
    source = dovecot.add_user()
    total = 200
    dovecot.seed(source.login, "INBOX", [make_message(n, size=20_000) for n in range(total)])
    profile = dataclasses.replace(example_profile(), ews_url=ews_sandbox.url)
    store = create_session("Kill Corp", DOMAIN, profile)
    save_imap_settings(
        store, ImapServerSettings(host="127.0.0.1", port=dovecot.imap_port, security=Security.PLAIN)
    )
    save_settings(
        store, ExchangeSettings(ews_sandbox.url, auth=AuthType.BASIC, access=Access.DELEGATE)
    )
    store.add_mailboxes([(source.login, ews.USER, "Anna Beispiel")])
    secrets = SecretStore(store.name)
    secrets.set(source_password_key(source.login), source.password)
    secrets.set(target_password_key(ews.USER), ews.PASSWORD)
    name, path = store.name, store.path
    store.close()

    # `onboard copy SESSION` headless, killed with SIGKILL once part of the mail is across.
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "copy", name, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and copied_so_far(path) < 20:
        time.sleep(0.01)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = copied_so_far(path)
    assert 0 < partial < total

    store = SessionStore.open(path)
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_step(app, pilot, "9")
        table = screen.query_one("#copy-table", DataTable)
        table.focus()
        await pilot.press("s")  # start / resume
        await wait_until(pilot, lambda: cell(table, ews.USER, "state") == "done", timeout=60)
        assert "100%" in cell(table, ews.USER, "bar")
        evidence = store.latest_evidence("9", "copy")
        assert evidence is not None
        resumed = evidence.data["mailboxes"][0]
        assert resumed["copied"] + resumed["already"] == total
        assert resumed["already"] >= partial
        await pilot.press("ctrl+q")
        await settle(pilot)
    inbox = ews_sandbox.mailbox(ews.USER).well_known("inbox")
    assert len(inbox.items) == total  # nothing copied twice, nothing lost
