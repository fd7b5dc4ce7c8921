"""The step-4 connection test without a UI: one mailbox, many at once, evidence for the plan."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.servers.dovecot import DovecotServer, SeedMessage, make_message
from wizard.activity import read_records
from wizard.events import Event
from wizard.imap import AuthMode, ImapServerSettings, Security
from wizard.imap.probe import (
    EVIDENCE_KIND,
    NO_SECRET,
    ProbeResult,
    ProbeState,
    ProbeUpdate,
    latest_results,
    probe_mailbox,
    run_probes,
    session_secrets,
)
from wizard.migration_plan import measured_sizes
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session
from wizard.store import SessionStore

from .conftest import settings_for


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", "acme.example", example_profile())
    yield s
    s.close()


def test_probe_reports_capabilities_folders_and_sizes(dovecot: DovecotServer) -> None:
    user = dovecot.add_user(tree=True)
    dovecot.seed(user.login, "INBOX", [make_message(n, size=2000) for n in range(4)])
    dovecot.seed(user.login, "Sent", [SeedMessage(make_message(9), flags=("\\Seen",))])
    before = [(m.uid, m.flags) for m in dovecot.read(user.login, "INBOX")]

    result = probe_mailbox(settings_for(dovecot), user.login, user.password)

    assert result.ok and result.code == "" and result.logged_in
    assert "IMAP4REV1" in result.capabilities and "SPECIAL-USE" in result.capabilities
    folders = {f.name: f for f in result.folders}
    assert result.folder_count == len(dovecot.folders(user.login))
    assert folders["Sent"].special_use == "\\Sent" and folders["Sent"].role == "sent"
    assert folders["INBOX"].role == "inbox"
    assert folders["INBOX"].messages == 4 and folders["Sent"].messages == 1
    inbox, sent = dovecot.status(user.login, "INBOX"), dovecot.status(user.login, "Sent")
    assert result.messages == 5 and result.bytes == inbox["size"] + sent["size"]
    assert [(m.uid, m.flags) for m in dovecot.read(user.login, "INBOX")] == before
    assert dovecot.status(user.login, "INBOX")["unseen"] == 4  # nothing marked read


def test_probe_fallback_sizing_gives_the_same_figures(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    dovecot.seed(user.login, "INBOX", [make_message(n, size=900) for n in range(5)])
    fast = probe_mailbox(settings_for(dovecot), user.login, user.password)
    slow = probe_mailbox(settings_for(dovecot), user.login, user.password, use_status_size=False)
    assert (fast.sizing_method, slow.sizing_method) == ("status-size", "fetch-sizes")
    assert (
        (fast.messages, fast.bytes)
        == (slow.messages, slow.bytes)
        == (
            5,
            dovecot.status(user.login, "INBOX")["size"],
        )
    )


def test_probe_classifies_a_wrong_password(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    states: list[ProbeState] = []
    result = probe_mailbox(settings_for(dovecot), user.login, "wrong", on_state=states.append)
    assert not result.ok and not result.logged_in
    assert result.code == "login-rejected" and user.login in result.reason
    assert states == [ProbeState.CONNECTING]
    assert "messages" not in result.as_dict()  # a failure measures nothing


def test_probe_with_master_user(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    master = dovecot.add_master()
    settings = settings_for(dovecot, Security.STARTTLS, AuthMode.MASTER, master_user=master.login)
    assert probe_mailbox(settings, user.login, master.password).ok


def test_unreadable_folder_is_named_and_the_rest_still_sized(dovecot: DovecotServer) -> None:
    user = dovecot.add_user(tree=True)
    dovecot.seed(user.login, "INBOX", [make_message(1)])
    dovecot.seed(user.login, "Projects/2024/Q1", [make_message(2)])
    # Mail is read as an unprivileged user (nobody under root): mode 0 hides the folder.
    folder_dir = dovecot.home(user.login) / "mail" / ".Projects.2024.Q1"
    assert folder_dir.is_dir()
    folder_dir.chmod(0)
    try:
        result = probe_mailbox(settings_for(dovecot), user.login, user.password)
    finally:
        folder_dir.chmod(0o700)
    assert not result.ok and result.logged_in and result.code == "folder-unreadable"
    assert "Projects/2024/Q1" in result.reason
    assert result.messages == 1  # INBOX still counted


def test_runner_with_a_good_and_a_bad_mailbox_saves_evidence(
    dovecot: DovecotServer, store: SessionStore
) -> None:
    good, bad = dovecot.add_user(), dovecot.add_user()
    dovecot.seed(good.login, "INBOX", [make_message(n, size=1500) for n in range(3)])
    secrets = {good.login: good.password, bad.login: "not-the-password"}
    events: list[Event] = []
    lock = threading.Lock()

    def sink(event: Event) -> None:
        with lock:
            events.append(event)

    results = run_probes(
        settings_for(dovecot),
        [good.login, bad.login, "nobody-has-a-secret"],
        secrets.get,
        sink=sink,
        store=store,
        concurrency=2,
    )
    by_login = {r.login: r for r in results}
    assert by_login[good.login].ok and by_login[good.login].messages == 3
    assert by_login[bad.login].code == "login-rejected"
    assert by_login["nobody-has-a-secret"].code == NO_SECRET

    states = {}
    for event in events:
        assert isinstance(event, ProbeUpdate)
        states.setdefault(event.subject, []).append(event.state)
    assert states[good.login] == ["waiting", "connecting", "sizing", "ok"]
    assert states[bad.login] == ["waiting", "connecting", "failed"]
    assert states["nobody-has-a-secret"] == ["waiting", "failed"]

    saved = store.evidence("4", EVIDENCE_KIND)
    assert len(saved) == 3
    assert [e.ok for e in saved if e.data["login"] == good.login] == [True]
    assert all(good.password not in repr(e) and "not-the-password" not in repr(e) for e in saved)
    size = dovecot.status(good.login, "INBOX")["size"]
    assert measured_sizes(store) == {good.login: (3, size)}
    assert latest_results(store)[bad.login].reason == by_login[bad.login].reason
    logged = {r.mailbox: r for r in read_records(store) if r.engine == "imap"}
    assert logged[good.login].level == "info" and logged[bad.login].level == "warning"
    assert logged[bad.login].fields["code"] == "login-rejected"


def test_runner_reads_secrets_from_the_session_keyring(
    dovecot: DovecotServer, store: SessionStore
) -> None:
    user = dovecot.add_user()
    SecretStore(store.name).set(source_password_key(user.login), user.password)
    settings = settings_for(dovecot)
    [result] = run_probes(settings, [user.login], session_secrets(store, settings))
    assert result.ok


def test_runner_keeps_to_the_concurrency_limit() -> None:
    """A server that accepts and holds connections: never more than the limit at once."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    most = 0
    stop = threading.Event()

    def serve() -> None:
        nonlocal most
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(conn)
            most = max(most, len([c for c in held if c.fileno() != -1]))
            if len(held) % 3 == 0:  # let a batch go: close everything held so far
                for c in held:
                    c.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    settings = ImapServerSettings("127.0.0.1", port, Security.PLAIN, timeout=2)
    try:
        results = run_probes(settings, [f"u{i}" for i in range(12)], lambda _l: "pw", concurrency=3)
    finally:
        stop.set()
        thread.join()
        for c in held:
            c.close()
        listener.close()
    assert len(results) == 12 and not any(r.ok for r in results)
    assert 1 <= most <= 3


def test_result_round_trips_through_evidence_data(dovecot: DovecotServer) -> None:
    user = dovecot.add_user(tree=True)
    result = probe_mailbox(settings_for(dovecot), user.login, user.password)
    again = ProbeResult.from_dict(result.as_dict())
    assert (
        again.folders == result.folders and again.ok and again.capabilities == result.capabilities
    )


def test_probe_without_sizing_lists_but_measures_nothing(dovecot: DovecotServer) -> None:
    user = dovecot.add_user()
    dovecot.seed(user.login, "INBOX", [make_message(1)])
    states: list[ProbeState] = []
    result = probe_mailbox(
        settings_for(dovecot), user.login, user.password, size=False, on_state=states.append
    )
    assert result.ok and result.listed and not result.measured
    assert states == [ProbeState.CONNECTING]
    assert all(f.messages is None for f in result.folders)
    assert "messages" not in result.as_dict()  # the plan keeps any earlier measurement
