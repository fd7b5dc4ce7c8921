"""The demo session: marked as a demo, filled with the running demo servers' settings.

``open_demo_session`` resumes the saved demo session (re-pointing it at this run's ports) or
creates it. Each run writes the server settings again because the ports (and the IMAP
certificate) are new every time; mailboxes, step states, notes and evidence stay.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from ... import activity
from ...dns.propagation import AUTHORITATIVE_SETTING, save_resolvers
from ...exchange.settings import Access, AuthType, ExchangeSettings
from ...exchange.settings import save_settings as save_exchange_settings
from ...imap.mailbox_list import add_mailbox
from ...imap.settings import ImapServerSettings, Security
from ...imap.settings import save_settings as save_imap_settings
from ...playbook import Kind
from ...secrets import SecretStore, source_password_key, target_password_key
from ...session import create_session, session_path
from ...steps.propagation import PropagationController
from ...store import SessionError, SessionExists, SessionStore, StepState
from .dns_server import DnsChange
from .servers import DemoServers

DEMO_SESSION_NAME = "demo-company"
DEMO_SETTING = "demo"  # True in every demo session (the store's own demo mark is set too)
DNS_CHANGE_SETTING = "demo.dns_change_started_at"  # epoch seconds, once the MX change began
DEMO_POLL_SECONDS = 5  # the demo's resolvers change within two minutes: look often

# The demo customer changes MX and Autodiscover once the operator reaches the DNS-records step.
_DNS_STEP_KIND = Kind.DNS_RECORDS


class NotADemoSession(SessionError):
    """A session of the demo's name exists but is a real customer's; it is left alone."""


def apply_demo_servers(store: SessionStore, servers: DemoServers) -> None:
    """Point the session at this run's demo servers and keep the demo passwords in its keyring."""
    imap, ews, dns = servers.imap, servers.ews, servers.dns
    if imap is None or ews is None or dns is None:
        raise RuntimeError("start the demo servers before filling in the session")
    store.set_profile(servers.profile)
    save_imap_settings(
        store,
        ImapServerSettings(
            host=imap.host,
            port=imap.port,
            security=Security(imap.security),
            pin=imap.fingerprint,
            timeout=10.0,
        ),
    )
    save_exchange_settings(
        store, ExchangeSettings(ews.url, auth=AuthType.BASIC, access=Access.DELEGATE)
    )
    save_resolvers(store, dns.resolvers)
    store.set_setting(AUTHORITATIVE_SETTING, dns.authoritative)
    secrets = SecretStore(store.name)
    for mailbox in servers.company.mailboxes:
        secrets.set(source_password_key(mailbox.login), mailbox.password)
        secrets.set(target_password_key(mailbox.address), mailbox.password)
    started = store.setting(DNS_CHANGE_SETTING)
    if started:
        servers.change.begin(at=float(started))
    activity.log_event(
        store,
        "info",
        "demo",
        "start",
        f"demo servers on {imap.host}: IMAP port {imap.port}, Exchange {ews.url}, "
        f"DNS {', '.join(dns.authoritative + dns.resolvers)}",
        imap_port=imap.port,
        ews_url=ews.url,
    )


def create_demo_session(servers: DemoServers, *, name: str = DEMO_SESSION_NAME) -> SessionStore:
    """A new demo session ("Demo company", marked demo) with the demo's five mailboxes."""
    company = servers.company
    store = create_session(company.customer, company.domain, servers.profile, demo=True, name=name)
    try:
        store.set_setting(DEMO_SETTING, True)
        PropagationController(store).set_poll_seconds(DEMO_POLL_SECONDS)
        secrets = SecretStore(store.name)
        for mailbox in company.mailboxes:
            add_mailbox(
                store, secrets, mailbox.login, mailbox.address, mailbox.display_name,
                mailbox.password,
            )  # fmt: skip
        apply_demo_servers(store, servers)
    except BaseException:
        store.close()
        raise
    return store


def open_demo_session(servers: DemoServers, *, name: str = DEMO_SESSION_NAME) -> SessionStore:
    """The saved demo session, re-pointed at the running servers, or a new one."""
    path = session_path(name)
    if not path.exists():
        return create_demo_session(servers, name=name)
    store = SessionStore.open(path, what="onboard --demo")
    if not store.demo:
        store.close()
        raise NotADemoSession(
            f"the session {name!r} is not a demo session; rename it or delete the demo by hand"
        )
    try:
        apply_demo_servers(store, servers)
    except BaseException:
        store.close()
        raise
    return store


def dns_change_due(store: SessionStore) -> bool:
    """Has the operator come far enough for the MX change (the DNS step or later open, or touched)?"""
    dns_step = store.playbook.number_of(_DNS_STEP_KIND)
    if store.step_record(dns_step).state is not StepState.NOT_STARTED:
        return True
    numbers = [s.number for s in store.playbook]
    current = store.current_step
    return current in numbers and numbers.index(current) >= numbers.index(dns_step)


def begin_dns_change(store: SessionStore, servers: DemoServers) -> float:
    """Start the demo's MX change now (once) and remember when, for a resumed demo.

    The demo's customer "makes" the change at that moment, so it is recorded where step 12
    looks for the time of the change (and starts watching by itself)."""
    started = servers.change.begin()
    if store.setting(DNS_CHANGE_SETTING) is None:
        store.set_setting(DNS_CHANGE_SETTING, started)
    propagation = PropagationController(store)
    if not propagation.watch().change_made_at:
        made = datetime.fromtimestamp(started, UTC).replace(microsecond=0).isoformat()
        propagation.change_made_at(made)
        activity.log_event(
            store, "info", "demo", "dns", "the demo customer moved MX and Autodiscover to the "
            "provider; the resolvers take it up one after another",
        )  # fmt: skip
    return started


class DnsChangeWatcher:
    """Begins the demo's MX change when ``dns_change_due`` says so (checks every ``interval`` s)."""

    def __init__(
        self,
        store: SessionStore,
        servers: DemoServers,
        *,
        interval: float = 1.0,
        due: Callable[[SessionStore], bool] = dns_change_due,
    ) -> None:
        self.store = store
        self.servers = servers
        self.interval = interval
        self.due = due
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> DnsChangeWatcher:
        if self.servers.change.started_at is not None:
            return self  # begun in an earlier run
        self._thread = threading.Thread(target=self._run, name="demo-dns-change", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.store.closed:
                    return
                if self.due(self.store):
                    begin_dns_change(self.store, self.servers)
                    return
            except Exception:  # noqa: BLE001 - a closed store at exit; the demo goes on without
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


class DemoSessions:
    """Keeps the session the app has open pointed at this run's demo servers, with its MX change
    watched: the first one, and a demo session closed and opened again in the same run."""

    def __init__(
        self,
        servers: DemoServers,
        first: SessionStore | None = None,
        *,
        name: str = DEMO_SESSION_NAME,
    ) -> None:
        self.servers = servers
        self.name = name
        self._applied = first  # open_demo_session pointed this one at the servers already
        self._watcher: DnsChangeWatcher | None = None

    def opened(self, store: SessionStore) -> None:
        """Called by the app each time it shows a session."""
        self.stop()
        if not (store.demo or store.setting(DEMO_SETTING, False)):
            return  # a real customer's session: the demo leaves it alone
        if store.domain != self.servers.company.domain:
            return  # the demo's DNS and mailboxes are the demo company's only
        if store is not self._applied:
            apply_demo_servers(store, self.servers)
            self._applied = store
        self._watcher = DnsChangeWatcher(store, self.servers).start()

    def start_over(self) -> SessionStore:
        """A new demo session on freshly started servers: the demo Exchange empty, the old
        server's mail as generated, the MX change not begun (once the old demo is deleted)."""
        if session_path(self.name).exists():
            raise SessionExists(
                f"the demo session {self.name!r} still exists: resume it, or delete it "
                "first to start over"
            )
        self.stop()
        self.servers.stop()
        if self.servers.state_dir is not None:
            shutil.rmtree(self.servers.state_dir, ignore_errors=True)
        self.servers.change = DnsChange()
        self.servers.start()
        store = create_demo_session(self.servers, name=self.name)
        self._applied = store
        return store

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None


__all__ = [
    "DEMO_SESSION_NAME",
    "DEMO_SETTING",
    "DNS_CHANGE_SETTING",
    "DemoSessions",
    "DnsChangeWatcher",
    "NotADemoSession",
    "apply_demo_servers",
    "begin_dns_change",
    "create_demo_session",
    "dns_change_due",
    "open_demo_session",
]
