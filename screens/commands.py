"""Command palette entries: jump to a step, export the report, switch theme, filtering variant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from wizard.playbook import Kind

if TYPE_CHECKING:
    from .app import OnboardApp

Entry = tuple[str, Callable[[], object], str]


class SessionCommands(Provider):
    """What the operator can do in the open session, by name."""

    @property
    def onboard(self) -> OnboardApp:
        return cast("OnboardApp", self.app)

    def entries(self) -> Iterator[Entry]:
        app = self.onboard
        yield ("Switch theme", app.action_change_theme, "Pick the colour theme")
        store = app.store
        if store is None or store.closed:
            return
        for fmt, label in (("md", "Markdown"), ("html", "HTML"), ("json", "JSON")):
            yield (
                f"Export report ({label})",
                lambda fmt=fmt: app.export_report(fmt),
                "The completion report for the customer, into the exports folder",
            )
        variant = "on" if not store.third_party_filter else "off"
        yield (
            f"Turn the third-party filtering variant {variant}",
            app.toggle_filtering,
            f"Steps {store.playbook.number_of(Kind.DNS_RECORDS)} and "
            f"{store.playbook.number_of(Kind.ROUTING_SWITCH)} read differently when a filtering "
            "service stays in front",
        )
        yield (
            "Show the activity log",
            app.action_show_log,
            "Every connection, copied batch, retry and failure, live (ctrl+l)",
        )
        yield ("Close this session", app.close_session, "Back to the saved sessions")
        for step in store.playbook:
            yield (
                f"Step {step.number}: {step.title}",
                lambda number=step.number: app.goto_step(number),
                f"Go to step {step.number} ({step.owner.value}, phase {step.phase})",
            )

    async def discover(self) -> Hits:
        for name, callback, help_text in self.entries():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self.entries():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
