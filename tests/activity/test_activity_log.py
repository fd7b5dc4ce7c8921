"""The activity log without servers: where it is, what a line holds, rotation, redaction."""

from __future__ import annotations

import json

import pytest

from wizard import activity
from wizard.copy.events import CopyLog, MailboxProgress, MailboxState
from wizard.events import Done, Failure, Progress, Started
from wizard.profile import example_profile
from wizard.secrets import SecretStore, source_password_key
from wizard.session import create_session
from wizard.store import SessionStore


@pytest.fixture
def store() -> SessionStore:
    store = create_session("Log Test", "log.example", example_profile())
    yield store
    activity.close_log(store)
    store.close()


def lines(store: SessionStore) -> list[dict]:
    return [json.loads(x) for x in activity.log_path(store).read_text().splitlines()]


def test_a_line_is_json_beside_the_session_file(store: SessionStore) -> None:
    activity.log_event(
        store, "warning", "dns", "query", "ns1 did not answer", mailbox=None, server="ns1", rtt=1.5
    )
    activity.log_event(store, "info", "copy", "batch", "12 copied", mailbox="anna@log.example")
    path = activity.log_path(store)
    assert path.parent == store.path.parent and path.name == store.path.name + ".log"
    first, second = lines(store)
    assert first["level"] == "warning" and first["engine"] == "dns" and first["event"] == "query"
    assert first["message"] == "ns1 did not answer" and first["mailbox"] is None
    assert first["fields"] == {"server": "ns1", "rtt": 1.5}
    assert first["time"].endswith("+00:00")
    assert second["mailbox"] == "anna@log.example"
    records = activity.read_records(store)
    assert [r.message for r in records] == ["ns1 did not answer", "12 copied"]


def test_secrets_of_the_session_and_password_lookalikes_are_removed(store: SessionStore) -> None:
    store.add_mailboxes([("anna", "anna@log.example", "Anna")])
    SecretStore(store.name).set(source_password_key("anna"), "Keyring-Secret-77")
    activity.add_secret(store, "Prompted/Secret:88")
    activity.log_event(
        store,
        "error",
        "imap",
        "login",
        'server echoed LOGIN anna "Keyring-Secret-77" and Prompted/Secret:88',
        mailbox="anna@log.example",
        reply="a1 AUTHENTICATE PLAIN AGFubmEAS2V5cmluZw==",
        url="imap://anna:hunter2x@mail.example",
        password="whatever-it-was",
        nested={"list": ["x Keyring-Secret-77 y"], "note": "password=opensesame; next"},
        header="Authorization: Basic YW5uYTpodW50ZXI=",
    )
    raw = activity.log_path(store).read_text()
    for secret in (
        "Keyring-Secret-77",
        "Prompted/Secret:88",
        "AGFubmEAS2V5cmluZw==",
        "hunter2x",
        "whatever-it-was",
        "opensesame",
        "YW5uYTpodW50ZXI=",
    ):
        assert secret not in raw
    (line,) = lines(store)
    assert line["message"].startswith("server echoed LOGIN anna [redacted]")
    assert line["fields"]["url"] == "imap://anna:[redacted]@mail.example"
    assert line["fields"]["nested"]["note"] == "password=[redacted]; next"
    # ordinary words survive
    activity.log_event(store, "info", "imap", "login", "login failed: check the password")
    assert lines(store)[-1]["message"] == "login failed: check the password"


def test_password_environment_variables_are_secrets(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONBOARD_DEST_PASSWORD", "from-the-env-42")
    activity.log_event(store, "info", "exchange", "login", "tried from-the-env-42")
    assert "from-the-env-42" not in activity.log_path(store).read_text()


def test_the_log_rotates_and_keeps_the_newest_lines(
    store: SessionStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    activity.close_log(store)
    monkeypatch.setattr(activity, "MAX_BYTES", 4000)
    tail = activity.LogTail(store)
    seen: list[str] = []
    for n in range(400):
        activity.log_event(store, "info", "copy", "batch", f"line {n:04d}")
        if n % 7 == 0:
            seen += [r.message for r in tail.read_new()]
    seen += [r.message for r in tail.read_new()]
    files = activity.log_files(store)
    assert len(files) == activity.BACKUP_COUNT + 1
    assert all(p.stat().st_size <= 4000 for p in files)
    assert files[-1] == activity.log_path(store)
    kept = [r.message for r in activity.read_records(store)]
    assert kept[-1] == "line 0399" and kept == sorted(kept)
    assert "line 0000" not in kept  # the oldest fell off the end
    # the live tail saw every line once, in order, across the rotations
    assert seen == [f"line {n:04d}" for n in range(400)]


def test_engine_events_become_lines_with_progress_throttled(store: SessionStore) -> None:
    passed: list[object] = []
    sink = activity.event_logger(store, "copy", inner=passed.append)
    mailbox = "anna@log.example"
    events = [
        Started(subject=mailbox, detail="anna"),
        MailboxProgress(subject=mailbox, state=MailboxState.CONNECTING),
        *[
            MailboxProgress(subject=mailbox, state=MailboxState.COPYING, done=n, total=50)
            for n in range(50)
        ],
        CopyLog(subject=mailbox, level="warning", message="target: busy; retrying", event="retry"),
        Progress(subject="ns1.example", done=1, total=3),
        Failure(subject=mailbox, reason="too big", code="message", detail={"uid": 7}),
        MailboxProgress(subject=mailbox, state=MailboxState.DONE, done=50, total=50),
        Done(subject=mailbox, ok=True, summary="50 copied"),
    ]
    for event in events:
        sink(event)
    assert passed == events  # the UI still gets everything
    got = [(x["level"], x["event"], x["mailbox"], x["message"]) for x in lines(store)]
    assert got == [
        ("info", "started", mailbox, "started anna"),
        ("info", "progress", mailbox, "connecting: 0/0 messages"),
        ("info", "progress", mailbox, "copying: 0/50 messages"),
        ("warning", "retry", mailbox, "target: busy; retrying"),
        ("info", "progress", None, "1/3"),
        ("error", "failure", mailbox, "too big"),
        ("info", "progress", mailbox, "done: 50/50 messages"),
        ("info", "done", mailbox, "50 copied"),
    ]
    assert lines(store)[4]["fields"]["subject"] == "ns1.example"
    assert lines(store)[5]["fields"] == {"code": "message", "uid": 7}


def test_a_broken_log_never_stops_the_engine(store: SessionStore) -> None:
    activity.log_path(store).mkdir()  # the file cannot be opened
    sink = activity.event_logger(store, "copy", inner=lambda e: None)
    sink(Started(subject="x@log.example"))
    activity.log_event(store, "info", "copy", "batch", "still fine")


def test_the_report_says_where_the_log_is(store: SessionStore) -> None:
    from wizard.report import render_report

    activity.log_event(store, "error", "copy", "failure", "stopped", mailbox="a@log.example")
    text = render_report(store, "md", "operator")
    assert "Activity log" in text and str(activity.log_path(store)) in text
    # The customer's copy names no local path and no command.
    customer = render_report(store, "md")
    assert str(activity.log_path(store)) not in customer and str(store.path) not in customer
    assert "onboard report" not in customer and "onboard resume" not in customer
    data = json.loads(render_report(store, "json", "operator"))
    (table,) = [t for t in data["tables"] if t["title"] == "Activity log"]
    assert table["rows"][0][0] == str(activity.log_path(store))
    assert table["rows"][0][1:4] == ["1", "0", "1"]
