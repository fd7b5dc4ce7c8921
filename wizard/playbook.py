"""The onboarding steps as typed data, loaded and validated from ``playbook.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any


class PlaybookError(ValueError):
    """The playbook file is malformed; the message names the entry at fault."""


class Owner(StrEnum):
    CUSTOMER = "customer"
    PROVIDER = "provider"
    EVERYONE = "everyone"


PHASES: dict[int, str] = {
    1: "Account creation",
    2: "Data migration",
    3: "Delivery and cutover",
}


class Kind(StrEnum):
    """What a step is: the key code uses to find a step, its controller and its body."""

    TERMS = "terms"
    PLANNING = "planning"
    IMAP_SETTINGS = "imap-settings"
    CONNECTION_TEST = "connection-test"
    MAILBOX_REVIEW = "mailbox-review"
    ADDONS = "addons"
    MAIL_REDIRECT = "mail-redirect"
    DNS_RECORDS = "dns-records"
    COPY = "copy"
    VERIFY_INITIAL = "verify-initial"
    OUTLOOK = "outlook"
    PROPAGATION = "propagation"
    CUTOVER = "cutover"
    ROUTING_SWITCH = "routing-switch"
    SPF = "spf"
    CLIENTS = "clients"
    DIFFERENTIAL = "differential"
    LOCAL_DATA = "local-data"
    VERIFY_FINAL = "verify-final"
    SIGNOFF = "signoff"


KINDS: frozenset[str] = frozenset(k.value for k in Kind)


@dataclass(frozen=True)
class ChecklistItem:
    id: str
    text: str


@dataclass(frozen=True)
class StepText:
    """What a step says and asks to tick, for one variant of the process."""

    text: str
    checklist: tuple[ChecklistItem, ...]


@dataclass(frozen=True)
class Step:
    number: str
    phase: int
    owner: Owner
    kind: Kind
    title: str
    plain: StepText
    filtering: StepText | None
    depends: tuple[str, ...]
    parent: str | None = None

    @property
    def sort_key(self) -> tuple[int, ...]:
        return step_sort_key(self.number)

    @property
    def is_substep(self) -> bool:
        return self.parent is not None

    def variant(self, third_party_filter: bool) -> StepText:
        """The text and checklist for the session's variant of the process."""
        if third_party_filter and self.filtering is not None:
            return self.filtering
        return self.plain


def step_sort_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


@dataclass(frozen=True)
class Playbook:
    steps: tuple[Step, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_number", {s.number: s for s in self.steps})
        object.__setattr__(self, "_by_kind", {s.kind: s for s in self.steps})

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __contains__(self, number: object) -> bool:
        return number in self._by_number  # type: ignore[attr-defined]

    def step(self, number: str) -> Step:
        try:
            return self._by_number[number]  # type: ignore[attr-defined,no-any-return]
        except KeyError:
            raise KeyError(f"there is no step {number!r} in the playbook") from None

    def by_kind(self, kind: str) -> Step:
        """The step of this kind: how code finds a step, whatever number the playbook gives it."""
        try:
            return self._by_kind[kind]  # type: ignore[attr-defined,no-any-return]
        except KeyError:
            raise KeyError(f"there is no step of kind '{kind}' in the playbook") from None

    def number_of(self, kind: str) -> str:
        """The number of the step of this kind (the initial copy's for "copy", and so on)."""
        return self.by_kind(kind).number

    def has_kind(self, kind: str) -> bool:
        return kind in self._by_kind  # type: ignore[attr-defined]

    def numbers(self) -> list[str]:
        return [s.number for s in self.steps]

    def phase_steps(self, phase: int) -> list[Step]:
        return [s for s in self.steps if s.phase == phase]

    def next_after(self, number: str) -> Step | None:
        numbers = self.numbers()
        index = numbers.index(number)
        return self.steps[index + 1] if index + 1 < len(numbers) else None

    def previous_before(self, number: str) -> Step | None:
        index = self.numbers().index(number)
        return self.steps[index - 1] if index > 0 else None

    def children(self, number: str) -> list[Step]:
        return [s for s in self.steps if s.parent == number]


def _text(entry: dict[str, Any], where: str) -> StepText:
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        raise PlaybookError(f"{where}: 'text' must be a non-empty string")
    raw_items = entry.get("checklist", [])
    if not isinstance(raw_items, list):
        raise PlaybookError(f"{where}: 'checklist' must be a list")
    items: list[ChecklistItem] = []
    seen: set[str] = set()
    for raw in raw_items:
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("text"):
            raise PlaybookError(f"{where}: every checklist item needs an 'id' and a 'text'")
        if raw["id"] in seen:
            raise PlaybookError(f"{where}: checklist item id {raw['id']!r} appears twice")
        seen.add(raw["id"])
        items.append(ChecklistItem(id=str(raw["id"]), text=str(raw["text"])))
    return StepText(text=" ".join(text.split()), checklist=tuple(items))


def parse_playbook(data: dict[str, Any]) -> Playbook:
    """Validate the parsed TOML and build typed steps; errors name the entry."""
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PlaybookError("the playbook has no [[step]] entries")
    steps: list[Step] = []
    seen: set[str] = set()
    kinds_seen: dict[str, str] = {}
    for index, raw in enumerate(raw_steps, start=1):
        number = str(raw.get("number", "")).strip()
        where = f"step {number}" if number else f"entry #{index}"
        if not number:
            raise PlaybookError(f"{where}: 'number' is missing")
        try:
            step_sort_key(number)
        except ValueError:
            raise PlaybookError(f"{where}: number {number!r} is not like '4' or '13.1'") from None
        if number in seen:
            raise PlaybookError(f"{where}: duplicate step number {number}")
        seen.add(number)
        owner = raw.get("owner")
        if owner not in {o.value for o in Owner}:
            raise PlaybookError(
                f"{where}: unknown owner {owner!r} (expected customer, provider or everyone)"
            )
        phase = raw.get("phase")
        if phase not in PHASES:
            raise PlaybookError(f"{where}: unknown phase {phase!r} (expected 1, 2 or 3)")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise PlaybookError(
                f"{where}: unknown kind {kind!r} (expected one of {', '.join(sorted(KINDS))})"
            )
        if kind in kinds_seen:
            raise PlaybookError(
                f"{where}: kind {kind!r} is step {kinds_seen[kind]}'s already; "
                "every step needs a kind of its own"
            )
        kinds_seen[kind] = number
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            raise PlaybookError(f"{where}: 'title' is missing")
        depends = raw.get("depends", [])
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise PlaybookError(f"{where}: 'depends' must be a list of step numbers as strings")
        filtering = raw.get("filtering")
        steps.append(
            Step(
                number=number,
                phase=int(phase),
                owner=Owner(owner),
                kind=Kind(kind),
                title=title.strip(),
                plain=_text(raw, where),
                filtering=_text(filtering, f"{where} (filtering variant)") if filtering else None,
                depends=tuple(depends),
                parent=raw.get("parent"),
            )
        )
    for step in steps:
        for dep in step.depends:
            if dep not in seen:
                raise PlaybookError(
                    f"step {step.number}: depends on step {dep}, which does not exist"
                )
            if dep == step.number:
                raise PlaybookError(f"step {step.number}: depends on itself")
        if step.parent is not None and step.parent not in seen:
            raise PlaybookError(f"step {step.number}: parent step {step.parent} does not exist")
    _refuse_cycles(steps)
    steps.sort(key=lambda s: s.sort_key)
    return Playbook(tuple(steps))


def _refuse_cycles(steps: list[Step]) -> None:
    graph = {s.number: s.depends for s in steps}
    done: set[str] = set()

    def visit(number: str, path: tuple[str, ...]) -> None:
        if number in path:
            cycle = " -> ".join((*path[path.index(number) :], number))
            raise PlaybookError(f"step {number}: dependency cycle {cycle}")
        if number in done:
            return
        for dep in graph[number]:
            visit(dep, (*path, number))
        done.add(number)

    for number in graph:
        visit(number, ())


def load_playbook(path: Path | None = None) -> Playbook:
    """Load a playbook file; the one shipped with the package when no path is given."""
    if path is None:
        return default_playbook()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(f"{path}: not valid TOML: {exc}") from None
    return parse_playbook(data)


@cache
def default_playbook() -> Playbook:
    text = resources.files("wizard").joinpath("playbook.toml").read_text(encoding="utf-8")
    return parse_playbook(tomllib.loads(text))
