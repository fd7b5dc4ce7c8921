"""Step 4 in the real app: the source connection test table, live, with 3 and with 200 mailboxes."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Static, TabbedContent

from screens.app import OnboardApp
from screens.step_screen import StepScreen
from screens.steps.connection import ConnectionBody
from screens.steps.source_test import SourceTestPanel
from tests.servers.dovecot import DovecotServer, make_message
from wizard.imap import AuthMode, ImapServerSettings, Security, save_settings
from wizard.imap.credentials import master_secret_key
from wizard.migration_plan import measured_sizes
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session
from wizard.store import SessionStore

from .pilot_helpers import settle, shown, wait_until

SIZE = (150, 50)


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", "acme.example", example_profile())
    s.set_current_step("4")
    yield s
    if not s.closed:
        s.close()


def cell(table: DataTable, row: str, column: str) -> str:
    return str(table.get_cell(row, column))


async def test_rows_turn_ok_and_a_failed_row_shows_its_reason(
    dovecot: DovecotServer, store: SessionStore
) -> None:
    anna, bert, carl = dovecot.add_user(), dovecot.add_user(tree=True), dovecot.add_user()
    dovecot.seed(anna.login, "INBOX", [make_message(n, size=4000) for n in range(3)])
    dovecot.seed(bert.login, "Sent", [make_message(9)])
    save_settings(
        store,
        ImapServerSettings(dovecot.host, dovecot.imaps_port, pin=dovecot.fingerprint, timeout=10),
    )
    secrets = SecretStore(store.name)
    secrets.set(source_password_key(anna.login), anna.password)
    secrets.set(source_password_key(bert.login), bert.password)
    secrets.set(source_password_key(carl.login), "an-old-password")
    store.add_mailboxes([(u.login, f"{u.login}@acme.example", "") for u in (anna, bert, carl)])

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen) and screen.step.number == "4"
        tabs = screen.query_one(TabbedContent)
        assert tabs.active == "source-tab"
        assert "Target (Exchange)" in str(tabs.get_tab("target-tab").label)
        table = screen.query_one("#source-table", DataTable)
        assert cell(table, anna.login, "state") == "not tested"
        assert "3 not tested" in shown(screen.query_one("#source-totals", Static))
        assert "unknown until" in shown(screen.query_one("#source-estimate", Static))

        await pilot.click("#source-test-all")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: cell(table, carl.login, "state") != "waiting")
        await settle(pilot)

        assert cell(table, anna.login, "state") == "✔ ok"
        assert cell(table, anna.login, "messages") == "3"
        assert cell(table, bert.login, "state") == "✔ ok"
        assert cell(table, bert.login, "folders") == str(len(dovecot.folders(bert.login)))
        assert cell(table, carl.login, "state") == "✘ failed"
        assert f"rejected the login for {carl.login}" in cell(table, carl.login, "reason")
        totals = shown(screen.query_one("#source-totals", Static))
        assert totals.startswith("3 mailboxes: 2 ok, 1 failed · 4 messages")
        assert "Initial copy: about" in shown(screen.query_one("#source-estimate", Static))
        assert set(measured_sizes(store)) == {anna.login, bert.login}
        assert "1 of 3 mailboxes have not passed" in screen.query_one(ConnectionBody).done_refusal()

        # "Retest failed" tests only Carl again (still the old password): one more evidence.
        table.focus()
        await pilot.press("f")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: len(store.evidence("4", "imap-test")) == 4)
        await settle(pilot)
        assert cell(table, carl.login, "state") == "✘ failed"
        assert [e.data["login"] for e in store.evidence("4", "imap-test")][3] == carl.login
        assert not screen.query_one("#source-status", Static).has_class("-ok")  # a warning

        # The customer sends the right password; retest only the failed row, from its row.
        secrets.set(source_password_key(carl.login), carl.password)
        table.move_cursor(row=table.get_row_index(carl.login))
        await settle(pilot)
        assert "rejected the login" in shown(screen.query_one("#source-detail", Static))
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: cell(table, carl.login, "state") == "✔ ok")
        assert cell(table, carl.login, "reason") == ""
        # The source half has passed; only the target half (not checked yet) still holds step 4.
        assert screen.query_one(SourceTestPanel).done_refusal() == ""
        refusal = screen.query_one(ConnectionBody).done_refusal()
        assert "have not passed" not in refusal
        assert "3 of 3 target mailboxes do not exist on Exchange or were not checked" in refusal
        assert "3 mailboxes: 3 ok, 0 failed" in shown(screen.query_one("#source-totals", Static))
        status = screen.query_one("#source-status", Static)
        assert "log in and are measured" in shown(status) and status.has_class("-ok")
        assert len(store.evidence("4", "imap-test")) == 5


class HoldingServer:
    """Accepts TCP connections and says nothing until released; then closes every connection."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self.most_at_once = 0
        self.released = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            if self.released.is_set():
                conn.close()
                continue
            self.held.append(conn)
            self.most_at_once = max(self.most_at_once, len(self.held))

    def release(self) -> None:
        self.released.set()
        while self.held:
            self.held.pop().close()

    def stop(self) -> None:
        self.release()
        self._stop.set()
        self._thread.join()
        self.listener.close()


async def test_200_mailboxes_keep_the_screen_responsive(store: SessionStore) -> None:
    server = HoldingServer()
    try:
        settings = ImapServerSettings(
            "127.0.0.1", server.port, Security.PLAIN, AuthMode.MASTER, master_user="admin"
        )
        save_settings(store, settings)
        SecretStore(store.name).set(master_secret_key("admin"), "master-secret")
        logins = [f"user{n:03d}" for n in range(200)]
        store.add_mailboxes([(m, f"{m}@acme.example", "") for m in logins])

        app = OnboardApp(store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            table = app.screen.query_one("#source-table", DataTable)
            assert table.row_count == 200
            table.focus()
            await pilot.press("t")
            await wait_until(pilot, lambda: len(server.held) == 8)
            await settle(pilot)
            connecting = [m for m in logins if cell(table, m, "state") == "connecting…"]
            assert len(connecting) == 8
            assert sum(cell(table, m, "state") == "waiting" for m in logins) == 192

            # While the tests hang on the server, keys are still handled: the cursor moves with
            # all 8 connections still held (none can end before release(), so a screen waiting
            # on them would not move at all). The time bound only catches a gross stall; a tight
            # one measured the machine's load (2.06 s on three loaded test workers), not the app.
            started = time.monotonic()
            await pilot.press("down", "down", "down")
            await pilot.pause()
            assert table.cursor_row == 3
            assert len(server.held) == 8 and cell(table, logins[0], "state") == "connecting…"
            assert time.monotonic() - started < 10.0
            status = shown(app.screen.query_one("#source-status", Static))
            assert status.startswith("Testing 200 mailboxes, 8 at a time")

            server.release()
            await wait_until(
                pilot, lambda: all(cell(table, m, "state") == "✘ failed" for m in logins), 60
            )
            await app.workers.wait_for_complete()
            await settle(pilot)
            assert "closed the connection" in cell(table, logins[-1], "reason")
            totals = shown(app.screen.query_one("#source-totals", Static))
            assert totals.startswith("200 mailboxes: 0 ok, 200 failed")
            assert server.most_at_once == 8
            assert len(store.evidence("4", "imap-test")) == 200
    finally:
        server.stop()


async def test_without_server_settings_the_step_says_to_fill_in_step_3(
    store: SessionStore,
) -> None:
    store.add_mailboxes([("tom", "tom@acme.example", "Tom")])
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        status = shown(app.screen.query_one("#source-status", Static))
        assert "enter the server settings in step 3 first" in status
        table = app.screen.query_one("#source-table", DataTable)
        table.focus()
        await pilot.press("t")
        await settle(pilot)
        assert cell(table, "tom", "state") == "not tested"
        assert store.evidence("4", "imap-test") == []
        assert (
            "1 of 1 mailboxes have not passed"
            in app.screen.query_one(ConnectionBody).done_refusal()
        )
