"""The session's copy as the App runs it: in a thread worker of the App, never of a step screen.

A worker belongs to the node that started it and is cancelled when that node goes away, so the
copy is started by ``SessionCopy.start`` as a worker of the App (group "copy"): leaving step 9 does
not stop it. Engine events become messages posted to the App (``CopyProgressed``, coalesced, and
``CopyFinished``); the App hands them to ``progressed`` and ``finished``, the signals step bodies
subscribe to while they are shown. State and steering (pause, resume, cancel) are the core's
``CopyService``, safe from any thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual.app import App
from textual.signal import Signal

from wizard.copy.engine import MailboxJob
from wizard.copy.events import MailboxProgress
from wizard.copy.folder_map import PlanOptions
from wizard.copy.ledger import RunMode
from wizard.copy.service import ALL, CopyService, JobBuilder
from wizard.copy.session_jobs import session_jobs
from wizard.events import Done, Event

if TYPE_CHECKING:
    from wizard.store import SessionStore

from .messages import CopyFinished, CopyProgressed

CopyServiceFactory = Callable[["SessionStore"], CopyService]
GROUP = "copy"  # the App's worker group of the copy


def session_job_builder(store: SessionStore) -> JobBuilder:
    """Jobs from the session, with passwords from the environment or keyring (never a prompt)."""

    def build(wanted: Sequence[str]) -> list[MailboxJob]:
        return session_jobs(store, wanted, PlanOptions(), interactive=False)

    return build


def session_copy_service(store: SessionStore) -> CopyService:
    """The copy service the App makes for a session it opens."""
    return CopyService(store, session_job_builder(store))


class SessionCopy:
    """The open session's copy: started as an App worker, heard through two signals."""

    def __init__(self, app: App[object], service: CopyService) -> None:
        self.app = app
        self.service = service
        self.progressed: Signal[CopyProgressed] = Signal(app, "copy-progressed")
        self.finished: Signal[CopyFinished] = Signal(app, "copy-finished")

    @property
    def store(self) -> SessionStore:
        return self.service.store

    @property
    def running(self) -> bool:
        return self.service.running

    def start(
        self,
        mode: RunMode = RunMode.INITIAL,
        mailboxes: Sequence[str] = (),
        *,
        only_failed: bool = False,
        reconcile: bool = False,
    ) -> bool:
        """Start a copy (of ``mailboxes``, else all) as a worker of the App; False if one is
        running already. Raises what ``CopyService.start`` raises when the jobs cannot be built."""
        return self.service.start(
            mode,
            mailboxes,
            only_failed=only_failed,
            reconcile=reconcile,
            sink=self._post,
            background=self._in_worker,
        )

    def _in_worker(self, work: Callable[[], None]) -> object:
        # Not exclusive: a second start is refused while one runs, and a thread cannot be stopped.
        return self.app.run_worker(work, name="copy", group=GROUP, thread=True, exit_on_error=False)

    def _post(self, event: Event) -> None:
        """Engine threads: tell the App, which hands it to the signals on its own thread."""
        if isinstance(event, Done) and event.subject == ALL:
            self.app.post_message(CopyFinished(self.store.name, event.ok, event.summary))
        elif isinstance(event, MailboxProgress):
            self.app.post_message(CopyProgressed(self.store.name, self.service.latest))

    def shutdown(self, timeout: float = 10.0) -> None:
        self.service.shutdown(timeout)

    def deliver(self, message: CopyProgressed | CopyFinished) -> None:
        """Hand a message to the bodies listening (the App calls this on its own thread); one
        left over from a session closed before is dropped."""
        if message.session != self.store.name:
            return
        if isinstance(message, CopyProgressed):
            self.progressed.publish(message)
        else:
            self.finished.publish(message)
