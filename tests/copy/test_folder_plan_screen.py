"""Step 9 on screen: the folder plan with the reason for each folder, and a role changed there."""

from __future__ import annotations

from collections.abc import Sequence

from wizard.copy.connect import source_factory, target_factory
from wizard.copy.engine import MailboxJob
from wizard.copy.folder_map import PlanOptions
from wizard.copy.service import CopyService
from wizard.copy.session_jobs import plan_options
from wizard.endpoint import parse_endpoint

from ..ui.pilot_helpers import wait_until
from .corpus import populate
from .test_copy_screen import copy_app, store  # noqa: F401 - the store fixture


def _service(store, dovecots, users) -> CopyService:  # type: ignore[no-untyped-def]  # noqa: F811
    src, dst = dovecots
    populate(src.client(users[0]))
    address = f"{users[1]}@screen.example"
    store.add_mailboxes([(users[0], address, "")])

    def build(_wanted: Sequence[str]) -> list[MailboxJob]:
        return [
            MailboxJob(
                mailbox=address,
                source=source_factory(parse_endpoint(src.url(users[0])), src.password),
                target=target_factory(parse_endpoint(dst.url(users[1])), dst.password),
                options=plan_options(store, PlanOptions()),  # the session's choices, as the app
            )
        ]

    return CopyService(store, build)


async def test_step_9_lists_the_folder_plan_and_takes_a_role(dovecots, users, store) -> None:  # noqa: F811
    from textual.widgets import Input, Tree

    service = _service(store, dovecots, users)
    store.set_current_step("9")
    app = copy_app(store, service)  # the real app on the copy step
    async with app.run_test(size=(180, 60)) as pilot:
        tree = app.screen.query_one("#plan-tree", Tree)

        def labels() -> list[str]:
            return [str(leaf.label) for node in tree.root.children for leaf in node.children]

        await pilot.press("l")
        await wait_until(pilot, lambda: len(labels()) > 3, what="folder plan")
        sent = next(label for label in labels() if label.startswith("Sent →"))
        assert (
            sent
            == "Sent → Sent Items  (special folder (SPECIAL-USE \\Sent): the target's sent folder)"
        )
        assert any(
            label.startswith("Kunden/Müller & Söhne → Kunden.Müller & Söhne") for label in labels()
        )

        app.screen.query_one("#plan-role", Input).value = "Sent=none"
        await pilot.click("#plan-set-role")
        await wait_until(
            pilot,
            lambda: any(label.startswith("Sent → Sent  (") for label in labels()),
            what="role",
        )
        assert plan_options(store, PlanOptions()).role_overrides == (("Sent", "none"),)
