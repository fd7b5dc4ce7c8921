"""The footer at real terminal sizes: on 80 columns the step's own keys come first and fit whole,
the way around (Steps, Next, Back) follows, then the app's keys, and go-to and report are left to
the command palette, as is whatever else the row has no room for (the app's keys first, then the
step's own from the last), so that the way around and the palette's key are always there whole;
on a wide terminal every key is shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from screens.app import OnboardApp
from tests.ui.pilot_helpers import settle
from wizard.playbook import Kind, default_playbook
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore, StepState


@pytest.fixture
def store() -> Iterator[SessionStore]:
    store = create_session("Acme Corp", "acme.example", example_profile())
    store.add_mailboxes([("anna", "anna@acme.example", "Anna")])
    number = store.playbook.number_of(Kind.CONNECTION_TEST)
    for dep in store.playbook.step(number).depends:
        store.set_step_state(dep, StepState.DONE)
    store.set_current_step(number)
    yield store
    store.close()


def footer_keys(app: OnboardApp) -> list[tuple[str, bool]]:
    """Each key the footer shows, by its description, and whether it fits on the screen whole."""
    footer = app.screen.query_one(Footer)
    right = footer.region.right
    return [
        (key.description or key.key, key.region.width > 0 and key.region.right <= right)
        for key in footer.query(FooterKey)
        if "-command-palette" not in key.classes
    ]


async def test_at_80_columns_the_steps_own_keys_come_first_and_fit(store: SessionStore) -> None:
    app = OnboardApp(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = footer_keys(app)
        names = [name for name, _fits in keys]
        assert names[:2] == ["Test all", "Retest failed"], names
        assert all(fits for _name, fits in keys), keys  # every key shown is shown whole
        assert "Go to" not in names and "Report" not in names
        assert names.index("Retest failed") < names.index("Steps") < names.index("Next")
        assert names.index("Next") < names.index("Back") < names.index("Palette")
        assert "Quit" not in names  # no room left for it: the palette's key list has it

        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        names = [name for name, _fits in footer_keys(app)]
        assert names[0] == "Next" and "Go to" in names and "Report" in names
        assert "Palette" not in names and docked_palette(app) is not None  # at the right edge


def docked_palette(app: OnboardApp) -> FooterKey | None:
    """The palette key Textual docks at the footer's right edge, if it is shown."""
    keys = [
        k for k in app.screen.query_one(Footer).query(FooterKey) if "-command-palette" in k.classes
    ]
    return keys[0] if keys and keys[0].region.width else None


async def test_at_80_columns_the_palette_key_follows_the_others_instead_of_covering_them(
    store: SessionStore,
) -> None:
    """Docked at the right edge, the palette key covered the last 12 columns of the row: on
    the address-book step "Edit mailbox", on step 12 "Change made now". On 80 columns it is
    the row's last key instead, and ctrl+p still opens the palette."""
    app = OnboardApp(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert docked_palette(app) is None
        names = [name for name, _fits in footer_keys(app)]
        assert names[-1] == "Palette" and names.index("Back") < names.index("Palette"), names
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert type(app.screen).__name__ == "CommandPalette"


@pytest.mark.parametrize("kind", [step.kind for step in default_playbook()], ids=str)
async def test_at_80_columns_every_step_shows_the_way_around_and_the_palette_whole(
    kind: Kind,
) -> None:
    store = create_session("Acme Corp", "acme.example", example_profile())
    try:
        store.add_mailboxes([("anna", "anna@acme.example", "Anna")])
        for step in store.playbook:
            if step.kind == kind:
                store.set_current_step(step.number)
                break
            store.set_step_state(step.number, StepState.DONE)
        app = OnboardApp(store=store)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            keys = footer_keys(app)
            names = [name for name, _fits in keys]
            assert all(fits for _name, fits in keys), keys
            for name in ("Steps", "Next", "Back", "Palette"):
                assert name in names, (name, names)
            body = app.screen.body
            own = [
                bindings[0].description
                for bindings in (body._bindings.key_to_bindings.values() if body else ())
                if bindings[0].show
            ]
            assert not own or names[0] == own[0], (own, names)  # the step's first key leads
    finally:
        store.close()


async def test_at_80_columns_the_log_screens_keys_stop_before_the_palette_key(
    store: SessionStore,
) -> None:
    """The activity log keeps the palette's key docked at the row's end; its own keys and the
    app's ran under it ("^l Log" half covered). On 80 columns the app's keys the row has no
    room for are left to the palette (ctrl+l still works), and Back always stays."""
    app = OnboardApp(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert type(app.screen).__name__ == "LogScreen"
        palette = docked_palette(app)
        assert palette is not None
        shown = [
            k
            for k in app.screen.query_one(Footer).query(FooterKey)
            if "-command-palette" not in k.classes and k.region.width
        ]
        names = [k.description for k in shown]
        assert names[:2] == ["Back", "Mailbox"] and "Bundle for a colleague" in names, names
        assert all(k.region.right <= palette.region.x for k in shown), names
        assert "Log" not in names

        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        names = [name for name, _fits in footer_keys(app)]
        assert "Log" in names and "Quit" in names, names  # room for every key
