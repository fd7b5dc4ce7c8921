"""Issue 8 end to end: a fresh session walked through every playbook entry in the real app,
against a real Dovecot source, the EWS stand-in as the provider's Exchange and Knot as the
customer's DNS. Settings are typed into the screens that own them; each step is checked for what
its screen shows, and the exported plan and completion report for what they say."""

from __future__ import annotations

import contextlib
import dataclasses
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Input,
    Markdown,
    Select,
    Static,
    TabbedContent,
    Tree,
)

from screens.app import OnboardApp
from screens.dialogs import ConfirmDialog
from screens.dialogs.csv_import import CsvImportDialog
from screens.step_screen import StepScreen
from screens.steps.propagation import PropagationBody
from tests.servers import ews
from tests.servers.dovecot import DovecotServer, SeedMessage, make_message
from tests.ui.pilot_helpers import settle, shown, type_text, wait_until
from wizard.devservers.ews import EwsSandbox
from wizard.exchange.settings import Access, AuthType, ExchangeSettings, save_settings
from wizard.formatting import format_time
from wizard.imap.settings import ImapServerSettings, Security, load_settings
from wizard.imap.settings import save_settings as save_imap_settings
from wizard.profile import ProviderProfile, example_profile, parse_profile
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session
from wizard.store import SessionStore, StepState
from wizard.tls import format_fingerprint

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
PROVIDER_ZONE = 'spf IN TXT "v=spf1 ip4:198.51.100.0/24 -all"\n'
ANNA = ews.USER  # the stand-in's own mailbox
BERT = "bert@example.test"  # a second mailbox, added to the stand-in by the test
NESTED = "Projekte/Größe"  # nested, non-ASCII, on Bert's old server
ARCHIVE = "Archiv/2019"  # Anna's bulk: enough mail that a copy can be killed half way
BULK = 150
FIRST = {ANNA: 3 + BULK, BERT: 4}  # what the initial copy takes
FINAL = {ANNA: 5 + BULK, BERT: 4}  # after two late messages for Anna
OPERATOR = "tester"  # ONBOARD_OPERATOR in tests/conftest.py


def provider_profile(ews_url: str) -> ProviderProfile:
    """The example provider's profile file with the stand-in's EWS address, as --profile reads it."""
    example = example_profile()
    return parse_profile(example.toml_text.replace(example.ews_url, ews_url), "e2e.toml")


# ----- driving the app ---------------------------------------------------------------------------


async def open_step(app: OnboardApp, pilot: Pilot, number: str) -> StepScreen:
    app.goto_step(number)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, StepScreen) and screen.step.number == number
    return screen


async def mark_done(app: OnboardApp, pilot: Pilot, number: str) -> None:
    """F2 on the step's screen: the step is done at once, with nothing against it (no dialog
    asking why, so no override), and its screen says so."""
    screen = await open_step(app, pilot, number)
    await pilot.press("f2")
    await settle(pilot)
    assert app.screen is screen, f"step {number}: {type(app.screen).__name__} is open"
    assert app.store is not None
    record = app.store.step_record(number)
    assert record.state is StepState.DONE, number
    assert record.override == "", (number, record.override)
    assert "✔ done" in shown(screen.query_one("#step-state", Static))


async def replace_text(pilot: Pilot, field: Input, text: str) -> None:
    """Empty a field (end, then ctrl+u deletes all to its left) and type into it."""
    field.focus()
    await pilot.press("end", "ctrl+u")
    assert field.value == ""
    await type_text(pilot, text)
    assert field.value == text


async def choose(pilot: Pilot, select: Select[Any], value: Any) -> None:
    """Pick an option of a Select by keyboard (options in enum order)."""
    options = list(type(value))
    select.focus()
    await pilot.press("enter")
    await settle(pilot)
    steps = options.index(value) - options.index(type(value)(select.value))
    await pilot.press(*(["down" if steps > 0 else "up"] * abs(steps)), "enter")
    await settle(pilot)
    assert type(value)(select.value) is value


async def tick(pilot: Pilot, box: Checkbox) -> None:
    box.focus()
    await pilot.press("space")
    await settle(pilot)
    assert box.value


def cell(table: DataTable[Any], row: str, column: str) -> str:
    return str(table.get_cell(row, column))


def row_texts(tree: Tree[Any]) -> list[str]:
    return [str(node.label) for node in tree.root.children]


def all_text(screen: StepScreen) -> str:
    return "\n".join(shown(s) for s in screen.query(Static))


async def verify_both(app: OnboardApp, pilot: Pilot, number: str, counts: dict[str, int]) -> None:
    """Steps 10 and 16: v compares source and target; one line per mailbox, one per folder."""
    screen = await open_step(app, pilot, number)
    summary = screen.query_one("#verify-summary", Static)
    assert "Not verified yet" in shown(summary)
    tree = screen.query_one("#verify-tree", Tree)
    tree.focus()
    await pilot.press("v")
    # Until it ends the line says it is verifying (every folder of every mailbox ...); then it
    # says when it checked, or why it cannot.
    await wait_until(pilot, lambda: "(checked" in shown(summary) or "Cannot" in shown(summary))
    assert "2 mailboxes verified: every message is on the target" in shown(summary)
    for address, count in counts.items():
        line = f"✓ {address}: source {count}, target {count}, missing 0, extra 0, duplicated 0, failed 0"
        assert any(r.startswith(line) for r in row_texts(tree)), (line, row_texts(tree))
    bert = next(n for n in tree.root.children if BERT in str(n.label))
    folders = [str(n.label) for n in bert.children]
    assert any(f.startswith(f"✓ {NESTED} → ") and ": 2 / 2," in f for f in folders), folders


def section(report: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of any level."""
    return report.split(heading + "\n", 1)[1].split("\n#", 1)[0]


def copied_so_far(path: Path) -> dict[str, int]:
    """Messages the session's copy ledger holds as copied, per target mailbox."""
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db:
        try:
            rows = db.execute(
                "SELECT mailbox, COUNT(*) FROM copy_messages WHERE state = 'copied' "
                "GROUP BY mailbox"
            ).fetchall()
        except sqlite3.OperationalError:  # killed before the tables were made
            return {}
    return {str(mailbox): int(count) for mailbox, count in rows}


def copy_killed_half_way(name: str, path: Path, *, after: int) -> dict[str, int]:
    """`onboard copy SESSION` headless, killed with SIGKILL once ``after`` messages are across;
    what the ledger holds as copied then, per mailbox."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "copy", name, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if sum(copied_so_far(path).values()) >= after:
            break
        time.sleep(0.01)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return copied_so_far(path)


# ----- the walk ----------------------------------------------------------------------------------


async def test_fresh_session_walks_every_step(
    dovecot: DovecotServer, ews_sandbox: EwsSandbox, knot_factory: Any, tmp_path: Path
) -> None:
    # The customer's old server: Anna with three messages in INBOX and a bulk archive; Bert with
    # two in INBOX and two in a nested non-ASCII folder, one of them flagged and read.
    anna = dovecot.add_user()
    dovecot.seed(anna.login, "INBOX", [make_message(n) for n in range(3)])
    dovecot.seed(
        anna.login, ARCHIVE, [make_message(n, size=20_000) for n in range(100, 100 + BULK)]
    )
    bert = dovecot.add_user()
    dovecot.seed(bert.login, "INBOX", [make_message(n, subject=f"Bert {n}") for n in (20, 21)])
    dovecot.seed(
        bert.login,
        NESTED,
        [
            SeedMessage(make_message(30, subject="Angebot"), flags=("\\Flagged", "\\Seen")),
            make_message(31, subject="Rückfrage"),
        ],
    )
    # The provider's Exchange: Anna's mailbox exists in the stand-in; Bert's is created here.
    ews_sandbox.add_mailbox(BERT, display_name="Bert Muster")
    profile = provider_profile(ews_sandbox.url)
    store = create_session("E2E Corp", DOMAIN, profile)
    # The customer's DNS (old MX, old SPF) and the provider's SPF include, on one lab server.
    dns = knot_factory({DOMAIN: OLD_ZONE, "hosted.example.net": PROVIDER_ZONE})
    # No screen sets these: which servers are authoritative (instead of NS discovery, which
    # would leave 127.0.0.0/8) and a poll faster than the fastest interval on offer.
    store.set_setting("dns.authoritative", [dns.address])
    store.set_setting("dns.poll_seconds", 1)
    csv_file = tmp_path / "mailboxes.csv"
    csv_file.write_text(
        "source_login,source_password,target_address,display_name\n"
        f"{anna.login},{anna.password},{ANNA},Anna Beispiel\n"
        f"{bert.login},{bert.password},{BERT},Bert Muster\n",
        encoding="utf-8",
    )
    store_steps = list(store.playbook.steps)
    assert len(store_steps) == 20
    cutover = (date.today() + timedelta(days=14)).isoformat()

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # Step 1: the terms are recorded on the screen.
        screen = await open_step(app, pilot, "1")
        await replace_text(pilot, screen.query_one("#contact", Input), "Tom Jones")
        await replace_text(pilot, screen.query_one("#email", Input), "tom@e2e.example")
        await replace_text(pilot, screen.query_one("#agreed-on", Input), "2026-11-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Terms agreed on 2026-11-20 with Tom Jones" in shown(
            screen.query_one(".status", Static)
        )
        await mark_done(app, pilot, "1")

        # Step 2: the cutover window goes into the plan; nothing is measured yet.
        screen = await open_step(app, pilot, "2")
        await replace_text(pilot, screen.query_one("#window", Input), "weekend of 12-13 December")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert shown(screen.query_one("#plan-status", Static)) == "Cutover window saved."
        plan = screen.query_one("#plan", Markdown)
        assert "- Cutover window: weekend of 12-13 December" in plan.source
        assert "not measured yet" in plan.source
        await mark_done(app, pilot, "2")

        # Step 3: the server typed into the form, its self-signed certificate pinned, and the
        # mailbox list imported from the customer's CSV file.
        screen = await open_step(app, pilot, "3")
        await replace_text(pilot, screen.query_one("#imap-host", Input), "127.0.0.1")
        await replace_text(pilot, screen.query_one("#imap-port", Input), str(dovecot.imaps_port))
        await choose(pilot, screen.query_one("#imap-security", Select), Security.IMPLICIT_TLS)
        await pilot.press("ctrl+s")
        await settle(pilot)
        address = f"127.0.0.1:{dovecot.imaps_port}"
        assert shown(screen.query_one("#server-status", Static)).startswith(
            f"Server {address} (Implicit TLS (IMAPS)) saved."
        )
        assert "fetch it (F7)" in shown(screen.query_one("#cert-line", Static))
        await pilot.press("f7")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        fingerprint = format_fingerprint(dovecot.fingerprint)
        assert fingerprint in all_text(app.screen)  # type: ignore[arg-type]
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert f"Certificate pinned, SHA-256 {fingerprint}" in shown(
            screen.query_one("#cert-line", Static)
        )
        saved = load_settings(store)
        assert saved is not None and (saved.host, saved.port, saved.security) == (
            "127.0.0.1",
            dovecot.imaps_port,
            Security.IMPLICIT_TLS,
        )
        screen.query_one("#imap-host", Input).focus()
        await pilot.press("f9")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CsvImportDialog)
        dialog.query_one("#csv-path", Input).value = str(csv_file)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert shown(screen.query_one("#mailbox-count", Static)) == "2 mailboxes"
        assert "Imported 2 mailboxes (2 passwords to the keyring)" in shown(
            screen.query_one("#mailbox-status", Static)
        )
        listed = screen.query_one("#mailbox-table", DataTable)
        assert [[str(c) for c in listed.get_row_at(i)] for i in range(2)] == [
            [anna.login, ANNA, "Anna Beispiel", "in keyring"],
            [bert.login, BERT, "Bert Muster", "in keyring"],
        ]
        await mark_done(app, pilot, "3")

        # Step 4: the source tab tests and measures both mailboxes over the pinned TLS; the
        # target tab takes the provider's service account and checks both on Exchange.
        screen = await open_step(app, pilot, "4")
        source_table = screen.query_one("#source-table", DataTable)
        await pilot.click("#source-test-all")
        await wait_until(
            pilot,
            lambda: all(cell(source_table, a.login, "state") == "✔ ok" for a in (anna, bert)),
        )
        assert cell(source_table, anna.login, "messages") == str(FIRST[ANNA])
        assert cell(source_table, bert.login, "messages") == str(FIRST[BERT])
        assert all(cell(source_table, a.login, "size").endswith("B") for a in (anna, bert))
        screen.query_one(TabbedContent).active = "target-tab"
        await settle(pilot)
        assert screen.query_one("#ews-url", Input).value == ews_sandbox.url  # from the profile
        await choose(pilot, screen.query_one("#ews-access", Select), Access.IMPERSONATION)
        await choose(pilot, screen.query_one("#ews-auth", Select), AuthType.BASIC)
        await replace_text(
            pilot, screen.query_one("#ews-service-account", Input), ews.SERVICE_LOGIN
        )
        await replace_text(pilot, screen.query_one("#ews-password", Input), ews.SERVICE_PASSWORD)
        await pilot.press("enter")  # Enter in the form: save and check all
        target_table = screen.query_one("#target-table", DataTable)
        await wait_until(
            pilot,
            lambda: all(cell(target_table, a, "state") == "exists" for a in (ANNA, BERT.lower())),
        )
        assert cell(target_table, BERT.lower(), "name") == "Bert Muster"
        assert cell(target_table, BERT.lower(), "messages") == "0"
        assert "2 exist, 0 missing, 0 with errors, 0 not checked, of 2 target mailboxes" in shown(
            screen.query_one("#target-totals", Static)
        )
        assert screen.query_one("#ews-password", Input).value == ""  # went to the keyring
        await mark_done(app, pilot, "4")

        # Step 5: the customer confirms the mailboxes and the cutover date is saved.
        screen = await open_step(app, pilot, "5")
        screen.query_one("#confirmed-by", Input).focus()
        await type_text(pilot, "Tom Jones")
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert "Tom Jones confirmed 2 mailboxes." in shown(
            screen.query_one("#confirm-status", Static)
        )
        await replace_text(pilot, screen.query_one("#cutover-date", Input), cutover)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert f"Cutover date {format_time(cutover)} saved." in shown(
            screen.query_one("#cutover-status", Static)
        )
        await mark_done(app, pilot, "5")

        # Back to step 2 with the customer: the plan now has step 4's sizing, the estimate and
        # the cutover date; it is exported for them.
        screen = await open_step(app, pilot, "2")
        plan = screen.query_one("#plan", Markdown)
        assert re.search(
            rf"- Mailboxes: 2, {sum(FIRST.values())} messages, [\d.]+ MiB measured in 2 of them",
            plan.source,
        )
        assert "- Initial copy: about " in plan.source and "assumed rate" in plan.source
        assert f"- Cutover date: {cutover}" in plan.source
        assert f"| {bert.login} | {BERT} | Bert Muster | 4 |" in plan.source
        screen.query_one("#window", Input).focus()
        await pilot.press("ctrl+e")
        await settle(pilot)
        status = shown(screen.query_one("#plan-status", Static))
        assert status.startswith("Plan written to ")
        exported = Path(status.removeprefix("Plan written to ")).read_text(encoding="utf-8")
        assert "- Cutover window: weekend of 12-13 December" in exported
        assert f"| {anna.login} | {ANNA} | Anna Beispiel | {FIRST[ANNA]} |" in exported
        assert f"| {bert.login} | {BERT} | Bert Muster | 4 |" in exported

        # Step 6: the profile's add-ons, ticked with who enabled them and when.
        screen = await open_step(app, pilot, "6")
        assert shown(screen.query_one("#who-archiving", Static)).strip() == "not enabled"
        for addon in ("activesync", "archiving"):
            await tick(pilot, screen.query_one(f"#addon-{addon}", Checkbox))
            who = shown(screen.query_one(f"#who-{addon}", Static)).strip()
            assert re.fullmatch(rf"enabled by {OPERATOR} at \d{{4}}-\d\d-\d\dT.*", who), who
        assert shown(screen.query_one("#who-im", Static)).strip() == "not enabled"
        assert [e.summary for e in store.evidence("6", "addon")] == [
            f"ActiveSync enabled by {OPERATOR}",
            f"Archiving enabled by {OPERATOR}",
        ]
        await mark_done(app, pilot, "6")

        screen = await open_step(app, pilot, "7")
        assert "delivering to 127.0.0.1" in all_text(screen)  # the old server from step 3
        await mark_done(app, pilot, "7")

        # The lab resolver is named where resolvers are edited (step 12), before step 8 asks it.
        screen = await open_step(app, pilot, "12")
        await replace_text(pilot, screen.query_one("#prop-resolvers", Input), f"Lab={dns.address}")
        await pilot.press("enter")
        await settle(pilot)
        assert "Saved: 1 resolvers." in shown(screen.query_one("#prop-resolvers-status", Static))

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

        await pilot.press("ctrl+q")
        await settle(pilot)

    # Step 9 starts as a headless `onboard copy` of the session, killed with SIGKILL half way.
    name, path = store.name, store.path
    assert store.closed  # quitting released the session
    partial = copy_killed_half_way(name, path, after=20)
    assert partial.get(ANNA, 0) > 0 and sum(partial.values()) < sum(FIRST.values()), partial

    # The operator opens the session again: it resumes where it was left, on step 8.
    store = SessionStore.open(path)
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, StepScreen) and app.screen.step.number == "8"

        # Step 9: the copy goes on where the killed run stopped ("s" on the copy table).
        screen = await open_step(app, pilot, "9")
        table = screen.query_one("#copy-table", DataTable)
        assert cell(table, ANNA, "state") == f"{partial[ANNA]} copied earlier"
        table.focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: all(cell(table, a, "state") == "done" for a in FIRST))
        for address, count in FIRST.items():
            assert "100%" in cell(table, address, "bar")
            assert cell(table, address, "messages") == f"{count}/{count}"
            assert cell(table, address, "failed") == "0"
        totals = screen.query_one("#copy-totals", Static)
        first = sum(FIRST.values())
        await wait_until(
            pilot, lambda: f"2/2 mailboxes done · {first}/{first} messages" in shown(totals)
        )
        # The copy's evidence is written as its run ends, a moment after the last progress.
        await wait_until(pilot, lambda: store.latest_evidence("9", "copy") is not None)
        evidence = store.latest_evidence("9", "copy")
        assert evidence is not None and evidence.ok
        resumed = {m["mailbox"]: m for m in evidence.data["mailboxes"]}
        for address, count in FIRST.items():
            assert resumed[address]["copied"] + resumed[address]["already"] == count
            assert resumed[address]["already"] >= partial.get(address, 0)
        assert len(ews_sandbox.mailbox(ANNA).items_in(ARCHIVE)) == BULK  # none twice, none lost
        resumed_count = sum(m["copied"] for m in resumed.values())
        # Bert's nested folder and the flags of its messages are on Exchange.
        target = ews_sandbox.mailbox(BERT)
        nested = {i.subject: i for i in target.items_in(NESTED)}
        assert set(nested) == {"Angebot", "Rückfrage"}
        assert nested["Angebot"].is_read and nested["Angebot"].flag_status == 2
        assert not nested["Rückfrage"].is_read and nested["Rückfrage"].flag_status != 2
        await mark_done(app, pilot, "9")

        # Step 10: verification compares source and target, mailbox by mailbox.
        await verify_both(app, pilot, "10", FIRST)
        await mark_done(app, pilot, "10")

        # Step 11: what Outlook will find through the new Autodiscover record.
        screen = await open_step(app, pilot, "11")
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        findings = shown(screen.query_one("#autodiscover-findings", Static))
        assert "is a CNAME for autodiscover.hosted.example.net" in findings
        await mark_done(app, pilot, "11")

        # Step 12: the matrix turns complete on its own (no key pressed).
        screen = await open_step(app, pilot, "12")
        body = screen.query_one(PropagationBody)
        await wait_until(pilot, lambda: body.view is not None and body.view.complete)
        await settle(pilot)
        assert "complete" in shown(screen.query_one("#prop-summary", Static))
        matrix = screen.query_one("#prop-matrix", DataTable)
        assert matrix.row_count == 2  # the authoritative server and the lab resolver
        assert all("✔" in str(matrix.get_row_at(i)[2]) for i in range(2))
        await mark_done(app, pilot, "12")

        screen = await open_step(app, pilot, "13.1")
        detail = screen.query_one("#routing-detail", Input)
        await replace_text(pilot, detail, "redirection off, test mail arrived on Exchange")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert shown(screen.query_one(".status", Static)).startswith(
            "Last recorded: redirection off, test mail arrived on Exchange ("
        )
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
        spf = store.latest_evidence("13.2", "dns.spf")
        assert spf is not None and spf.ok is False  # the old record lacks the provider
        # The customer publishes the recommended record; the re-check finds it.
        dns.set_zone(DOMAIN, NEW_ZONE.replace("ip4:192.0.2.25 -all", recommended.split(" ", 1)[1]))
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert shown(screen.query_one("#spf-records", Static)).strip() == recommended
        spf = store.latest_evidence("13.2", "dns.spf")
        assert spf is not None and spf.ok is True, spf.summary
        await mark_done(app, pilot, "13.2")

        # Step 13.3: each client and device with the new server settings from the profile.
        screen = await open_step(app, pilot, "13.3")
        texts = all_text(screen)
        for setting in (
            f"Autodiscover record: autodiscover.{DOMAIN} → {profile.autodiscover_target}",
            f"Address: {profile.owa_url}",
            f"Server: {profile.activesync_host}",
            f"User name: user@{DOMAIN}",
        ):
            assert setting in texts, setting
        for client in ("outlook", "webmail", "phones"):
            await tick(pilot, screen.query_one(f"#client-{client}", Checkbox))
            assert screen.query_one(f"#check-{client}", Checkbox).value  # the step's checklist
        await mark_done(app, pilot, "13.3")

        # Step 13: its three parts are done, so it is done without an override once the users
        # were told.
        screen = await open_step(app, pilot, "13")
        meta = shown(screen.query_one("#step-meta", Static))
        assert "Depends on 12 ✔, 13.1 ✔, 13.2 ✔, 13.3 ✔" in meta, meta
        await tick(pilot, screen.query_one("#check-announced", Checkbox))
        assert store.checklist("13")["announced"].ticked
        await mark_done(app, pilot, "13")

        # New mail reaches Anna's old mailbox after the initial copy: step 14 copies only that.
        dovecot.seed(anna.login, "INBOX", [make_message(n, subject=f"Late {n}") for n in (7, 8)])
        screen = await open_step(app, pilot, "14")
        table = screen.query_one("#copy-table", DataTable)
        table.focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: all(cell(table, a, "state") == "done" for a in FINAL))
        totals = screen.query_one("#copy-totals", Static)
        final = sum(FINAL.values())
        await wait_until(
            pilot, lambda: f"2/2 mailboxes done · {final}/{final} messages" in shown(totals)
        )
        for address, count in FINAL.items():
            assert cell(table, address, "messages") == f"{count}/{count}"
        differential = store.latest_evidence("14", "copy")
        assert differential is not None
        assert "2 messages copied" in differential.summary
        already = {m["mailbox"]: m["already"] for m in differential.data["mailboxes"]}
        assert already == FIRST
        assert len(ews_sandbox.mailbox(ANNA).well_known("inbox").items) == 5  # none twice
        assert len(ews_sandbox.mailbox(BERT).items_in(NESTED)) == 2
        await mark_done(app, pilot, "14")

        screen = await open_step(app, pilot, "15")
        for mailbox in store.mailboxes():
            await tick(pilot, screen.query_one(f"#local-{mailbox.id}", Checkbox))
        assert "2 of 2 mailboxes confirmed" in shown(screen.query_one(".status", Static))
        await mark_done(app, pilot, "15")

        await verify_both(app, pilot, "16", FINAL)
        await mark_done(app, pilot, "16")

        # Step 17: the figures, the sign-off by both parties and the reports.
        screen = await open_step(app, pilot, "17")
        figures = shown(screen.query_one("#figures", Static))
        assert f"2 mailboxes · {sum(FINAL.values())} messages copied" in figures, figures
        assert "0 skipped · 0 failed" in figures and "every message is on the target" in figures
        assert "Open items (0)" in all_text(screen)
        per_mailbox = screen.query_one("#mailbox-figures", DataTable)
        rows = [[str(c) for c in per_mailbox.get_row_at(i)] for i in range(per_mailbox.row_count)]
        assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows] == [
            (ANNA, str(FINAL[ANNA]), "0", "0", "ok"),
            (BERT, str(FINAL[BERT]), "0", "0", "ok"),
        ]
        await replace_text(pilot, screen.query_one("#provider-name", Input), "Pat Engineer")
        await replace_text(pilot, screen.query_one("#customer-name", Input), "Tom Jones")
        await tick(pilot, screen.query_one("#complete", Checkbox))
        screen.query_one("#customer-name", Input).focus()
        await pilot.press("ctrl+s")
        await settle(pilot)
        signed = shown(screen.query_one("#signoff-status", Static))
        assert "by Pat Engineer (Example Hosted Exchange) and Tom Jones (E2E Corp)" in signed
        await mark_done(app, pilot, "17")
        assert all(store.step_record(s.number).state is StepState.DONE for s in store_steps)
        screen = await open_step(app, pilot, "17")
        screen.query_one("#export-md", Button).press()
        await settle(pilot)
        status = shown(screen.query_one("#signoff-status", Static))
        assert status.startswith("Report written to ") and status.endswith(".md")
        report_path = Path(status.removeprefix("Report written to "))
        screen.query_one("#provider-name", Input).focus()
        await pilot.press("ctrl+e")
        await settle(pilot)
        status = shown(screen.query_one("#signoff-status", Static))
        assert status.startswith("Report written to ") and status.endswith(".html")
        html_path = Path(status.removeprefix("Report written to "))
        await pilot.press("ctrl+q")
        await settle(pilot)

    report = report_path.read_text(encoding="utf-8")
    assert "None: every step is done or skipped." in section(report, "## Open items")
    for step in store_steps:
        text = section(report, f"#### Step {step.number}: {step.title}")
        assert text.count("✔ done") == 1, step.number
        assert "Dependency override" not in text, step.number
    # Copy and verification figures per mailbox.
    figures = section(report, "### Mail copied per mailbox")
    for address, n in FINAL.items():  # copied, size, skipped, failed, source, target
        row = rf"\| {re.escape(address)} \| {n} \| [\d.]+ (?:[KMG]i)?B \| 0 \| 0 \| {n} \| {n} \| ok \|"
        assert re.search(row, figures), figures
    assert "every message is on the target" in figures
    resumed_copy = f"initial copy: 2 of 2 mailboxes finished, {resumed_count} messages copied"
    assert resumed_copy in section(report, f"#### Step 9: {store_steps[8].title}")
    assert "2 messages copied" in section(report, "#### Step 14: Differential copy")
    # The DNS evidence: the old MX found, then the new one; propagation complete; SPF.
    step8 = section(report, "#### Step 8: Point MX and Autodiscover at the new account")
    assert re.search(r"\[FAILED\] dns\.mx: .*mail\.e2e\.example", step8), step8
    assert re.search(r"\[ok\] dns\.mx: ", step8), step8
    assert "[ok] dns.autodiscover" in section(report, "#### Step 11: Prepare Outlook profiles")
    assert "[ok] dns.propagation" in section(
        report, "#### Step 12: Confirm the MX change has propagated"
    )
    assert "[ok] dns.spf: " in section(report, "#### Step 13.2: Publish the new SPF record")
    # The sign-off with both names, and the add-ons with who ticked them.
    step17 = section(report, "#### Step 17: Confirm the migration is complete")
    assert "Pat Engineer (Example Hosted Exchange) and Tom Jones (E2E Corp)" in step17
    assert f"] addon: ActiveSync enabled by {OPERATOR}" in section(
        report, "#### Step 6: Turn on the add-ons"
    )
    step13_3 = section(report, "#### Step 13.3: Move clients and devices to the new server")
    for item in ("Outlook uses the new profile", "Phones and tablets reconfigured"):
        assert f"[x] {item} ({OPERATOR}," in step13_3, step13_3
    assert f"[x] Users told that the switch is happening ({OPERATOR}," in section(
        report, "#### Step 13: Cut over to the new account"
    )
    html = html_path.read_text(encoding="utf-8")
    assert "<svg" in html and "<script" not in html and 'src="http' not in html


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

    partial = copy_killed_half_way(name, path, after=20).get(ews.USER, 0)
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
        # The copy's evidence is written as its run ends, a moment after the last progress.
        await wait_until(pilot, lambda: store.latest_evidence("9", "copy") is not None)
        evidence = store.latest_evidence("9", "copy")
        assert evidence is not None
        resumed = evidence.data["mailboxes"][0]
        assert resumed["copied"] + resumed["already"] == total
        assert resumed["already"] >= partial
        await pilot.press("ctrl+q")
        await settle(pilot)
    inbox = ews_sandbox.mailbox(ews.USER).well_known("inbox")
    assert len(inbox.items) == total  # nothing copied twice, nothing lost
