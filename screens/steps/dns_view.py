"""Shared pieces of the DNS step bodies (8, 11, 12, 13.2): findings, records, the servers asked.

Findings are shown from their plain ``to_dict()`` form, so a result saved as evidence last week
looks the same as one checked a second ago.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from wizard.dns import RESOLVERS_SETTING, DnsResolver, resolvers_from_store
from wizard.playbook import Kind

if TYPE_CHECKING:
    from wizard.store import SessionStore

SEVERITY_STYLE = {
    "ok": ("✔", "green"),
    "info": ("ℹ", "cyan"),
    "warning": ("▲", "#d9a21b"),
    "error": ("✖", "red"),
}


def findings_text(findings: Iterable[Mapping[str, Any]]) -> Text:
    """One line per finding with its severity icon, then what to do about it, indented."""
    text = Text()
    for i, finding in enumerate(findings):
        severity = str(finding.get("severity", "info"))
        icon, style = SEVERITY_STYLE.get(severity, ("·", ""))
        if i:
            text.append("\n")
        text.append(f"{icon} {severity.upper():7} ", style=f"bold {style}")
        text.append(str(finding.get("message", "")))
        advice = str(finding.get("advice") or "")
        if advice:
            text.append(f"\n            → {advice}", style="dim")
    return text


class FindingList(Static):
    """The findings of a check, or a hint while there are none."""

    DEFAULT_CSS = """
    FindingList { height: auto; margin: 1 0 0 0; }
    """

    def show(self, findings: Sequence[Mapping[str, Any]], empty: str = "") -> None:
        self.update(findings_text(findings) if findings else Text(empty, style="dim"))


def session_resolver(store: SessionStore) -> DnsResolver:
    """The session's resolvers when the operator set them (step 12), else this machine's own.

    Raises DnsConfigError when neither is usable.
    """
    if store.setting(RESOLVERS_SETTING):
        return DnsResolver(resolvers_from_store(store))
    return DnsResolver(None)


def servers_line(store: SessionStore) -> str:
    if store.setting(RESOLVERS_SETTING):
        names = ", ".join(s.name for s in resolvers_from_store(store))
        return f"Asking the session's resolvers: {names}"
    propagation = store.playbook.number_of(Kind.PROPAGATION)
    return f"Asking this machine's resolver (step {propagation} sets the session's resolvers)."
