"""The demo session: marked demo, filled with the running servers, resumable, deleted in one go."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from wizard.devservers.demo import (
    DEMO_SESSION_NAME,
    DemoServers,
    DemoSessions,
    DnsChangeWatcher,
    NotADemoSession,
    create_demo_session,
    open_demo_session,
)
from wizard.devservers.demo.session import DNS_CHANGE_SETTING, dns_change_due
from wizard.exchange.mailbox import check_mailbox
from wizard.exchange.settings import load_settings as load_exchange_settings
from wizard.imap import connect, list_folders, load_settings
from wizard.imap.connection import close
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key, target_password_key
from wizard.session import create_session, delete_session, list_sessions, session_path
from wizard.store import StepState


def test_a_new_demo_session_is_marked_and_filled_in(demo_servers: DemoServers) -> None:
    store = create_demo_session(demo_servers)
    try:
        assert store.name == DEMO_SESSION_NAME
        assert store.demo and store.setting("demo") is True
        assert store.customer == "Demo company"
        assert store.profile.name == "Demo Hosted Exchange (local)"
        assert store.profile.ews_url == demo_servers.ews.url
        logins = [m.source_login for m in store.mailboxes()]
        assert logins == [m.login for m in demo_servers.company.mailboxes]
        secrets = SecretStore(store.name)
        first = demo_servers.company.mailboxes[0]
        assert secrets.get(source_password_key(first.login)) == first.password
        assert secrets.get(target_password_key(first.address)) == first.password
        exchange = load_exchange_settings(store)
        assert exchange is not None and exchange.ews_url == demo_servers.ews.url
        assert store.setting("dns.resolvers") == demo_servers.dns.resolvers
        assert store.setting("dns.authoritative") == demo_servers.dns.authoritative
        # The saved IMAP settings (with the pinned certificate) reach the demo server.
        settings = load_settings(store)
        assert settings is not None and settings.pin == demo_servers.imap.fingerprint
        client = connect(settings, first.login, secrets.get(source_password_key(first.login)))
        try:
            assert "INBOX" in [f.name for f in list_folders(client)]
        finally:
            close(client)
        # Passwords never go into the session file; the activity log says where the servers run.
        assert first.password.encode() not in store.path.read_bytes()
        log = store.path.with_name(store.path.name + ".log").read_text(encoding="utf-8")
        assert f"IMAP port {demo_servers.imap.port}" in log and first.password not in log
    finally:
        store.close()
    summary = next(s for s in list_sessions() if s.name == DEMO_SESSION_NAME)
    assert summary.demo and summary.customer == "Demo company"


def test_resuming_repoints_the_session_at_the_new_ports(
    demo_servers: DemoServers, tmp_path
) -> None:
    store = open_demo_session(demo_servers)
    store.set_step_state("1", StepState.DONE)
    store.set_note("1", "agreed on the phone")
    store.close()
    with DemoServers(demo_servers.company, state_dir=tmp_path / "again") as later:
        again = open_demo_session(later)
        try:
            assert again.step_record("1").state is StepState.DONE
            assert again.note("1") == "agreed on the phone"
            assert len(again.mailboxes()) == 5  # not added twice
            assert load_settings(again).port == later.imap.port != demo_servers.imap.port
            assert again.profile.ews_url == later.ews.url
            assert again.setting("dns.resolvers") == later.dns.resolvers
        finally:
            again.close()


def test_a_real_session_of_that_name_is_left_alone(demo_servers: DemoServers) -> None:
    real = create_session(
        "Real customer", "real.example", example_profile(), name=DEMO_SESSION_NAME
    )
    real.close()
    with pytest.raises(NotADemoSession):
        open_demo_session(demo_servers)


def test_deleted_in_one_action_with_its_secrets(demo_servers: DemoServers) -> None:
    store = create_demo_session(demo_servers)
    store.close()
    delete_session(DEMO_SESSION_NAME)
    assert not session_path(DEMO_SESSION_NAME).exists()
    first = demo_servers.company.mailboxes[0]
    secrets = SecretStore(DEMO_SESSION_NAME)
    assert secrets.get(source_password_key(first.login)) is None
    assert secrets.get(target_password_key(first.address)) is None


def test_the_mx_change_begins_when_the_operator_reaches_the_dns_step(
    demo_servers: DemoServers,
) -> None:
    store = create_demo_session(demo_servers)
    try:
        assert not dns_change_due(store)
        watcher = DnsChangeWatcher(store, demo_servers, interval=0.02).start()
        time.sleep(0.1)
        assert demo_servers.change.started_at is None
        store.set_step_state("8", StepState.IN_PROGRESS)
        deadline = time.monotonic() + 5
        while demo_servers.change.started_at is None:
            assert time.monotonic() < deadline, "the watcher never began the MX change"
            time.sleep(0.02)
        watcher.stop()
        assert store.setting(DNS_CHANGE_SETTING) == demo_servers.change.started_at
        # Step 12 learns when the (demo) customer made the change, and watches by itself.
        made = datetime.fromisoformat(store.setting("dns.change_made_at"))
        assert abs(made.timestamp() - demo_servers.change.started_at) < 1
    finally:
        store.close()


def test_opening_step_8_or_a_later_one_also_begins_it(demo_servers: DemoServers) -> None:
    store = create_demo_session(demo_servers)
    try:
        store.set_current_step("7")
        assert not dns_change_due(store)
        for number in ("8", "12", "13.2"):
            store.set_current_step(number)
            assert dns_change_due(store), number
    finally:
        store.close()


def test_a_resumed_demo_keeps_the_time_the_change_began(
    demo_servers: DemoServers, tmp_path
) -> None:
    store = create_demo_session(demo_servers)
    store.set_setting(DNS_CHANGE_SETTING, 1234.5)
    store.close()
    with DemoServers(demo_servers.company, state_dir=tmp_path / "again") as later:
        again = open_demo_session(later)
        again.close()
        assert later.change.started_at == 1234.5


def test_the_demo_exchange_answers_the_exchange_engine(demo_servers: DemoServers) -> None:
    store = open_demo_session(demo_servers)
    try:
        settings = load_exchange_settings(store)
        secrets = SecretStore(store.name)
        for mailbox in store.mailboxes():
            password = secrets.get(settings.password_key(mailbox.target_address))
            found = check_mailbox(settings, mailbox.target_address, password)
            assert found.state == "exists", (mailbox.target_address, found.failure)
            assert {"inbox", "sent", "drafts", "trash"} <= {f.role for f in found.folders}
    finally:
        store.close()


def test_the_demo_exchange_is_saved_while_the_demo_runs(demo_company, tmp_path) -> None:
    with DemoServers(demo_company, state_dir=tmp_path / "demo", save_every=0.05) as servers:
        mailbox = servers.ews.mailbox(demo_company.mailboxes[0].address)
        root = mailbox.distinguished["msgfolderroot"]
        servers.ews.store.create_folder(mailbox, root, "Saved while running")
        saved = tmp_path / "demo" / "ews" / "mailboxes.json"
        deadline = time.monotonic() + 10
        while not (saved.exists() and "Saved while running" in saved.read_text("utf-8")):
            assert time.monotonic() < deadline, "the demo Exchange was never saved"
            time.sleep(0.05)
        assert servers.running


async def test_a_demo_session_closed_and_opened_again_in_the_app_still_gets_its_mx_change(
    demo_servers: DemoServers,
) -> None:
    from screens.app import OnboardApp
    from screens.start import StartScreen
    from screens.step_screen import StepScreen
    from wizard.store import SessionStore

    first = create_demo_session(demo_servers)
    sessions = DemoSessions(demo_servers, first=first)
    app = OnboardApp(store=first, demo=True, session_opened=sessions.opened)
    try:
        async with app.run_test(size=(140, 45)) as pilot:
            await pilot.pause(0.2)
            app.close_session()  # back to the start screen before reaching the DNS steps
            await pilot.pause(0.2)
            assert isinstance(app.screen, StartScreen) and first.closed
            assert demo_servers.change.started_at is None
            # The same run: the operator resumes the demo session and goes on to step 8.
            app.open_session(SessionStore.open(session_path(DEMO_SESSION_NAME)))
            await pilot.pause(0.2)
            app.goto_step("8")
            await pilot.pause(0.2)
            assert isinstance(app.screen, StepScreen) and app.screen.step.number == "8"
            for _ in range(100):
                if demo_servers.change.started_at is not None:
                    break
                await pilot.pause(0.1)
            assert demo_servers.change.started_at is not None, "the MX change never began"
            assert app.store is not None
            assert app.store.setting(DNS_CHANGE_SETTING) == demo_servers.change.started_at
    finally:
        sessions.stop()


async def test_the_demo_starts_over_from_the_start_screen_once_deleted(
    demo_servers: DemoServers,
) -> None:
    from textual.widgets import Button

    from screens.app import OnboardApp
    from screens.dialogs.confirm import ConfirmDialog
    from screens.start import SessionTable, StartScreen
    from screens.step_screen import StepScreen

    first = create_demo_session(demo_servers)
    first.set_current_step("8")
    sessions = DemoSessions(demo_servers, first=first)
    app = OnboardApp(
        store=first,
        demo=True,
        session_opened=sessions.opened,
        new_demo_session=sessions.start_over,
    )
    old_imap_port = demo_servers.imap.port
    try:
        async with app.run_test(size=(140, 45)) as pilot:
            for _ in range(100):  # on step 8, the demo customer makes the MX change
                if demo_servers.change.started_at is not None:
                    break
                await pilot.pause(0.1)
            assert demo_servers.change.started_at is not None
            app.close_session()
            await pilot.pause(0.3)
            screen = app.screen
            assert isinstance(screen, StartScreen)
            assert "Start a new demo session" in str(screen.query_one("#demo-new", Button).label)
            assert not screen.query("#new-customer")  # no form for made-up customers here

            # While the demo session exists, starting over is refused with the reason.
            await pilot.click("#demo-new")
            for _ in range(50):
                await pilot.pause(0.1)
                if "still exists" in str(screen.query_one("#new-error").render()):
                    break
            assert "resume it, or delete it first" in str(screen.query_one("#new-error").render())

            screen.query_one(SessionTable).focus()
            await pilot.press("d")
            await pilot.pause(0.2)
            assert isinstance(app.screen, ConfirmDialog)
            await pilot.press("y")
            await pilot.pause(0.3)
            assert not session_path(DEMO_SESSION_NAME).exists()

            await pilot.click("#demo-new")
            for _ in range(200):
                await pilot.pause(0.1)
                if isinstance(app.screen, StepScreen):
                    break
            assert isinstance(app.screen, StepScreen) and app.screen.step.number == "1"
            store = app.store
            assert store is not None and store.demo
            assert len(store.mailboxes()) == len(demo_servers.company.mailboxes)
            # Fresh servers: new ports saved in the session, the MX change not made yet.
            assert demo_servers.change.started_at is None
            assert store.setting(DNS_CHANGE_SETTING) is None
            settings = load_settings(store)
            assert settings is not None and settings.port == demo_servers.imap.port
            assert demo_servers.imap.port != old_imap_port
            box = demo_servers.ews.mailbox(demo_servers.company.mailboxes[0].address)
            assert box is not None and box.items_in("Inbox") == []
            await pilot.pause(0.5)
    finally:
        sessions.stop()
