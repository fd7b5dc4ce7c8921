"""Every key a step advertises works right after the step opens, with no Tab first.

For each step of the demo session (its servers on 127.0.0.1): the keys named by its body's
bindings (the footer), by its buttons' labels ("Test all (t)", "Watch w", "Done (F2)") and by its
help text ("press v", "f to retest", "(o opens it)") are collected from what is shown. Each is
pressed on a freshly opened step: the action that key is bound to must run, and the screen must
show something for it (a result, a dialog, a notification, a new state), since a key that works
in silence looks like a key that does nothing.
"""

from __future__ import annotations

import re
import webbrowser
from collections.abc import Iterator
from typing import Any

import pytest
from textual.app import App
from textual.widget import Widget
from textual.widgets import Button, Static

from screens.app import OnboardApp
from screens.step_screen import StepScreen
from tests.ui.pilot_helpers import settle, shown, wait_until
from wizard.devservers.demo import DemoServers, open_demo_session
from wizard.playbook import default_playbook

STEPS = [(step.number, step.kind) for step in default_playbook()]
IN_LABEL = re.compile(r"\((F\d+|del|ctrl\+[a-z]|[a-z])\)$")  # "Test all (t)", "Add (F8)"
TRAILING = re.compile(r"\s([a-z+\-])$")  # the compact buttons: "Watch w", "Faster +"
IN_TEXT = (
    re.compile(r"\b[Pp]ress ((?:ctrl\+)?[a-z])\b"),  # "press v to compare"
    re.compile(r"(?:, | or )((?:ctrl\+)?[a-z]) (?:to|for) "),  # "f to retest, r for this row"
    re.compile(r"(?<=\s)\(((?:ctrl\+)?[a-z])(?: [a-z]+(?: it)?)?\)"),  # "(c)", "(o opens it)"
)
KEY_NAMES = {"del": "delete", "+": "plus", "-": "minus"}


def key_name(text: str) -> str:
    return KEY_NAMES.get(text, text.lower())


def visible_text(app: App[Any]) -> str:
    """What the terminal shows now: the top screen (a dialog over the step, if one is open)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())  # noqa: SLF001


def advertised(screen: StepScreen) -> set[str]:
    """The keys the open step names: its body's footer keys, its buttons, its help text."""
    body = screen.body
    keys = {  # the body's keys in the footer, bound on the body or for it on the screen
        key
        for key, active in screen.active_bindings.items()
        if active.binding.show
        and active.enabled
        and (
            active.binding.action.startswith("body_key")
            or (body is not None and body in active.node.ancestors_with_self)
        )
    }
    widgets: list[Widget] = list(body.query("*")) if body is not None else []
    widgets += list(screen.query("#actions Button"))
    for widget in widgets:
        if not screen._shown(widget):  # noqa: SLF001 - in a tab that is not shown
            continue
        if isinstance(widget, Button):
            if widget.disabled:
                continue
            label = str(widget.label)
            found = IN_LABEL.search(label) or TRAILING.search(label)
            if found:
                keys.add(key_name(found.group(1)))
        elif isinstance(widget, Static):
            text = shown(widget)
            for pattern in IN_TEXT:
                keys.update(key_name(k) for k in pattern.findall(text))
    return keys


def bound_action(screen: StepScreen, key: str) -> tuple[Any, str]:
    """Who runs ``key`` right after opening (the focus is in the body): the body's own
    binding first, as Textual asks the focused widget's ancestors before the screen."""
    body = screen.body
    owners = [w for w in (body.query("*") if body is not None else ()) if w.has_focus_within]
    for owner in [*reversed(owners), *([body] if body is not None else [])]:
        found = owner._bindings.key_to_bindings.get(key)  # noqa: SLF001
        if found and type(owner).__module__.startswith("screens."):
            return owner, found[0].action
    if key in screen._body_keys:  # noqa: SLF001
        return screen._body_keys[key]  # noqa: SLF001
    found = screen._bindings.key_to_bindings.get(key)  # noqa: SLF001
    assert found, f"the step names the key {key!r} but nothing binds it"
    return screen, found[0].action


class Spy:
    """Records that an action method ran (and then runs it)."""

    def __init__(self, owner: Any, action: str) -> None:
        self.name = action.split("(", 1)[0]
        self.ran = False
        method = getattr(owner, f"action_{self.name}")

        async def spy(*args: Any) -> Any:
            self.ran = True
            result = method(*args)
            if hasattr(result, "__await__"):
                return await result
            return result

        setattr(owner, f"action_{self.name}", spy)


async def reopen(app: OnboardApp, pilot: Any, number: str) -> StepScreen:
    """The step as the operator opens it: no dialog over it, no toast, nothing running."""
    while not isinstance(app.screen, StepScreen):
        app.pop_screen()
        await settle(pilot)
    if app._copy is not None and app._copy.running:  # noqa: SLF001 - stop the copy a key started
        app._copy.shutdown(30)  # noqa: SLF001
    if app._propagation is not None:  # noqa: SLF001 - and the DNS watch
        app._propagation.shutdown()  # noqa: SLF001
    await app.workers.wait_for_complete()
    app.clear_notifications()
    app.goto_step(number)
    await settle(pilot, 2)
    screen = app.screen
    assert isinstance(screen, StepScreen) and screen.step.number == number
    return screen


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    urls: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url, *a, **k: urls.append(url))
    yield urls


@pytest.mark.parametrize(("number", "kind"), STEPS, ids=[str(k) for _n, k in STEPS])
async def test_each_advertised_key_works_right_after_opening_the_step(
    demo_servers: DemoServers, opened: list[str], number: str, kind: str
) -> None:
    store = open_demo_session(demo_servers)
    store.set_current_step(number)
    app = OnboardApp(store=store, demo=True)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        screen = await reopen(app, pilot, number)
        # Reversed: the step's own keys before the state keys (F2...), and step 12's "change
        # made" (m) after the keys that need no change yet (once made, the step watches).
        keys = sorted(advertised(screen), reverse=True)
        silent: list[str] = []
        for key in keys:
            screen = await reopen(app, pilot, number)
            if key not in advertised(screen):
                continue  # advertised only in a state an earlier key left (a copy to verify)
            owner, action = bound_action(screen, key)
            spy = Spy(owner, action)
            before = visible_text(app)
            await pilot.press(key)

            def answered(before: str = before, spy: Spy = spy) -> bool:
                return spy.ran and visible_text(app) != before

            try:
                await wait_until(pilot, answered, timeout=30)
            except AssertionError:
                silent.append(f"{key} ({spy.name}: {'ran' if spy.ran else 'did not run'})")
        await reopen(app, pilot, number)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert not silent, f"step {number}: keys that show nothing: {silent} (of {keys})"
