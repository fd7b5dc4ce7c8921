"""Several clients at once, as the copy engine runs mailboxes side by side."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from exchangelib import Message

from tests.sandbox.mime import make_message
from tests.servers.ews import sandbox_account
from wizard.devservers.ews import EwsSandbox


def test_parallel_writers_lose_nothing(ews_sandbox: EwsSandbox) -> None:
    addresses = [f"user{n}@example.test" for n in range(4)]
    for address in addresses:
        ews_sandbox.add_mailbox(address)

    def write(address: str) -> list[str]:
        account = sandbox_account(ews_sandbox, address, impersonate=True, max_connections=2)
        raws = [make_message(n) for n in range(60)]
        results = account.bulk_create(
            folder=account.inbox,
            items=[Message(account=account, mime_content=r, is_read=True) for r in raws],
            chunk_size=10,
        )
        assert not [r for r in results if isinstance(r, Exception)]
        return [r.id for r in results]

    with ThreadPoolExecutor(4) as pool:
        ids = list(pool.map(write, addresses))
    assert len({i for batch in ids for i in batch}) == 240
    for address in addresses:
        assert len(ews_sandbox.mailbox(address).items_in("Inbox")) == 60
    assert ews_sandbox.errors == []
