"""`onboard --demo`: a generated demo company and local servers to onboard it from and to.

No Textual here. Everything listens on 127.0.0.1 only and nothing is forwarded anywhere.

- ``corpus``: ``generate_company(seed) -> DemoCompany`` (five mailboxes, ~370 messages, the same
  bytes for the same seed)
- ``imap_server``: ``DemoImapServer(company, certificate=)`` (pymap, implicit TLS, no SPECIAL-USE)
- ``dns_server``: ``DemoDns(domain, profile, plan=, change=)`` (dnslib; an authoritative server and
  resolvers that take up the MX change one after another), ``PropagationPlan``, ``DnsChange``
- ``profile``: ``demo_profile(ews_url)``, the demo provider
- ``servers``: ``DemoServers`` starts and stops all of them (with the EWS stand-in as Exchange);
  its ``LateMailFeed`` delivers a few new messages to the old server while the MX change
  propagates, for the differential copy to pick up
- ``session``: ``open_demo_session(servers)`` / ``create_demo_session``, ``DnsChangeWatcher``,
  ``DemoSessions`` (keeps whichever demo session the app opens pointed at the servers)
- ``run``: ``run_demo(...)``, what the CLI's ``--demo`` does around the app
"""

from .corpus import (
    DEFAULT_SEED,
    DemoCompany,
    DemoFolder,
    DemoMailbox,
    DemoMessage,
    generate_company,
)
from .dns_server import DemoDns, DnsChange, PropagationPlan
from .imap_server import DemoImapServer, DemoServerError
from .profile import demo_profile
from .servers import DemoServers
from .session import (
    DEMO_SESSION_NAME,
    DemoSessions,
    DnsChangeWatcher,
    NotADemoSession,
    apply_demo_servers,
    begin_dns_change,
    create_demo_session,
    open_demo_session,
)

__all__ = [
    "DEFAULT_SEED",
    "DEMO_SESSION_NAME",
    "DemoCompany",
    "DemoDns",
    "DemoFolder",
    "DemoImapServer",
    "DemoMailbox",
    "DemoMessage",
    "DemoServerError",
    "DemoServers",
    "DnsChange",
    "DemoSessions",
    "DnsChangeWatcher",
    "NotADemoSession",
    "PropagationPlan",
    "apply_demo_servers",
    "begin_dns_change",
    "create_demo_session",
    "demo_profile",
    "generate_company",
    "open_demo_session",
]
