"""The app's copy service: created on first use and kept on the App, never on a screen.

``copy_service(app, store)`` returns ``app.copy_service``, making it the first time. The App keeps
it for as long as the session is open, so a copy started in step 9 goes on while the operator
works on other steps. Before quitting, the App should ask when ``app.copy_service.running``.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App

from wizard.copy.engine import MailboxJob
from wizard.copy.folder_map import PlanOptions
from wizard.copy.service import CopyService
from wizard.copy.session_jobs import session_jobs
from wizard.store import SessionStore


def session_job_builder(store: SessionStore):  # type: ignore[no-untyped-def]
    """Jobs from the session, with passwords from the environment or keyring (never a prompt)."""

    def build(wanted: Sequence[str]) -> list[MailboxJob]:
        return session_jobs(store, wanted, PlanOptions(), interactive=False)

    return build


def copy_service(app: App[object], store: SessionStore) -> CopyService:
    service: CopyService | None = getattr(app, "copy_service", None)
    if service is None or service.store is not store:
        service = CopyService(store, session_job_builder(store))
        app.copy_service = service  # type: ignore[attr-defined]
    return service


def copy_running(app: App[object]) -> bool:
    """True while a copy runs: quitting should ask first."""
    service: CopyService | None = getattr(app, "copy_service", None)
    return bool(service and service.running)
