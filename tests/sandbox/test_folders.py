"""Folders on the EWS stand-in, through the real exchangelib client."""

from __future__ import annotations

import pytest
from exchangelib import Folder
from exchangelib.errors import ErrorFolderExists
from exchangelib.folders import DeletedItems, Drafts, Inbox, JunkEmail, SentItems

from tests.servers.ews import USER, sandbox_account
from wizard.devservers.ews import EwsSandbox


def test_distinguished_folders_are_the_mailbox_own(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    assert isinstance(account.inbox, Inbox)
    assert account.inbox.name == "Inbox"
    assert isinstance(account.sent, SentItems) and account.sent.name == "Sent Items"
    assert isinstance(account.drafts, Drafts) and account.drafts.name == "Drafts"
    assert isinstance(account.trash, DeletedItems) and account.trash.name == "Deleted Items"
    assert isinstance(account.junk, JunkEmail) and account.junk.name == "Junk Email"
    assert account.msg_folder_root.name == "Top of Information Store"
    top = {f.name for f in account.msg_folder_root.children}
    assert {"Inbox", "Sent Items", "Drafts", "Deleted Items", "Junk Email", "Archive"} <= top
    # The client asked only for what it needed: no version or auth probing.
    assert {r.status for r in ews_sandbox.requests} == {200}
    assert all(r.login == USER for r in ews_sandbox.requests)


def test_nested_and_non_ascii_folders_are_created_once(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    parent = Folder(parent=account.msg_folder_root, name="Kunden")
    parent.save()
    child = Folder(parent=parent, name="Müller & Söhne")
    child.save()
    grandchild = Folder(parent=child, name="日本語 ✉")
    grandchild.save()

    mailbox = ews_sandbox.mailbox(USER)
    assert "Kunden/Müller & Söhne/日本語 ✉" in mailbox.folder_paths()
    with pytest.raises(ErrorFolderExists):
        Folder(parent=parent, name="müller & söhne").save()

    # A fresh client sees the same tree (deep FindFolder from the root).
    fresh = sandbox_account(ews_sandbox)
    names = {f.absolute for f in fresh.msg_folder_root.walk()}
    assert any(n.endswith("/Kunden/Müller & Söhne/日本語 ✉") for n in names)
    found = fresh.msg_folder_root / "Kunden" / "Müller & Söhne"
    assert found.id == child.id
    assert found.child_folder_count == 1


def test_shallow_find_lists_direct_children_only(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    a = Folder(parent=account.inbox, name="A")
    a.save()
    Folder(parent=a, name="B").save()
    assert [f.name for f in account.inbox.children] == ["A"]
    account.inbox.refresh()
    assert account.inbox.child_folder_count == 1
