"""Mailbox size and quota as a client reads them (folder MAPI properties), and a full mailbox."""

from __future__ import annotations

import contextlib

import pytest
from exchangelib import ExtendedProperty, Folder, Message
from exchangelib.errors import ErrorQuotaExceeded

from tests.sandbox.mime import make_message
from tests.servers.ews import sandbox_account
from wizard.devservers.ews import EwsSandbox


class FolderSize(ExtendedProperty):
    property_tag = 0x0E08
    property_type = "Long"


class ProhibitSendQuota(ExtendedProperty):
    property_tag = 0x666E
    property_type = "Integer"


def setup_module() -> None:
    with contextlib.suppress(ValueError):
        Folder.register("t_size", FolderSize)
    with contextlib.suppress(ValueError):
        Folder.register("t_send_quota", ProhibitSendQuota)


def teardown_module() -> None:
    for name in ("t_size", "t_send_quota"):
        with contextlib.suppress(ValueError):
            Folder.deregister(name)


def test_folder_size_and_quota_are_readable(ews_sandbox: EwsSandbox) -> None:
    ews_sandbox.add_mailbox("full@example.test", "pw-f", quota_bytes=30_000)
    account = sandbox_account(ews_sandbox, "full@example.test", "pw-f")
    raws = [make_message(n, size=9_000) for n in range(4)]
    results = account.bulk_create(
        folder=account.inbox, items=[Message(account=account, mime_content=r) for r in raws[:3]]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    fresh = sandbox_account(ews_sandbox, "full@example.test", "pw-f")
    folders = {f.name: f for f in fresh.msg_folder_root.walk()}
    assert folders["Inbox"].t_size == sum(len(r) for r in raws[:3])
    root = fresh.msg_folder_root
    root.refresh()
    assert root.t_send_quota == 30_000 // 1024
    # The fourth message does not fit any more: refused per item, as Exchange does.
    with pytest.raises(ErrorQuotaExceeded):
        account.bulk_create(
            folder=account.inbox, items=[Message(account=account, mime_content=raws[3])]
        )
    assert len(ews_sandbox.mailbox("full@example.test").items_in("Inbox")) == 3
