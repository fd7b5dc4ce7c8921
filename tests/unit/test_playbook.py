"""The playbook holds every step of the process with the owner the process gives it."""

from __future__ import annotations

import pytest

from wizard.playbook import Kind, Owner, PlaybookError, default_playbook, parse_playbook

# Owners exactly as ../shared/seed/imap-onboarding-process.txt assigns them.
PROCESS_OWNERS = {
    "1": "customer",
    "2": "everyone",
    "3": "customer",
    "4": "provider",
    "5": "customer",
    "6": "everyone",
    "7": "provider",
    "8": "customer",
    "9": "provider",
    "10": "customer",
    "11": "customer",
    "12": "provider",
    "13": "everyone",
    "13.1": "provider",
    "13.2": "customer",
    "13.3": "customer",
    "14": "provider",
    "15": "customer",
    "16": "customer",
    "17": "everyone",
}
PROCESS_PHASES = (
    {n: 1 for n in ["1", "2", "3", "4", "5", "6", "7", "8"]}
    | {n: 2 for n in ["9", "10", "11"]}
    | {n: 3 for n in ["12", "13", "13.1", "13.2", "13.3", "14", "15", "16", "17"]}
)


def test_all_twenty_entries_with_the_process_owners_and_phases() -> None:
    playbook = default_playbook()
    assert playbook.numbers() == list(PROCESS_OWNERS)
    for step in playbook:
        assert step.owner.value == PROCESS_OWNERS[step.number], step.number
        assert step.phase == PROCESS_PHASES[step.number], step.number
        assert step.title and step.plain.text and step.plain.checklist, step.number


def test_substeps_belong_to_thirteen() -> None:
    playbook = default_playbook()
    assert [s.number for s in playbook.children("13")] == ["13.1", "13.2", "13.3"]


@pytest.mark.parametrize(
    ("before", "after"), [("12", "13"), ("9", "10"), ("13", "14"), ("16", "17")]
)
def test_dependencies_follow_the_process(before: str, after: str) -> None:
    assert before in default_playbook().step(after).depends


def test_engine_backed_steps_name_their_kind() -> None:
    playbook = default_playbook()
    assert playbook.step("4").kind == "connection-test"
    assert playbook.step("9").kind == "copy"
    assert playbook.step("12").kind == "propagation"
    assert playbook.step("13.2").kind == "spf"
    assert playbook.step("1").kind == "terms"


def test_every_step_has_a_kind_of_its_own_and_is_found_by_it() -> None:
    playbook = default_playbook()
    kinds = [step.kind for step in playbook]
    assert len(set(kinds)) == len(kinds) == len(Kind)
    for step in playbook:
        assert playbook.by_kind(step.kind) is step
        assert playbook.number_of(step.kind) == step.number
    # The checks after the initial copy and after the differential are told apart.
    assert playbook.by_kind(Kind.VERIFY_INITIAL).depends == (playbook.number_of(Kind.COPY),)
    assert playbook.by_kind(Kind.VERIFY_FINAL).depends == (playbook.number_of(Kind.DIFFERENTIAL),)


def test_a_kind_missing_from_the_playbook_says_so() -> None:
    book = parse_playbook({"step": [_entry("1")]})
    assert not book.has_kind(Kind.SIGNOFF)
    with pytest.raises(KeyError, match="no step of kind 'signoff'"):
        book.by_kind(Kind.SIGNOFF)


def test_two_steps_of_one_kind_are_refused() -> None:
    with pytest.raises(PlaybookError, match=r"step 2: kind 'terms' is step 1's already"):
        parse_playbook({"step": [_entry("1", kind="terms"), _entry("2", kind="terms")]})


def test_unknown_or_missing_kind_names_the_entry() -> None:
    with pytest.raises(PlaybookError, match=r"step 1: unknown kind 'manual'"):
        parse_playbook({"step": [_entry("1", kind="manual")]})
    entry = _entry("1")
    del entry["kind"]
    with pytest.raises(PlaybookError, match=r"step 1: unknown kind None"):
        parse_playbook({"step": [entry]})


def test_filtering_variant_changes_steps_8_and_13_1_only_where_the_process_does() -> None:
    playbook = default_playbook()
    eight_plain = playbook.step("8").variant(False)
    eight_filter = playbook.step("8").variant(True)
    assert "MX records" in eight_plain.text and "stay" not in eight_plain.text
    assert "stay pointed at that service" in eight_filter.text
    assert "mx-kept" in [i.id for i in eight_filter.checklist]
    thirteen_one = playbook.step("13.1")
    assert "forwarding" not in [i.id for i in thirteen_one.variant(False).checklist]
    assert "forwarding" in [i.id for i in thirteen_one.variant(True).checklist]
    # Steps without a filtering text read the same either way.
    assert playbook.step("9").variant(True) == playbook.step("9").variant(False)


def _entry(number: str, **extra: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "number": number,
        "phase": 1,
        "owner": "customer",
        "kind": list(Kind)[int(number.split(".")[0]) - 1].value,  # one kind per step
        "title": f"Step {number}",
        "text": "Something to do.",
        "checklist": [{"id": "a", "text": "A"}],
        "depends": [],
    }
    entry.update(extra)
    return entry


def test_unknown_owner_names_the_entry() -> None:
    with pytest.raises(PlaybookError, match=r"step 2: unknown owner 'reseller'"):
        parse_playbook({"step": [_entry("1"), _entry("2", owner="reseller")]})


def test_duplicate_number_names_the_entry() -> None:
    with pytest.raises(PlaybookError, match=r"step 3: duplicate step number 3"):
        parse_playbook({"step": [_entry("3"), _entry("3")]})


def test_dangling_dependency_names_the_entry() -> None:
    with pytest.raises(PlaybookError, match=r"step 2: depends on step 9, which does not exist"):
        parse_playbook({"step": [_entry("1"), _entry("2", depends=["9"])]})


def test_dependency_cycle_is_refused() -> None:
    with pytest.raises(PlaybookError, match="dependency cycle"):
        parse_playbook({"step": [_entry("1", depends=["2"]), _entry("2", depends=["1"])]})


def test_typed_objects() -> None:
    book = parse_playbook({"step": [_entry("2"), _entry("1")]})
    assert book.numbers() == ["1", "2"]
    assert book.step("1").owner is Owner.CUSTOMER
