"""How the start screen and a step screen look, with fixed sessions, times and terminal size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import wizard.store
from screens.app import OnboardApp
from wizard.profile import example_profile
from wizard.session import create_session, session_path
from wizard.store import StepState

SIZE = (140, 45)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Freeze the store's clock; call it to move to another fixed time."""
    now = ["2026-11-20T09:00:00+00:00"]
    monkeypatch.setattr(wizard.store, "now_iso", lambda: now[0])

    def set_time(stamp: str) -> None:
        now[0] = stamp

    return set_time


def test_start_screen(snap_compare: Any, clock: Callable[[str], None]) -> None:
    clock("2026-11-18T16:30:00+00:00")
    create_session("Beta Ltd", "beta.example", example_profile(), demo=True).close()
    clock("2026-11-20T09:15:00+00:00")
    store = create_session("Acme Corp", "acme.example", example_profile(), third_party_filter=True)
    for number in ("1", "2"):
        store.set_step_state(number, StepState.DONE)
    store.set_current_step("3")
    store.close()
    session_path("old-copy").write_bytes(b"not a session at all")
    assert snap_compare(OnboardApp(), terminal_size=SIZE)


def test_step_screen_without_a_body(
    snap_compare: Any, clock: Callable[[str], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shared step screen alone: a step with no registered body still shows everything else.
    monkeypatch.setattr("screens.step_screen.body_for", lambda step: None)
    store = create_session("Acme Corp", "acme.example", example_profile(), name="acme")
    clock("2026-11-20T10:00:00+00:00")
    for number in ("1", "2", "3", "4"):
        store.set_step_state(number, StepState.DONE)
    store.set_step_state("5", StepState.SKIPPED, reason="volume agreed by phone")
    store.set_step_state("6", StepState.BLOCKED, reason="waiting for the customer's choice")
    clock("2026-11-21T08:30:00+00:00")
    store.set_step_state("7", StepState.DONE)
    store.set_step_state("8", StepState.IN_PROGRESS)
    first_item = store.playbook.step("8").plain.checklist[0]
    store.tick("8", first_item.id)
    store.set_note("8", "Registrar login is with Tom; he changes MX on Thursday.")
    store.add_evidence("8", "dns", "MX still points at the old server", ok=False)
    clock("2026-11-21T09:05:00+00:00")
    store.add_evidence("8", "dns", "MX records point at the provider", ok=True)
    store.set_current_step("8")
    assert snap_compare(OnboardApp(store=store), terminal_size=SIZE)
