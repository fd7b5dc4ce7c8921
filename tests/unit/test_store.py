"""A session survives a round trip, stays private, refuses damaged or newer files, and is locked."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wizard.profile import example_profile
from wizard.session import create_session, list_sessions, session_path
from wizard.store import (
    SessionDamaged,
    SessionError,
    SessionLocked,
    SessionStore,
    SessionTooNew,
    StepState,
    schema_version,
)


def _new(customer: str = "Acme Corp", **kwargs: object) -> SessionStore:
    return create_session(customer, "acme.example", example_profile(), **kwargs)  # type: ignore[arg-type]


def test_round_trip_keeps_everything() -> None:
    store = _new(third_party_filter=True)
    path = store.path
    store.set_current_step("8")
    store.set_step_state("1", StepState.DONE, actor="alice")
    store.set_step_state("2", StepState.SKIPPED, reason="plan agreed by mail", actor="bob")
    store.set_step_state("7", StepState.BLOCKED, reason="waiting for control panel access")
    store.tick("3", "server", actor="alice")
    store.set_note("8", "Customer's DNS is at their registrar.\nCall Tom.", actor="alice")
    store.add_evidence("4", "imap-connection", "2 of 2 mailboxes ok", {"ok": 2}, ok=True)
    store.add_mailboxes([("tom", "tom@acme.example", "Tom"), ("ann", "ann@acme.example", "")])
    store.set_setting("imap.server", {"host": "mail.acme.example", "port": 993})
    store.close()

    again = SessionStore.open(path)
    try:
        assert again.customer == "Acme Corp" and again.domain == "acme.example"
        assert again.third_party_filter is True
        assert again.profile.name == example_profile().name
        assert again.current_step == "8"
        assert again.step_record("1").state is StepState.DONE
        assert again.step_record("1").actor == "alice"
        record = again.step_record("2")
        assert (record.state, record.reason, record.actor) == (
            StepState.SKIPPED,
            "plan agreed by mail",
            "bob",
        )
        assert again.step_record("7").reason == "waiting for control panel access"
        assert again.checklist("3")["server"].ticked
        assert again.note("8") == "Customer's DNS is at their registrar.\nCall Tom."
        [evidence] = again.evidence("4")
        assert (evidence.summary, evidence.ok, evidence.data) == (
            "2 of 2 mailboxes ok",
            True,
            {"ok": 2},
        )
        assert [m.target_address for m in again.mailboxes()] == [
            "tom@acme.example",
            "ann@acme.example",
        ]
        assert again.setting("imap.server")["port"] == 993
        assert again.progress() == (2, 20)
        assert any(h.action == "state" and h.step == "7" for h in again.history())
    finally:
        again.close()


def test_session_file_is_private() -> None:
    store = _new()
    store.set_note("1", "x")
    try:
        for path in [store.path, *store.path.parent.glob(store.path.name + "-*")]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        store.close()


def test_skip_and_block_need_a_reason() -> None:
    with _new() as store, pytest.raises(ValueError, match="a reason is needed"):
        store.set_step_state("5", StepState.SKIPPED)


def test_unmet_dependencies_are_listed() -> None:
    with _new() as store:
        assert store.unmet_dependencies("13") == ["12", "13.1", "13.2", "13.3"]
        store.set_step_state("12", StepState.DONE)
        store.set_step_state("13.1", StepState.SKIPPED, reason="no redirection was used")
        assert store.unmet_dependencies("13") == ["13.2", "13.3"]


def test_damaged_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = session_path("broken")
    path.write_bytes(b"this is not a database at all" * 100)
    before = path.read_bytes()
    with pytest.raises(SessionDamaged, match="left untouched"):
        SessionStore.open(path)
    assert path.read_bytes() == before
    assert [s.problem != "" for s in list_sessions()] == [True]


def test_truncated_session_is_refused() -> None:
    store = _new()
    path = store.path
    for i in range(50):
        store.set_note("1", f"note {i} " * 200)
    store.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    before = path.read_bytes()
    with pytest.raises(SessionDamaged):
        SessionStore.open(path)
    assert path.read_bytes() == before


def test_newer_schema_is_refused_and_left_untouched() -> None:
    store = _new()
    path = store.path
    store.close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {schema_version() + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(SessionTooNew, match="newer onboard"):
        SessionStore.open(path)
    assert path.read_bytes() == before


def test_lock_held_by_another_process_names_the_holder() -> None:
    store = _new()
    path = store.path
    store.close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from wizard.store import SessionStore
                s = SessionStore.open({str(path)!r})
                print("open", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "ONBOARD_OPERATOR": "colleague"},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(SessionLocked) as caught:
            SessionStore.open(path)
        message = str(caught.value)
        assert "colleague@" in message and f"pid {holder.pid}" in message
        # Read-only look-ups (listing, reports) still work while it is open elsewhere.
        with SessionStore.open(path, lock=None) as reader:
            assert reader.customer == "Acme Corp"
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    SessionStore.open(path).close()  # released when the holder exits


def test_shared_locks_coexist_but_exclude_the_app() -> None:
    store = _new()
    path = store.path
    store.close()
    first = SessionStore.open(path, lock="shared")
    second = SessionStore.open(path, lock="shared")
    try:
        with pytest.raises(SessionLocked, match="in use by another onboard process"):
            SessionStore.open(path)
    finally:
        first.close()
        second.close()


def test_reads_do_not_wait_for_another_threads_transaction() -> None:
    """A mailbox thread reads its ledger while another one holds a write transaction open: it
    gets the last committed state at once, and the writer sees its own rows before it commits."""
    import threading

    store = _new()
    store.set_note("1", "before", actor="alice")
    inside = threading.Event()
    release = threading.Event()
    seen_inside: list[str] = []

    def writer() -> None:
        with store.transaction() as tx:
            tx.execute("UPDATE notes SET text = 'during' WHERE step = '1'")
            seen_inside.append(store.query("SELECT text FROM notes WHERE step = '1'")[0][0])
            inside.set()
            release.wait(30)

    read: list[str] = []
    writing = threading.Thread(target=writer)
    writing.start()
    assert inside.wait(10)
    reading = threading.Thread(
        target=lambda: read.append(store.query("SELECT text FROM notes WHERE step = '1'")[0][0])
    )
    reading.start()
    reading.join(10)
    finished_while_held = not reading.is_alive()
    release.set()
    writing.join(10)
    reading.join(10)
    assert finished_while_held, "the read waited for the other thread's transaction"
    assert read == ["before"] and seen_inside == ["during"]
    assert store.query("SELECT text FROM notes WHERE step = '1'")[0][0] == "during"
    store.close()
    with pytest.raises(SessionError, match="closed"):
        store.query("SELECT 1")
