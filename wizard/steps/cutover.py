"""Cutover step: the day of the switch, done once its parts are (its dependencies say so).

The work is in its parts: the routing switch, the SPF record and the clients. Records no
evidence of its own; the operator ticks that users were told.
"""

from __future__ import annotations

from ..playbook import Kind
from .base import StepController


class CutoverController(StepController):
    kind = Kind.CUTOVER
