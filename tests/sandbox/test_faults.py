"""Faults the stand-in injects, as the real exchangelib client meets them.

What a client must do (the Exchange engine's contract, shown here):
- exchangelib's default retry policy (FailFast) raises ErrorServerBusy with ``back_off`` in
  seconds (from BackOffMilliseconds, or Retry-After for HTTP 503): wait that long and send the
  same batch again. Nothing of a refused batch was saved.
- ``FaultTolerance(max_wait=...)`` makes exchangelib wait and retry by itself; a back-off longer
  than max_wait raises RateLimitError. Without a back-off value it waits RETRY_WAIT (10 s), doubling.
- A dropped connection raises ErrorTimeoutExpired (with one pooled connection). The batch may or
  may not have been saved: look the messages up by Message-ID before sending them again.
- exchangelib caches one Protocol (with its retry policy) per endpoint and credentials: a changed
  policy needs ``exchangelib.protocol.close_connections()`` or other credentials.
- A per-item error comes back in the item's place in ``bulk_create``'s result only for codes in
  exchangelib's ERRORS_TO_CATCH_IN_RESPONSE; other codes raise out of ``bulk_create``.
"""

from __future__ import annotations

import time

import pytest
from exchangelib import FaultTolerance, Message
from exchangelib.errors import (
    ErrorMessageSizeExceeded,
    ErrorMimeContentConversionFailed,
    ErrorQuotaExceeded,
    ErrorServerBusy,
    ErrorTimeoutExpired,
    RateLimitError,
)

from tests.sandbox.mime import make_message
from tests.servers.ews import USER, close_exchangelib, sandbox_account
from wizard.devservers.ews import EwsSandbox


def _batch(account, raws):  # type: ignore[no-untyped-def]
    return [Message(account=account, mime_content=r, is_read=True) for r in raws]


def test_server_busy_fails_fast_with_the_back_off(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.server_busy(back_off_ms=1500, operation="CreateItem")
    raws = [make_message(n) for n in range(5)]
    with pytest.raises(ErrorServerBusy) as caught:
        account.bulk_create(folder=inbox, items=_batch(account, raws))
    assert caught.value.back_off == pytest.approx(1.5)
    assert ews_sandbox.mailbox(USER).items_in("Inbox") == []  # nothing of the batch was saved
    # The client's part: wait, send the same batch again; everything arrives exactly once.
    results = account.bulk_create(folder=inbox, items=_batch(account, raws))
    assert not [r for r in results if isinstance(r, Exception)]
    assert [i.mime for i in ews_sandbox.mailbox(USER).items_in("Inbox")] == raws


def test_fault_tolerance_waits_out_the_back_off(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox, retry_policy=FaultTolerance(max_wait=5))
    inbox = account.inbox
    ews_sandbox.faults.server_busy(back_off_ms=400, operation="CreateItem", times=2)
    raws = [make_message(n) for n in range(3)]
    started = time.monotonic()
    results = account.bulk_create(folder=inbox, items=_batch(account, raws))
    assert time.monotonic() - started >= 0.8
    assert ews_sandbox.faults.count("busy") == 2
    assert len(results) == 3 and not [r for r in results if isinstance(r, Exception)]
    assert [i.mime for i in ews_sandbox.mailbox(USER).items_in("Inbox")] == raws


def test_back_off_beyond_max_wait_gives_up(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox, retry_policy=FaultTolerance(max_wait=1))
    inbox = account.inbox
    ews_sandbox.faults.server_busy(back_off_ms=60_000, operation="CreateItem")
    with pytest.raises(RateLimitError):
        account.bulk_create(folder=inbox, items=_batch(account, [make_message(1)]))


def test_http_503_with_retry_after(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.http_error(503, operation="CreateItem", retry_after=1)
    with pytest.raises(ErrorServerBusy):
        account.bulk_create(folder=inbox, items=_batch(account, [make_message(1)]))

    # exchangelib caches one Protocol per (endpoint, credentials): a new retry policy for the
    # same login only takes effect after the cache is dropped.
    close_exchangelib()
    tolerant = sandbox_account(ews_sandbox, retry_policy=FaultTolerance(max_wait=5))
    ews_sandbox.faults.http_error(503, operation="FindItem", retry_after=1)
    assert tolerant.inbox.all().count() == 0
    assert ews_sandbox.faults.count("http") == 2


def test_http_500_without_soap_is_an_error(ews_sandbox: EwsSandbox) -> None:
    from exchangelib.errors import MalformedResponseError

    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.http_error(500, operation="FindItem")
    with pytest.raises(MalformedResponseError):
        inbox.all().count()
    assert inbox.all().count() == 0  # the next request is answered normally


def test_dropped_connection_after_saving_needs_a_look_up(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.drop_connection(operation="CreateItem", after_processing=True)
    raws = [make_message(n) for n in range(4)]
    with pytest.raises(ErrorTimeoutExpired):
        account.bulk_create(folder=inbox, items=_batch(account, raws))
    # The batch was saved although the client never heard: find them before writing again.
    for raw in raws:
        message_id = raw.split(b"Message-ID: ")[1].split(b"\r\n")[0].decode()
        assert inbox.filter(message_id=message_id).count() == 1


def test_dropped_connection_before_saving(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.drop_connection(operation="CreateItem")
    with pytest.raises(ErrorTimeoutExpired):
        account.bulk_create(folder=inbox, items=_batch(account, [make_message(1)]))
    assert ews_sandbox.mailbox(USER).items_in("Inbox") == []


def test_slow_answer_hits_the_client_timeout(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.slow(0.5, operation="FindItem")
    started = time.monotonic()
    assert inbox.all().count() == 0
    assert time.monotonic() - started >= 0.5
    account.protocol.TIMEOUT = 0.2
    ews_sandbox.faults.slow(1.0, operation="FindItem")
    try:
        with pytest.raises(ErrorTimeoutExpired):
            inbox.all().count()
    finally:
        account.protocol.TIMEOUT = type(account.protocol).TIMEOUT


def test_per_item_error_is_reported_for_that_item_only(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    raws = [make_message(n) for n in range(10)]
    ews_sandbox.faults.item_error(index=3)
    ews_sandbox.faults.item_error(
        "ErrorMessageSizeExceeded", predicate=lambda item: "Nr. 7 " in item.subject
    )
    results = account.bulk_create(folder=inbox, items=_batch(account, raws))
    assert isinstance(results[3], ErrorMimeContentConversionFailed)
    assert isinstance(results[7], ErrorMessageSizeExceeded)
    assert [n for n, r in enumerate(results) if isinstance(r, Exception)] == [3, 7]
    saved = [i.mime for i in ews_sandbox.mailbox(USER).items_in("Inbox")]
    assert saved == [r for n, r in enumerate(raws) if n not in (3, 7)]


def test_per_item_error_outside_exchangelib_catch_list_raises(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.item_error("ErrorQuotaExceeded", index=2)
    with pytest.raises(ErrorQuotaExceeded):
        account.bulk_create(
            folder=inbox, items=_batch(account, [make_message(n) for n in range(5)])
        )
    # The other four were saved; the client did not get their ids.
    assert len(ews_sandbox.mailbox(USER).items_in("Inbox")) == 4


def test_oversize_message_refused_per_item(ews_sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    sandbox = ews_sandbox_factory(max_message_bytes=50_000)
    account = sandbox_account(sandbox)
    raws = [make_message(1, size=2_000), make_message(2, size=80_000), make_message(3)]
    results = account.bulk_create(folder=account.inbox, items=_batch(account, raws))
    assert isinstance(results[1], ErrorMessageSizeExceeded)
    assert [i.mime for i in sandbox.mailbox(USER).items_in("Inbox")] == [raws[0], raws[2]]


def test_request_too_large_is_refused_whole(ews_sandbox_factory) -> None:  # type: ignore[no-untyped-def]
    from exchangelib.errors import TransportError

    sandbox = ews_sandbox_factory(max_request_bytes=100_000)
    account = sandbox_account(sandbox)
    inbox = account.inbox
    with pytest.raises(TransportError):
        account.bulk_create(folder=inbox, items=_batch(account, [make_message(1, size=120_000)]))
    assert sandbox.requests[-1].status == 413


def test_nth_item_overall_fails_across_batches(ews_sandbox: EwsSandbox) -> None:
    account = sandbox_account(ews_sandbox)
    inbox = account.inbox
    ews_sandbox.faults.item_error(after=6)  # the 7th item the server sees
    results = account.bulk_create(
        folder=inbox, items=_batch(account, [make_message(n) for n in range(10)]), chunk_size=4
    )
    assert [n for n, r in enumerate(results) if isinstance(r, Exception)] == [6]
    assert ews_sandbox.faults.fired[-1].kind == "item"


def test_busy_item_inside_a_batch_with_fault_tolerance_duplicates(ews_sandbox: EwsSandbox) -> None:
    """Why a writer must not let exchangelib retry CreateItem by itself: an ErrorServerBusy in
    one item's response makes FaultTolerance send the whole batch again, so the items before it
    are saved twice and bulk_create returns more results than items."""
    account = sandbox_account(ews_sandbox, retry_policy=FaultTolerance(max_wait=5))
    account.protocol.RETRY_WAIT = 0.1  # exchangelib's wait when the server names none (10 s)
    inbox = account.inbox
    ews_sandbox.faults.item_error("ErrorServerBusy", index=2)
    raws = [make_message(n) for n in range(4)]
    results = account.bulk_create(folder=inbox, items=_batch(account, raws))
    assert len(results) == 6
    saved = [i.mime for i in ews_sandbox.mailbox(USER).items_in("Inbox")]
    assert saved == [raws[0], raws[1], raws[3], *raws]


def test_a_client_gone_mid_request_is_not_reported_as_a_server_error(
    ews_sandbox: EwsSandbox, capfd: pytest.CaptureFixture[str]
) -> None:
    """A client that resets its connection halfway through a request (a killed copy, a closed
    laptop) is part of life: the stand-in drops it quietly and goes on answering others."""
    import socket
    import struct
    from urllib.parse import urlsplit

    where = urlsplit(ews_sandbox.url)
    for _ in range(3):
        sock = socket.create_connection((where.hostname, where.port))
        sock.sendall(
            f"POST {where.path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n<soap".encode()
        )
        time.sleep(0.1)  # the handler is reading the body now
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # an RST, not a FIN: the handler's read fails with ConnectionResetError
    time.sleep(0.3)
    account = sandbox_account(ews_sandbox)
    assert account.inbox.total_count is not None  # still answering
    err = capfd.readouterr().err
    assert "Exception occurred during processing of request" not in err
    assert "ConnectionResetError" not in err
