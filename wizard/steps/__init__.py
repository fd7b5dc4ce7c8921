"""Step controllers: per step kind, the step's rules, the evidence it records and its settings.

One module per kind (``wizard/steps/<kind>.py``, dashes as underscores) holds a
``StepController`` subclass that says which evidence the step records (``records``), which
engines it calls (``engines``) and when it counts as done (``done_refusal`` and the module's
refusal functions). Controllers are Textual-free: screens are views that call them, and never
write to the session themselves.
"""

from __future__ import annotations

from .base import StepController, controller_for, module_for

__all__ = ["StepController", "controller_for", "module_for"]
