"""Test messages as raw MIME bytes, each different (headers, non-ASCII, binary-ish parts)."""

from __future__ import annotations

import base64
import os


def make_message(n: int, *, size: int = 0, message_id: bool = True) -> bytes:
    """Message ``n``: CRLF line ends, a UTF-8 subject, a base64 attachment to reach ``size``."""
    boundary = f"=_b{n}"
    filler = base64.encodebytes(os.urandom(max(size - 600, 0) * 3 // 4)).replace(b"\n", b"\r\n")
    headers = [
        b"From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.org>",
        b"To: anna@example.test",
        f"Subject: =?utf-8?b?{base64.b64encode(f'Grüße Nr. {n} ✉'.encode()).decode()}?=".encode(),
        f"Date: Tue, 2 Jan 2024 {n % 24:02d}:{n % 60:02d}:00 +0100".encode(),
    ]
    if message_id:
        headers.append(f"Message-ID: <msg-{n}.{os.urandom(4).hex()}@example.org>".encode())
    headers += [
        b"MIME-Version: 1.0",
        f'Content-Type: multipart/mixed; boundary="{boundary}"'.encode(),
    ]
    body = [
        b"",
        f"--{boundary}".encode(),
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: 8bit",
        b"",
        f"Hallo Anna, Nachricht {n}: Grüße aus Köln. Trailing space ".encode(),
        b"",
        f"--{boundary}".encode(),
        b"Content-Type: application/octet-stream",
        b"Content-Transfer-Encoding: base64",
        b'Content-Disposition: attachment; filename="data.bin"',
        b"",
        filler.rstrip(b"\r\n"),
        f"--{boundary}--".encode(),
        b"",
    ]
    return b"\r\n".join(headers + body)
