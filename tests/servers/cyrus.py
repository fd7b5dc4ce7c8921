"""A real Cyrus IMAP 3.6 for tests: an IMAP server other than Dovecot as a copy's source.

Cyrus differs from the Dovecot fixture where a migration feels it: "." as the separator, every
folder under the ``INBOX.`` prefix, SPECIAL-USE flags in lower case (``\\junk`` on ``Spam``), the
special folders created at the first login (``Archive`` left unsubscribed).

Cyrus is never ``apt-get install``ed: cyrus-imapd and dovecot-imapd both provide imap-server, so
apt would remove Dovecot. ``scripts/install-cyrus`` (run by ``scripts/test``) installs the shared
libraries it needs with apt-get and unpacks ``cyrus-common`` and ``cyrus-imapd`` with
``dpkg-deb -x`` into ``tests/servers/.cyrus`` (``ONBOARD_CYRUS_ROOT`` points elsewhere). Each
server runs from its own generated ``imapd.conf`` and ``cyrus.conf`` in a temporary directory,
listens on a free 127.0.0.1 port without TLS, and accepts any password (SASL ``alwaystrue``):
a test user needs no password file, only a login. As root its processes run as ``nobody``
(imapd refuses root); as a normal user, as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from imapclient import IMAPClient

from .dovecot import Account, DovecotServer

HOST = "127.0.0.1"
ROOT = Path(os.environ.get("ONBOARD_CYRUS_ROOT") or Path(__file__).parent / ".cyrus")
BIN = ROOT / "usr" / "lib" / "cyrus" / "bin"
LIBS = ROOT / "usr" / "lib" / "x86_64-linux-gnu"
INSTALL_HINT = "run scripts/install-cyrus (scripts/test does)"
SPECIAL_FOLDERS = {"\\Sent": "Sent", "\\Drafts": "Drafts", "\\Trash": "Trash", "\\Junk": "Spam"}

IMAPD_CONF = """configdirectory: {d}/conf
partition-default: {d}/spool
defaultpartition: default
cyrus_user: {user}
admins: cyrus-admin
sasl_pwcheck_method: alwaystrue
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
unixhierarchysep: no
altnamespace: no
autocreate_quota: 0
autocreate_inbox_folders: Sent | Drafts | Trash | Spam | Archive
autocreate_subscribe_folders: Sent | Drafts | Trash | Spam
xlist-sent: Sent
xlist-drafts: Drafts
xlist-trash: Trash
xlist-junk: Spam
xlist-archive: Archive
idlesocket: {d}/run/idle
notifysocket: {d}/run/notify
lmtpsocket: {d}/run/lmtp
statuscache: no
syslog_prefix: onboard-test-cyrus
"""

CYRUS_CONF = """START {{
  recover cmd="{bin}/ctl_cyrusdb -C {d}/imapd.conf -r"
}}
SERVICES {{
  imap cmd="{bin}/imapd -C {d}/imapd.conf" listen="{host}:{port}" prefork=0
}}
EVENTS {{
}}
"""
_CONF_DIRS = ("db", "proc", "socket", "log", "msg", "ptclient", "quota", "sieve", "user", "lock")


class CyrusUnavailable(RuntimeError):
    """Cyrus is not unpacked where the fixture looks for it."""


def cyrus_installed() -> bool:
    return (BIN / "master").exists() and (BIN / "imapd").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """A killed test run must not leave a Cyrus behind (Linux: PR_SET_PDEATHSIG, SIGTERM)."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


class CyrusServer:
    """One running Cyrus; ``start()`` makes it, ``stop()`` ends it and deletes its files."""

    host = HOST
    separator = "."
    prefix = "INBOX."

    def __init__(self) -> None:  # use start()
        self.directory = Path()
        self.imap_port = 0
        self.accounts: dict[str, Account] = {}
        self.special_folders = dict(SPECIAL_FOLDERS)
        self._master: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, parent: Path | None = None) -> CyrusServer:
        if not cyrus_installed():
            raise CyrusUnavailable(f"Cyrus is not unpacked in {ROOT}: {INSTALL_HINT}")
        self = cls()
        self.directory = Path(tempfile.mkdtemp(prefix="onboard-cyrus-", dir=parent))
        d = self.directory
        for sub in ("spool", "run", *(f"conf/{c}" for c in _CONF_DIRS)):
            (d / sub).mkdir(parents=True)
        root = os.geteuid() == 0
        user = "nobody" if root else pwd.getpwuid(os.geteuid()).pw_name
        self.imap_port = _free_port()
        (d / "imapd.conf").write_text(IMAPD_CONF.format(d=d, user=user))
        (d / "cyrus.conf").write_text(
            CYRUS_CONF.format(d=d, bin=BIN, host=HOST, port=self.imap_port)
        )
        if root:  # the master drops to cyrus_user, who must own the spool and databases
            entry = pwd.getpwnam(user)
            for path in [d, *d.rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        env = {**os.environ, "LD_LIBRARY_PATH": str(LIBS)}
        with (d / "master.out").open("wb") as out:
            self._master = subprocess.Popen(
                [
                    str(BIN / "master"),
                    "-C",
                    str(d / "imapd.conf"),
                    "-M",
                    str(d / "cyrus.conf"),
                    "-p",
                    str(d / "run" / "master.pid"),
                    "-D",  # stay in the foreground, a child of the test process
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                preexec_fn=_die_with_parent,
                start_new_session=True,  # its master signals its whole process group on stop
            )
        try:
            self._wait_ready()
        except Exception:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Listening is not enough: an imapd that cannot start drops the connection."""
        deadline = time.monotonic() + 20
        last = ""
        while time.monotonic() < deadline:
            if self._master is not None and self._master.poll() is not None:
                break
            try:
                with socket.create_connection((HOST, self.imap_port), 1) as s:
                    s.settimeout(2)
                    greeting = s.recv(200)
                if greeting.startswith(b"* OK"):
                    return
                last = greeting.decode("latin-1")
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        out = (self.directory / "master.out").read_text(errors="replace").strip()
        raise RuntimeError(
            f"Cyrus did not greet on {HOST}:{self.imap_port} ({last}); its log goes to syslog. "
            f"master said: {out or '(nothing)'}"
        )

    def stop(self) -> None:
        master, self._master = self._master, None
        if master is not None and master.poll() is None:
            master.send_signal(signal.SIGTERM)
            try:
                master.wait(10)
            except subprocess.TimeoutExpired:
                master.kill()
                master.wait(5)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> CyrusServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- accounts and folders -------------------------------------------------------

    def add_user(self, login: str | None = None, *, tree: Iterable[str] = ()) -> Account:
        """A fresh user; the first login creates INBOX and the special folders."""
        login = login or f"user{uuid.uuid4().hex[:10]}"
        account = Account(login, f"pw-{uuid.uuid4().hex[:12]}")
        self.accounts[login] = account
        self.create_folders(login, tree)
        return account

    def url(self, login: str) -> str:
        return f"imap://{login}@{HOST}:{self.imap_port}?tls=none"

    def client(self, login: str) -> IMAPClient:
        c = IMAPClient(HOST, self.imap_port, ssl=False, timeout=30)
        c.login(login, self.accounts[login].password)
        return c

    def folder(self, name: str) -> str:
        """A "/"-separated path as Cyrus names it ("Kunden/2024" -> "INBOX.Kunden.2024")."""
        if name.upper() == "INBOX":
            return "INBOX"
        return self.prefix + name.replace("/", self.separator)

    # Seeding and reading back are the Dovecot fixture's: they need only client() and folder().
    create_folders = DovecotServer.create_folders
    seed = DovecotServer.seed
    read = DovecotServer.read
