"""Saving a check's result as evidence in the session, with the check's own time stamp."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wizard.store import Evidence, SessionStore


class DnsResult(Protocol):
    """What every check result offers: MxCheck, AutodiscoverCheck, SpfCheck, PropagationMatrix."""

    kind: str
    checked_at: str

    @property
    def ok(self) -> bool: ...

    @property
    def summary(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def save_evidence(store: SessionStore, step: str, result: DnsResult) -> Evidence:
    """Record ``result`` under ``step`` as evidence of kind ``result.kind`` ("dns.mx" ...).

    The store stamps the time it was saved; ``data["checked_at"]`` keeps when DNS was asked.
    """
    return store.add_evidence(step, result.kind, result.summary, result.to_dict(), ok=result.ok)
