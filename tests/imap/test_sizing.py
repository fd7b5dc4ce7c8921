"""Sizing a real Dovecot mailbox: STATUS=SIZE and the RFC822.SIZE fallback agree with the server,
and neither changes anything on the source."""

from __future__ import annotations

import pytest

from tests.servers.dovecot import Account, DovecotServer, SeedMessage, make_message
from wizard.imap import close, connect, list_folders
from wizard.imap.sizing import (
    FETCH_SIZES,
    STATUS_SIZE,
    folder_size,
    size_mailbox,
    supports_status_size,
)

from .conftest import settings_for

SEEDED = {
    "INBOX": [SeedMessage(make_message(n, size=300 * n), flags=("\\Seen",) if n % 2 else ()) for n in range(1, 8)],
    "Sent": [SeedMessage(make_message(20 + n, size=5000), flags=("\\Seen", "\\Answered")) for n in range(3)],
    "Projects/2024/Q1": [SeedMessage(make_message(40, size=70_000), flags=("\\Flagged",))],
    "Kunden/Müller & Söhne": [SeedMessage(make_message(41, subject="Grüße"))],
}  # fmt: skip


@pytest.fixture
def mailbox(dovecot: DovecotServer) -> Account:
    user = dovecot.add_user(tree=True)
    for folder, messages in SEEDED.items():
        dovecot.seed(user.login, folder, messages)
    return user


def snapshot(server: DovecotServer, user: Account) -> dict[str, object]:
    """Everything a read-only run must leave as it was: per folder UIDs, flags, counts."""
    state: dict[str, object] = {}
    for name in server.folders(user.login):
        status = server.status(user.login, name)
        messages = server.read(user.login, name)
        state[name] = (status, [(m.uid, m.flags, m.size) for m in messages])
    return state


@pytest.mark.parametrize("use_status_size", [True, False], ids=["status-size", "fetch-fallback"])
def test_sizes_equal_what_dovecot_reports_and_the_source_is_untouched(
    dovecot: DovecotServer, mailbox: Account, use_status_size: bool
) -> None:
    before = snapshot(dovecot, mailbox)
    client = connect(settings_for(dovecot), mailbox.login, mailbox.password)
    try:
        assert supports_status_size(client)  # Dovecot 2.3 advertises STATUS=SIZE
        sized = size_mailbox(client, use_status_size=use_status_size, batch=2)
    finally:
        close(client)
    assert sized.method == (STATUS_SIZE if use_status_size else FETCH_SIZES)
    by_name = {f.name: f for f in sized.folders}
    assert set(by_name) == set(dovecot.folders(mailbox.login))
    for name in by_name:
        reported = dovecot.status(mailbox.login, name)
        assert (by_name[name].messages, by_name[name].bytes) == (
            reported["messages"],
            reported["size"],
        ), name
    assert by_name["INBOX"].messages == 7
    assert by_name["Projects/2024/Q1"].bytes > 70_000
    assert by_name["Trash"].messages == 0 and by_name["Trash"].bytes == 0
    assert sized.messages == sum(len(v) for v in SEEDED.values())
    assert sized.bytes == sum(dovecot.status(mailbox.login, n)["size"] for n in by_name)
    assert snapshot(dovecot, mailbox) == before


def test_both_paths_agree_folder_by_folder(dovecot: DovecotServer, mailbox: Account) -> None:
    client = connect(settings_for(dovecot), mailbox.login, mailbox.password)
    try:
        for folder in list_folders(client):
            fast = folder_size(client, folder.name, use_status_size=True)
            slow = folder_size(client, folder.name, use_status_size=False, batch=3)
            assert (fast.messages, fast.bytes) == (slow.messages, slow.bytes), folder.name
    finally:
        close(client)
