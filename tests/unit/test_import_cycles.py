"""No import cycle in wizard/ or screens/ (imports under ``if TYPE_CHECKING:`` do not count).

Function-level imports count: a lazy import hides a cycle from Python, not from the design.
"""

from __future__ import annotations

import grimp

PACKAGES = ("wizard", "screens")


def import_cycles(graph: grimp.ImportGraph, packages: tuple[str, ...]) -> list[list[str]]:
    """One cycle per strongly connected group of modules, each as [a, b, ..., a]."""
    modules = sorted(m for m in graph.modules if m.split(".")[0] in packages)
    inside = set(modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & inside) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        # Tarjan's algorithm, iterative: the module graph is deep enough to hit the recursion limit.
        work = [(start, 0)]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, position = work[-1]
            if position < len(edges[node]):
                work[-1] = (node, position + 1)
                target = edges[node][position]
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in edges[node]:
                    groups.append(sorted(group))

    for module in modules:
        if module not in index:
            visit(module)
    return [_one_cycle(graph, group) for group in groups]


def _one_cycle(graph: grimp.ImportGraph, group: list[str]) -> list[str]:
    """The shortest way round from the group's first module back to itself."""
    first = group[0]
    best: list[str] = []
    for imported in sorted(graph.find_modules_directly_imported_by(first) & set(group)):
        back = graph.find_shortest_chain(importer=imported, imported=first) or ()
        if back and (not best or len(back) + 1 < len(best)):
            best = [first, *back]
    return best or [first, first]


def _describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    lines = []
    for importer, imported in zip(cycle, cycle[1:], strict=False):
        details = graph.get_import_details(importer=importer, imported=imported)
        where = ", ".join(f"line {d['line_number']}" for d in details) or "?"
        lines.append(f"  {importer} -> {imported} ({where})")
    return "\n".join(lines)


def test_no_import_cycle_in_wizard_or_screens() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    cycles = import_cycles(graph, PACKAGES)
    report = "\n\n".join(_describe(graph, cycle) for cycle in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s):\n{report}"


def test_the_check_finds_a_cycle_and_names_it() -> None:
    graph = grimp.ImportGraph()
    for name in ("wizard", "wizard.a", "wizard.b", "wizard.c", "screens", "screens.d"):
        graph.add_module(name)
    graph.add_import(importer="wizard.a", imported="wizard.b")
    graph.add_import(importer="wizard.b", imported="wizard.c")
    graph.add_import(importer="wizard.c", imported="wizard.a")
    graph.add_import(importer="screens.d", imported="wizard.a")
    assert import_cycles(graph, PACKAGES) == [["wizard.a", "wizard.b", "wizard.c", "wizard.a"]]
