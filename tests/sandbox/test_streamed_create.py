"""Writing into Exchange with the MIME streamed (wizard.exchange.streamed_create): a 40 MB message
arrives byte-exact in the EWS stand-in and the client never holds it as base64 text or XML; the
request is element for element what exchangelib writes for the same message.

The stand-in runs in a child process (`onboard sandbox ews --json`), so that what this process
allocates while it writes is the client's alone; tracemalloc counts it. The peak RSS of a whole
copy is measured by bench/ews_write.py.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.servers.ews import PASSWORD, USER, close_exchangelib, sandbox_account
from wizard.copy.connect import target_factory
from wizard.copy.target import OutgoingMessage
from wizard.devservers.ews import EWS_PATH, EwsSandbox, ntlm_available
from wizard.endpoint import parse_endpoint
from wizard.events import ignore
from wizard.exchange import Access, AuthType, ExchangeMailbox, ExchangeSettings, MimeMessage
from wizard.exchange.messages import (
    FLAG_STATUS_FLAGGED,
    ews_time,
    message_flags,
    register_properties,
    sent_time_of,
)
from wizard.exchange.streamed_create import MimeStreamBody, encoded_length, streamed_create_item

MB = 1024 * 1024


@pytest.fixture
def standin() -> Iterator[dict[str, Any]]:
    """The stand-in in a child process: its connection facts (URL, mailbox, password)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard.cli", "sandbox", "ews", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("}"):
            break
    try:
        yield json.loads("".join(lines))
    finally:
        close_exchangelib()
        proc.terminate()
        proc.wait(timeout=10)


def big_message(size: int) -> tuple[bytes, str]:
    """Raw MIME of about ``size`` bytes (a base64 attachment in CRLF lines) and its Message-ID."""
    message_id = f"<big-{random.getrandbits(40):x}@example.org>"
    head = (
        "From: Anna <anna@example.org>\r\nTo: demo@sandbox.test\r\nSubject: 40 MB of scans\r\n"
        f"Message-ID: {message_id}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
        "MIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    body = base64.encodebytes(random.Random(40).randbytes(size * 3 // 4)).replace(b"\n", b"\r\n")
    return head + body, message_id


def test_a_40_mb_message_arrives_byte_exact_and_is_never_held_as_xml(
    standin: dict[str, Any],
) -> None:
    url = f"ews://{standin['mailbox']}@127.0.0.1:{standin['port']}{EWS_PATH}?tls=none"
    target = target_factory(parse_endpoint(url), standin["password"])(ignore)
    key = target.ensure_folder(("Scans",))
    raw, message_id = big_message(40 * MB)
    assert len(raw) > 40 * MB
    tracemalloc.start()
    try:
        results = target.append(key, [OutgoingMessage(1, raw, ("\\Seen",), None, message_id)])
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        target.close()
    assert [r.ok for r in results] == [True], results
    # Held as base64 text, XML text and a request body it would be some 160 MB; here: slices.
    assert peak < 16 * MB, f"writing a {len(raw) // MB} MB message allocated {peak // MB} MB"

    settings = ExchangeSettings(standin["url"], auth=AuthType.BASIC, access=Access.DELEGATE)
    with ExchangeMailbox.open(settings, standin["mailbox"], standin["password"]) as mailbox:
        ref = mailbox.ensure_folder(("Scans",))
        stored = mailbox.read_messages(ref)
    assert [m.mime == raw for m in stored] == [True]
    assert stored[0].message_id == message_id and stored[0].is_read


def test_the_streamed_body_is_the_envelope_with_each_message_in_base64() -> None:
    raws = [b"", b"a", b"ab", b"abc", random.Random(3).randbytes(2 * 1024 * 1024 + 1)]
    tokens = {base64.b64encode(f"token-{n:06d}-ab".encode()): r for n, r in enumerate(raws)}
    envelope = b"<e>" + b"</m><m>".join(tokens) + b"</e>"
    body = MimeStreamBody.splice(envelope, tokens)
    expected = b"<e>" + b"</m><m>".join(base64.b64encode(r) for r in raws) + b"</e>"
    assert b"".join(body) == expected
    assert b"".join(body) == expected  # again: an NTLM handshake sends the body twice
    assert len(body) == len(expected)
    assert [encoded_length(len(r)) for r in raws] == [len(base64.b64encode(r)) for r in raws]
    with pytest.raises(ValueError, match="not in the CreateItem request once"):
        MimeStreamBody.splice(b"<e></e>", tokens)


def exchangelib_message(account: Any, folder: Any, message: MimeMessage) -> Any:
    """The exchangelib Message the engine used to write (before its request was built directly)."""
    from exchangelib import Message

    item = Message(account=account, folder=folder, mime_content=b"MIME", is_read=message.seen)
    item.message_flags = message_flags(message)
    received = message.internaldate
    sent = sent_time_of(message.raw) or received
    if received is not None:
        item.delivery_time = ews_time(received)
    if sent is not None:
        item.client_submit_time = ews_time(sent)
    if message.flagged:
        item.flag_status = FLAG_STATUS_FLAGGED
    return item


@pytest.mark.parametrize(
    ("flags", "received", "dated"),
    [
        (("\\Seen",), datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), True),
        ((), None, True),
        (("\\Flagged", "\\Draft"), datetime(2023, 6, 1, 12, tzinfo=UTC), False),
        (("\\Seen", "\\Flagged"), None, False),
    ],
)
def test_the_request_is_what_exchangelib_writes_for_the_message(
    ews_sandbox: EwsSandbox, flags: tuple[str, ...], received: datetime | None, dated: bool
) -> None:
    from exchangelib.services import CreateItem
    from exchangelib.util import xml_to_str

    raw = b"Subject: x\r\n" + (b"Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n" if dated else b"")
    message = MimeMessage(1, raw + b"\r\nhello", flags, received)
    account = sandbox_account(ews_sandbox)
    register_properties()
    for folder in (account.inbox, account.root / "Top of Information Store"):
        ours = streamed_create_item(account, [message])
        theirs = CreateItem(account=account, chunk_size=1)
        kwargs = {"message_disposition": "SaveOnly", "send_meeting_invitations": "SendToNone"}
        mime = ours.tokens[0].decode()
        expected = xml_to_str(
            theirs.get_payload(
                items=[exchangelib_message(account, folder, message)], folder=folder, **kwargs
            )
        ).replace(base64.b64encode(b"MIME").decode(), mime)
        assert xml_to_str(ours.get_payload(items=[message], folder=folder, **kwargs)) == expected


def test_a_streamed_request_survives_the_ntlm_handshake(ews_sandbox: EwsSandbox) -> None:
    """NTLM answers the first request of a connection with 401 and the client sends it again."""
    if not ntlm_available():
        pytest.skip("the stand-in offers NTLM only with pyspnego's NTLM internals")
    ews_sandbox.add_service_account("SANDBOX\\svc-ntlm", "pw-ntlm")
    settings = ExchangeSettings(
        ews_sandbox.url,
        auth=AuthType.NTLM,
        access=Access.IMPERSONATION,
        service_account="SANDBOX\\svc-ntlm",
    )
    raws = [big_message(size)[0] for size in (3 * 1024, 2 * MB)]
    with ExchangeMailbox.open(settings, USER, "pw-ntlm") as mailbox:
        ref = mailbox.ensure_folder(("NTLM",))
        mailbox.account.protocol.close()  # the CreateItem then opens a connection: 401 first
        before = len(ews_sandbox.requests)
        outcomes = mailbox.write_batch(ref, [MimeMessage(n, r) for n, r in enumerate(raws)])
    assert [o.ok for o in outcomes] == [True, True]
    sent = ews_sandbox.requests[before:]
    assert [r.status for r in sent] == [401, 401, 200]  # NTLM: the whole body, three times
    assert [r.operation for r in sent if r.status == 200] == ["CreateItem"]
    assert [r.request_bytes > 2 * MB for r in sent if r.operation == "CreateItem"] == [True]
    assert [i.mime for i in ews_sandbox.mailbox(USER).items_in("NTLM")] == raws


def test_the_same_message_twice_in_a_batch_is_written_twice(ews_sandbox: EwsSandbox) -> None:
    settings = ExchangeSettings(ews_sandbox.url, auth=AuthType.BASIC, access=Access.DELEGATE)
    twin = MimeMessage(7, big_message(2048)[0], ("\\Seen",))
    with ExchangeMailbox.open(settings, USER, PASSWORD) as mailbox:
        ref = mailbox.ensure_folder(("Twins",))
        outcomes = mailbox.write_batch(ref, [twin, twin])
    assert [o.ok for o in outcomes] == [True, True]
    assert [i.mime for i in ews_sandbox.mailbox(USER).items_in("Twins")] == [twin.raw] * 2
