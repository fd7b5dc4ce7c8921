"""TEMPORARY dev fixture until tests/servers/dovecot.py (issue 4) lands: two Dovecots."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imapclient import IMAPClient

CONF = """
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
passdb {{
  driver = static
  args = password=secret
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/home/%u
}}
mail_location = maildir:~/Maildir
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

    def url(self, user: str) -> str:
        return f"imap://{user}@{self.host}:{self.port}?tls=none"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(root: Path, name: str, sep: str, names: dict[str, str]) -> tuple[Dovecot, Path]:
    d = root / name
    (d / "home").mkdir(parents=True)
    port = _free_port()
    special = "".join(SPECIAL.format(name=n, flag=f) for f, n in names.items())
    (d / "dovecot.conf").write_text(CONF.format(d=d, port=port, sep=sep, special=special))
    os.chmod(d, 0o755)
    shutil.chown(d / "home", "nobody", "nogroup")
    subprocess.run(["dovecot", "-c", str(d / "dovecot.conf")], check=True)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return Dovecot("127.0.0.1", port), d


@pytest.fixture(scope="session")
def dovecots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dovecot, Dovecot]]:
    root = Path(tempfile.mkdtemp(prefix="onboard-dovecot-"))
    os.chmod(root, 0o755)
    a, da = _start(
        root,
        "src",
        "/",
        {"\\Sent": "Sent", "\\Drafts": "Drafts", "\\Trash": "Trash", "\\Junk": "Junk"},
    )
    b, db = _start(
        root,
        "dst",
        ".",
        {
            "\\Sent": "Sent Items",
            "\\Drafts": "Drafts",
            "\\Trash": "Deleted Items",
            "\\Junk": "Junk E-mail",
        },
    )
    yield a, b
    for d in (da, db):
        subprocess.run(["dovecot", "-c", str(d / "dovecot.conf"), "stop"], check=False)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def users() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"src{tag}", f"dst{tag}"
