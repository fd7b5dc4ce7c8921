"""Differential step: copy again only what arrived since the initial copy.

Records "copy" evidence through the copy engine, like the initial copy.
"""

from __future__ import annotations

from typing import ClassVar

from ..copy.ledger import RunMode
from ..playbook import Kind
from .copy import CopyController


class DifferentialController(CopyController):
    kind = Kind.DIFFERENTIAL
    mode: ClassVar[RunMode] = RunMode.DIFFERENTIAL
