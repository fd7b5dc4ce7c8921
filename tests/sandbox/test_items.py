"""Messages written from MIME with extended MAPI properties and read back, with exchangelib."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

from exchangelib import EWSDateTime, ExtendedProperty, Folder, Message

from tests.sandbox.mime import make_message
from tests.servers.ews import USER, sandbox_account
from wizard.devservers.ews import EwsSandbox


class MessageFlags(ExtendedProperty):
    property_tag = 0x0E07
    property_type = "Integer"


class DeliveryTime(ExtendedProperty):
    property_tag = 0x0E06
    property_type = "SystemTime"


class SubmitTime(ExtendedProperty):
    property_tag = 0x0039
    property_type = "SystemTime"


class FlagStatus(ExtendedProperty):
    property_tag = 0x1090
    property_type = "Integer"


_PROPS = {
    "t_message_flags": MessageFlags,
    "t_delivery_time": DeliveryTime,
    "t_submit_time": SubmitTime,
    "t_flag_status": FlagStatus,
}


def setup_module() -> None:
    for name, cls in _PROPS.items():
        with contextlib.suppress(ValueError):
            Message.register(name, cls)


def teardown_module() -> None:
    for name in _PROPS:
        with contextlib.suppress(ValueError):
            Message.deregister(name)


def _when(n: int) -> EWSDateTime:
    base = datetime(2023, 5, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=7 * n)
    return EWSDateTime.from_datetime(base)


def test_500_messages_round_trip_byte_for_byte_with_properties(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    folder = Folder(parent=account.msg_folder_root, name="Import 2023")
    folder.save()
    raws = [make_message(n, size=2000 + 37 * n) for n in range(500)]
    items = []
    for n, raw in enumerate(raws):
        seen, flagged, draft = n % 2 == 0, n % 5 == 0, n % 50 == 7
        item = Message(account=account, folder=folder, mime_content=raw, is_read=seen)
        item.t_message_flags = (1 if seen else 0) | (8 if draft else 0)
        item.t_delivery_time = _when(n)
        item.t_submit_time = _when(n) - timedelta(minutes=1)
        if flagged:
            item.t_flag_status = 2
        items.append(item)
    results = account.bulk_create(folder=folder, items=items, chunk_size=100)
    assert not [r for r in results if isinstance(r, Exception)]
    ids = [r.id for r in results]
    assert len(set(ids)) == 500

    folder.refresh()
    assert folder.total_count == 500
    fetched = list(
        account.fetch(
            ids=[(r.id, r.changekey) for r in results],
            only_fields=[
                "mime_content",
                "is_read",
                "is_draft",
                "datetime_received",
                "datetime_sent",
                "message_id",
                *_PROPS,
            ],
        )
    )
    for n, (raw, got) in enumerate(zip(raws, fetched, strict=True)):
        assert got.mime_content == raw, n
        assert got.is_read is (n % 2 == 0)
        assert got.is_draft is (n % 50 == 7)
        assert got.datetime_received == _when(n)
        assert got.datetime_sent == _when(n) - timedelta(minutes=1)
        assert got.t_flag_status == (2 if n % 5 == 0 else None)
        assert got.message_id == raw.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()

    # The stand-in kept exactly what was sent, for tests that inspect it directly.
    stored = ews_sandbox.mailbox(USER).items_in("Import 2023")
    assert [i.mime for i in stored] == raws
    assert sum(1 for i in stored if i.flag_status == 2) == 100


def test_message_without_flags_is_a_draft_as_on_exchange(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    raw = make_message(1)
    Message(account=account, folder=account.inbox, mime_content=raw).save()
    (item,) = account.inbox.all().only("is_draft", "is_read", "mime_content")
    assert item.is_draft is True and item.is_read is False
    assert item.mime_content == raw


def test_find_by_message_id_and_paging(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    raws = [make_message(n) for n in range(250)]
    account.bulk_create(
        folder=account.inbox,
        items=[Message(account=account, mime_content=r, is_read=True) for r in raws],
    )
    wanted = raws[123].split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()
    hits = list(account.inbox.filter(message_id=wanted).only("mime_content"))
    assert [h.mime_content for h in hits] == [raws[123]]
    assert account.inbox.filter(message_id="<nobody@nowhere>").count() == 0
    # exchangelib pages through FindItem (100 per page): all 250, in order, none twice.
    ids = list(account.inbox.all().values_list("message_id", flat=True))
    assert len(ids) == 250 and len(set(ids)) == 250
    assert account.inbox.all().count() == 250
    newest_first = list(
        account.inbox.all().order_by("-datetime_received").values_list("id", flat=True)[:3]
    )
    assert len(newest_first) == 3


def test_read_state_update_and_delete(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    item = Message(account=account, folder=account.inbox, mime_content=make_message(3))
    item.save()
    item.is_read = True
    item.save(update_fields=["is_read"])
    assert ews_sandbox.mailbox(USER).items_in("Inbox")[0].is_read
    item.delete()
    assert ews_sandbox.mailbox(USER).items_in("Inbox") == []


def test_find_many_message_ids_at_once(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    raws = [make_message(n) for n in range(30)]
    account.bulk_create(
        folder=account.inbox, items=[Message(account=account, mime_content=r) for r in raws]
    )
    ids = [r.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode() for r in raws]
    wanted = ids[3:9] + ["<absent@example.org>"]
    found = set(account.inbox.filter(message_id__in=wanted).values_list("message_id", flat=True))
    assert found == set(ids[3:9])
    old = account.inbox.filter(
        datetime_received__lt=EWSDateTime.from_datetime(datetime.now(UTC) - timedelta(days=1))
    )
    assert old.count() == 0


def test_message_bigger_than_libxml2_default_text_limit(ews_sandbox: EwsSandbox) -> None:
    # 12 MB of MIME is 16 MB of base64 in one XML text node: beyond libxml2's 10 MB default.
    account = sandbox_account(ews_sandbox)
    raw = make_message(1, size=12_000_000)
    (result,) = account.bulk_create(
        folder=account.inbox, items=[Message(account=account, mime_content=raw, is_read=True)]
    )
    assert not isinstance(result, Exception)
    assert ews_sandbox.mailbox(USER).items_in("Inbox")[0].mime == raw
