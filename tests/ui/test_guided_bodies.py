"""The guided steps record what the operator confirms, with who and when."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Checkbox, Footer, Input, Static

from screens.steps import load_bodies
from screens.steps.base import StepBody, body_for
from wizard.clients import client_guides
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore


class BodyHost(App[None]):
    """Shows one step body alone, as the step screen would."""

    def __init__(self, store: SessionStore, number: str) -> None:
        super().__init__()
        self.store = store
        self.step = store.playbook.step(number)
        self.evidence_events = 0

    def compose(self) -> ComposeResult:
        load_bodies()
        body_class = body_for(self.step)
        assert body_class is not None, f"no body for step {self.step.number}"
        yield body_class(self.store, self.step)
        yield Footer()

    def on_step_body_evidence_added(self, _message: StepBody.EvidenceAdded) -> None:
        self.evidence_events += 1


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", "acme.example", example_profile())
    yield s
    s.close()


async def test_step1_refuses_a_bad_address_then_records_the_terms(store: SessionStore) -> None:
    app = BodyHost(store, "1")
    async with app.run_test(size=(120, 40)) as pilot:
        app.query_one("#contact", Input).value = "Tom Jones"
        app.query_one("#email", Input).value = "tom at acme"
        app.query_one("#agreed-on", Input).value = "2026-11-20"
        await pilot.click("#save-terms")
        status = str(app.query_one(".status", Static).render())
        assert "Not saved" in status and "'tom at acme' is not an email address" in status
        assert store.evidence("1") == []

        app.query_one("#email", Input).value = "tom@acme.example"
        await pilot.press("ctrl+s")  # the keyboard way, shown in the footer
        await pilot.pause()
        status = str(app.query_one(".status", Static).render())
        assert "Terms agreed on 2026-11-20 with Tom Jones (tom@acme.example)." in status
        [evidence] = store.evidence("1", "terms")
        assert evidence.data["contact"] == "Tom Jones"
        assert app.evidence_events == 1


async def test_step6_records_who_enabled_which_addon(store: SessionStore) -> None:
    app = BodyHost(store, "6")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.click("#addon-archiving")
        await pilot.pause()
        who = str(app.query_one("#who-archiving", Static).render())
        assert who.strip().startswith("enabled by tester at 20")
        assert str(app.query_one("#who-activesync", Static).render()).strip() == "not enabled"
    assert store.checklist("6")["addon:archiving"].ticked
    assert store.evidence("6")[0].summary == "Archiving enabled by tester"
    # Switching an add-on on also settles the step's own items.
    assert store.checklist("6")["chosen"].ticked and store.checklist("6")["enabled"].ticked


async def test_step13_1_adds_the_forwarding_switch_for_the_filtering_variant(
    store: SessionStore,
) -> None:
    store.set_third_party_filter(True)
    store.set_setting("imap.server", {"host": "imap.acme.example"})
    app = BodyHost(store, "13.1")
    async with app.run_test(size=(120, 40)) as pilot:
        texts = [str(s.render()) for s in app.query(Static)]
        assert any(
            "forwarding" in t and "mx1.hosted.example.net, mx2.hosted.example.net" in t
            for t in texts
        )
        await pilot.click("#record-routing")
        assert "describe what was changed first" in str(app.query_one(".status", Static).render())
        app.query_one("#routing-detail", Input).value = "ticket 4711, test mail arrived 14:05"
        await pilot.press("ctrl+s")
        await pilot.pause()
    [evidence] = store.evidence("13.1", "mail-routing")
    assert evidence.summary == "ticket 4711, test mail arrived 14:05"
    assert any("forwarding" in t for t in evidence.data["tasks"])


async def test_step7_names_the_old_server(store: SessionStore) -> None:
    store.set_setting("imap.server", {"host": "imap.acme.example"})
    app = BodyHost(store, "7")
    async with app.run_test(size=(120, 40)):
        texts = " ".join(str(s.render()) for s in app.query(Static))
        assert "delivering to imap.acme.example" in texts


async def test_step13_3_shows_settings_from_the_profile(store: SessionStore) -> None:
    guides = {g.id for g in client_guides(store.profile, store.domain)}
    assert guides == {i.id for i in store.step_text("13.3").checklist}  # one tick, one item
    app = BodyHost(store, "13.3")
    async with app.run_test(size=(120, 50)) as pilot:
        texts = " ".join(str(s.render()) for s in app.query(Static))
        assert "Server: eas.hosted.example.net" in texts
        assert "Address: https://webmail.hosted.example.net/owa/" in texts
        await pilot.click("#client-phones")
    assert store.checklist("13.3")["phones"].ticked  # the step's own item, as the report shows


async def test_step15_ticks_off_each_mailbox(store: SessionStore) -> None:
    store.add_mailboxes([("tom", "tom@acme.example", "Tom"), ("ann", "ann@acme.example", "")])
    app = BodyHost(store, "15")
    async with app.run_test(size=(120, 40)) as pilot:
        assert len(app.query(Checkbox)) == 2
        first = store.mailboxes()[0]
        await pilot.click(f"#local-{first.id}")
        await pilot.pause()
        assert "1 of 2 mailboxes confirmed" in str(app.query_one(".status", Static).render())
    assert store.checklist("15")["mailbox:tom@acme.example"].ticked


async def test_step2_saves_the_window_and_exports_the_plan(store: SessionStore) -> None:
    store.add_mailboxes([("tom", "tom@acme.example", "Tom")])
    app = BodyHost(store, "2")
    async with app.run_test(size=(120, 50)) as pilot:
        app.query_one("#window", Input).value = "weekend of 12 December"
        await pilot.click("#save-window")
        await pilot.pause()
        assert store.setting("plan")["cutover_window"] == "weekend of 12 December"
        app.query_one("#window", Input).focus()  # the key works while typing in a field too
        await pilot.press("ctrl+e")
        await pilot.pause()
        status = str(app.query_one("#plan-status", Static).render())
        assert status.startswith("Plan written to ")
    path = store.latest_evidence("2", "plan").data["path"]
    with open(path, encoding="utf-8") as exported:
        text = exported.read()
    assert (
        "Cutover window: weekend of 12 December" in text
        and "| tom | tom@acme.example | Tom |" in text
    )


async def test_step17_records_the_signoff_and_exports_the_report(store: SessionStore) -> None:
    store.add_mailboxes([("tom", "tom@acme.example", "Tom")])
    app = BodyHost(store, "17")
    async with app.run_test(size=(140, 60)) as pilot:
        figures = str(app.query_one("#figures", Static).render())
        assert "1 mailboxes · 0 messages copied" in figures and "not verified yet" in figures
        app.query_one("#provider-name", Input).value = "Pat Engineer"
        app.query_one("#signoff-date", Input).value = "2026-11-25"
        await pilot.click("#record-signoff")
        assert "customer representative's name is empty" in str(
            app.query_one("#signoff-status", Static).render()
        )
        app.query_one("#customer-name", Input).value = "Tom Jones"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "by Pat Engineer (Example Hosted Exchange) and Tom Jones (Acme Corp)" in str(
            app.query_one("#signoff-status", Static).render()
        )
        app.query_one("#customer-name", Input).focus()  # the key works while typing in a field
        await pilot.press("ctrl+e")
        await pilot.pause()
    path = store.latest_evidence("17", "report").data["path"]
    with open(path, encoding="utf-8") as exported:
        html = exported.read()
    assert path.endswith("acme-corp-onboarding-report.html")
    assert "Signed off on 2026-11-25 by Pat Engineer" in html


async def test_step13_3_client_ticks_and_the_step_checklist_follow_each_other(
    store: SessionStore,
) -> None:
    from screens.app import OnboardApp
    from screens.step_screen import StepScreen

    store.set_current_step("13.3")
    app = OnboardApp(store=store)
    async with app.run_test(size=(160, 60)) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        client, item = (
            screen.query_one("#client-webmail", Checkbox),
            screen.query_one("#check-webmail", Checkbox),
        )
        assert not client.value and not item.value
        item.value = True  # ticked in the step's checklist ...
        await pilot.pause(0.2)
        assert client.value  # ... shows on the client's own box
        assert store.checklist("13.3")["webmail"].ticked
        client.value = False  # and back the other way
        await pilot.pause(0.2)
        assert not item.value
        assert not store.checklist("13.3")["webmail"].ticked
