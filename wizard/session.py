"""Where sessions live and how they are found, listed, created and deleted."""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .forms import check_domain, check_plain
from .paths import data_dir
from .profile import ProviderProfile
from .secrets import SecretStore, session_secret_keys
from .store import SessionError, SessionStore, now_iso

SUFFIX = ".onboard"


def sessions_dir() -> Path:
    path = data_dir() / "sessions"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def exports_dir() -> Path:
    """Where files exported from the app (reports, plans, provisioning lists) are written."""
    override = os.environ.get("ONBOARD_EXPORT_DIR")
    path = Path(override) if override else data_dir() / "exports"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:48] or "session"


def session_path(name: str) -> Path:
    """The file of a session name, or the path itself when given a path to a session file."""
    candidate = Path(name)
    if candidate.suffix == SUFFIX and (candidate.is_absolute() or os.sep in name):
        return candidate
    return sessions_dir() / f"{name}{SUFFIX}"


def new_session_name(customer: str, domain: str) -> str:
    base = slugify(customer) if customer.strip() else slugify(domain)
    name, n = base, 2
    while session_path(name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def validate_domain(domain: str) -> str:
    """The customer's mail domain as DNS asks for it; ValueError says what is wrong with it."""
    return check_domain(domain, "domain name")


def create_session(
    customer: str,
    domain: str,
    profile: ProviderProfile,
    *,
    third_party_filter: bool = False,
    demo: bool = False,
    name: str | None = None,
) -> SessionStore:
    customer = check_plain(customer.strip(), "customer name")
    if not customer:
        raise ValueError("the customer name is empty")
    domain = validate_domain(domain)
    name = name or new_session_name(customer, domain)
    return SessionStore.create(
        session_path(name),
        customer=customer,
        domain=domain,
        profile=profile,
        third_party_filter=third_party_filter,
        demo=demo,
    )


@dataclass(frozen=True)
class SessionSummary:
    """One row of the saved-sessions table; ``problem`` is set when the file cannot be read."""

    name: str
    path: Path
    customer: str = ""
    domain: str = ""
    current_step: str = ""
    done: int = 0
    total: int = 0
    updated_at: str = ""
    demo: bool = False
    problem: str = ""


def open_session_file(
    path: Path, *, lock: str | None = "exclusive", what: str = "onboard"
) -> SessionStore:
    """Open a session file; raises SessionLocked, SessionDamaged, SessionTooNew saying why not."""
    return SessionStore.open(path, lock=lock, what=what)


def summarize(path: Path) -> SessionSummary:
    try:
        with SessionStore.open(path, lock=None) as store:
            done, total = store.progress()
            return SessionSummary(
                name=path.stem,
                path=path,
                customer=store.customer,
                domain=store.domain,
                current_step=store.current_step,
                done=done,
                total=total,
                updated_at=store.updated_at,
                demo=store.demo,
            )
    except SessionError as exc:
        return SessionSummary(name=path.stem, path=path, problem=str(exc))


def list_sessions() -> list[SessionSummary]:
    """Every session file in the data directory, most recently changed first."""
    found = [summarize(p) for p in sessions_dir().glob(f"*{SUFFIX}")]
    found.sort(key=lambda s: (s.updated_at or "", s.name), reverse=True)
    return found


def delete_session(name: str) -> None:
    """Delete a session with its WAL, lock, backups and keyring secrets. Refused while open elsewhere."""
    path = session_path(name)
    if not path.exists():
        raise SessionError(f"there is no session named {name}")
    with SessionStore.open(path, lock="exclusive", what="delete") as store:
        secrets = SecretStore(store.name)
        for key in session_secret_keys(store):
            secrets.delete(key)
    for extra in path.parent.glob(path.name + "*"):
        extra.unlink(missing_ok=True)


__all__ = [
    "SUFFIX",
    "SessionSummary",
    "create_session",
    "data_dir",
    "delete_session",
    "exports_dir",
    "list_sessions",
    "new_session_name",
    "now_iso",
    "session_path",
    "sessions_dir",
    "slugify",
    "summarize",
    "validate_domain",
]
