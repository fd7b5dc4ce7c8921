"""The customer's folder tree on the target, made before any message is copied.

Every included folder is created, empty ones too, and subscribed or not as on the source; a
special folder the source has subscribed keeps the target's own state (Exchange has no
subscriptions: its target says yes and does nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .mailbox_run import MailboxRun


def make_tree(run: MailboxRun) -> None:
    """Create ``run``'s planned folders on its target, with the source's subscriptions."""
    assert run.target is not None
    for work in run.works:
        if run.stopped():
            return
        if not work.plan.subscribed:  # said first, an IMAP target makes it unsubscribed
            run.target.set_subscribed(run.target.layout().key(work.plan.target_path), False)
        key = run.retried_step(
            f"creating the target folder {work.plan.target!r}",
            lambda work=work: run.ensure_folder(work),  # type: ignore[misc]
            "target",
        )
        if work.plan.role is not None and work.plan.subscribed:
            continue
        if not run.target.set_subscribed(key, work.plan.subscribed):
            state = "subscribed" if work.plan.subscribed else "unsubscribed"
            run.log(f"target folder {key!r} could not be {state} as on the source", "warning")


__all__ = ["make_tree"]
