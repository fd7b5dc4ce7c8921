"""Two scratch Dovecots for the copy tests and the bench: a source ("/" separator) and a target
("." separator, Exchange-like special folder names), in the storage format asked for.

Kept beside the shared server of tests/servers/dovecot.py for what that one does not do: any user
name logs in with the password "secret" (a static passdb), so each copy test and each bench round
uses fresh user names instead of a fresh server or a passwd-file entry, and ``config`` gives the
configuration file ``doveadm`` needs for the bench's dsync."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient

from tests.servers.processes import stop_dovecot

CONF = """
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
passdb {{
  driver = static
  args = password=secret
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
mail_location = {mail_location}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = {sep}
{special}
}}
"""

SPECIAL = """  mailbox "{name}" {{
    special_use = {flag}
    auto = subscribe
  }}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    password: str = "secret"

    def client(self, user: str) -> IMAPClient:
        c = IMAPClient(self.host, self.port, ssl=False, timeout=30)
        c.login(user, self.password)
        return c

    def ensure_user(self, user: str) -> None:
        """Any user logs in here; kept for the same interface as the shared server."""

    def url(self, user: str) -> str:
        return f"imap://{user}@{self.host}:{self.port}?tls=none"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(
    root: Path, name: str, sep: str, names: dict[str, str], storage: str = "maildir"
) -> tuple[Dovecot, Path]:
    d = root / name
    (d / "home").mkdir(parents=True)
    port = _free_port()
    special = "".join(SPECIAL.format(name=n, flag=f) for f, n in names.items())
    if os.geteuid() == 0:  # mail processes run as nobody, logins as Dovecot's own users
        ids = {
            "uid": "nobody",
            "gid": "nogroup",
            "login_user": "dovenull",
            "internal_user": "dovecot",
        }
    else:  # everything runs as the user who runs the tests
        me = pwd.getpwuid(os.geteuid()).pw_name
        ids = {"uid": os.geteuid(), "gid": os.getegid(), "login_user": me, "internal_user": me}
    (d / "dovecot.conf").write_text(
        CONF.format(
            d=d,
            port=port,
            sep=sep,
            special=special,
            mail_location=f"{storage}:~/mail",
            **ids,
        )
    )
    os.chmod(d, 0o755)
    if os.geteuid() == 0:
        shutil.chown(d / "home", "nobody", "nogroup")
    subprocess.run(["dovecot", "-c", str(d / "dovecot.conf")], check=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return Dovecot("127.0.0.1", port), d


SOURCE_SPECIAL = {"\\Sent": "Sent", "\\Drafts": "Drafts", "\\Trash": "Trash", "\\Junk": "Junk"}
TARGET_SPECIAL = {
    "\\Sent": "Sent Items",
    "\\Drafts": "Drafts",
    "\\Trash": "Deleted Items",
    "\\Junk": "Junk E-mail",
}


class DovecotPair:
    """A source ("/" separator) and a target ("." separator, Exchange-like folder names)."""

    def __init__(self, storage: str = "maildir") -> None:
        if shutil.which("dovecot") is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        self.root = Path(tempfile.mkdtemp(prefix="onboard-dovecot-"))
        os.chmod(self.root, 0o755)
        self.source, self._src_dir = _start(self.root, "src", "/", SOURCE_SPECIAL, storage)
        self.target, self._dst_dir = _start(self.root, "dst", ".", TARGET_SPECIAL, storage)

    def home(self, which: str, user: str) -> Path:
        return (self._src_dir if which == "source" else self._dst_dir) / "home" / user

    def config(self, which: str) -> Path:
        return (self._src_dir if which == "source" else self._dst_dir) / "dovecot.conf"

    def stop(self) -> None:
        for d in (self._src_dir, self._dst_dir):
            stop_dovecot(d)
        shutil.rmtree(self.root, ignore_errors=True)
