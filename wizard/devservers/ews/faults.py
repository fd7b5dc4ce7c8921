"""Faults the stand-in can inject, for tests of throttling, outages and per-item failures.

Each rule applies to requests of one EWS operation (or any), skips the first ``after`` matching
requests, then fires ``times`` times (``times=None``: until cleared). Every firing is recorded in
``FaultInjector.fired`` so a test can assert that the client really met the fault.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class IncomingItem:
    """What a per-item predicate sees of one item in a CreateItem batch."""

    index: int  # position in this batch, from 0
    mime: bytes
    subject: str
    message_id: str | None


@dataclass
class FaultRule:
    kind: str  # "busy" | "http" | "slow" | "drop" | "item"
    operation: str | None = None
    times: int | None = 1
    after: int = 0
    back_off_ms: int = 0
    status: int = 500
    retry_after: int | None = None
    delay: float = 0.0
    code: str = "ErrorInternalServerError"
    message: str = ""
    index: int | None = None
    predicate: Callable[[IncomingItem], bool] | None = None
    after_processing: bool = False
    seen: int = 0
    fired: int = 0

    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


@dataclass(frozen=True)
class FiredFault:
    kind: str
    operation: str
    detail: str = ""


@dataclass
class FaultInjector:
    rules: list[FaultRule] = field(default_factory=list)
    fired: list[FiredFault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # -- adding rules ---------------------------------------------------------------------------

    def _add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            self.rules.append(rule)
        return rule

    def server_busy(
        self,
        back_off_ms: int = 500,
        *,
        operation: str | None = None,
        times: int | None = 1,
        after: int = 0,
    ) -> FaultRule:
        """A SOAP fault ErrorServerBusy with BackOffMilliseconds (HTTP 500), as Exchange throttles."""
        return self._add(FaultRule("busy", operation, times, after, back_off_ms=back_off_ms))

    def http_error(
        self,
        status: int = 503,
        *,
        operation: str | None = None,
        times: int | None = 1,
        after: int = 0,
        retry_after: int | None = None,
    ) -> FaultRule:
        """A bare HTTP error (500, 503 ...) with a non-XML body, optionally with Retry-After."""
        return self._add(
            FaultRule("http", operation, times, after, status=status, retry_after=retry_after)
        )

    def slow(
        self, seconds: float, *, operation: str | None = None, times: int | None = 1, after: int = 0
    ) -> FaultRule:
        """Answer correctly, but only after ``seconds``."""
        return self._add(FaultRule("slow", operation, times, after, delay=seconds))

    def drop_connection(
        self,
        *,
        operation: str | None = None,
        times: int | None = 1,
        after: int = 0,
        after_processing: bool = False,
    ) -> FaultRule:
        """Close the connection without an answer. With ``after_processing`` the request is
        carried out first (a batch is saved, the client never hears so): the worst case for
        duplicates."""
        return self._add(
            FaultRule("drop", operation, times, after, after_processing=after_processing)
        )

    def item_error(
        self,
        code: str = "ErrorMimeContentConversionFailed",
        *,
        index: int | None = None,
        predicate: Callable[[IncomingItem], bool] | None = None,
        message: str = "",
        times: int | None = 1,
        after: int = 0,
    ) -> FaultRule:
        """Refuse single items in a CreateItem batch: the item at ``index`` of a batch, or every
        item the predicate picks (``times`` counts refused items). The rest of the batch is saved.

        exchangelib returns an exception in the item's place only for the codes in its
        ERRORS_TO_CATCH_IN_RESPONSE (ErrorMimeContentConversionFailed, ErrorMessageSizeExceeded,
        ErrorItemSave, ErrorCorruptData ...); any other code makes ``bulk_create`` raise, and the
        ids of the items saved in that batch are lost to the client."""
        return self._add(
            FaultRule(
                "item",
                "CreateItem",
                times,
                after,
                code=code,
                message=message or f"The sandbox refused this item ({code}).",
                index=index,
                predicate=predicate,
            )
        )

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.fired.clear()

    # -- used by the server ---------------------------------------------------------------------

    def request_fault(self, operation: str) -> FaultRule | None:
        """The first request-level rule that fires for this request (slow rules excepted)."""
        return self._match(operation, ("busy", "http", "drop"))

    def delay_for(self, operation: str) -> float:
        rule = self._match(operation, ("slow",))
        return rule.delay if rule else 0.0

    def _match(self, operation: str, kinds: tuple[str, ...]) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.kind not in kinds or rule.exhausted():
                    continue
                if rule.operation and rule.operation != operation:
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                rule.fired += 1
                self.fired.append(FiredFault(rule.kind, operation))
                return rule
        return None

    def item_fault(self, item: IncomingItem) -> FaultRule | None:
        with self._lock:
            for rule in self.rules:
                if rule.kind != "item" or rule.exhausted():
                    continue
                if rule.index is not None and rule.index != item.index:
                    continue
                if rule.predicate is not None and not rule.predicate(item):
                    continue
                rule.seen += 1
                if rule.seen <= rule.after:
                    continue
                rule.fired += 1
                self.fired.append(FiredFault("item", "CreateItem", item.message_id or ""))
                return rule
        return None

    def count(self, kind: str) -> int:
        with self._lock:
            return sum(1 for f in self.fired if f.kind == kind)
