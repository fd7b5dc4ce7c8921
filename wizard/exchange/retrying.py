"""Exchange's failures in the terms of the one retry policy (wizard.retry).

ErrorServerBusy with its BackOffMilliseconds and HTTP 503 (with Retry-After when given) are
throttling: waited out for as long as the server asked. Timeouts and dropped connections are
retried with back-off (part of a write may have landed: the caller looks it up first). Everything
else is classified for the operator as an ExchangeError and not retried.
"""

from __future__ import annotations

from typing import Any

from ..retry import Retryable, RetryPolicy
from .errors import read_timed_out

TRANSIENT_BACK_OFF = 1.0  # first wait after a 503 without Retry-After or a dropped connection
MAX_TRANSIENT_BACK_OFF = 30.0


DROPPED_RETRIES = 4  # a mailbox used on its own: tries again 4 times after a drop or a timeout
CHECK_RETRIES = 1  # a check: once, so a server that never answers is reported in two timeouts


def exchange_policy(max_wait: float, attempts: int = DROPPED_RETRIES) -> RetryPolicy:
    """How a mailbox used on its own (checks, verification) waits: throttling as long as
    ``max_wait`` allows, without jitter, so a server's own hint is obeyed to the millisecond; a
    dropped connection or a request not answered in time ``attempts`` more times."""
    return RetryPolicy(
        attempts=attempts,
        initial=TRANSIENT_BACK_OFF,
        ceiling=MAX_TRANSIENT_BACK_OFF,
        max_wait=max_wait,
        jitter=0.0,
    )


def exchange_retryable(what: str, exc: Exception) -> Retryable | None:
    """Why an exchangelib failure is worth another try, or None (classify it instead)."""
    from exchangelib.errors import (
        ErrorServerBusy,
        ErrorTimeoutExpired,
        ErrorTooManyObjectsOpened,
        ResponseMessageError,
        TransportError,
    )

    if read_timed_out(exc):
        return Retryable(
            f"Exchange did not answer in time during {what}; trying again",
            dropped=True,
            unanswered=True,
        )
    if isinstance(exc, (ErrorServerBusy, ErrorTooManyObjectsOpened, ErrorTimeoutExpired)):
        text = str(exc)
        if isinstance(exc, ErrorTimeoutExpired) or "Reraised from" in text:
            return Retryable(f"the connection dropped during {what}; trying again", dropped=True)
        return Retryable(
            f"Exchange is busy ({text}); it asked to wait before {what}",
            hint=float(getattr(exc, "back_off", 0) or 0),
            throttled=True,
        )
    if isinstance(exc, TransportError) and not (
        isinstance(exc, ResponseMessageError) or tls_problem(exc)
    ):
        return Retryable(f"the connection failed during {what}", dropped=True)
    return None


def reporting_retry_policy() -> Any:
    """exchangelib's FailFast (so every wait is ours), but HTTP 503 keeps its Retry-After."""
    from exchangelib.errors import ErrorInternalServerTransientError, ErrorServerBusy
    from exchangelib.protocol import FailFast

    class ReportingFailFast(FailFast):
        def raise_response_errors(self, response):  # type: ignore[no-untyped-def]
            try:
                return super().raise_response_errors(response)
            except (ErrorInternalServerTransientError, ErrorServerBusy) as exc:
                after = response.headers.get("Retry-After", "")
                seconds = float(after) if after.strip().isdigit() else TRANSIENT_BACK_OFF
                raise ErrorServerBusy(
                    f"HTTP {response.status_code}: {exc}", back_off=seconds
                ) from exc

    return ReportingFailFast()


def tls_problem(exc: BaseException) -> bool:
    text = str(exc)
    return "Fingerprints did not match" in text or "CERTIFICATE_VERIFY_FAILED" in text
