"""Local-data step: contacts, calendars and local mail moved by the users, ticked per mailbox.

Each mailbox is the checklist item "mailbox:<target address>". Records no evidence of its own.
"""

from __future__ import annotations

from ..playbook import Kind
from ..session_records import Mailbox
from .base import StepController

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
