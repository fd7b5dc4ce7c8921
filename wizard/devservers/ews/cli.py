"""`onboard sandbox ews`: run the EWS stand-in alone on 127.0.0.1, for trying the tool by hand."""

from __future__ import annotations

import argparse
import secrets
import signal
import sys
import threading
from types import FrameType

from ...cliutil import Exit, fail, print_json
from .server import EwsSandbox

DEMO_MAILBOX = "demo@sandbox.test"
DEMO_SERVICE = "svc-migration@sandbox.test"


def cmd_sandbox_ews(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        fail(f"--port {args.port} is not a TCP port (0-65535)", Exit.USAGE)
    password = secrets.token_urlsafe(12)
    service_password = secrets.token_urlsafe(12)
    sandbox = EwsSandbox(port=args.port, tls=args.tls, storage_dir=args.storage)
    sandbox.add_mailbox(DEMO_MAILBOX, password, "Demo Mailbox")
    sandbox.add_service_account(DEMO_SERVICE, service_password, impersonate=True)
    for address in args.mailbox:
        sandbox.add_mailbox(address)
    try:
        sandbox.start()
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}", Exit.UNREACHABLE)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:  # from here on Ctrl-C stops the stand-in, even while the facts are printed
        _print_facts(sandbox, args, password, service_password)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sandbox.stop()
    if not args.json:
        print("EWS stand-in stopped.")
    return int(Exit.OK)


def _print_facts(
    sandbox: EwsSandbox, args: argparse.Namespace, password: str, service_password: str
) -> None:
    facts = {
        "url": sandbox.url,
        "port": sandbox.port,
        "tls": args.tls,
        "fingerprint": sandbox.fingerprint,
        "auth": list(sandbox.auth),
        "mailbox": DEMO_MAILBOX,
        "password": password,
        "service_account": DEMO_SERVICE,
        "service_password": service_password,
        "mailboxes": sorted(m.address for m in sandbox.mailboxes),
    }
    if args.json:
        print_json(facts)
    else:
        print("EWS stand-in running; Ctrl-C stops it.")
        print(f"  URL              {facts['url']}")
        print(f"  logins           {' or '.join(a.upper() for a in sandbox.auth)}")
        print(f"  mailbox          {DEMO_MAILBOX}  password {password}")
        print(f"  service account  {DEMO_SERVICE}  password {service_password}")
        print("                   (may impersonate every mailbox)")
        if sandbox.fingerprint:
            print(f"  certificate      SHA-256 {sandbox.fingerprint}  (use with --pin)")
        if args.mailbox:
            print(f"  more mailboxes   {', '.join(args.mailbox)}")
    sys.stdout.flush()
