"""A session saved before steps had kinds of their own still opens, and reads the same.

``data/acme-before-kinds.onboard`` was written by the previous version (step states keyed by
number, yes/no facts stored as "1"/"0"): third-party filtering on, step 1 done, step 7 blocked,
13.3's Outlook ticked, a note on 10, the agreed terms and one mailbox; the operator was on 13.3.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from wizard.playbook import Kind
from wizard.session_records import StepState
from wizard.steps import controller_for
from wizard.store import SessionStore

OLD_SESSION = Path(__file__).with_name("data") / "acme-before-kinds.onboard"


def test_a_session_saved_before_kinds_opens_with_everything(tmp_path: Path) -> None:
    path = tmp_path / OLD_SESSION.name
    shutil.copy(OLD_SESSION, path)
    with SessionStore.open(path) as store:
        assert store.customer == "Acme Corp"
        assert store.third_party_filter is True and store.demo is False
        records = store.step_records()
        assert records["1"].state is StepState.DONE and records["1"].actor == "alice"
        assert records["7"].state is StepState.BLOCKED
        assert records["7"].reason == "waiting for control panel access"
        assert store.current_step == store.playbook.number_of(Kind.CLIENTS)
        assert controller_for(store, Kind.CLIENTS).is_moved("outlook")  # type: ignore[attr-defined]
        assert store.note(store.playbook.number_of(Kind.VERIFY_INITIAL)) == "Anna checked webmail."
        terms = controller_for(store, Kind.TERMS)
        assert terms.saved().contact == "Ann Lee"  # type: ignore[attr-defined]
        assert [e.kind for e in terms.evidence()] == ["terms"]
        assert [m.target_address for m in store.mailboxes()] == ["anna@acme.example"]
        # Switching the variant off writes the new form; it reads back the same way.
        controller_for(store, Kind.PLANNING).set_third_party_filter(False)  # type: ignore[attr-defined]
        assert store.third_party_filter is False
    with SessionStore.open(path) as store:
        assert store.third_party_filter is False
