"""Local-data step: contacts, calendars and local mail moved by the users, ticked per mailbox.

Each mailbox is the checklist item "mailbox:<target address>". Records no evidence of its own.
Every mailbox confirmed proves "done" (users confirmed their data is moved); that users were told
how is the operator's to tick.
"""

from __future__ import annotations

from ..playbook import Kind
from ..session_records import Mailbox
from .base import Proof, StepController

GUIDE = (
    "IMAP carries mail only. For each user with contacts, calendars or mail kept on their own "
    "computer: in the old client, export them to a PST file (Outlook: File > Open & Export > "
    "Import/Export > Export to a file); then, in Outlook connected to the new account, import "
    "that PST into the new mailbox. Phones that kept contacts only on the device sync them "
    "once they are added to the new account."
)


def mailbox_item(mailbox: Mailbox) -> str:
    return f"mailbox:{mailbox.target_address}"


class LocalDataController(StepController):
    kind = Kind.LOCAL_DATA

    def is_moved(self, mailbox: Mailbox) -> bool:
        tick = self.ticks().get(mailbox_item(mailbox))
        return bool(tick and tick.ticked)

    def set_moved(self, mailbox_id: int, moved: bool) -> None:
        mailbox = next(m for m in self.store.mailboxes() if m.id == mailbox_id)
        self.tick(mailbox_item(mailbox), moved)

    def count_text(self) -> str:
        mailboxes = self.store.mailboxes()
        done = sum(1 for m in mailboxes if self.is_moved(m))
        return f"{done} of {len(mailboxes)} mailboxes confirmed"

    def proofs(self) -> dict[str, Proof]:
        mailboxes = self.store.mailboxes()
        ticks = self.ticks()
        moved = [ticks.get(mailbox_item(m)) for m in mailboxes]
        if not mailboxes or not all(t and t.ticked for t in moved):
            return {}
        at = max(t.changed_at for t in moved if t)
        count = len(mailboxes)
        return {"done": Proof(f"{count} of {count} mailboxes confirmed their data is moved", at)}

    def ticked_rules(self, item_id: str, ticked: bool) -> None:
        if item_id.startswith("mailbox:") and ticked:
            self.tick_proven()  # the last mailbox confirmed: the users' confirmation is complete

    def work_result(self) -> str:
        proof = self.proofs().get("done")
        return f"{proof.what}." if proof else ""
