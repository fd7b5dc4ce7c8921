"""State follows the work: the controllers' rules for "doing", ticks from evidence and the
proposal to mark a step done, per step kind, on a session file without any server."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date

import pytest

import wizard.store
from wizard.copy.engine import MailboxJob
from wizard.copy.ledger import CopyLedger, MessageRecord, MessageState, RunMode
from wizard.copy.service import CopyService
from wizard.copy.verify import EVIDENCE_KIND as VERIFICATION_KIND
from wizard.imap import ImapServerSettings, save_settings
from wizard.playbook import Kind
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.steps import controller_for
from wizard.steps.base import DoneProposal
from wizard.steps.copy import CopyController
from wizard.steps.mailbox_review import CONFIRM_KIND, CUTOVER_KIND
from wizard.store import SessionStore, StepState

MAILBOXES = [("anna", "anna@acme.example", "Anna"), ("bert", "bert@acme.example", "Bert")]


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every write a second after the one before, so "after the proof" is never a tie."""
    seconds = itertools.count()

    def now() -> str:
        n = next(seconds)
        return f"2026-11-20T09:{n // 60 % 60:02d}:{n % 60:02d}+00:00"

    monkeypatch.setattr(wizard.store, "now_iso", now)


@pytest.fixture
def store(clock: None) -> Iterator[SessionStore]:
    store = create_session("Acme", "acme.example", example_profile())
    store.add_mailboxes(MAILBOXES)
    yield store
    store.close()


def settle_before(store: SessionStore, kind: Kind) -> None:
    """Every step the one of ``kind`` depends on is done."""
    number = store.playbook.number_of(kind)
    for dep in store.playbook.step(number).depends:
        store.set_step_state(dep, StepState.DONE)


def ticked(store: SessionStore, kind: Kind) -> set[str]:
    number = store.playbook.number_of(kind)
    return {item for item, tick in store.checklist(number).items() if tick.ticked}


def proposal(store: SessionStore, kind: Kind) -> DoneProposal | None:
    controller = controller_for(store, kind)
    controller.tick_proven()
    return controller.done_proposal()


# ----- the rules every kind shares ---------------------------------------------------------------


def test_work_started_turns_only_a_step_not_started_into_doing(store: SessionStore) -> None:
    copy = controller_for(store, Kind.COPY)
    assert copy.work_started() is not None
    assert store.step_record(copy.number).state is StepState.IN_PROGRESS
    store.set_step_state(copy.number, StepState.BLOCKED, reason="waiting for the customer")
    assert copy.work_started() is None  # blocked stays blocked: the operator lifts it
    store.set_step_state(copy.number, StepState.DONE)
    assert copy.work_started() is None
    assert store.step_record(copy.number).state is StepState.DONE


def test_an_operators_tick_or_recorded_evidence_starts_the_step(store: SessionStore) -> None:
    outlook = controller_for(store, Kind.OUTLOOK)
    outlook.tick("profiles", False)  # an untick is no work
    assert store.step_record(outlook.number).state is StepState.NOT_STARTED
    outlook.tick("profiles")
    assert store.step_record(outlook.number).state is StepState.IN_PROGRESS
    terms = controller_for(store, Kind.TERMS)
    terms.agree(contact="Carla Kunde", email="carla@acme.example", phone="", agreed_on="2026-11-19")
    assert store.step_record(terms.number).state is StepState.IN_PROGRESS


def test_evidence_ticks_its_item_but_an_operators_later_untick_stands(store: SessionStore) -> None:
    verify = controller_for(store, Kind.VERIFY_INITIAL)
    store.add_evidence(verify.number, VERIFICATION_KIND, "2 of 2 mailboxes match", ok=False)
    assert verify.tick_proven() == []  # a failed verification proves nothing
    store.add_evidence(verify.number, VERIFICATION_KIND, "2 of 2 mailboxes match", ok=True)
    assert verify.tick_proven() == ["verification"]
    verify.tick("verification", False)  # the operator takes it back ...
    assert verify.tick_proven() == []  # ... and the same evidence does not overrule them
    store.add_evidence(verify.number, VERIFICATION_KIND, "2 of 2 mailboxes match", ok=True)
    assert verify.tick_proven() == ["verification"]  # a newer verification does


def test_done_is_proposed_never_set_and_waits_for_what_the_operator_confirms(
    store: SessionStore,
) -> None:
    number = store.playbook.number_of(Kind.VERIFY_INITIAL)
    assert proposal(store, Kind.VERIFY_INITIAL) is None  # nothing done yet
    store.add_evidence(number, VERIFICATION_KIND, "2 of 2 mailboxes match", ok=True)
    found = proposal(store, Kind.VERIFY_INITIAL)
    assert found is not None and not found.ready
    assert found.missing == ("Users checked their mail in webmail", "Customer approved the copy")
    assert found.waiting == (store.playbook.number_of(Kind.COPY),)
    assert "Verified: 2 of 2 mailboxes match." in found.describe()
    assert "still to tick: Users checked" in found.describe()
    verify = controller_for(store, Kind.VERIFY_INITIAL)
    verify.tick("webmail")
    verify.tick("approved")
    settle_before(store, Kind.VERIFY_INITIAL)
    found = proposal(store, Kind.VERIFY_INITIAL)
    assert found is not None and found.ready
    assert found.describe() == f"Verified: 2 of 2 mailboxes match. Mark step {number} done?"
    assert store.step_record(number).state is StepState.IN_PROGRESS  # proposed, not done
    store.set_step_state(number, StepState.DONE)
    assert proposal(store, Kind.VERIFY_INITIAL) is None


def test_a_step_whose_checklist_is_all_ticked_by_hand_proposes_done(store: SessionStore) -> None:
    clients = controller_for(store, Kind.CLIENTS)
    settle_before(store, Kind.CLIENTS)
    for item in ("outlook", "webmail"):
        clients.tick(item)
    assert clients.done_proposal() is None  # no work result, one item left
    clients.tick("phones")
    found = clients.done_proposal()
    assert found is not None and found.ready
    assert found.result == "Every item of the checklist is ticked."


# ----- kind by kind: which evidence proves which item ------------------------------------------


def test_terms_prove_all_three_items(store: SessionStore) -> None:
    controller_for(store, Kind.TERMS).agree(
        contact="Carla Kunde", email="carla@acme.example", phone="", agreed_on="2026-11-19"
    )
    found = proposal(store, Kind.TERMS)
    assert ticked(store, Kind.TERMS) == {"contacted", "terms", "contact"}
    assert found is not None and found.ready
    assert found.result.startswith("Terms agreed on 2026-11-19 with Carla Kunde")


def test_planning_ticks_the_window_and_a_yes_to_filtering(store: SessionStore) -> None:
    planning = controller_for(store, Kind.PLANNING)
    planning.save_window("weekend of 12-13 December")
    proposal(store, Kind.PLANNING)
    assert ticked(store, Kind.PLANNING) == {"window"}
    planning.set_third_party_filter(True)
    proposal(store, Kind.PLANNING)
    assert ticked(store, Kind.PLANNING) == {"window", "filtering"}  # call and scope: by hand


def test_imap_settings_tick_server_login_and_list(store: SessionStore) -> None:
    assert proposal(store, Kind.IMAP_SETTINGS) is None
    assert ticked(store, Kind.IMAP_SETTINGS) == {"mailboxes"}
    save_settings(store, ImapServerSettings("imap.acme.example"))
    settle_before(store, Kind.IMAP_SETTINGS)
    found = proposal(store, Kind.IMAP_SETTINGS)
    assert ticked(store, Kind.IMAP_SETTINGS) == {"server", "auth", "mailboxes"}
    assert found is not None and found.ready
    assert "2 mailboxes listed" in found.result


def test_mailbox_review_is_ready_with_confirmation_and_cutover_date(store: SessionStore) -> None:
    number = store.playbook.number_of(Kind.MAILBOX_REVIEW)
    store.add_evidence(number, CONFIRM_KIND, "Carla confirmed the 2 mailboxes on Exchange", ok=True)
    assert proposal(store, Kind.MAILBOX_REVIEW) is None  # half of the work
    assert ticked(store, Kind.MAILBOX_REVIEW) == {"objects"}
    review = controller_for(store, Kind.MAILBOX_REVIEW)
    review.save_cutover("2026-12-12", date(2026, 11, 20), review.estimate(review.rows()))
    found = proposal(store, Kind.MAILBOX_REVIEW)
    assert ticked(store, Kind.MAILBOX_REVIEW) == {"objects", "cutover"}
    assert found is not None and "cutover on 2026-12-12" in found.result
    assert CUTOVER_KIND in review.records


def test_an_addon_switched_on_proves_chosen_and_enabled(store: SessionStore) -> None:
    addons = controller_for(store, Kind.ADDONS)
    first = store.profile.addons[0]
    addons.switch(first.id, True)
    found = proposal(store, Kind.ADDONS)
    assert {"chosen", "enabled"} <= ticked(store, Kind.ADDONS)
    assert found is not None and first.name in found.result


@pytest.mark.parametrize(
    ("kind", "proven"), [(Kind.MAIL_REDIRECT, "redirect"), (Kind.ROUTING_SWITCH, "redirect-off")]
)
def test_a_recorded_routing_change_proves_the_change_not_the_test_message(
    store: SessionStore, kind: Kind, proven: str
) -> None:
    controller_for(store, kind).record_change("ticket 4711")
    found = proposal(store, kind)
    assert ticked(store, kind) == {proven}
    assert found is not None and not found.ready and "Change recorded: ticket 4711" in found.result


@pytest.mark.parametrize(
    ("kind", "evidence", "items"),
    [
        (Kind.DNS_RECORDS, {"dns.mx": True, "dns.autodiscover": True}, {"mx", "autodiscover"}),
        (Kind.DNS_RECORDS, {"dns.mx": False, "dns.autodiscover": True}, {"autodiscover"}),
        (Kind.OUTLOOK, {"dns.autodiscover": True}, {"autodiscover"}),
        (Kind.SPF, {"dns.spf": True}, {"published", "checked"}),
    ],
)
def test_a_passing_dns_check_proves_its_items(
    store: SessionStore, kind: Kind, evidence: dict[str, bool], items: set[str]
) -> None:
    number = store.playbook.number_of(kind)
    for evidence_kind, ok in evidence.items():
        store.add_evidence(number, evidence_kind, f"{evidence_kind} checked", ok=ok)
    found = proposal(store, kind)
    assert ticked(store, kind) == items
    assert (found is not None and bool(found.result)) is all(evidence.values())


def test_a_complete_propagation_round_proves_both_items(store: SessionStore) -> None:
    number = store.playbook.number_of(Kind.PROPAGATION)
    cells = [
        {"role": "authoritative", "state": "agrees"},
        {"role": "resolver", "state": "agrees"},
        {"role": "resolver", "state": "differs"},
    ]
    data = {"cells": cells, "resolvers_needed": 2, "complete": False}
    store.add_evidence(number, "dns.propagation", "1 of 1 authoritative …", data, ok=False)
    proposal(store, Kind.PROPAGATION)
    assert ticked(store, Kind.PROPAGATION) == {"authoritative"}
    cells[2] = {"role": "resolver", "state": "agrees"}
    data = {"cells": cells, "resolvers_needed": 2, "complete": True}
    store.add_evidence(number, "dns.propagation", "… — complete", data, ok=True)
    found = proposal(store, Kind.PROPAGATION)
    assert ticked(store, Kind.PROPAGATION) == {"authoritative", "resolvers"}
    assert found is not None and found.result == "… — complete."


def test_cutover_proposes_done_once_its_parts_are_and_users_were_told(store: SessionStore) -> None:
    cutover = controller_for(store, Kind.CUTOVER)
    for dep in store.playbook.step(cutover.number).depends:
        store.set_step_state(dep, StepState.DONE)
    found = cutover.done_proposal()
    assert found is not None and found.result == "Its 3 parts are done." and not found.ready
    cutover.tick("announced")
    assert (cutover.done_proposal() or found).ready


def test_local_data_every_mailbox_confirmed_ticks_users_confirmed(store: SessionStore) -> None:
    local = controller_for(store, Kind.LOCAL_DATA)
    first, second = store.mailboxes()
    local.set_moved(first.id, True)
    assert "done" not in ticked(store, Kind.LOCAL_DATA)
    local.set_moved(second.id, True)  # the tick rule ticks it, with or without a screen
    assert ticked(store, Kind.LOCAL_DATA) >= {"done"}
    found = local.done_proposal()
    assert found is not None and found.result == "2 of 2 mailboxes confirmed their data is moved."
    assert found.missing == ("Users told how to move contacts, calendars and local data",)


def test_a_complete_signoff_ticks_agreed_and_open_items(store: SessionStore) -> None:
    signoff = controller_for(store, Kind.SIGNOFF)
    signoff.sign_off(provider_name="Pia", customer_name="Carla", day="2026-11-20", complete=False)
    assert proposal(store, Kind.SIGNOFF) is None
    assert ticked(store, Kind.SIGNOFF) == set()  # "not complete yet" proves no agreement
    signoff.sign_off(provider_name="Pia", customer_name="Carla", day="2026-11-20", complete=True)
    found = proposal(store, Kind.SIGNOFF)
    assert ticked(store, Kind.SIGNOFF) == {"agreed", "open-items"}
    assert found is not None and found.missing == ("Completion report sent to the customer",)


# ----- the copy steps: standings, totals after a restart, whose run it is ------------------------


def no_jobs(_wanted: object) -> list[MailboxJob]:
    return []


def copied(store: SessionStore, mailbox: str, count: int, *, failed: int = 0) -> None:
    rows = [
        MessageRecord(mailbox, "INBOX", 1, uid, MessageState.COPIED, size=1000)
        for uid in range(1, count + 1)
    ]
    rows += [
        MessageRecord(mailbox, "INBOX", 1, 1000 + uid, MessageState.FAILED, size=1000)
        for uid in range(failed)
    ]
    CopyLedger(store).record(rows)


def copy_evidence(store: SessionStore, kind: Kind, counts: dict[str, int]) -> None:
    entries = [
        {"mailbox": m, "state": "done", "messages_total": n, "bytes_total": n * 1000}
        for m, n in counts.items()
    ]
    store.add_evidence(
        store.playbook.number_of(kind),
        "copy",
        "initial copy: 2 of 2 mailboxes finished",
        {"mode": "initial", "mailboxes": entries},
        ok=True,
    )


def test_totals_after_a_restart_count_what_earlier_runs_copied(store: SessionStore) -> None:
    copy = controller_for(store, Kind.COPY)
    assert isinstance(copy, CopyController)
    assert copy.totals({}).describe() == "0/2 mailboxes done · 0/0 messages · 0 B/0 B · 0 failed"
    copied(store, "anna@acme.example", 40)
    copied(store, "bert@acme.example", 38)
    # Killed before the run ended: no evidence, the ledger still counts.
    assert (
        copy.totals({}).describe() == "0/2 mailboxes done · 78 messages copied earlier · 0 failed"
    )
    assert [s.state for s in copy.standings({})] == ["40 copied earlier", "38 copied earlier"]
    copy_evidence(store, Kind.COPY, {"anna@acme.example": 40, "bert@acme.example": 38})
    totals = copy.totals({})
    assert totals.describe() == "2/2 mailboxes done · 78/78 messages · 76.2 KiB/76.2 KiB · 0 failed"
    assert [s.state for s in copy.standings({})] == ["done", "done"]


def test_the_differential_shows_no_run_of_the_initial_copy_as_its_own(store: SessionStore) -> None:
    copied(store, "anna@acme.example", 40)
    copy_evidence(store, Kind.COPY, {"anna@acme.example": 40})
    service = CopyService(store, no_jobs)
    service.mode = RunMode.INITIAL  # the initial copy ran in this session and finished
    service.last_result = object()  # type: ignore[assignment]
    differential = controller_for(store, Kind.DIFFERENTIAL)
    assert isinstance(differential, CopyController)
    assert differential.live(service) == {}
    status = differential.status(service)
    assert not status.startswith("Finished") and status.startswith("Press s to start")
    assert differential.totals({}).describe() == (
        "0/2 mailboxes done · 40 messages copied earlier · 0 failed"
    )
    initial = controller_for(store, Kind.COPY)
    assert isinstance(initial, CopyController)
    assert initial.status(service).startswith("Finished.")
    copy_evidence(store, Kind.DIFFERENTIAL, {"anna@acme.example": 40})
    service.mode = None  # a new session: the previous run is labelled with its time
    assert differential.status(service).startswith("Previous run, 20 Nov 2026, 09:")


def test_a_finished_copy_proves_copied_and_without_failures_reviewed(store: SessionStore) -> None:
    copied(store, "anna@acme.example", 40)
    copied(store, "bert@acme.example", 38, failed=2)
    copy_evidence(store, Kind.COPY, {"anna@acme.example": 40, "bert@acme.example": 40})
    settle_before(store, Kind.COPY)
    found = proposal(store, Kind.COPY)
    assert ticked(store, Kind.COPY) == {"copied"}  # 2 failed messages: the operator reviews
    assert found is not None and not found.ready
    assert found.result == "The initial copy finished for all 2 mailboxes (78 messages)."
    assert found.missing == ("Skipped and failed messages reviewed",)


def test_evidence_a_headless_run_recorded_starts_the_step_once(store: SessionStore) -> None:
    number = store.playbook.number_of(Kind.VERIFY_INITIAL)
    store.add_evidence(number, VERIFICATION_KIND, "2 of 2 mailboxes match", ok=True)  # the CLI
    verify = controller_for(store, Kind.VERIFY_INITIAL)
    assert verify.tick_proven() == ["verification"]
    assert store.step_record(number).state is StepState.IN_PROGRESS
    store.set_step_state(number, StepState.NOT_STARTED)  # reopened by the operator
    assert verify.tick_proven() == []  # nothing new proven: their state stands
    assert store.step_record(number).state is StepState.NOT_STARTED
