"""What every DNS check returns: findings with stable codes and a severity."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from wizard.formatting import now_iso as utc_now  # one time format for checks and evidence

DEFAULT_TIMEOUT = 3.0  # seconds per DNS question and server

__all__ = ["DEFAULT_TIMEOUT", "Finding", "Severity", "normalize_host", "utc_now", "worst"]


class Severity(StrEnum):
    """How much a finding matters: ``ERROR`` must be fixed before the step can be done."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One thing a check found. ``code`` is stable (e.g. "spf.too_many_lookups") for scripts."""

    code: str
    severity: Severity
    message: str  # what was found, in the operator's words
    advice: str = ""  # what to do about it ("" when nothing)
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def must_fix(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "advice": self.advice,
            "data": self.data,
        }


def worst(findings: tuple[Finding, ...] | list[Finding]) -> Severity:
    """The most serious severity among the findings (``OK`` for none)."""
    return max((f.severity for f in findings), key=lambda s: s.rank, default=Severity.OK)


def normalize_host(name: str) -> str:
    """A host name as compared everywhere here: lower case, no trailing dot."""
    return name.strip().rstrip(".").lower()
