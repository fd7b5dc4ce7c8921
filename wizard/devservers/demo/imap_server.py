"""The demo company's old IMAP server: pymap's in-memory server on 127.0.0.1, in a thread of its own.

pymap (a maintained, pure-Python asyncio IMAP server) serves the generated mailboxes with each
mailbox's demo password. It speaks implicit TLS with a self-signed certificate that the demo
session pins, or plain IMAP when no certificate is given (loopback only either way). It has no
SPECIAL-USE, so the tool finds Sent/Drafts/Trash by their well-known names, as on many old
servers. The server keeps everything in memory; each start serves the corpus afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
import zlib
from argparse import Namespace
from collections.abc import Callable
from typing import Any

from .corpus import DELIMITER, DemoCompany, DemoMailbox, DemoMessage
from .tls import DemoCertificate

LOOPBACK = "127.0.0.1"

# pymap logs a dropped client as a warning; with no handler Python would print it to stderr,
# across the app's screen.
for _name in ("pymap", "proxyprotocol"):
    logging.getLogger(_name).addHandler(logging.NullHandler())


class DemoServerError(RuntimeError):
    """A demo server could not start; the message says which and why."""


def _pymap_config(host: str, port: int, context: ssl.SSLContext | None) -> Any:
    from pymap.backend.dict import Config
    from pymap.concurrent import Subsystem
    from pysasl.hashing import BuiltinHash

    class DemoConfig(Config):
        @property
        def greeting(self) -> bytes:
            # pymap's default greeting looks up this machine's FQDN, which may ask a DNS server.
            return b"Demo company mail server ready"

    args = Namespace(passlib_cfg=None, proxy_protocol=None, inherited_sockets=None, debug=False)
    return DemoConfig(
        args,
        host=host,
        port=port,
        demo_data=False,
        demo_user="",
        demo_password="",
        ssl_context=context or ssl.create_default_context(ssl.Purpose.CLIENT_AUTH),
        tls_enabled=False,  # no STARTTLS: TLS (if any) is implicit, from the first byte
        reject_dnsbl=False,
        invalid_user_sleep=0.05,
        cpu_subsystem=Subsystem.for_asyncio(),
        # The demo passwords are no secret: a cheap hash keeps start-up and each login fast.
        hash_context=BuiltinHash(rounds=1000),
        bad_command_limit=20,
    )


async def _load_mailbox(config: Any, login: Any, mailbox: DemoMailbox) -> None:
    from pymap.backend.dict.filter import FilterSet
    from pymap.backend.dict.mailbox import MailboxSet
    from pymap.parsing.message import AppendMessage
    from pymap.parsing.specials.flag import Flag
    from pymap.user import Passwords, UserMetadata

    hashed = await Passwords(config).hash_password(mailbox.password)
    login.users_dict[mailbox.login] = UserMetadata(config, mailbox.login, password=hashed)
    mailbox_set = MailboxSet()
    created = {"INBOX"}
    for folder in mailbox.folders:
        for depth in range(1, len(folder.path) + 1):
            name = DELIMITER.join(folder.path[:depth])
            if name not in created:  # parents first, as a client would create them
                await mailbox_set.add_mailbox(name)
                created.add(name)
        target = await mailbox_set.get_mailbox(folder.name)
        # pymap draws UIDVALIDITY at random; a resumed demo must see the same folders, or its
        # copy would take them for new ones and start again.
        target._uid_validity = stable_uidvalidity(mailbox.login, folder.name)
        for message in folder.messages:
            flags = frozenset(Flag(f.encode("ascii")) for f in message.flags)
            await target.append(
                AppendMessage(message.raw, message.internal_date, flags), recent=False
            )
    config.set_cache[mailbox.login] = (mailbox_set, FilterSet())


def stable_uidvalidity(login: str, folder: str) -> int:
    """The same non-zero 32-bit UIDVALIDITY for a folder on every start."""
    return zlib.crc32(f"{login}/{folder}".encode()) or 1


class DemoImapServer:
    """The old IMAP server of the demo company. ``start()`` returns once it accepts connections."""

    def __init__(
        self,
        company: DemoCompany,
        *,
        certificate: DemoCertificate | None = None,
        host: str = LOOPBACK,
        port: int = 0,
    ) -> None:
        if not host.startswith("127."):
            raise ValueError("the demo IMAP server listens on the loopback interface only")
        self.company = company
        self.certificate = certificate
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._config: Any = None

    @property
    def security(self) -> str:
        """As wizard.imap.Security spells it: "tls" with a certificate, else "none"."""
        return "tls" if self.certificate else "none"

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint if self.certificate else ""

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 20.0) -> DemoImapServer:
        if self.running:
            return self
        ready = threading.Event()
        self._error = None
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="demo-imap", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            raise DemoServerError("the demo IMAP server did not start in time")
        if self._error is not None:
            raise DemoServerError(f"the demo IMAP server could not start: {self._error}")
        return self

    def _run(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        # A client dropping a connection mid-command is routine here (a cancelled copy); it
        # must not print a traceback across the app's screen.
        loop.set_exception_handler(lambda _loop, _context: None)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(ready.set))
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
        finally:
            ready.set()
            loop.close()

    async def _serve(self, started: Callable[[], None]) -> None:
        from proxyprotocol.reader import ProxyProtocolReader
        from pymap.backend.dict import Login
        from pymap.imap import IMAPServer

        context = self.certificate.server_context() if self.certificate else None
        config = _pymap_config(self.host, self.port, context)
        self._config = config
        config.apply_context()
        login = Login(config)
        for mailbox in self.company.mailboxes:
            await _load_mailbox(config, login, mailbox)
        callback = ProxyProtocolReader(config.proxy_protocol).get_callback(
            IMAPServer(login, config)
        )
        server = await asyncio.start_server(
            callback, host=self.host, port=self.port, ssl=context, family=socket.AF_INET
        )
        self.port = server.sockets[0].getsockname()[1]
        self._stop = asyncio.Event()
        started()
        async with server:
            await self._stop.wait()
            server.close()
        # Connections still open end with the loop.
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    def deliver(
        self, login: str, message: DemoMessage, folder: str = "INBOX", timeout: float = 10.0
    ) -> None:
        """New mail for ``login`` (from any thread), as if it had just arrived."""
        loop = self._loop
        if not self.running or loop is None:
            raise DemoServerError("the demo IMAP server is not running")
        future = asyncio.run_coroutine_threadsafe(self._append(login, folder, message), loop)
        future.result(timeout)

    async def _append(self, login: str, folder: str, message: DemoMessage) -> None:
        from pymap.parsing.message import AppendMessage
        from pymap.parsing.specials.flag import Flag

        mailbox_set, _filters = self._config.set_cache[login]
        target = await mailbox_set.get_mailbox(folder)
        flags = frozenset(Flag(f.encode("ascii")) for f in message.flags)
        await target.append(AppendMessage(message.raw, message.internal_date, flags), recent=True)

    def stop(self, timeout: float = 10.0) -> None:
        loop, stop_event, thread = self._loop, self._stop, self._thread
        if thread is None:
            return
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(timeout)
        self._thread = None

    def __enter__(self) -> DemoImapServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["LOOPBACK", "DemoImapServer", "DemoServerError"]
