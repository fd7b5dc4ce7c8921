"""Code finds a step through the playbook (by its kind), never by writing its number.

A string literal equal to a playbook step number ("4", "13.2") in ``wizard/`` or ``screens/`` is
refused; renumbering the process then means editing ``playbook.toml`` alone. A literal that only
looks like one (a protocol's "1") says so on its line with ``# not a step number``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from wizard.playbook import default_playbook

ROOT = Path(__file__).resolve().parents[2]
MARKER = "# not a step number"


def step_literals(source: str, numbers: set[str]) -> list[tuple[int, str]]:
    """(line, literal) for each string constant that is a step number and not marked as none."""
    lines = source.splitlines()
    tree = ast.parse(source)
    # f"{x:7}": a format spec's width is not a step number.
    specs = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.FormattedValue) and node.format_spec is not None
        for part in ast.walk(node.format_spec)
    }
    found = []
    for node in ast.walk(tree):
        if id(node) in specs:
            continue
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in numbers
            and MARKER not in lines[node.lineno - 1]
        ):
            found.append((node.lineno, node.value))
    return sorted(found)


def test_no_step_number_literal_in_product_code() -> None:
    numbers = set(default_playbook().numbers())
    offenders = []
    for package in ("wizard", "screens"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, value in step_literals(path.read_text(encoding="utf-8"), numbers):
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {value!r}")
    assert not offenders, (
        "step numbers written in code; find the step with playbook.by_kind(...) instead:\n"
        + "\n".join(offenders)
    )


def test_the_check_sees_literals_and_honours_the_marker() -> None:
    numbers = {"4", "13.2"}
    source = 'a = "4"\nb = store.evidence("13.2")\nc = "4"  # not a step number: a port\nd = "44"\n'
    source += 'e = f"{x:4}"\n'
    assert step_literals(source, numbers) == [(1, "4"), (2, "13.2")]
