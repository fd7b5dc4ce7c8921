"""Copy step: the initial copy of every mailbox, run by the copy engine, owned by the App.

The engine records "copy" evidence when a run ends (``wizard.copy.service.record_copy_evidence``);
the differential copy is the same step in ``RunMode.DIFFERENTIAL``.
"""

from __future__ import annotations

from typing import ClassVar

from ..copy.ledger import RunMode
from ..playbook import Kind
from .base import StepController


class CopyController(StepController):
    kind = Kind.COPY
    records = ("copy",)
    engines = ("wizard.copy.service", "wizard.copy.engine")
    mode: ClassVar[RunMode] = RunMode.INITIAL
