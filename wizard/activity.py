"""The activity log of a session: what every engine did, kept beside the session file.

One file per session, ``<session file>.log`` (e.g. ``acme.onboard.log``), rotated by size
(``acme.onboard.log.1`` ... ``.5``; ``delete_session`` removes them with the session). Each line is
one JSON object::

    {"time": "2026-11-25T06:30:00+00:00", "level": "info", "engine": "copy",
     "mailbox": "anna@example.com", "event": "batch", "message": "...", "fields": {...}}

Records go through stdlib ``logging`` (one logger and one rotating handler per open session) and a
filter that removes, with ``wizard.redaction.Redactor``, every secret the session knows (its keyring
entries, the passwords engines registered with ``add_secret``, ONBOARD_*_PASSWORD) and anything
that looks like one (``password=...``, ``AUTH PLAIN ...``, ``LOGIN user pass``, ``user:pw@`` ...).

How an engine logs (exchange, dns, sandbox, imap, demo ...):

* one line at a time::

      from wizard import activity
      activity.log_event(store, "info", "dns", "query", "asked ns1 for MX", server="ns1", rtt=0.01)
      activity.log_event(store, "warning", "exchange", "login", "EWS refused", mailbox=address)

  ``level`` is "debug", "info", "warning" or "error"; ``event`` a short word (connect, login,
  folder, batch, retry, throttle, failure, query, ...); ``fields`` anything JSON-friendly;
  ``mailbox`` the mailbox's target address (the log screen filters on it), None for a server.
* or by wrapping the engine's event sink, so its ``wizard.events`` (Started, Progress, Failure,
  Done) are logged too (progress at most every ``progress_every`` seconds per subject)::

      sink = activity.event_logger(store, "dns", inner=ui_sink)
      run_my_engine(..., sink=sink)

  An engine may also emit ``activity.Note(subject, level=, event=, message=, fields=)`` through its
  sink for a line of its own; any event with ``level`` and ``message`` attributes (the copy's
  ``CopyLog``) is logged the same way. An event's ``subject`` with an "@" is taken as the
  mailbox; any other subject (a host, a DNS server) goes into ``fields["subject"]``.
* a password the engine got from a prompt or the environment, or stored in the keyring after the
  log was opened: ``activity.add_secret(store, pw)`` before anything might print it (the keyring
  is looked up when the log opens and then at most every two minutes).

Logging never raises into an engine: a full disk or a closed store loses the line, not the copy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import logging.handlers
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .envvars import DEST_PASSWORD_ENV, SOURCE_PASSWORD_ENV
from .events import Done, Event, EventSink, Failure, Progress, Started
from .redaction import MIN_SECRET, Redactor, known_secrets

if TYPE_CHECKING:
    from .store import SessionStore

LOG_SUFFIX = ".log"
MAX_BYTES = 2 * 1024 * 1024  # per file; with BACKUP_COUNT old files the log stays under 12 MB
BACKUP_COUNT = 5
LEVELS = ("debug", "info", "warning", "error")
SECRET_ENV = (SOURCE_PASSWORD_ENV, DEST_PASSWORD_ENV)
SECRETS_TTL = 120.0  # seconds a keyring look-up of the session's secrets is reused (D-Bus is slow)

_LEVEL_NUMBERS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


# ----- records ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityRecord:
    """One line of the activity log."""

    time: str
    level: str
    engine: str
    event: str
    message: str
    mailbox: str = ""
    fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, line: str) -> ActivityRecord | None:
        """The record of one log line, or None for a line that is not one (a torn write)."""
        try:
            data = json.loads(line)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        fields = data.get("fields")
        return cls(
            time=str(data.get("time", "")),
            level=str(data.get("level", "info")),
            engine=str(data.get("engine", "")),
            event=str(data.get("event", "")),
            message=str(data.get("message", "")),
            mailbox=str(data.get("mailbox") or ""),
            fields=fields if isinstance(fields, dict) else {},
        )


@dataclass(frozen=True)
class Note(Event):
    """A log line an engine sends through its event sink (``subject`` is the mailbox or host)."""

    level: str = "info"
    event: str = "note"
    message: str = ""
    fields: dict[str, Any] = field(default_factory=dict)


# ----- where the log is ------------------------------------------------------------------------


def _session_path(where: SessionStore | Path | str) -> Path:
    return Path(where) if isinstance(where, str | Path) else Path(where.path)


def log_path(where: SessionStore | Path | str) -> Path:
    """The activity log file of a session (a store or the session file's path)."""
    path = _session_path(where)
    return path.with_name(path.name + LOG_SUFFIX)


def log_files(where: SessionStore | Path | str) -> list[Path]:
    """The session's log files that exist, oldest first (rotated ones, then the current one)."""
    current = log_path(where)
    rotated = [current.with_name(f"{current.name}.{n}") for n in range(BACKUP_COUNT, 0, -1)]
    return [p for p in [*rotated, current] if p.is_file()]


def read_records(
    where: SessionStore | Path | str, limit: int | None = None
) -> list[ActivityRecord]:
    """Every record of a session's log, oldest first (the last ``limit`` when given)."""
    records = [r for path in log_files(where) for r in read_log_file(path)]
    return records[-limit:] if limit else records


def read_log_file(path: Path) -> list[ActivityRecord]:
    """The records of one log file (current or rotated); none when it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    records = (ActivityRecord.from_json(line) for line in text.splitlines())
    return [r for r in records if r is not None]


class LogTail:
    """Reads the lines added to a session's log since the last call; survives rotation."""

    def __init__(self, where: SessionStore | Path | str) -> None:
        self.path = log_path(where)
        self._inode: int | None = None
        self._offset = 0
        self._partial = b""

    def read_new(self) -> list[ActivityRecord]:
        try:
            stat = self.path.stat()
        except OSError:
            return []
        chunks: list[bytes] = []
        if self._inode is not None and stat.st_ino != self._inode:
            # Rotated: finish the old file (now ``.1``) from where we were, then start over.
            old = self.path.with_name(self.path.name + ".1")
            with contextlib.suppress(OSError):
                if old.stat().st_ino == self._inode:
                    chunks.append(self._read(old, self._offset))
            self._offset = 0
        elif stat.st_size < self._offset:
            self._offset = 0
        self._inode = stat.st_ino
        data = self._read(self.path, self._offset)
        self._offset += len(data)
        chunks.append(data)
        text = self._partial + b"".join(chunks)
        lines = text.split(b"\n")
        self._partial = lines.pop()
        records = [ActivityRecord.from_json(line.decode("utf-8", "replace")) for line in lines]
        return [r for r in records if r is not None]

    @staticmethod
    def _read(path: Path, offset: int) -> bytes:
        try:
            with path.open("rb") as handle:
                handle.seek(offset)
                return handle.read()
        except OSError:
            return b""


# ----- writing lines ---------------------------------------------------------------------------


class RedactingFilter(logging.Filter):
    """Removes a session's secrets from a record's message and fields before it is written."""

    def __init__(self, secrets: Callable[[], list[str]]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = Redactor(self.secrets())
        record.msg = redactor.text(record.getMessage())
        record.args = None
        for name in ("engine", "event", "mailbox"):
            if hasattr(record, name):
                setattr(record, name, redactor.text(str(getattr(record, name) or "")))
        record.fields = redactor.value(getattr(record, "fields", {}) or {})
        return True


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "engine": getattr(record, "engine", "") or "",
            "mailbox": getattr(record, "mailbox", "") or None,
            "event": getattr(record, "event", "") or "",
            "message": record.getMessage(),
            "fields": getattr(record, "fields", {}) or {},
        }
        return json.dumps(data, ensure_ascii=False, default=str)


class SessionLogHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler that opens the file for each record and closes it again, so
    several processes (the app, headless copies of other mailboxes) can append to one log and
    no file stays open after the session is closed."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
        )

    def _open(self):  # type: ignore[no-untyped-def]
        stream = super()._open()
        with contextlib.suppress(OSError):
            os.chmod(self.baseFilename, 0o600)  # the log says who and where: not for everyone
        return stream

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        """A line that cannot be written is lost quietly: a traceback on stderr would tear the
        app's screen, and the engine must go on."""

    def emit(self, record: logging.LogRecord) -> None:
        super().emit(record)
        if self.stream is not None:
            with contextlib.suppress(OSError):
                self.stream.close()
            self.stream = None  # type: ignore[assignment]


# ----- the log of one session ------------------------------------------------------------------


class ActivityLog:
    """The logger of one session file; get it with ``activity_log(store)``."""

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self.path = log_path(store)
        self.logger = logging.getLogger(f"onboard.activity.{self.path.resolve()}")
        self.logger.propagate = False
        self.logger.setLevel(logging.DEBUG)
        self.handler = SessionLogHandler(self.path)
        self.handler.setFormatter(JsonLineFormatter())
        self.handler.addFilter(RedactingFilter(self.secrets))
        for old in list(self.logger.handlers):
            self.logger.removeHandler(old)
        self.logger.addHandler(self.handler)
        self.extra_secrets: set[str] = set()
        self._known: list[str] = []
        self._known_at = 0.0
        self._lock = threading.Lock()
        self.refresh()  # now, while no engine thread is logging yet

    def add_secret(self, secret: str) -> None:
        if secret:
            with self._lock:
                self.extra_secrets.add(secret)

    def secrets(self) -> list[str]:
        """The session's secrets: keyring entries (looked up again every two minutes), the ones
        added in this process, and the password environment variables."""
        now = time.monotonic()
        with self._lock:
            due = now - self._known_at > SECRETS_TTL
            if due:
                self._known_at = now  # this thread looks them up; others use the last list
            found = set(self._known) | self.extra_secrets
        if due:
            # Outside self._lock: a thread holding the store's mutex may be logging meanwhile.
            found |= set(self.refresh())
        found |= {os.environ.get(name, "") for name in SECRET_ENV}
        return sorted((s for s in found if s and len(s) >= MIN_SECRET), key=len, reverse=True)

    def refresh(self) -> list[str]:
        """Look the session's keyring entries up now (a closed store keeps the last list)."""
        try:
            known = known_secrets(self.store)
        except Exception:  # noqa: BLE001 - a closed store or a broken keyring
            return self._known
        with self._lock:
            self._known = known
            self._known_at = time.monotonic()
        return known

    def log(
        self,
        level: str,
        engine: str,
        event: str,
        message: str,
        mailbox: str | None = None,
        **fields: Any,
    ) -> None:
        self.write(level, engine, event, message, mailbox, fields)

    def write(
        self,
        level: str,
        engine: str,
        event: str,
        message: str,
        mailbox: str | None,
        fields: dict[str, Any],
    ) -> None:
        number = _LEVEL_NUMBERS.get(level.lower(), logging.INFO)
        with contextlib.suppress(Exception):  # logging must never stop an engine
            self.logger.log(
                number,
                "%s",
                message,
                extra={
                    "engine": engine,
                    "event": event,
                    "mailbox": mailbox or "",
                    "fields": fields,
                },
            )

    def close(self) -> None:
        self.logger.removeHandler(self.handler)
        self.handler.close()


_logs: dict[Path, ActivityLog] = {}
_logs_lock = threading.Lock()


def activity_log(store: SessionStore) -> ActivityLog:
    """The activity log of an open session (one per session file in this process)."""
    key = log_path(store).resolve()
    with _logs_lock:
        log = _logs.get(key)
        if log is None:
            log = _logs[key] = ActivityLog(store)
        elif log.store is not store:
            log.store = store  # the session was closed and opened again
            log.refresh()
        return log


def close_log(store: SessionStore) -> None:
    """Forget a session's logger (its file stays); the next log line opens it again."""
    key = log_path(store).resolve()
    with _logs_lock:
        log = _logs.pop(key, None)
    if log is not None:
        log.close()


def log_event(
    store: SessionStore,
    level: str,
    engine: str,
    event: str,
    message: str,
    mailbox: str | None = None,
    **fields: Any,
) -> None:
    """Write one line to a session's activity log (secrets removed)."""
    activity_log(store).log(level, engine, event, message, mailbox, **fields)


def add_secret(store: SessionStore, secret: str) -> None:
    """Make sure a secret this process holds (a prompted password) never reaches the log."""
    activity_log(store).add_secret(secret)


# ----- engine events to log lines --------------------------------------------------------------


class EventLogger:
    """An EventSink that writes ``wizard.events`` to the activity log, then passes them on.

    Started, Failure and Done are each one line; log lines (``Note``, the copy's ``CopyLog``) keep
    their level; a ``Progress`` is written when its ``state`` changes and otherwise at most every
    ``progress_every`` seconds per subject (the copy writes a line per batch of its own).
    """

    def __init__(
        self,
        store: SessionStore,
        engine: str,
        *,
        inner: EventSink | None = None,
        progress_every: float = 30.0,
    ) -> None:
        self.log = activity_log(store)
        self.engine = engine
        self.inner = inner
        self.progress_every = progress_every
        self._last: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with contextlib.suppress(Exception):
            for level, engine, name, message, fields in self.lines(event):
                mailbox = fields.pop("mailbox", None)
                self.log.write(level, engine, name, message, mailbox, fields)
        if self.inner is not None:
            self.inner(event)

    def lines(self, event: Event) -> Iterator[tuple[str, str, str, str, dict[str, Any]]]:
        """(level, engine, event, message, {mailbox=..., fields}) for one event; may be none."""
        subject = event.subject
        base: dict[str, Any] = {}
        if "@" in subject:
            base["mailbox"] = subject
        elif subject and subject != "*":
            base["subject"] = subject
        engine = self.engine
        if hasattr(event, "level") and hasattr(event, "message"):
            fields = dict(getattr(event, "fields", {}) or {})
            name = getattr(event, "event", "") or "note"
            yield (str(event.level), engine, name, str(event.message), {**base, **fields})
        elif isinstance(event, Started):
            yield ("info", engine, "started", f"started {event.detail}".strip(), base)
        elif isinstance(event, Progress):
            state = str(getattr(event, "state", "") or "")
            if self._progress_due(subject, state):
                text = f"{event.done}/{event.total}" + (f" {event.detail}" if event.detail else "")
                fields = {
                    **base,
                    "done": event.done,
                    "total": event.total,
                    "bytes_done": event.bytes_done,
                    "bytes_total": event.bytes_total,
                }
                if state:
                    fields["state"] = state
                    text = f"{state}: {event.done}/{event.total} messages"
                yield ("info", engine, "progress", text, fields)
        elif isinstance(event, Failure):
            fields = {**base, "code": event.code, **_plain(event.detail)}
            yield ("error", engine, "failure", event.reason, fields)
        elif isinstance(event, Done):
            level = "info" if event.ok else "error"
            yield (
                level,
                engine,
                "done",
                event.summary or ("finished" if event.ok else "failed"),
                base,
            )

    def _progress_due(self, subject: str, state: str) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(subject)
            if last is not None and last[1] == state and now - last[0] < self.progress_every:
                return False
            self._last[subject] = (now, state)
            return True


def _plain(detail: dict[str, Any]) -> dict[str, Any]:
    return {str(k): v for k, v in (detail or {}).items()}


def event_logger(
    store: SessionStore,
    engine: str,
    inner: EventSink | None = None,
    *,
    progress_every: float = 30.0,
) -> EventLogger:
    """An EventSink that logs an engine's events to the session's activity log, then calls
    ``inner`` (the UI or CLI listener) with each event."""
    return EventLogger(store, engine, inner=inner, progress_every=progress_every)


# ----- for the report --------------------------------------------------------------------------


def log_summary(store: SessionStore) -> dict[str, Any]:
    """Where the log is and what it holds, for the completion report."""
    files = log_files(store)
    records = read_records(store)
    return {
        "path": str(log_path(store)),
        "files": [str(p) for p in files],
        "bytes": sum(p.stat().st_size for p in files),
        "records": len(records),
        "warnings": sum(1 for r in records if r.level == "warning"),
        "errors": sum(1 for r in records if r.level == "error"),
        "first": records[0].time if records else "",
        "last": records[-1].time if records else "",
    }


__all__ = [
    "BACKUP_COUNT",
    "LEVELS",
    "MAX_BYTES",
    "ActivityLog",
    "ActivityRecord",
    "EventLogger",
    "LogTail",
    "Note",
    "RedactingFilter",
    "activity_log",
    "add_secret",
    "close_log",
    "event_logger",
    "log_event",
    "log_files",
    "log_path",
    "log_summary",
    "read_log_file",
    "read_records",
]
