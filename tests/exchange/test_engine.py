"""The Exchange engine against the EWS stand-in, through the real exchangelib."""

from __future__ import annotations

import time

import pytest

from tests.servers import ews
from wizard.devservers.ews import PR_CLIENT_SUBMIT_TIME, PR_MESSAGE_DELIVERY_TIME, EwsSandbox
from wizard.events import Event, Failure, Progress
from wizard.exchange import (
    ExchangeError,
    ExchangeMailbox,
    FailureCode,
    Waiting,
    WriteLimits,
    check_mailbox,
)
from wizard.exchange.mailbox import MSGFLAG_UNSENT, plan_batches

from .conftest import delegate_settings, make_message, service_settings


def test_nested_and_non_ascii_folders_are_created_once(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox
) -> None:
    path = ("Projekte", "Größe ✓", "日本語", "2024")
    created = anna.ensure_folder(path)
    assert created.path == path
    again = anna.ensure_folder(("projekte", "GRÖSSE ✓", "日本語", "2024"))
    assert again.folder_id == created.folder_id
    paths = ews_sandbox.mailbox(ews.USER).folder_paths()
    assert "Projekte/Größe ✓/日本語/2024" in paths
    assert sum(1 for p in paths if p.lower() == "projekte") == 1

    # A fresh connection finds the existing tree instead of creating a twin.
    with ExchangeMailbox.open(delegate_settings(ews_sandbox), ews.USER, ews.PASSWORD) as other:
        assert other.ensure_folder(path).folder_id == created.folder_id
    assert ews_sandbox.mailbox(ews.USER).folder_paths() == paths


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("inbox", "Inbox"),
        ("sent", "Sent Items"),
        ("drafts", "Drafts"),
        ("trash", "Deleted Items"),
        ("junk", "Junk Email"),
        ("archive", "Archive"),
    ],
)
def test_special_use_maps_to_the_mailbox_own_folders(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox, role: str, name: str
) -> None:
    before = ews_sandbox.mailbox(ews.USER).folder_paths()
    ref = anna.ensure_folder(("Gesendete Objekte",), role=role)
    assert ref.path == (name,)
    assert ref.role == role
    assert ews_sandbox.mailbox(ews.USER).folder_paths() == before  # no look-alike created
    listed = {f.path: f.role for f in anna.folders()}
    assert listed[(name,)] == role


def test_500_messages_round_trip_with_state_and_dates(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox, events: list[Event]
) -> None:
    def flags(i: int) -> tuple[str, ...]:
        out = []
        if i % 2:
            out.append("\\Seen")
        if i % 7 == 0:
            out.append("\\Flagged")
        if i % 50 == 3:
            out.append("\\Draft")
        return tuple(out)

    messages = [make_message(i, flags=flags(i)) for i in range(500)]
    ref = anna.ensure_folder(("Archiv", "2025"))
    outcomes = anna.write(ref, messages)
    assert [o.key for o in outcomes] == list(range(500))
    assert all(o.ok and o.item_id for o in outcomes)
    assert anna.count(ref) == 500

    back = {m.message_id: m for m in anna.read_messages(ref)}
    assert len(back) == 500
    for message in messages:
        stored = back[f"<msg-{message.key}@example.org>"]
        assert stored.mime == message.raw
        assert stored.is_read == message.seen
        assert stored.flagged == message.flagged
        assert stored.is_draft == message.draft
        assert stored.received == message.internaldate
        assert stored.sent == message.internaldate - __import__("datetime").timedelta(days=1)

    # The server's own view agrees: drafts only where \Draft was set.
    items = ews_sandbox.mailbox(ews.USER).items_in("Archiv/2025")
    drafts = {i.internet_message_id for i in items if i.message_flags & MSGFLAG_UNSENT}
    assert drafts == {f"<msg-{i}@example.org>" for i in range(500) if i % 50 == 3}
    one = next(i for i in items if i.internet_message_id == "<msg-10@example.org>")
    assert one.tagged(PR_MESSAGE_DELIVERY_TIME) is not None
    assert one.tagged(PR_CLIENT_SUBMIT_TIME) is not None

    progress = [e for e in events if isinstance(e, Progress)]
    assert progress[-1].done == progress[-1].total == 500
    assert len(progress) >= 10  # batches of at most 50


def test_batches_are_sized_by_bytes_and_count() -> None:
    limits = WriteLimits(max_message_bytes=200_000, batch_bytes=100_000, batch_count=4)
    small = [make_message(i) for i in range(6)]
    big = [make_message(10 + i, size=60_000) for i in range(3)]
    huge = make_message(99, size=250_000)
    batches, skipped = plan_batches([*small, huge, *big], limits)
    assert [len(b) for b in batches] == [4, 3, 1, 1]
    assert all(sum(len(m.raw) for m in b) <= 100_000 or len(b) == 1 for b in batches)
    assert [s.key for s in skipped] == [99]
    assert "above the 195.3 KiB" in skipped[0].reason and skipped[0].skipped


def test_oversize_message_is_skipped_with_reason_and_the_rest_written(
    ews_sandbox: EwsSandbox, open_anna, events: list[Event]
) -> None:
    mailbox = open_anna(ews_sandbox, limits=WriteLimits(max_message_bytes=50_000))
    ref = mailbox.special_folder("inbox")
    messages = [make_message(0), make_message(1, size=80_000), make_message(2)]
    outcomes = mailbox.write(ref, messages)
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].skipped
    assert "is above the 48.8 KiB Exchange accepts" in outcomes[1].reason
    assert len(ews_sandbox.mailbox(ews.USER).items_in("Inbox")) == 2
    assert any(isinstance(e, Failure) and e.detail.get("key") == 1 for e in events)


def test_server_refusing_size_is_reported_as_skipped(ews_sandbox_factory, open_anna) -> None:
    sandbox = ews_sandbox_factory(max_message_bytes=40_000)
    mailbox = open_anna(sandbox)
    outcomes = mailbox.write(
        mailbox.special_folder("inbox"), [make_message(0, size=60_000), make_message(1)]
    )
    assert outcomes[0].skipped and outcomes[0].code == "ErrorMessageSizeExceeded"
    assert outcomes[1].ok


def test_per_item_error_is_reported_for_that_item_only(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox, events: list[Event]
) -> None:
    ews_sandbox.faults.item_error(
        "ErrorCorruptData", predicate=lambda item: item.message_id == "<msg-3@example.org>"
    )
    ref = anna.ensure_folder(("Fehler",))
    outcomes = anna.write(ref, [make_message(i) for i in range(6)])
    assert [o.ok for o in outcomes] == [True, True, True, False, True, True]
    assert outcomes[3].code == "ErrorCorruptData"
    assert "ErrorCorruptData" in outcomes[3].reason
    stored = sorted(i.internet_message_id for i in ews_sandbox.mailbox(ews.USER).items_in("Fehler"))
    assert stored == [f"<msg-{i}@example.org>" for i in (0, 1, 2, 4, 5)]
    failures = [e for e in events if isinstance(e, Failure)]
    assert [f.detail["key"] for f in failures] == [3]


def test_server_busy_back_off_is_obeyed_and_nothing_lost(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox, events: list[Event]
) -> None:
    slept: list[float] = []
    anna.sleep = slept.append
    anna.limits = WriteLimits(batch_count=10)
    ews_sandbox.faults.server_busy(750, operation="CreateItem", times=2, after=1)
    ref = anna.ensure_folder(("Gedrosselt",))
    outcomes = anna.write(ref, [make_message(i) for i in range(30)])
    assert all(o.ok for o in outcomes)
    assert slept == [0.75, 0.75]
    waits = [e for e in events if isinstance(e, Waiting)]
    assert [w.seconds for w in waits] == [0.75, 0.75]
    assert "busy" in waits[0].reason
    ids = [i.internet_message_id for i in ews_sandbox.mailbox(ews.USER).items_in("Gedrosselt")]
    assert sorted(ids) == sorted(f"<msg-{i}@example.org>" for i in range(30))
    assert len([f for f in ews_sandbox.faults.fired if f.kind == "busy"]) == 2


def test_http_503_is_waited_out_with_retry_after(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox
) -> None:
    slept: list[float] = []
    anna.sleep = slept.append
    ews_sandbox.faults.http_error(503, operation="CreateItem", times=2, retry_after=2)
    outcomes = anna.write(anna.special_folder("inbox"), [make_message(i) for i in range(5)])
    assert all(o.ok for o in outcomes)
    assert slept == [2.0, 2.0]
    assert len(ews_sandbox.mailbox(ews.USER).items_in("Inbox")) == 5


def test_dropped_connection_is_retried_without_duplicates(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox, events: list[Event]
) -> None:
    anna.sleep = lambda _s: None
    ews_sandbox.faults.drop_connection(operation="CreateItem", times=1)
    outcomes = anna.write(anna.special_folder("inbox"), [make_message(i) for i in range(8)])
    assert all(o.ok for o in outcomes)
    ids = [i.internet_message_id for i in ews_sandbox.mailbox(ews.USER).items_in("Inbox")]
    assert sorted(ids) == sorted(f"<msg-{i}@example.org>" for i in range(8))
    assert any(isinstance(e, Waiting) and "dropped" in e.reason for e in events)


def test_endless_throttling_gives_up_with_a_classified_failure(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox
) -> None:
    anna.sleep = lambda _s: None
    anna.limits = WriteLimits(max_wait=5.0)
    ews_sandbox.faults.server_busy(2000, operation="CreateItem", times=None)
    with pytest.raises(ExchangeError) as caught:
        anna.write(anna.special_folder("inbox"), [make_message(0)])
    assert caught.value.failure.code is FailureCode.THROTTLED


def test_find_by_message_id_and_count(anna: ExchangeMailbox) -> None:
    ref = anna.ensure_folder(("Suche",))
    anna.write(ref, [make_message(i) for i in range(4)])
    found = anna.find_by_message_id(ref, ["<msg-2@example.org>", "<nope@example.org>"])
    assert len(found["<msg-2@example.org>"]) == 1
    assert found["<nope@example.org>"] == []
    assert anna.count(ref) == 4
    assert anna.count(anna.special_folder("inbox")) == 0


def test_check_mailbox_exists_lists_folders_with_counts(ews_sandbox: EwsSandbox) -> None:
    settings = service_settings(ews_sandbox)
    with ExchangeMailbox.open(settings, ews.USER, ews.SERVICE_PASSWORD) as mailbox:
        mailbox.write(mailbox.ensure_folder(("Kunden", "Müller")), [make_message(1)])
    result = check_mailbox(settings, ews.USER, ews.SERVICE_PASSWORD)
    assert result.state == "exists"
    counts = {f.path: f.total for f in result.folders}
    assert counts[("Kunden", "Müller")] == 1
    assert counts[("Inbox",)] == 0
    assert result.as_dict()["message_count"] == 1
    # Size and quota come from the folders' MAPI properties where the server gives them.
    written = len(make_message(1).raw)
    sizes = {f.path: f.size_bytes for f in result.folders}
    assert sizes[("Kunden", "Müller")] == written
    assert result.size_bytes == written
    assert result.quota_bytes is None  # no quota set on this mailbox

    ews_sandbox.mailbox(ews.USER).quota_bytes = 2 * 1024 * 1024 * 1024
    limited = check_mailbox(settings, ews.USER, ews.SERVICE_PASSWORD)
    assert limited.quota_bytes == 2 * 1024 * 1024 * 1024


def test_missing_mailbox_and_refusals_are_classified(ews_sandbox: EwsSandbox) -> None:
    missing = check_mailbox(
        service_settings(ews_sandbox), "nobody@example.test", ews.SERVICE_PASSWORD
    )
    assert missing.state == "missing"
    assert missing.failure and missing.failure.code is FailureCode.MAILBOX_MISSING
    assert "nobody@example.test" in missing.failure.message

    wrong = check_mailbox(delegate_settings(ews_sandbox), ews.USER, "wrong-password")
    assert wrong.state == "error"
    assert wrong.failure and wrong.failure.code is FailureCode.AUTH_REJECTED

    ews_sandbox.add_service_account("helpdesk@example.test", "pw-helpdesk", impersonate=False)
    denied = check_mailbox(
        service_settings(ews_sandbox, "helpdesk@example.test"), ews.USER, "pw-helpdesk"
    )
    assert denied.state == "error"
    assert denied.failure and denied.failure.code is FailureCode.IMPERSONATION_DENIED
    assert "ApplicationImpersonation" in denied.failure.message


def test_unreachable_server_is_classified() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from wizard.exchange import Access, AuthType, ExchangeSettings

    settings = ExchangeSettings(
        f"http://127.0.0.1:{port}/EWS/Exchange.asmx", auth=AuthType.BASIC, access=Access.DELEGATE
    )
    result = check_mailbox(settings, ews.USER, ews.PASSWORD)
    assert result.failure and result.failure.code is FailureCode.CONNECTION_REFUSED
    assert result.failure.unreachable


def test_pinned_certificate_is_accepted_and_a_mismatch_refused(ews_sandbox_factory) -> None:
    sandbox = ews_sandbox_factory(tls=True)
    good = check_mailbox(delegate_settings(sandbox), ews.USER, ews.PASSWORD)
    assert good.state == "exists"

    wrong_pin = "ab" * 32
    settings = delegate_settings(sandbox).with_pin(wrong_pin)
    refused = check_mailbox(settings, ews.USER, ews.PASSWORD)
    assert refused.failure and refused.failure.code is FailureCode.CERTIFICATE_MISMATCH
    assert refused.failure.fingerprint == sandbox.fingerprint
    # Skipping the pre-check, exchangelib's own connection still refuses the wrong certificate.
    with pytest.raises(ExchangeError) as caught:
        ExchangeMailbox.open(settings, ews.USER, ews.PASSWORD, check=False)
    assert caught.value.failure.code is FailureCode.CERTIFICATE_MISMATCH
    assert caught.value.failure.fingerprint == sandbox.fingerprint

    unpinned = check_mailbox(delegate_settings(sandbox).with_pin(""), ews.USER, ews.PASSWORD)
    assert unpinned.failure and unpinned.failure.code is FailureCode.CERTIFICATE_UNTRUSTED
    assert unpinned.failure.fingerprint == sandbox.fingerprint


def test_a_batch_saved_before_the_link_dropped_is_not_written_twice(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox, events: list[Event]
) -> None:
    anna.sleep = lambda _s: None
    ref = anna.ensure_folder(("Abgebrochen",))
    ews_sandbox.faults.drop_connection(operation="CreateItem", times=1, after_processing=True)
    outcomes = anna.write(ref, [make_message(i) for i in range(5)])
    items = ews_sandbox.mailbox(ews.USER).items_in("Abgebrochen")
    assert sorted(i.internet_message_id for i in items) == [
        f"<msg-{i}@example.org>" for i in range(5)
    ]
    assert sorted(o.item_id for o in outcomes) == sorted(i.item_id for i in items)
    assert any(isinstance(e, Waiting) and "dropped" in e.reason for e in events)


def test_a_batch_exchange_answers_late_is_looked_for_again_not_written_twice(
    ews_sandbox: EwsSandbox, events: list[Event]
) -> None:
    settings = delegate_settings(ews_sandbox, timeout=1.0)
    with ExchangeMailbox.open(settings, ews.USER, ews.PASSWORD, sink=events.append) as mailbox:
        mailbox.landing_seconds = 2.0
        ref = mailbox.ensure_folder(("Langsam",))
        # Stored 2 s after it was sent: the client gives up after 1 s, the batch lands later.
        ews_sandbox.faults.slow(2.0, operation="CreateItem", times=1)
        outcomes = mailbox.write(ref, [make_message(i) for i in range(5)])
        assert all(o.ok and o.item_id for o in outcomes)
    time.sleep(2.5)  # anything sent twice would have landed by now
    items = ews_sandbox.mailbox(ews.USER).items_in("Langsam")
    assert sorted(i.internet_message_id for i in items) == [
        f"<msg-{i}@example.org>" for i in range(5)
    ]
    assert sorted(o.item_id for o in outcomes) == sorted(i.item_id for i in items)
    reasons = [e.reason for e in events if isinstance(e, Waiting)]
    assert any("did not answer in time" in r for r in reasons), reasons


def test_a_server_that_takes_the_request_but_never_answers_reads_as_a_timeout(
    ews_sandbox: EwsSandbox,
) -> None:
    ews_sandbox.faults.slow(3.0, times=None)
    try:
        checked = check_mailbox(delegate_settings(ews_sandbox, timeout=1.0), ews.USER, ews.PASSWORD)
    finally:
        ews_sandbox.faults.clear()
    assert checked.state == "error" and checked.failure is not None
    assert checked.failure.code is FailureCode.TIMEOUT
    assert "did not answer within 1 s" in checked.failure.message, checked.failure.message


def test_ntlm_service_account_impersonates(ews_sandbox: EwsSandbox) -> None:
    from wizard.exchange import Access, AuthType, ExchangeSettings

    ews_sandbox.add_service_account("SANDBOX\\svc-ntlm", "pw-ntlm")
    settings = ExchangeSettings(
        ews_sandbox.url,
        auth=AuthType.NTLM,
        access=Access.IMPERSONATION,
        service_account="SANDBOX\\svc-ntlm",
    )
    assert check_mailbox(settings, ews.USER, "pw-ntlm").state == "exists"
    refused = check_mailbox(settings, ews.USER, "wrong")
    assert refused.failure and refused.failure.code is FailureCode.AUTH_REJECTED


def test_a_folder_created_before_the_link_dropped_is_found_not_created_twice(
    anna: ExchangeMailbox, ews_sandbox: EwsSandbox
) -> None:
    anna.sleep = lambda _s: None
    ews_sandbox.faults.drop_connection(operation="CreateFolder", times=1, after_processing=True)
    # The drop hits the first CreateFolder (Kunden), carried out before the link went.
    ref = anna.ensure_folder(("Kunden", "Müller"))
    paths = [p for p in ews_sandbox.mailbox(ews.USER).folder_paths() if "Kunden" in p]
    assert sorted(paths) == ["Kunden", "Kunden/Müller"], paths
    assert ref == anna.ensure_folder(("kunden", "müller"))
