"""Everything the demo runs, started and stopped together: the old IMAP server, the provider's
Exchange (the EWS stand-in) and the DNS servers, each in background threads on 127.0.0.1.

    with DemoServers(state_dir=...) as servers:
        store = open_demo_session(servers)
        ...

``state_dir`` keeps what the demo Exchange received between runs, so a resumed demo session finds
its copied mail again; without it everything is in memory.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from ...profile import ProviderProfile
from ..ews import EwsSandbox
from .corpus import DemoCompany, LateMail, generate_company, late_mail_schedule, late_message
from .dns_server import DemoDns, DnsChange, PropagationPlan
from .imap_server import LOOPBACK, DemoImapServer, DemoServerError
from .profile import demo_profile
from .tls import make_certificate


class LateMailFeed:
    """Delivers the late messages to the old server once their time after the MX change came.

    Which message arrives when is fixed by the seed and the time the change began, so a demo
    started again delivers the same messages in the same order and they keep their UIDs."""

    def __init__(
        self,
        imap: DemoImapServer,
        company: DemoCompany,
        plan: PropagationPlan,
        change: DnsChange,
        *,
        interval: float = 0.5,
    ) -> None:
        self.imap = imap
        self.company = company
        self.change = change
        self.schedule = late_mail_schedule(company, plan.late_mail)
        self.delivered: list[LateMail] = []
        self.interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> int:
        """Deliver whatever is due now; returns how many were delivered."""
        with self._lock:  # one delivery at a time, in schedule order
            started, elapsed = self.change.started_at, self.change.elapsed()
            if started is None or elapsed is None:
                return 0
            count = 0
            for late in self.schedule[len(self.delivered) :]:
                if late.offset > elapsed:
                    break
                arrived = datetime.fromtimestamp(started + late.offset, UTC)
                self.imap.deliver(late.login, late_message(self.company, late, arrived))
                self.delivered.append(late)
                count += 1
            return count

    def start(self) -> LateMailFeed:
        self._thread = threading.Thread(target=self._run, name="demo-late-mail", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if len(self.delivered) == len(self.schedule):
                return
            with contextlib.suppress(Exception):  # the server stopping under us
                self.poll()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class DemoServers:
    """The demo's three servers; ``start()`` returns once all of them accept connections."""

    def __init__(
        self,
        company: DemoCompany | None = None,
        *,
        state_dir: Path | None = None,
        plan: PropagationPlan | None = None,
        change: DnsChange | None = None,
        tls: bool = True,
        save_every: float = 15.0,
    ) -> None:
        self.company = company or generate_company()
        self.save_every = save_every  # seconds between saves of the demo Exchange (state_dir)
        self.state_dir = Path(state_dir) if state_dir else None
        self.plan = plan or PropagationPlan()
        self.change = change or DnsChange()
        self.tls = tls
        self.imap: DemoImapServer | None = None
        self.ews: EwsSandbox | None = None
        self.dns: DemoDns | None = None
        self.late_mail: LateMailFeed | None = None
        self._saving = threading.Event()
        self._saver: threading.Thread | None = None
        self._profile: ProviderProfile | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def running(self) -> bool:
        return self.imap is not None

    @property
    def profile(self) -> ProviderProfile:
        """The demo provider, pointing at this run's EWS stand-in (only while running)."""
        if self._profile is None:
            raise RuntimeError("the demo servers are not running")
        return self._profile

    def start(self) -> DemoServers:
        if self.running:
            return self
        try:
            certificate = None
            if self.tls:
                self._tmp = tempfile.TemporaryDirectory(prefix="onboard-demo-")
                certificate = make_certificate(Path(self._tmp.name), LOOPBACK)
            self.imap = DemoImapServer(self.company, certificate=certificate).start()
            self.late_mail = LateMailFeed(self.imap, self.company, self.plan, self.change).start()
            ews_dir = None
            if self.state_dir is not None:
                ews_dir = self.state_dir / "ews"
                ews_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Plain HTTP on loopback: the copy engine's Exchange target does not pin certificates.
            self.ews = EwsSandbox(host=LOOPBACK, storage_dir=ews_dir)
            for mailbox in self.company.mailboxes:
                self.ews.add_mailbox(mailbox.address, mailbox.password, mailbox.display_name)
            self.ews.start()
            if ews_dir is not None:
                # Saved now and then too, so a killed demo loses at most a few seconds of copy.
                self._saving.clear()
                self._saver = threading.Thread(
                    target=self._save_loop, name="demo-save", daemon=True
                )
                self._saver.start()
            self._profile = demo_profile(self.ews.url)
            self.dns = DemoDns(
                self.company.domain, self._profile, plan=self.plan, change=self.change
            ).start()
        except BaseException as exc:
            self.stop()
            if isinstance(exc, DemoServerError | KeyboardInterrupt):
                raise
            raise DemoServerError(f"the demo could not start its servers: {exc}") from exc
        return self

    def _save_loop(self) -> None:
        while not self._saving.wait(self.save_every):
            ews = self.ews
            if ews is None:
                return
            with contextlib.suppress(Exception):  # a full disk must not end the demo
                ews.save()

    def stop(self) -> None:
        """Stop whatever runs (safe to call twice, and after a failed start)."""
        self._saving.set()
        if self._saver is not None:
            self._saver.join(timeout=10)
            self._saver = None
        if self.late_mail is not None:
            self.late_mail.stop()
            self.late_mail = None
        dns, ews, imap = self.dns, self.ews, self.imap
        self.dns = self.ews = self.imap = None
        self._profile = None
        for server in (dns, ews, imap):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> DemoServers:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


__all__ = ["DemoServers", "LateMailFeed"]
