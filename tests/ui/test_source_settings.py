"""Step 3 inside the real app: the IMAP server form, certificate pinning, and the mailbox list."""

from __future__ import annotations

import socket
from pathlib import Path

from textual.widgets import DataTable, Input, Select, Static

from screens.app import OnboardApp
from screens.dialogs import ConfirmDialog
from screens.dialogs.csv_import import CsvImportDialog
from screens.dialogs.mailbox import MailboxDialog
from screens.step_screen import StepScreen
from screens.steps.source_settings import SourceSettingsBody
from tests.servers.dovecot import DovecotServer
from wizard.imap import AuthMode, Security, close, connect, load_settings
from wizard.imap.credentials import SHARED_TOKEN_KEY, master_secret_key
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session
from wizard.store import SessionStore
from wizard.tls import format_fingerprint

from .pilot_helpers import settle, shown, type_text

SIZE = (150, 50)

MIXED_CSV = (
    "source_login,source_password,target_address,display_name\n"
    "anna,pw-anna,anna@acme.example,Anna Berg\n"
    ",pw,nobody@acme.example,\n"
    "bert,pw-bert,bert-at-acme.example,Bert\n"
    "carl,pw-carl,anna@acme.example,Carl\n"
)
GOOD_CSV = (
    "EmailAddress,UserName,Password\n"
    "anna@acme.example,anna,pw-anna\n"
    "bert@acme.example,bert,pw-bert\n"
    "carl@acme.example,carl,\n"
)


def new_store() -> SessionStore:
    return create_session("Acme Corp", "acme.example", example_profile(), name="acme")


async def open_step3(app: OnboardApp, pilot) -> SourceSettingsBody:  # type: ignore[no-untyped-def]
    app.goto_step("3")
    await settle(pilot)
    assert isinstance(app.screen, StepScreen) and app.screen.step.number == "3"
    return app.screen.query_one(SourceSettingsBody)


async def choose(pilot, select: Select, value: Security | AuthMode) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Pick an option of a Select by keyboard, as an operator would (options in enum order)."""
    options = list(type(value))
    select.focus()
    await pilot.press("enter")
    await settle(pilot)
    steps = options.index(value) - options.index(select.value)  # type: ignore[arg-type]
    await pilot.press(*(["down" if steps > 0 else "up"] * abs(steps)), "enter")
    await settle(pilot)
    assert select.value is value


async def test_saved_settings_come_back_when_the_session_is_resumed() -> None:
    store = new_store()
    path = store.path
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        assert body.query_one("#imap-port", Input).value == "993"
        body.query_one("#imap-host", Input).focus()
        await type_text(pilot, "imap.acme.example")
        await choose(pilot, body.query_one("#imap-security", Select), Security.STARTTLS)
        assert body.query_one("#imap-port", Input).value == "143"  # follows the security
        assert not body.query_one("#field-master").display  # per-user passwords: no master
        await choose(pilot, body.query_one("#imap-auth", Select), AuthMode.MASTER)
        assert body.query_one("#field-master").display
        assert "Master user's password" in shown(body.query_one("#secret-label", Static))
        master = body.query_one("#imap-master", Input)
        master.focus()
        await type_text(pilot, "admin")
        body.query_one("#imap-secret", Input).focus()
        await type_text(pilot, "Master-Secret-42")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "imap.acme.example:143 (STARTTLS) saved" in shown(
            body.query_one("#server-status", Static)
        )
        assert body.query_one("#imap-secret", Input).value == ""
        await pilot.press("ctrl+q")
        await settle(pilot)

    assert SecretStore("acme").get(master_secret_key("admin")) == "Master-Secret-42"
    raw = b"".join(f.read_bytes() for f in path.parent.glob(f"{path.name}*"))
    assert b"imap.acme.example" in raw and b"Master-Secret-42" not in raw

    resumed = OnboardApp(store=SessionStore.open(path))
    async with resumed.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = resumed.screen
        assert isinstance(screen, StepScreen) and screen.step.number == "3"
        body = screen.query_one(SourceSettingsBody)
        assert body.query_one("#imap-host", Input).value == "imap.acme.example"
        assert body.query_one("#imap-port", Input).value == "143"
        assert body.query_one("#imap-security", Select).value is Security.STARTTLS
        assert body.query_one("#imap-auth", Select).value is AuthMode.MASTER
        assert body.query_one("#imap-master", Input).value == "admin"
        assert "stored in the keyring" in body.query_one("#imap-secret", Input).placeholder
        await pilot.press("ctrl+q")


async def test_plain_text_shows_a_loud_warning() -> None:
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        warning = body.query_one("#plain-warning", Static)
        assert not warning.display
        body.query_one("#imap-host", Input).value = "imap.acme.example"
        await choose(pilot, body.query_one("#imap-security", Select), Security.PLAIN)
        assert warning.display and warning.region.height > 0
        assert "every password and every message crosses the network in clear" in shown(warning)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "WITHOUT encryption" in shown(body.query_one("#server-status", Static))
        assert "No TLS" in shown(body.query_one("#cert-line", Static))
        settings = load_settings(store)
        assert settings is not None and settings.security is Security.PLAIN
        await choose(pilot, body.query_one("#imap-security", Select), Security.IMPLICIT_TLS)
        assert not warning.display
        await pilot.press("ctrl+q")


async def test_mixed_csv_shows_each_bad_line_and_imports_nothing(tmp_path: Path) -> None:
    csv_file = tmp_path / "mixed.csv"
    csv_file.write_text(MIXED_CSV)
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        body.query_one("#mailbox-table", DataTable).focus()
        await pilot.press("f9")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CsvImportDialog)
        dialog.query_one("#csv-path", Input).value = str(csv_file)  # focused; typed or pasted
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog  # stays open with the problems
        assert "Nothing was imported: 3 problems" in shown(dialog.query_one("#csv-summary", Static))
        problems = dialog.query_one("#csv-problems", DataTable)
        assert problems.display
        rows = [problems.get_row_at(i) for i in range(problems.row_count)]
        assert [r[0] for r in rows] == ["3", "4", "5"]
        assert "source login is empty" in rows[0][1]
        assert "not an email address" in rows[1][1]
        assert "already on line 2" in rows[2][1]
        await pilot.press("escape")
        await settle(pilot)
        assert store.mailboxes() == []
        assert body.query_one("#mailbox-table", DataTable).row_count == 0
        assert SecretStore("acme").get(source_password_key("anna")) is None
        await pilot.press("ctrl+q")


async def test_good_csv_fills_the_table(tmp_path: Path) -> None:
    csv_file = tmp_path / "m365.csv"
    csv_file.write_text(GOOD_CSV)
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        body.query_one("#imap-host", Input).focus()
        await pilot.press("f9")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CsvImportDialog)
        dialog.query_one("#csv-path", Input).value = str(csv_file)  # focused; typed or pasted
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        table = body.query_one("#mailbox-table", DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert [(r[0], r[1], r[3]) for r in rows] == [
            ("anna", "anna@acme.example", "in keyring"),
            ("bert", "bert@acme.example", "in keyring"),
            ("carl", "carl@acme.example", "—"),
        ]
        assert "Imported 3 mailboxes (2 passwords" in shown(
            body.query_one("#mailbox-status", Static)
        )
        assert shown(body.query_one("#mailbox-count", Static)) == "3 mailboxes"
        await pilot.press("ctrl+q")


async def test_add_edit_remove_with_messages_on_screen() -> None:
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        body.query_one("#imap-host", Input).focus()
        await pilot.press("f8")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MailboxDialog)
        await type_text(pilot, "anna")
        await pilot.press("tab")
        await type_text(pilot, "anna-at-acme")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is dialog
        assert "not an email address" in shown(dialog.query_one("#mb-error", Static))
        dialog.query_one("#mb-target", Input).value = "anna@acme.example"
        dialog.query_one("#mb-password", Input).value = "pw-anna"
        await pilot.press("ctrl+s")
        await settle(pilot)
        table = body.query_one("#mailbox-table", DataTable)
        assert table.get_row_at(0) == ["anna", "anna@acme.example", "", "in keyring"]

        table.focus()
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, MailboxDialog)
        dialog.query_one("#mb-display", Input).value = "Anna Berg"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert table.get_row_at(0)[2] == "Anna Berg"

        await pilot.press("delete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert table.row_count == 0 and store.mailboxes() == []
        assert "removed" in shown(body.query_one("#mailbox-status", Static))
        await pilot.press("ctrl+q")


async def test_pin_a_self_signed_certificate_after_confirming_its_fingerprint(
    dovecot: DovecotServer,
) -> None:
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        body.query_one("#imap-host", Input).value = dovecot.host
        body.query_one("#imap-port", Input).value = str(dovecot.imaps_port)
        body.query_one("#imap-host", Input).focus()
        await pilot.press("f7")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmDialog)
        message = shown(dialog.query_one(".dialog-message", Static))
        assert format_fingerprint(dovecot.fingerprint) in message
        assert "does not trust" in message
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        assert format_fingerprint(dovecot.fingerprint) in shown(
            body.query_one("#cert-line", Static)
        )
        evidence = store.latest_evidence("3", "imap-certificate-pin")
        assert evidence is not None and evidence.data["fingerprint"] == dovecot.fingerprint
        settings = load_settings(store)
        assert settings is not None and settings.pin == dovecot.fingerprint

        # Another server must not inherit the pin.
        body.query_one("#imap-host", Input).value = "localhost"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "pinned certificate was dropped" in shown(body.query_one("#server-status", Static))
        moved = load_settings(store)
        assert moved is not None and moved.host == "localhost" and moved.pin == ""
        await pilot.press("ctrl+q")

    account = dovecot.add_user()
    close(connect(settings, account.login, account.password))  # the pin lets the login through


async def test_declining_the_fingerprint_pins_nothing(dovecot: DovecotServer) -> None:
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        body.query_one("#imap-host", Input).value = dovecot.host
        body.query_one("#imap-port", Input).value = str(dovecot.imaps_port)
        body.query_one("#imap-host", Input).focus()
        await pilot.press("f7")
        await settle(pilot)
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await settle(pilot)
        assert "not pinned" in shown(body.query_one("#server-status", Static))
        assert load_settings(store) is None
        await pilot.press("ctrl+q")


async def test_fetching_from_a_closed_port_says_so() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        body.query_one("#imap-host", Input).value = "127.0.0.1"
        body.query_one("#imap-port", Input).value = str(port)
        body.query_one("#imap-host", Input).focus()
        await pilot.press("f7")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)  # nothing to confirm
        status = shown(body.query_one("#server-status", Static))
        assert "refused" in status.lower() and str(port) in status
        await pilot.press("ctrl+q")


async def test_xoauth2_token_goes_to_the_keyring_only() -> None:
    store = new_store()
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        body = await open_step3(app, pilot)
        body.query_one("#imap-host", Input).value = "imap.acme.example"
        await choose(pilot, body.query_one("#imap-auth", Select), AuthMode.XOAUTH2)
        assert not body.query_one("#field-master").display
        assert "OAuth2 access token" in shown(body.query_one("#secret-label", Static))
        body.query_one("#imap-secret", Input).value = "ya29.token-for-everyone"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "The secret is in the keyring" in shown(body.query_one("#server-status", Static))
        assert SecretStore("acme").get(SHARED_TOKEN_KEY) == "ya29.token-for-everyone"
        raw = b"".join(f.read_bytes() for f in store.path.parent.glob(f"{store.path.name}*"))
        assert b"ya29" not in raw
        await pilot.press("ctrl+q")
