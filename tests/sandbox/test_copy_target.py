"""The copy engine's Exchange target (``target_factory`` for an ``ews://`` endpoint, which writes
through wizard.exchange) against the EWS stand-in, as the copy engine drives it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.sandbox.mime import make_message
from tests.servers.ews import PASSWORD, USER, close_exchangelib
from wizard.copy.connect import target_factory
from wizard.copy.errors import Throttled
from wizard.copy.exchange_target import exchange_target_factory, settings_from_endpoint
from wizard.copy.folder_map import Role
from wizard.copy.target import OutgoingMessage, Probe
from wizard.devservers.ews import EWS_PATH, EwsSandbox
from wizard.endpoint import Endpoint, parse_endpoint
from wizard.events import ignore


def _endpoint(sandbox: EwsSandbox, **changes: str) -> Endpoint:
    scheme_tls = "tls" if sandbox.tls else "none"
    url = f"ews://{USER}@127.0.0.1:{sandbox.port}{EWS_PATH}?tls={scheme_tls}"
    endpoint = parse_endpoint(url)
    return endpoint.with_pin(changes.get("pin"))


def _target(sandbox: EwsSandbox, **changes: str):  # type: ignore[no-untyped-def]
    return target_factory(_endpoint(sandbox, **changes), PASSWORD)(ignore)


def _message(n: int, flags: tuple[str, ...] = ("\\Seen",), *, dated: bool = False):  # type: ignore[no-untyped-def]
    """Message ``n``; ``dated`` gives it an INTERNALDATE."""
    raw = make_message(n)
    message_id = raw.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()
    internaldate = datetime(2023, 3, 1, 9, 30, tzinfo=UTC) + timedelta(hours=n) if dated else None
    return OutgoingMessage(n, raw, flags, internaldate, message_id)


def test_layout_maps_roles_to_the_mailbox_own_folders(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    layout = target.layout()
    assert layout.roles[Role.INBOX] == ("Inbox",)
    assert layout.roles[Role.SENT] == ("Sent Items",)
    assert layout.roles[Role.DRAFTS] == ("Drafts",)
    assert layout.roles[Role.TRASH] == ("Deleted Items",)
    assert layout.roles[Role.JUNK] == ("Junk Email",)
    assert layout.roles[Role.ARCHIVE] == ("Archive",)
    target.close()


def test_ensure_folder_nested_unicode_and_idempotent(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Kunden", "Müller & Söhne", "日本語"))
    assert key == "Kunden/Müller & Söhne/日本語"
    assert target.ensure_folder(("Kunden", "Müller & Söhne", "日本語")) == key
    target.close()
    close_exchangelib()
    again = _target(ews_sandbox)  # a reconnect finds the folders instead of creating twins
    assert again.ensure_folder(("Kunden", "Müller & Söhne", "日本語")) == key
    paths = ews_sandbox.mailbox(USER).folder_paths()
    assert paths.count("Kunden/Müller & Söhne/日本語") == 1
    again.close()


def test_append_writes_exact_bytes_and_read_state(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Projekte",))
    messages = [_message(n, ("\\Seen",) if n % 2 else ()) for n in range(20)]
    results = target.append(key, messages)
    assert [r.ok for r in results] == [True] * 20
    assert len({r.target_id for r in results}) == 20
    stored = ews_sandbox.mailbox(USER).items_in("Projekte")
    assert [i.mime for i in stored] == [m.raw for m in messages]
    assert [i.is_read for i in stored] == [bool(n % 2) for n in range(20)]
    assert target.count(key) == 20
    assert sorted(target.message_ids(key)) == sorted(m.message_id for m in messages)
    found = target.find(key, [Probe(messages[4].message_id, messages[4].size)])
    assert found == [[results[4].target_id]]
    target.close()


def test_append_keeps_internaldate_as_received_time(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Projekte",))
    messages = [_message(n, dated=True) for n in range(3)]
    assert all(r.ok for r in target.append(key, messages))
    stored = ews_sandbox.mailbox(USER).items_in("Projekte")
    assert [i.received for i in stored] == [m.internaldate for m in messages]
    assert not any(i.is_draft for i in stored)
    target.close()


def test_set_flags_changes_read_state(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Inbox",))
    results = target.append(key, [_message(1, ())])
    assert target.set_flags(key, [(results[0].target_id, ("\\Seen",))]) == 1
    assert ews_sandbox.mailbox(USER).items_in("Inbox")[0].is_read
    target.close()


def test_a_busy_server_is_handed_to_the_copy_engine_with_its_back_off(
    ews_sandbox: EwsSandbox,
) -> None:
    """A target writes at most once per call: the copy engine's retry waits, not the target."""
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Inbox",))
    ews_sandbox.faults.server_busy(back_off_ms=400, operation="CreateItem")
    started = time.monotonic()
    with pytest.raises(Throttled) as caught:
        target.append(key, [_message(1), _message(2)])
    assert time.monotonic() - started < 0.4  # no wait of its own
    assert caught.value.retry_after == pytest.approx(0.4, abs=0.05)
    assert ews_sandbox.faults.count("busy") == 1
    assert ews_sandbox.mailbox(USER).items_in("Inbox") == []
    assert [r.ok for r in target.append(key, [_message(1), _message(2)])] == [True, True]
    assert len(ews_sandbox.mailbox(USER).items_in("Inbox")) == 2
    target.close()


def test_a_long_back_off_hands_over_to_the_copy_engine_as_throttled(
    ews_sandbox: EwsSandbox,
) -> None:
    endpoint = _endpoint(ews_sandbox)
    settings = settings_from_endpoint(endpoint)
    target = exchange_target_factory(settings, USER, PASSWORD)(ignore)
    key = target.ensure_folder(("Inbox",))
    ews_sandbox.faults.server_busy(back_off_ms=2500, operation="CreateItem")
    with pytest.raises(Throttled) as caught:
        target.append(key, [_message(1)])
    assert caught.value.retry_after == pytest.approx(2.5, abs=0.5)
    assert target.append(key, [_message(1)])[0].ok
    assert len(ews_sandbox.mailbox(USER).items_in("Inbox")) == 1
    target.close()


def test_per_item_error_is_reported_for_that_message_only(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Inbox",))
    ews_sandbox.faults.item_error(index=1)
    results = target.append(key, [_message(n) for n in range(3)])
    assert [r.ok for r in results] == [True, False, True]
    assert "Exchange refused it" in results[1].reason
    target.close()


def test_message_without_internaldate_is_not_a_draft(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Inbox",))
    target.append(key, [_message(1)])
    assert not ews_sandbox.mailbox(USER).items_in("Inbox")[0].is_draft
    target.close()


def test_draft_stays_a_draft(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Drafts",))
    target.append(key, [_message(1, ("\\Draft",), dated=True)])
    assert ews_sandbox.mailbox(USER).items_in("Drafts")[0].is_draft
    target.close()


def test_flagged_becomes_a_follow_up_flag(ews_sandbox: EwsSandbox) -> None:
    target = _target(ews_sandbox)
    key = target.ensure_folder(("Inbox",))
    target.append(key, [_message(1, ("\\Seen", "\\Flagged"), dated=True)])
    assert ews_sandbox.mailbox(USER).items_in("Inbox")[0].flag_status == 2
    target.close()


def test_pinned_https_target(ews_sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = ews_sandbox_factory(tls=True)
    target = _target(sandbox, pin=sandbox.fingerprint)
    assert target.layout().roles[Role.INBOX] == ("Inbox",)
    target.close()


def test_oversize_message_refused_by_the_server_is_reported(ews_sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = ews_sandbox_factory(max_message_bytes=20_000)
    target = target_factory(_endpoint(sandbox), PASSWORD, max_message_size=20_000)(ignore)
    assert target.layout().max_message_size == 20_000  # the plan skips bigger ones before
    key = target.ensure_folder(("Inbox",))
    big = make_message(2, size=50_000)
    results = target.append(key, [_message(1), OutgoingMessage(2, big, (), None, "<big@x>")])
    assert results[0].ok and not results[1].ok
    assert "is above the 19.5 KiB Exchange accepts" in results[1].reason
    assert len(sandbox.mailbox(USER).items_in("Inbox")) == 1
    target.close()
