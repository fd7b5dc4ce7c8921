"""Steps 8, 12 and 13.2 in the real app, asking real Knot servers on loopback (never the internet).

The session's resolvers ("dns.resolvers") and authoritative servers ("dns.authoritative") are
the Knot fixtures' addresses, so every check and every poller round stays on 127.0.0.x.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Static

from screens.app import OnboardApp
from screens.dialogs import ReasonDialog
from screens.step_screen import StepScreen
from screens.steps.propagation import PropagationBody
from wizard.profile import example_profile
from wizard.session import create_session
from wizard.store import SessionStore, StepState

from .pilot_helpers import settle, shown, type_text, wait_until

SIZE = (150, 60)
DOMAIN = "acme.example"
OLD_MX = "@ IN MX 10 mail.acme.example.\nmail IN A 192.0.2.25\n"
NEW_MX = "@ IN MX 10 mx1.hosted.example.net.\n@ IN MX 20 mx2.hosted.example.net.\n"
MIXED_MX = (
    "@ IN MX 10 mx1.hosted.example.net.\n@ IN MX 20 mail.acme.example.\nmail IN A 192.0.2.25\n"
)


@pytest.fixture
def store() -> Iterator[SessionStore]:
    s = create_session("Acme Corp", DOMAIN, example_profile(), name="acme")
    yield s
    if not s.closed:
        s.close()


def state_cells(app: OnboardApp) -> list[object]:
    table = app.screen.query_one("#prop-matrix", DataTable)
    return [table.get_row_at(i)[2] for i in range(table.row_count)]


async def test_step12_cells_turn_green_on_their_own_after_a_zone_reload(
    store: SessionStore, knot_factory
) -> None:
    auth = knot_factory({DOMAIN: OLD_MX})
    resolvers = [knot_factory({DOMAIN: OLD_MX}), knot_factory({DOMAIN: OLD_MX})]
    store.set_setting("dns.resolvers", [f"R{i}={r.address}" for i, r in enumerate(resolvers)])
    store.set_setting("dns.authoritative", [auth.address])
    store.set_setting("dns.poll_seconds", 1)
    store.set_step_state("8", StepState.DONE)  # the change is made: step 12 watches on its own

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("12")
        await settle(pilot)
        body = app.screen.query_one(PropagationBody)
        await wait_until(pilot, lambda: body.view is not None)
        cells = state_cells(app)
        assert len(cells) == 3
        assert all("differs" in str(c) and "green" not in str(c.style) for c in cells)  # type: ignore[attr-defined]
        assert "not yet complete" in shown(app.screen.query_one("#prop-summary", Static))
        assert "Change made" in shown(app.screen.query_one("#prop-since", Static))

        # The customer's change reaches the name server and the resolvers: no key is pressed.
        for server in (auth, *resolvers):
            server.set_zone(DOMAIN, NEW_MX)
        await wait_until(pilot, lambda: body.view is not None and body.view.complete)
        await settle(pilot)
        cells = state_cells(app)
        assert all("agrees" in str(c) and "green" in str(c.style) for c in cells)  # type: ignore[attr-defined]
        table = app.screen.query_one("#prop-matrix", DataTable)
        serial_column = [table.get_row_at(i)[4] for i in range(table.row_count)]
        assert serial_column == ["2", "2", "2"]  # the reloaded zone's serial, from every server
        assert "complete" in shown(app.screen.query_one("#prop-summary", Static))
        saved = store.latest_evidence("12", "dns.propagation")
        assert saved is not None and saved.ok is True

        await pilot.press("f2")  # complete: done without a question
        await settle(pilot)
        assert store.step_record("12").state is StepState.DONE
        assert store.step_record("12").override == ""


async def test_step12_done_is_refused_while_the_matrix_is_incomplete(
    store: SessionStore, knot_factory
) -> None:
    auth = knot_factory({DOMAIN: NEW_MX})
    lagging = knot_factory({DOMAIN: OLD_MX})
    store.set_setting("dns.resolvers", [lagging.address])
    store.set_setting("dns.authoritative", [auth.address])
    store.set_step_state("8", StepState.DONE)

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("12")
        await settle(pilot)
        body = app.screen.query_one(PropagationBody)
        await wait_until(pilot, lambda: body.view is not None)
        assert not body.view.complete  # type: ignore[union-attr]

        await pilot.press("f2")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ReasonDialog)
        assert "not complete" in shown(dialog.query_one("#message", Static))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        # Not done; in progress since the watch's round proved the authoritative server.
        assert store.step_record("12").state is StepState.IN_PROGRESS

        await pilot.press("f2")  # again, this time with a recorded override
        await settle(pilot)
        await type_text(pilot, "resolver R0 caches for a day")
        await pilot.press("enter")
        await settle(pilot)
        record = store.step_record("12")
        assert record.state is StepState.DONE
        assert record.override == "resolver R0 caches for a day"


async def test_step8_shows_the_records_to_enter_and_finds_mixed_mx(
    store: SessionStore, knot_factory
) -> None:
    dns = knot_factory({DOMAIN: MIXED_MX})
    store.set_setting("dns.resolvers", [dns.address])

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("8")
        await settle(pilot)
        table = app.screen.query_one("#dns-records", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert rows[0][:3] == [DOMAIN, "MX", "10 mx1.hosted.example.net"]
        assert rows[1][:3] == [DOMAIN, "MX", "20 mx2.hosted.example.net"]
        assert [f"autodiscover.{DOMAIN}", "CNAME", "autodiscover.hosted.example.net"] == rows[2][:3]
        assert rows[3][:2] == [f"_autodiscover._tcp.{DOMAIN}", "SRV"]
        assert "0 0 443 autodiscover.hosted.example.net" in rows[3][2]

        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        mx = shown(app.screen.query_one("#mx-findings", Static))
        assert "ERROR" in mx and "mixed" in mx and "mail.acme.example" in mx
        auto = shown(app.screen.query_one("#autodiscover-findings", Static))
        assert "autodiscover" in auto.lower()
        saved = store.latest_evidence("8", "dns.mx")
        assert saved is not None and saved.ok is False and saved.data["status"] == "mixed"
        assert "Last checked" in shown(app.screen.query_one(".check-status", Static))

        # The filtering variant: MX is left alone, only Autodiscover is entered.
        await pilot.press("ctrl+t")
        await settle(pilot)
        types = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert types == ["CNAME", "SRV"]
        assert "leave the MX records alone" in shown(
            app.screen.query_one("#dns-instructions", Static)
        )


def nested_spf_zone() -> str:
    """acme.example's SPF needs 11 lookups through a chain of nested includes."""
    lines = ['@ IN TXT "v=spf1 include:s1.acme.example -all"']
    for i in range(1, 11):
        lines.append(f's{i} IN TXT "v=spf1 ip4:192.0.2.{i} include:s{i + 1}.acme.example -all"')
    lines.append('s11 IN TXT "v=spf1 ip4:192.0.2.11 -all"')
    return "\n".join(lines) + "\n"


async def test_step13_2_flags_too_many_lookups_and_offers_the_merged_record(
    store: SessionStore, knot_factory
) -> None:
    dns = knot_factory(
        {
            DOMAIN: nested_spf_zone(),
            "hosted.example.net": 'spf IN TXT "v=spf1 ip4:198.51.100.0/24 -all"\n',
        }
    )
    store.set_setting("dns.resolvers", [dns.address])

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("13.2")
        await settle(pilot)
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        screen = app.screen
        assert "include:s1.acme.example" in shown(screen.query_one("#spf-records", Static))
        assert "11 of 10" in shown(screen.query_one("#spf-count", Static))
        findings = shown(screen.query_one("#spf-findings", Static))
        assert "ERROR" in findings and "11 DNS lookups" in findings
        assert "lacks the provider's include:spf.hosted.example.net" in findings
        recommended = shown(screen.query_one("#spf-recommended", Static)).strip()
        assert recommended == "v=spf1 include:s1.acme.example include:spf.hosted.example.net -all"

        await pilot.click("#spf-copy")
        await settle(pilot)
        assert app.clipboard == recommended
        assert "Copied to the clipboard" in shown(screen.query_one("#spf-copied", Static))
        saved = store.latest_evidence("13.2", "dns.spf")
        assert saved is not None and saved.data["lookup_count"] == 11


async def test_step12_poller_belongs_to_the_app_and_the_keys_steer_it(
    store: SessionStore, knot_factory
) -> None:
    auth = knot_factory({DOMAIN: OLD_MX})
    resolver = knot_factory({DOMAIN: OLD_MX})
    store.set_setting("dns.resolvers", [resolver.address])
    store.set_setting("dns.authoritative", [auth.address])

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("12")
        await settle(pilot)
        body = app.screen.query_one(PropagationBody)
        assert "press w" in shown(app.screen.query_one("#prop-summary", Static))
        assert "Change time unknown" in shown(app.screen.query_one("#prop-since", Static))
        app.screen.query_one("#prop-matrix", DataTable).focus()

        await pilot.press("m")  # the customer says the change is made: recorded, watching starts
        await wait_until(pilot, lambda: body.view is not None)
        assert store.setting("dns.change_made_at")
        assert store.latest_evidence("12", "dns.change-made") is not None
        assert "recorded in step 12" in shown(app.screen.query_one("#prop-since", Static))
        poller = app.propagation

        await pilot.press("minus")  # slower: 30 s -> 60 s, kept in the session
        await settle(pilot)
        assert poller.interval == 60 and store.setting("dns.poll_seconds") == 60
        await pilot.press("p")
        await settle(pilot)
        assert poller.paused
        assert "Paused" in shown(app.screen.query_one("#prop-poll", Static))
        await pilot.press("p")
        await settle(pilot)
        assert not poller.paused

        # Elsewhere in the session the poller goes on: the change lands while on step 13.2.
        for server in (auth, resolver):
            server.set_zone(DOMAIN, NEW_MX)
        app.goto_step("13.2")
        await settle(pilot)
        assert app.propagation is poller and poller.watching
        poller.refresh_now()
        await wait_until(pilot, lambda: poller.latest is not None and poller.latest.matrix.complete)
        app.goto_step("12")
        await settle(pilot)
        assert all("agrees" in str(c) for c in state_cells(app))  # shown at once, no new round

        # The resolver list is edited in the session; a bad entry is refused.
        field = app.screen.query_one("#prop-resolvers")
        field.focus()
        field.value = ""  # type: ignore[attr-defined]
        await type_text(pilot, "nonsense")
        await pilot.press("enter")
        await settle(pilot)
        assert "Not saved" in shown(app.screen.query_one("#prop-resolvers-status", Static))
        field.value = ""  # type: ignore[attr-defined]
        await type_text(pilot, f"Lab={resolver.address}")
        await pilot.press("enter")
        await settle(pilot)
        assert store.setting("dns.resolvers") == [f"Lab={resolver.address}"]
        await wait_until(pilot, lambda: "Lab (" in str(state_rows_servers(app)))

        app.close_session()
        await settle(pilot)
        assert not poller.watching and app.propagation is not poller


def state_rows_servers(app: OnboardApp) -> list[str]:
    table = app.screen.query_one("#prop-matrix", DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_step11_shows_what_outlook_will_find(store: SessionStore, knot_factory) -> None:
    dns = knot_factory(
        {DOMAIN: NEW_MX + "autodiscover IN CNAME autodiscover.hosted.example.net.\n"}
    )
    store.set_setting("dns.resolvers", [dns.address])
    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("11")
        await settle(pilot)
        assert "Not checked yet" in shown(app.screen.query_one("#outlook-finds", Static))
        await pilot.click("#dns-check")
        await app.workers.wait_for_complete()
        await settle(pilot)
        finds = shown(app.screen.query_one("#outlook-finds", Static))
        assert f"https://autodiscover.{DOMAIN}/autodiscover/autodiscover.xml" in finds
        assert "autodiscover.hosted.example.net" in finds
        findings = shown(app.screen.query_one("#autodiscover-findings", Static))
        assert "is a CNAME for autodiscover.hosted.example.net" in findings
        assert store.latest_evidence("11", "dns.autodiscover") is not None


async def test_step12_with_filtering_expects_every_server_to_agree_on_the_filter(
    store: SessionStore, knot_factory
) -> None:
    filter_mx = "@ IN MX 10 mx.filter.example.\n"
    auth = knot_factory({DOMAIN: filter_mx})
    resolvers = [knot_factory({DOMAIN: filter_mx}), knot_factory({DOMAIN: OLD_MX})]
    store.set_setting("dns.resolvers", [r.address for r in resolvers])
    store.set_setting("dns.authoritative", [auth.address])
    store.set_setting("dns.required_share", 0.5)
    store.set_step_state("8", StepState.DONE)

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("12")
        await settle(pilot)
        body = app.screen.query_one(PropagationBody)
        await wait_until(pilot, lambda: body.view is not None)
        assert not body.view.complete  # type: ignore[union-attr]  # plain: provider MX expected
        assert "mx1.hosted.example.net" in shown(app.screen.query_one("#prop-expected", Static))

        await pilot.press("ctrl+t")  # filtering variant: MX stays on the filter
        await wait_until(pilot, lambda: body.view is not None and body.view.complete)
        expected = shown(app.screen.query_one("#prop-expected", Static))
        assert "MX of acme.example = mx.filter.example" in expected
        assert "at least 1 of 2 resolvers (50%)" in expected
        states = [str(c) for c in state_cells(app)]
        assert states[:2] == ["✔ agrees", "✔ agrees"] and "differs" in states[2]


async def test_step12_shows_a_silent_resolver_as_a_timeout_not_a_wrong_record(
    store: SessionStore, knot_factory, silent_dns
) -> None:
    auth = knot_factory({DOMAIN: NEW_MX})
    store.set_setting("dns.resolvers", [auth.address, f"Silent={silent_dns.address}"])
    store.set_setting("dns.authoritative", [auth.address])
    store.set_setting("dns.required_share", 0.5)
    store.set_step_state("8", StepState.DONE)

    app = OnboardApp(store=store)
    async with app.run_test(size=SIZE) as pilot:
        app.goto_step("12")
        await settle(pilot)
        body = app.screen.query_one(PropagationBody)
        await wait_until(pilot, lambda: body.view is not None)
        assert body.view.complete  # type: ignore[union-attr]  # half the resolvers is enough here
        table = app.screen.query_one("#prop-matrix", DataTable)
        silent = table.get_row_at(2)
        assert str(silent[0]).startswith("Silent (") and str(silent[2]) == "✖ timeout"
        assert "red" in str(silent[2].style)  # type: ignore[union-attr]
        findings = shown(app.screen.query_one("#prop-findings", Static))
        assert "timeout" in findings and "not a wrong record" in findings
