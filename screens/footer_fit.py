"""Footer keys fitted to the terminal's width.

Textual's footer lays its keys out in one row and docks the palette's key over the row's right
end: on 80 columns a screen with many keys has its last ones cut or covered. A fitted footer
hides keys the row has no room for, the app's first (Quit, Log: the palette's key list still
shows them, and they still work), then the screen's own from the last, and never the ones a
screen keeps (its way back). ``StepScreen`` fits its narrow footer with :func:`fit_footer`;
the activity log takes :class:`FittedFooter` (the dialogs' few keys fit at 80 columns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

from textual.binding import ActiveBinding

if TYPE_CHECKING:
    from textual.app import App


def footer_cost(app: App[object], keys: Mapping[str, ActiveBinding]) -> int:
    """Columns these keys take in the footer: each shown key and its description, padded
    (" ^n " "Next "); keys of one action count once, as the footer shows them once."""
    shown = {a.binding.action: a.binding for a in keys.values() if a.binding.show}
    return sum(len(app.get_key_display(b)) + len(b.description) + 3 for b in shown.values())


def hidden(active: ActiveBinding) -> ActiveBinding:
    """The same key, not shown in the footer (it still works)."""
    return active._replace(binding=replace(active.binding, show=False))


def fit_footer(
    app: App[object],
    width: int,
    kept: Sequence[dict[str, ActiveBinding]],
    droppable: Sequence[dict[str, ActiveBinding]],
) -> None:
    """Hide keys of the ``droppable`` groups, group by group and each from its last, until
    every key shown fits in ``width`` columns; the ``kept`` groups stay as they are."""
    groups = [*kept, *droppable]
    for group in droppable:
        for key in reversed(list(group)):
            if sum(footer_cost(app, g) for g in groups) <= width:
                return
            group[key] = hidden(group[key])


class FittedFooter:
    """A screen whose footer keeps its keys within the row, beside the palette's docked key.

    Mixed in before ``Screen`` (or ``ModalScreen``): ``FOOTER_KEPT`` names the actions never
    hidden (the way back)."""

    FOOTER_KEPT: ClassVar[tuple[str, ...]] = ()

    def _on_resize(self) -> None:  # Textual calls it beside the screen's own on_resize
        self.refresh_bindings()  # type: ignore[attr-defined] - what fits changed

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        app: App[object] = self.app  # type: ignore[attr-defined]
        width = self.size.width or app.size.width  # type: ignore[attr-defined]
        palette = bindings.get(app.COMMAND_PALETTE_BINDING)
        if palette is not None and app.ENABLE_COMMAND_PALETTE:  # docked at the row's end
            shown = replace(palette.binding, show=True)
            width -= footer_cost(app, {"": palette._replace(binding=shown)})
        kept: dict[str, ActiveBinding] = {}
        own: dict[str, ActiveBinding] = {}
        app_keys: dict[str, ActiveBinding] = {}
        for key, active in bindings.items():
            if active.binding.action in self.FOOTER_KEPT:
                kept[key] = active
            else:
                (app_keys if active.node is app else own)[key] = active
        fit_footer(app, width, [kept], [app_keys, own])
        fitted = {**kept, **own, **app_keys}
        return {key: fitted[key] for key in bindings}  # in the order the footer had them
