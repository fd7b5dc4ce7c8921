"""A real Dovecot for tests, started from a generated configuration in a temporary directory.

Each ``DovecotServer`` listens on 127.0.0.1 with two free ports: ``imap_port`` (plain text, with
STARTTLS offered) and ``imaps_port`` (implicit TLS), using a freshly generated self-signed
certificate whose SHA-256 fingerprint is ``fingerprint``. Users live in a passwd-file (added at
any time with ``add_user``), master users in a master passdb (``add_master``; log in as
``user*master`` or with SASL PLAIN and an authorization identity), and OAuth2 tokens in a passdb
that only XOAUTH2/OAUTHBEARER consult. Special-use folders (Sent, Drafts, Trash, Junk, Archive)
are created on first login; ``add_user(..., tree=True)`` adds nested and non-ASCII folders.

Dovecot refuses to access mail as uid 0 and wants unprivileged login and internal users when
started by root, so as root mail runs as ``nobody`` and the login processes as Dovecot's own
users; as a normal user everything runs as that user and the chroots are dropped.

Use it from pytest through the fixtures in ``tests/servers/conftest.py`` (``dovecot`` for a
shared server, ``dovecot_factory`` for independent ones), or directly with ``DovecotServer.start``
(e.g. from a bench script); call ``stop()`` when done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from imapclient import IMAPClient

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
HOST = "127.0.0.1"

# Role flag -> folder name, created with SPECIAL-USE on every user's first login.
SPECIAL_FOLDERS: dict[str, str] = {
    "\\Sent": "Sent",
    "\\Drafts": "Drafts",
    "\\Trash": "Trash",
    "\\Junk": "Junk",
    "\\Archive": "Archive",
}

# Folders ``add_user(tree=True)`` creates (with "/" as the separator): nested and non-ASCII.
TREE_FOLDERS: tuple[str, ...] = (
    "Projects",
    "Projects/2024",
    "Projects/2024/Q1",
    "Kunden",
    "Kunden/Müller & Söhne",
    "Entwürfe",
    "日本語",
)


class DovecotUnavailable(RuntimeError):
    """The dovecot binary is not installed."""


def dovecot_installed() -> bool:
    return Path(DOVECOT).exists()


@dataclass(frozen=True)
class SeedMessage:
    """A message to put into a folder: raw bytes (use CRLF line ends), flags, arrival time."""

    raw: bytes
    flags: tuple[str, ...] = ()
    internaldate: dt.datetime | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A message as the server holds it."""

    uid: int
    raw: bytes
    flags: tuple[str, ...]
    internaldate: dt.datetime
    size: int


@dataclass(frozen=True)
class Account:
    login: str
    password: str
    token: str = ""


def make_message(
    n: int, *, subject: str = "", size: int = 0, sender: str = "anna@old.example"
) -> bytes:
    """A small well-formed message numbered ``n``; ``size`` pads the body to about that many bytes."""
    head = [
        f"From: Anna <{sender}>",
        "To: Bert <bert@old.example>",
        f"Subject: {subject or f'Test message {n}'}",
        f"Date: Mon, 01 Mar 2021 10:{n % 60:02d}:00 +0100",
        f"Message-ID: <seed-{n}-{uuid.uuid4().hex[:8]}@old.example>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    body = f"Hello {n}, grüße.\r\n" + ("x" * 70 + "\r\n") * max(0, size // 72)
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _self_signed(directory: Path) -> tuple[Path, Path, str]:
    """A certificate for localhost/127.0.0.1 and its key; returns paths and SHA-256 fingerprint."""
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout", str(key_path),
             "-out", str(cert_path), "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
        der = subprocess.run(
            ["openssl", "x509", "-in", str(cert_path), "-outform", "DER"],
            check=True,
            capture_output=True,
        ).stdout
        return cert_path, key_path, hashlib.sha256(der).hexdigest()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key_path, 0o600)
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    return cert_path, key_path, fingerprint


def _identities() -> dict[str, str]:
    """Who the mail, login and internal processes run as (see the module text for why)."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid()).pw_name
        return {
            "mail_uid": str(os.geteuid()),
            "mail_gid": str(os.getegid()),
            "login_user": me,
            "internal_user": me,
        }

    def exists(name: str) -> bool:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return False
        return True

    nobody = pwd.getpwnam("nobody")
    return {
        "mail_uid": str(nobody.pw_uid),
        "mail_gid": str(nobody.pw_gid),
        "login_user": "dovenull" if exists("dovenull") else "nobody",
        "internal_user": "dovecot" if exists("dovecot") else "nobody",
    }


CONFIG = """\
# Generated by tests/servers/dovecot.py
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = {host}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_master_user_separator = *
auth_cache_size = 0
# Failed logins are answered at once: tests try bad passwords on purpose.
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = {storage}:~/mail
mail_attribute_dict =

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/masters.d/%u
  master = yes
  pass = yes
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users.d/%u
  mechanisms = plain login
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/tokens.d/%u
  mechanisms = xoauth2 oauthbearer
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={d}/home/%u allow_all_users=yes
}}

service imap-login {{
  {chroot}
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  {chroot}
  # No growing delay after failed logins (auth penalty): tests fail logins on purpose.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}

namespace inbox {{
  inbox = yes
  separator = {separator}
{mailboxes}
}}
"""


class DovecotServer:
    """One running Dovecot. Create with ``DovecotServer.start()``; ``stop()`` ends it."""

    host = HOST

    def __init__(self) -> None:  # use start()
        self.directory = Path()
        self.imap_port = 0
        self.imaps_port = 0
        self.fingerprint = ""
        self.cert_path = Path()
        self.separator = "/"
        self.special_folders: dict[str, str] = {}
        self.accounts: dict[str, Account] = {}
        self.masters: dict[str, str] = {}
        self._mail_ids: tuple[int, int] = (0, 0)
        self._running = False

    # ----- life cycle -------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        separator: str = "/",
        special_use: bool = True,
        special_folders: dict[str, str] | None = None,
        storage: str = "maildir",
        parent: Path | None = None,
    ) -> DovecotServer:
        """Start a new server. ``special_use=False`` creates the same folders without the
        SPECIAL-USE attributes, like an old server (clients must fall back to names)."""
        if not dovecot_installed():
            raise DovecotUnavailable(
                f"dovecot is not installed ({DOVECOT} missing): apt-get install dovecot-imapd"
            )
        self = cls()
        self.separator = separator
        self.special_folders = dict(special_folders or SPECIAL_FOLDERS)
        # Not under pytest's 0700 tmp dirs: the unprivileged mail user must reach the homes.
        self.directory = Path(tempfile.mkdtemp(prefix="onboard-dovecot-", dir=parent))
        os.chmod(self.directory, 0o755)
        d = self.directory
        for sub in ("run", "state", "home"):
            (d / sub).mkdir()
        for name in ("users.d", "masters.d", "tokens.d"):
            (d / name).mkdir()
        self.cert_path, key_path, self.fingerprint = _self_signed(d)
        ids = _identities()
        self._mail_ids = (int(ids["mail_uid"]), int(ids["mail_gid"]))
        if os.geteuid() == 0:
            os.chown(d / "home", *self._mail_ids)
        self.imap_port, self.imaps_port = _free_port(), _free_port()
        while self.imaps_port == self.imap_port:
            self.imaps_port = _free_port()
        mailboxes = "".join(
            f'  mailbox "{name}" {{\n    auto = subscribe\n'
            + (f"    special_use = {flag}\n" if special_use else "")
            + "  }\n"
            for flag, name in self.special_folders.items()
        )
        (d / "dovecot.conf").write_text(
            CONFIG.format(
                d=d,
                host=HOST,
                cert=self.cert_path,
                key=key_path,
                storage=storage,
                separator=separator,
                mailboxes=mailboxes,
                imap_port=self.imap_port,
                imaps_port=self.imaps_port,
                # root: keep Dovecot's chroots; a normal user cannot chroot, so drop them.
                chroot="" if os.geteuid() == 0 else "chroot =",
                **ids,
            )
        )
        # Output to a file, not a pipe: the daemon inherits it and a pipe would never close.
        with (d / "start.out").open("w") as out:
            result = subprocess.run(
                [DOVECOT, "-c", str(d / "dovecot.conf")], stdout=out, stderr=subprocess.STDOUT
            )
        if result.returncode != 0:
            start_out = (d / "start.out").read_text(errors="replace").strip()
            shutil.rmtree(d, ignore_errors=True)
            raise RuntimeError(f"dovecot did not start: {start_out}")
        self._running = True
        try:
            self._wait_listening()
        except Exception:
            self.stop()
            raise
        return self

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 15
        pending = [self.imap_port, self.imaps_port]
        while pending:
            port = pending[0]
            try:
                socket.create_connection((HOST, port), 0.5).close()
                pending.pop(0)
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"dovecot is not listening on {port}:\n{self.log()}"
                    ) from exc
                time.sleep(0.05)

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the server (SIGTERM to its master, which ends its children) and delete it."""
        if self._running:
            self._running = False
            pid_file = self.directory / "run" / "master.pid"
            try:
                pid = int(pid_file.read_text().split()[0])
                os.kill(pid, signal.SIGTERM)
            except (OSError, ValueError, IndexError):
                pid = 0
            deadline = time.monotonic() + 10
            while pid and time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.02)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> DovecotServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ----- accounts ---------------------------------------------------------------------

    def _write_entry(self, kind: str, login: str, secret: str) -> None:
        """One passwd-file per name: Dovecot re-reads a changed file at most once a second, but
        opens a file it has not seen at once, so a user added now can log in now."""
        if any(c in login + secret for c in ":\n/") or login.startswith("."):
            raise ValueError("test logins cannot hold ':', '/' or newlines; secrets no ':'")
        path = self.directory / kind / login
        path.write_text(f"{login}:{{PLAIN}}{secret}::::::\n", encoding="utf-8")
        os.chmod(path, 0o644)

    def add_user(
        self,
        login: str | None = None,
        password: str | None = None,
        *,
        token: str | None = None,
        tree: bool = False,
    ) -> Account:
        """Add a mailbox user (fresh random name and password when not given). ``token`` is an
        OAuth2 access token accepted for XOAUTH2/OAUTHBEARER; ``tree`` creates TREE_FOLDERS."""
        login = login or f"user{uuid.uuid4().hex[:10]}"
        password = password or f"pw-{uuid.uuid4().hex[:12]}"
        if login in self.accounts:
            raise ValueError(f"the test server has a user {login} already")
        self._write_entry("users.d", login, password)
        if token:
            self._write_entry("tokens.d", login, token)
        account = Account(login, password, token or "")
        self.accounts[login] = account
        if tree:
            with self.client(login) as c:
                for folder in TREE_FOLDERS:
                    c.create_folder(folder.replace("/", self.separator))
        return account

    def add_master(self, name: str | None = None, password: str | None = None) -> Account:
        """Add a master user who may log in as any user (``user*name`` or SASL PLAIN authzid)."""
        name = name or f"master{uuid.uuid4().hex[:8]}"
        password = password or f"mpw-{uuid.uuid4().hex[:12]}"
        self._write_entry("masters.d", name, password)
        self.masters[name] = password
        return Account(name, password)

    def home(self, login: str) -> Path:
        return self.directory / "home" / login

    # ----- access for seeding and assertions --------------------------------------------

    def client(self, login: str, *, tls: bool = False) -> IMAPClient:
        """A logged-in IMAPClient for a user (plain port, or the TLS port trusting the cert)."""
        import ssl

        if tls:
            context = ssl.create_default_context(cafile=str(self.cert_path))
            context.check_hostname = False
            c = IMAPClient(HOST, self.imaps_port, ssl=True, ssl_context=context, timeout=30)
        else:
            c = IMAPClient(HOST, self.imap_port, ssl=False, timeout=30)
        c.login(login, self.accounts[login].password)
        return c

    def folder(self, name: str) -> str:
        """A "/"-separated folder path in this server's separator."""
        return name.replace("/", self.separator)

    def create_folders(self, login: str, names: Iterable[str]) -> None:
        with self.client(login) as c:
            for name in names:
                full = self.folder(name)
                if not c.folder_exists(full):
                    c.create_folder(full)

    def seed(self, login: str, folder: str, messages: Sequence[SeedMessage | bytes]) -> list[int]:
        """APPEND messages (creating the folder if needed); returns their UIDs."""
        uids: list[int] = []
        with self.client(login) as c:
            name = self.folder(folder)
            if not c.folder_exists(name):
                c.create_folder(name)
            for item in messages:
                m = item if isinstance(item, SeedMessage) else SeedMessage(item)
                response = c.append(name, m.raw, flags=m.flags, msg_time=m.internaldate)
                uid = _appenduid(response)
                if uid:
                    uids.append(uid)
        return uids

    def read(self, login: str, folder: str) -> list[StoredMessage]:
        """Every message of a folder (read-only: EXAMINE and BODY.PEEK), in UID order."""
        with self.client(login) as c:
            c.select_folder(self.folder(folder), readonly=True)
            uids = c.search("ALL")
            if not uids:
                return []
            data = c.fetch(uids, ["BODY.PEEK[]", "FLAGS", "INTERNALDATE", "RFC822.SIZE"])
        out = []
        for uid in sorted(data):
            row = data[uid]
            out.append(
                StoredMessage(
                    uid=uid,
                    raw=bytes(row[b"BODY[]"]),
                    flags=tuple(sorted(_text(f) for f in row[b"FLAGS"] if _text(f) != "\\Recent")),
                    internaldate=row[b"INTERNALDATE"],
                    size=int(row[b"RFC822.SIZE"]),
                )
            )
        return out

    def folders(self, login: str) -> list[str]:
        """The user's folder names (decoded), as LIST returns them."""
        with self.client(login) as c:
            return [name for _flags, _delim, name in c.list_folders()]

    def status(self, login: str, folder: str) -> dict[str, int]:
        """MESSAGES, UIDVALIDITY, UIDNEXT and the summed RFC822.SIZE of a folder."""
        with self.client(login) as c:
            raw = c.folder_status(
                self.folder(folder), [b"MESSAGES", b"UIDVALIDITY", b"UIDNEXT", b"UNSEEN"]
            )
            result = {_text(k).lower(): int(v) for k, v in raw.items()}
            c.select_folder(self.folder(folder), readonly=True)
            uids = c.search("ALL")
            sizes = c.fetch(uids, ["RFC822.SIZE"]) if uids else {}
        result["size"] = sum(int(r[b"RFC822.SIZE"]) for r in sizes.values())
        return result


@dataclass
class DovecotFactory:
    """Starts independent servers on demand and stops them all at the end."""

    servers: list[DovecotServer] = field(default_factory=list)

    def __call__(self, **options: object) -> DovecotServer:
        server = DovecotServer.start(**options)  # type: ignore[arg-type]
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        while self.servers:
            with contextlib.suppress(Exception):
                self.servers.pop().stop()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _appenduid(response: bytes | str) -> int:
    text = _text(response)
    if "APPENDUID" not in text:
        return 0
    try:
        return int(text.split("APPENDUID", 1)[1].split("]", 1)[0].split()[1])
    except (IndexError, ValueError):
        return 0


__all__ = [
    "SPECIAL_FOLDERS",
    "TREE_FOLDERS",
    "Account",
    "DovecotFactory",
    "DovecotServer",
    "DovecotUnavailable",
    "SeedMessage",
    "StoredMessage",
    "dovecot_installed",
    "make_message",
]
