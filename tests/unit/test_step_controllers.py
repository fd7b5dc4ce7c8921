"""Per step kind, one controller says which evidence it records, which engines it calls and when
the step counts as done; the screens are views that never write to the session themselves."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from wizard.copy.verify import EVIDENCE_KIND as VERIFICATION_KIND
from wizard.exchange.settings import EVIDENCE_KIND as EXCHANGE_KIND
from wizard.exchange.target_mailboxes import PROVISIONING_KIND
from wizard.imap.probe import EVIDENCE_KIND as PROBE_KIND
from wizard.playbook import Kind, default_playbook
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.steps import StepController, controller_for, module_for

ROOT = Path(__file__).resolve().parents[2]
# What a screen must not call on the store: every method that writes the session file.
STORE_WRITES = {
    "add_evidence",
    "add_mailboxes",
    "remove_mailbox",
    "set_current_step",
    "set_note",
    "set_profile",
    "set_setting",
    "set_step_state",
    "set_third_party_filter",
    "tick",
    "transaction",
    "update_mailbox",
}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_its_controller_module(kind: Kind) -> None:
    module = importlib.import_module(module_for(kind))
    assert module.__doc__, f"{module.__name__} says what the step is"
    store = create_session("Acme", "acme.example", example_profile())
    try:
        controller = controller_for(store, kind)
        assert isinstance(controller, StepController) and controller.kind is kind
        assert controller.step is default_playbook().by_kind(kind)
        for engine in controller.engines:
            importlib.import_module(engine)
    finally:
        store.close()


def test_engine_evidence_is_declared_by_the_step_it_lands_in() -> None:
    store = create_session("Acme", "acme.example", example_profile())
    try:
        connection = controller_for(store, Kind.CONNECTION_TEST)
        assert {PROBE_KIND, EXCHANGE_KIND, PROVISIONING_KIND} <= set(connection.records)
        for kind in (Kind.VERIFY_INITIAL, Kind.VERIFY_FINAL):
            assert controller_for(store, kind).records == (VERIFICATION_KIND,)
        for kind in (Kind.COPY, Kind.DIFFERENTIAL):
            assert controller_for(store, kind).records == ("copy",)
    finally:
        store.close()


def test_a_controller_refuses_evidence_it_does_not_declare() -> None:
    store = create_session("Acme", "acme.example", example_profile())
    try:
        terms = controller_for(store, Kind.TERMS)
        with pytest.raises(ValueError, match=r"does not record 'plan' evidence"):
            terms.record("plan", "not the terms")
        evidence = terms.agree(
            contact="Ann Lee", email="ann@acme.example", phone="", agreed_on="2026-11-02"
        )
        assert evidence.step == default_playbook().number_of(Kind.TERMS)
        assert terms.saved() is not None and terms.saved().contact == "Ann Lee"  # type: ignore[union-attr]
    finally:
        store.close()


def test_switching_an_add_on_on_ticks_chosen_and_enabled() -> None:
    profile = example_profile()
    store = create_session("Acme", "acme.example", profile)
    try:
        addons = controller_for(store, Kind.ADDONS)
        addon = profile.addons[0]
        tick, evidence = addons.switch(addon.id, True)  # type: ignore[attr-defined]
        ticks = addons.ticks()
        assert tick.ticked and ticks["chosen"].ticked and ticks["enabled"].ticked
        assert evidence.summary.startswith(f"{addon.name} enabled by ")
    finally:
        store.close()


def store_writes_in(source: str) -> list[tuple[int, str]]:
    """(line, method) for each call of a store write method on something named ``*store``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in STORE_WRITES
            and ast.unparse(node.func.value).endswith("store")
        ):
            found.append((node.lineno, node.func.attr))
    return found


def test_screens_never_write_to_the_store() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: store.{method}(...)"
        for path in sorted((ROOT / "screens").rglob("*.py"))
        for line, method in store_writes_in(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "write through the step's controller (wizard.steps):\n" + "\n".join(
        offenders
    )


def test_the_write_check_sees_a_write() -> None:
    source = "self.store.tick('x', 'y')\nstore.add_evidence(1)\nself.controller.tick('y')\n"
    assert store_writes_in(source) == [(1, "tick"), (2, "add_evidence")]
